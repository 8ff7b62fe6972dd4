"""Reseller-name candidates from the top of the receipt.

Header lines are the rows near the top of the first page that are not
address, phone, e-mail/web, VAT/registration, date, document-title or amount
lines. The closed-set match (pipeline.match) joins consecutive header lines
(names are often printed over two lines).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from models.fields import FieldValue
from pipeline.extract.cues import find_cues
from pipeline.extract.dates import find_dates
from pipeline.extract.layout import clamp01, ocr_factor
from pipeline.extract.text import fold_text

if TYPE_CHECKING:
    from pipeline.extract.cues import Cue
    from pipeline.extract.layout import Row

log = logging.getLogger(__name__)

COMPANY_FORMS = re.compile(
    r"(?<![a-z])(aps|a/s|as|asa|ab|oy|oyj|ab|srl|s\.r\.l|sa|s\.a|ltd|limited|gmbh|sdn\.? ?bhd|bhd|s/b|sdn|"
    r"enterprise|trading|company|co|corp|inc|plc|i/s|ivs|k/s|hb|kb|ky|tmi|pfa)\.?(?![a-z])"
)
_STREET = re.compile(
    r"(vej|vejen|gade|gaden|gate|gata|gatan|vagen|vag|veien|katu|tie|strada|str\.|jalan|jln|road|rd\.?|street|"
    r"st\.|lot|taman|bandar|plads|alle|torv|bulevardul|bd\.|calea|sos\.|sektor|seksyen|persiaran|lorong|"
    r"kampung|kg\.|avenue|ave|postboks|box|boks|floor|level|blok|block|industri|park|centre|center|mall|plaza|"
    r"no\.|nr\.|selangor|kuala|lumpur|johor|malaysia|danmark|denmark|sverige|sweden|norge|norway|suomi|"
    r"finland|romania|bucuresti|cluj|kobenhavn|copenhagen|oslo|stockholm|helsinki|bergen|malmo|aarhus)(?![a-z])"
)
_WEB = re.compile(r"@|www\.|https?:|\.(com|dk|se|no|fi|ro|my|net|org)\b", re.IGNORECASE)
_PRICE = re.compile(r"(?<![\d.,])\d{1,3}(?:[ .,]\d{3})*[.,]\d{2}(?![\d.,])")
_POSTCODE = re.compile(r"(?<!\d)(\d{4,6}|\d{3} \d{2})(?!\d)")


#: rows whose mean OCR word confidence is below this are not name candidates
MIN_HEADER_CONF = 0.2

_FIELD_LABELS = ("PHONE", "ID", "DATE", "RECEIPT_NO", "TOTAL", "SUBTOTAL", "SERIAL", "INVOICE", "RECEIPT",
                 "ORDER_CONF", "BUYER", "OTHER_DATE")
_TRAILING_REG = re.compile(r"[\s,;:(\[{]*[(\[{][^()\[\]{}]*\d[^()\[\]{}]*[)\]}]?\s*$")
#: a company registration number printed without (or with half) its brackets: "519537-X)", "(JM0292487-D"
_REG_NUMBER = re.compile(r"(?<![A-Za-z0-9])\(?[A-Za-z]{0,2}\d{4,12}\s?-\s?[A-Za-z]\)?(?![A-Za-z0-9])")
_TRAILING_REG_NUMBER = re.compile(r"[\s,;:]*" + _REG_NUMBER.pattern + r"\s*$")
#: cues of the rows that close the seller's block (a document title, a number, a date, a VAT id)
_BLOCK_END_LABELS = ("INVOICE", "RECEIPT", "RECEIPT_NO", "DATE", "ID", "BUYER", "ORDER_CONF")


def _is_label(text: str, c: Cue) -> bool:
    """A cue of three letters or more, or a short one ("S/N", "NO") followed by a
    colon, '#' or a digit: "MR. D.I.Y. M) S N BHD" holds no serial-number label."""
    if sum(ch.isalpha() for ch in c.text) >= 3:
        return True
    return bool(re.match(r"\s*[:#.]?\s*\d|\s*[:#]", text[c.end:]))


def header_text(text: str) -> str:
    """The part of a row that may be a name: cut at the first field label
    ("DION REALTIES SDN BHD (CO. NO: 20154-T)" -> "DION REALTIES SDN BHD"), and
    without a trailing registration number in brackets."""
    t = text
    for c in find_cues(t):
        if c.label in _FIELD_LABELS and sum(ch.isalpha() for ch in t[:c.start]) >= 3 and _is_label(t, c):
            t = t[:c.start]
            break
    prev = None
    while prev != t:
        prev = t
        t = _TRAILING_REG.sub("", t)
        t = _TRAILING_REG_NUMBER.sub("", t)
    t = t.rstrip(" ,;:-(")
    return " ".join(t.split())


#: where an address or a registration number starts on a row that also holds the name
#: ("SANYU STATIONERY SHOP NO. 31G&33G, JALAN ...", "AEON CO. (M) BHD (126926-H) 3RD FLR, ..."):
#: a house or lot number, a street word, a postcode, a registration number
_ADDRESS_START = re.compile(
    r"(?<![A-Za-z0-9])(?:(?:NO|LOT|BLOK|BLOCK|UNIT)\.?\s?:?\s?\d|(?:JALAN|JLN|LORONG|TAMAN|PERSIARAN|BANDAR)(?![A-Za-z])"
    r"|\d{5}(?![\d.,])|\d{1,4}[A-Z]?(?:\s?[&-]\s?\d{1,4}[A-Z]?)?\s?,)", re.IGNORECASE)
#: the name before the address must hold at least this many letters
NAME_PREFIX_MIN_LETTERS = 6


def name_prefix(text: str) -> str | None:
    """The part of a row before an address or a registration number printed after the
    name on the same row (or joined to it by the OCR), when a name-like part is left (at
    least NAME_PREFIX_MIN_LETTERS letters, more letters than digits); None when nothing
    is cut. A candidate for the closed-list match, never the reseller's name by itself."""
    cut = len(text)
    m = _ADDRESS_START.search(text)
    if m is not None:
        cut = m.start()
    r = _REG_NUMBER.search(text)
    if r is not None:
        cut = min(cut, r.start())
    if cut >= len(text):
        return None
    head = text[:cut].rstrip(" ,;:-(&/")
    letters = sum(ch.isalpha() for ch in head)
    if letters < NAME_PREFIX_MIN_LETTERS or sum(ch.isdigit() for ch in head) > letters:
        return None
    return " ".join(head.split())


