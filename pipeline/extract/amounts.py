"""Money amounts and currencies.

Formats: 1.234,50 / 1 234,50 / 1,234.50 / 1234.50 / 1234,50 / 1.490,- /
kr 1.490,00 / RM 15.90 / 1'234.50. A lone separator followed by exactly
three digits is a thousands separator ("1.490" -> 1490); followed by one or
two digits it is the decimal mark. `value` is a plain decimal string with a
dot and two decimals.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pipeline.extract.text import fold_text

log = logging.getLogger(__name__)

_AMOUNT_RE = re.compile(
    r"(?<![\w.,/:\-])"
    r"(-\s?)?"
    r"(\d{1,3}(?:(?P<ts>[ .,\u00a0'])\d{3})(?:(?P=ts)\d{3})*|\d+)"
    r"(?:(?P<ds>[.,])(\d{1,2}|-{1,2})(?!\d))?"
    r"(?![\w.,/:]\d|\d|%)"
)


@dataclass(frozen=True)
class AmountHit:
    value: Decimal
    start: int
    end: int
    raw: str
    has_decimals: bool


def _parse_match(m: re.Match[str]) -> Decimal | None:
    neg, intpart, ts, ds, frac = m.group(1), m.group(2), m.group("ts"), m.group("ds"), m.group(5)
    if ts and ds and ts == ds:
        return None
    digits = intpart.replace(ts, "") if ts else intpart
    if ts is None and len(digits) > 9:
        return None
    if frac is None or frac.startswith("-"):
        s = digits
    else:
        s = f"{digits}.{frac}"
    try:
        v = Decimal(s)
    except InvalidOperation:
        return None
    if neg:
        v = -v
    return v.quantize(Decimal("0.01"))


def find_amounts(text: str) -> list[AmountHit]:
    """Amounts in `text`, left to right. Integers without decimals are included
    (has_decimals=False) so that "1.490,-" and "kr 1490" are found. Never raises."""
    if not isinstance(text, str) or not text:
        return []
    out: list[AmountHit] = []
    for m in _AMOUNT_RE.finditer(text):
        try:
            v = _parse_match(m)
        except Exception:  # noqa: BLE001
            v = None
        if v is None:
            continue
        frac = m.group(5)
        has_dec = bool(frac and frac[0].isdigit()) or bool(frac and frac.startswith("-"))
        raw = text[m.start():m.end()].strip()
        out.append(AmountHit(v, m.start(), m.end(), raw, has_dec))
    return out


def parse_amount(text: str) -> Decimal | None:
    """The last decimal amount in `text` (the value column is at the right), else
    the last integer amount; None when there is none. Never raises."""
    try:
        hits = find_amounts(text)
    except Exception:  # noqa: BLE001
        log.debug("amount parser failed", exc_info=True)
        return None
    dec = [h for h in hits if h.has_decimals]
    if dec:
        return dec[-1].value
    return hits[-1].value if hits else None


def format_amount(v: Decimal) -> str:
    return f"{v.quantize(Decimal('0.01')):f}"


_CURRENCY_RE = re.compile(
    r"(?<![a-z])(dkk|nok|sek|eur|euro|ron|lei|myr|rm|usd|kr|kr\.|€|\$)(?![a-z])"
)
_CODE = {"dkk": "DKK", "nok": "NOK", "sek": "SEK", "eur": "EUR", "euro": "EUR", "€": "EUR", "ron": "RON",
         "lei": "RON", "myr": "MYR", "rm": "MYR", "usd": "USD", "$": "USD"}
KRONE_BY_COUNTRY = {"DK": "DKK", "NO": "NOK", "SE": "SEK"}
CURRENCY_BY_COUNTRY = {"DK": "DKK", "NO": "NOK", "SE": "SEK", "FI": "EUR", "RO": "RON", "MY": "MYR"}


def find_currencies(text: str, country: str | None = None) -> list[tuple[str, int, int, str]]:
    """(ISO code, start, end, raw) for every currency mark; "kr" resolves by country
    (None when the country is unknown)."""
    if not isinstance(text, str):
        return []
    f = fold_text(text)
    out = []
    for m in _CURRENCY_RE.finditer(f):
        tok = m.group(1).rstrip(".")
        if tok == "kr":
            code = KRONE_BY_COUNTRY.get((country or "").upper(), "")
            code = code or "KR"
        else:
            code = _CODE[tok]
        out.append((code, m.start(), m.end(), text[m.start():m.end()]))
    return out
