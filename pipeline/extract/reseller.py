"""Reseller-name candidates from the top of the receipt.

Header lines are the rows near the top of the first page that are not
address, phone, e-mail/web, VAT/registration, date, document-title or amount
lines. The closed-set match (pipeline.match) joins consecutive header lines
(names are often printed over two lines).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from models.fields import FieldValue
from pipeline.extract.cues import find_cues
from pipeline.extract.dates import find_dates
from pipeline.extract.layout import clamp01, ocr_factor
from pipeline.extract.text import fold_text

if TYPE_CHECKING:
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


def header_text(text: str) -> str:
    """The part of a row that may be a name: cut at the first field label
    ("DION REALTIES SDN BHD (CO. NO: 20154-T)" -> "DION REALTIES SDN BHD"), and
    without a trailing registration number in brackets."""
    t = text
    for c in find_cues(t):
        if c.label in _FIELD_LABELS and sum(ch.isalpha() for ch in t[:c.start]) >= 3:
            t = t[:c.start]
            break
    prev = None
    while prev != t:
        prev = t
        t = _TRAILING_REG.sub("", t)
    t = t.rstrip(" ,;:-(")
    return " ".join(t.split())


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
    if _POSTCODE.search(f) and not COMPANY_FORMS.search(f):
        return True
    return False


def extract_header(rows: list[Row], max_rows: int = 14) -> tuple[list[FieldValue], FieldValue | None]:
    """(header_lines, reseller_name guess). Each header line's meta carries its row
    index so that consecutive lines can be joined by the matcher."""
    out: list[FieldValue] = []
    if not rows:
        return out, None
    first_page = rows[0].page.page_no
    for k, row in enumerate(rows[:max_rows]):
        if row.page.page_no != first_page:
            break
        if k >= 4 and row.rel_y() > 0.45:
            break
        if _PRICE.search(row.text) or any(c.label == "TOTAL" for c in find_cues(row.text)):
            break  # the item lines have started
        if row.conf < MIN_HEADER_CONF:
            continue  # OCR noise (a logo, a stamp, speckles) read as letters
        text = header_text(row.text)
        if not text or is_header_noise(text):
            continue
        out.append(FieldValue(name="header_line", raw=row.text, value=text,
                              confidence=round(clamp01(0.6 * ocr_factor(row.conf)), 3),
                              evidence=row.evidence(), meta={"row": str(row.index), "rank": str(len(out))}))
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