def is_header_noise(text: str) -> bool:
    """True for rows that cannot be the reseller's name."""
    t = text.strip()
    letters = sum(ch.isalpha() for ch in t)
    if letters < 3:
        return True
    digits = sum(ch.isdigit() for ch in t)
    if digits > letters:
        return True
    if _WEB.search(t) and not COMPANY_FORMS.search(fold_text(t)):
        return True
    cues = find_cues(t)
    if any(c.label in _FIELD_LABELS for c in cues):
        # a title line such as "KVITTERING" or "TAX INVOICE", or a labelled field
        return True
    if find_dates(t):
        return True
    f = fold_text(t)
    if _STREET.search(f) and not COMPANY_FORMS.search(f):
        return True
    # a registration number ("519537-X") is not a postcode
    if _POSTCODE.search(fold_text(_REG_NUMBER.sub(" ", t))) and not COMPANY_FORMS.search(f):
        return True
    return False


def _ends_block(text: str) -> bool:
    """A document title, a receipt/invoice number, a date or a VAT-id row."""
    if find_dates(text):
        return True
    return any(c.label in _BLOCK_END_LABELS for c in find_cues(text))


def _opens_body(text: str) -> bool:
    """A receipt/invoice number or a date row: printed after the seller's block. Seen
    after the seller's phone or VAT-id rows but no name, the seller's name was not read
    (a logo); a name below it is more likely the customer's ("GARDENIA BAKERIES ..."
    missed, then "TEL / GST ID / INV NO / DATE / MAKASSAR FRESH MARKET SDN BHD"). A
    number above everything ("CASH SALE / INVOICE NO: 1 / <name>") opens nothing."""
    if find_dates(text):
        return True
    return any(c.label in ("RECEIPT_NO", "BUYER") for c in find_cues(text))


