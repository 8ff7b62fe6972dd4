"""Normalised, hashed claimant identity and serial numbers.

Claim limits ("at most 5 claims per end-user", SIGMA 12; 3 per campaign, Sony
Romania FAQ 8) and the prior-fraud hold (SIGMA 15 (iii)) must not be dodged by
spelling the same e-mail, name or bank account differently. The functions here
map each spelling to one key; the store keeps only a salted SHA-256 (HMAC) of
each key, never the raw name, e-mail or account (data minimisation): matching
needs equality, not the value.

The salt comes from CLAIMCHECK_IDENTITY_SALT. The default below is for
development and tests only: with a public salt an e-mail hash can be reversed
by guessing addresses, so production sets its own secret salt, and keeps it
(changing it makes earlier claims unmatchable). Nothing here logs its input.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass

from stdnum import iban as stdnum_iban

from models.claim import BankDetails, Claimant

SALT_ENV = "CLAIMCHECK_IDENTITY_SALT"
# Development default, documented in README/this module: NOT a secret.
DEFAULT_SALT = "claimcheck-development-salt"

# Letters that Unicode NFKD does not decompose into a base letter + accent.
_TRANSLIT = str.maketrans({
    "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ß": "ss", "đ": "d", "Đ": "d",
    "ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "ı": "i", "ħ": "h", "Ħ": "h",
})
# Domains that deliver to the same mailbox.
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}


def normalise_email(email: str) -> str:
    """Lower-case, drop a `+tag` and every dot in the local part.

    Gmail ignores dots and `+tag`s; most other providers do not, but doing it
    for every domain trades a few false merges (two people whose addresses
    differ only by dots, who then share one claim limit and go to review) for
    limits that cannot be dodged by spelling. A false merge costs a manual
    check; a missed one pays out twice.
    """
    e = unicodedata.normalize("NFKC", email).strip().lower()
    e = e.strip("<>").strip()
    if e.startswith("mailto:"):
        e = e[len("mailto:"):]
    local, at, domain = e.rpartition("@")
    if not at:
        return re.sub(r"\s+", "", e)
    local = re.sub(r"\s+", "", local).split("+", 1)[0].replace(".", "")
    domain = re.sub(r"\s+", "", domain).rstrip(".")
    domain = _DOMAIN_ALIASES.get(domain, domain)
    return f"{local}@{domain}"


def normalise_name(name: str) -> str:
    """Accents stripped, case-folded, punctuation as spaces, tokens sorted.

    "Søren Ågård", "AGARD, Soren" and "soren  agard" all give "agard soren".
    """
    s = unicodedata.normalize("NFKC", name).translate(_TRANSLIT)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.casefold().translate(_TRANSLIT)
    s = re.sub(r"['’`´]", "", s)  # O'Brien == OBrien
    s = re.sub(r"[^\w]+|_", " ", s)
    return " ".join(sorted(s.split()))


def normalise_bank(iban: str | None = None, clearing: str | None = None, account: str | None = None) -> str | None:
    """IBAN compacted and upper-cased; else the digits of clearing + account; None when there is neither."""
    if iban and iban.strip():
        return stdnum_iban.compact(unicodedata.normalize("NFKC", iban)).upper()
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", f"{clearing or ''}{account or ''}"))
    return digits or None


def normalise_bank_details(bank: BankDetails) -> str | None:
    return normalise_bank(bank.iban, bank.clearing_number, bank.account_number)


def normalise_serial(serial: str) -> str:
    """Upper-case letters and digits only: " 5421-8873 " == "54218873"."""
    return re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", serial).upper())


def salt() -> str:
    return os.environ.get(SALT_ENV) or DEFAULT_SALT


def hash_key(kind: str, normalised: str, salt_value: str | None = None) -> str:
    """HMAC-SHA256 of `kind:normalised` keyed with the salt, hex. `kind` keeps an
    e-mail and a name that normalise alike from sharing a hash."""
    key = (salt_value if salt_value is not None else salt()).encode()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IdentityHashes:
    email: str
    name: str
    bank: str | None

    def __repr__(self) -> str:  # hashes only, but keep logs short
        return f"IdentityHashes(email={self.email[:8]}…, name={self.name[:8]}…, bank={(self.bank or '')[:8]}…)"


def identity_hashes(claimant: Claimant, salt_value: str | None = None) -> IdentityHashes:
    bank = normalise_bank_details(claimant.bank)
    return IdentityHashes(
        email=hash_key("email", normalise_email(claimant.email), salt_value),
        name=hash_key("name", normalise_name(claimant.name), salt_value),
        bank=hash_key("bank", bank, salt_value) if bank else None,
    )