def _top_rows(rows: list[Row], max_rows: int) -> Iterator[Row]:
    """The first page's rows above the item lines: at most `max_rows`, not below
    45% of the page after the fourth, up to the first price or total line."""
    if not rows:
        return
    first_page = rows[0].page.page_no
    for k, row in enumerate(rows[:max_rows]):
        if row.page.page_no != first_page:
            return
        if k >= 4 and row.rel_y() > 0.45:
            return
        if _PRICE.search(row.text) or any(c.label == "TOTAL" for c in find_cues(row.text)):
            return  # the item lines have started
        yield row


def extract_header(rows: list[Row], max_rows: int = 14) -> tuple[list[FieldValue], FieldValue | None]:
    """(header_lines, reseller_name guess). Each header line's meta carries its row
    index so that consecutive lines can be joined by the matcher, and its `block`:
    how many title/number/date/VAT-id rows stand between it and the first
    name-like line above it (0: the seller's block; a name printed after "TAX
    INVOICE / Inv No / Date" is more likely the customer's)."""
    out: list[FieldValue] = []
    if not rows:
        return out, None
    block, named, boundary = 0, False, False
    nameless_block = False  # the seller's phone/VAT-id rows were read, but no name above them
    for row in _top_rows(rows, max_rows):
        if row.conf < MIN_HEADER_CONF:
            continue  # OCR noise (a logo, a stamp, speckles) read as letters
        if not named and any(c.label in ("PHONE", "ID") for c in find_cues(row.text)):
            nameless_block = True
        text = header_text(row.text)
        if not text or is_header_noise(text):
            boundary = boundary or (named and _ends_block(row.text)) or (not named and nameless_block and _opens_body(row.text))
            continue
        if boundary:
            block, boundary = block + 1, False
        out.append(FieldValue(name="header_line", raw=row.text, value=text,
                              confidence=round(clamp01(0.6 * ocr_factor(row.conf)), 3),
                              evidence=row.evidence(),
                              meta={"row": str(row.index), "rank": str(len(out)), "block": str(block)}))
        if COMPANY_FORMS.search(fold_text(text)) or (row.conf >= 0.5 and len(text) >= 6 and not find_cues(text)):
            named = True  # ("CASH SALE" above the name is a title, not a name)
        elif not named and nameless_block and _opens_body(row.text):
            boundary = True  # "CASH INV NO.: 7805F712" before any name
        if named and _ends_block(row.text[len(text):] if row.text.startswith(text) else ""):
            boundary = True  # "GARDENIA BAKERIES (KL) SDN BHD  GST ID: ..." ends the block after the name
    guess = None
    for fv in out[:6]:
        if COMPANY_FORMS.search(fold_text(fv.value)):
            guess = fv
            break
    conf_scale = 0.7 if guess is not None else 0.45
    if guess is None and out:
        guess = out[0]
    name_fv = None
    if guess is not None:
        name_fv = FieldValue(name="reseller_name", raw=guess.raw, value=guess.value,
                             confidence=round(clamp01(conf_scale * guess.confidence / 0.6), 3),
                             evidence=guess.evidence, meta=dict(guess.meta))
    return out, name_fv


def extract_top_lines(rows: list[Row], header: list[FieldValue], max_rows: int = 14) -> list[FieldValue]:
    """The rows above the item lines that `extract_header` did not keep (judged an
    address, a title, noise...), with enough letters to be a name: an OCR slip can
    make a name look like an address ("TEO HENG ... &BOKS", "99 SPEED MARI 5/B
    (5153-)"), so a closed-set matcher still scores them, with a lower weight."""
    out: list[FieldValue] = []
    if not rows:
        return out
    kept = {fv.meta.get("row") for fv in header}
    for k, row in enumerate(_top_rows(rows, max_rows)):  # k: the row's place from the top, as before
        if str(row.index) in kept or row.conf < MIN_HEADER_CONF:
            continue
        t = " ".join(row.text.split())
        letters = sum(ch.isalpha() for ch in t)
        if letters < 4 or sum(ch.isdigit() for ch in t) > letters:
            continue
        out.append(FieldValue(name="top_line", raw=row.text, value=t,
                              confidence=round(clamp01(0.5 * ocr_factor(row.conf)), 3),
                              evidence=row.evidence(), meta={"row": str(row.index), "rank": str(k)}))
    return out
