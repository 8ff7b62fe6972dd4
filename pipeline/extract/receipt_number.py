"""Receipt / invoice / order numbers after their label cue."""

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

_TOKEN = re.compile(r"[\s:#.,=\-]*(?:no\.?|nr\.?|n°|#)?[\s:#.,=]*([A-Za-z0-9][A-Za-z0-9\-/]{0,28}[A-Za-z0-9]|[0-9])",
                    re.IGNORECASE)

# "Xyzzy nro 7362-3880": a label word that is no known cue (a receipt-number label read
# with slips), an abbreviation of "number", and a number of receipt-number shape
_GUESSED_LABEL = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{4,14})[.,]?\s{1,3}(?:nro|nr|no)[.,:]?\s{0,2}"
                            r"(\d{4,12}|\d{2,6}[\-/]\d{2,8})(?![\w.,\-/])", re.IGNORECASE)
#: base confidence of such a guess: below the accept threshold, whatever the OCR says
GUESSED_LABEL_STRENGTH = 0.55


_WEAK_TITLES = {"receipt", "invoice", "faktura", "kvittering", "kvitto", "factura", "lasku", "kuitti", "bill",
                "cash bill", "tax invoice", "official receipt", "bon fiscal"}


def _value_after(text: str, pos: int) -> tuple[str, int, int] | None:
    m = _TOKEN.match(text, pos)
    if not m:
        return None
    tok = m.group(1)
    if not any(ch.isdigit() for ch in tok):
        return None
    if find_dates(tok):
        return None
    return tok, m.start(1), m.end(1)


def _guessed_label(rows: list[Row]) -> tuple[float, str, Row, int, int, str, str] | None:
    """A number after "<unknown word> nr./nro/no" in the upper half of the document, when no
    receipt-number label was read: the label was probably garbled by the OCR. Rows with
    another field's label, a date or an amount are not considered; only one such row may exist."""
    from pipeline.extract.amounts import find_amounts

    found: list[tuple[float, str, Row, int, int, str, str]] = []
    for row in rows:
        if row.rel_y() > 0.5:
            continue
        for m in _GUESSED_LABEL.finditer(row.text):
            if find_cues(m.group(1)) or any(c.end <= m.start(2) for c in find_cues(row.text[:m.start(2)])
                                            if c.label not in ("RECEIPT", "INVOICE")):
                continue
            if find_dates(m.group(2)) or any(a.has_decimals and a.start < m.end(2) and a.end > m.start(2)
                                             for a in find_amounts(row.text)):
                continue
            found.append((GUESSED_LABEL_STRENGTH, m.group(2), row, m.start(2), m.end(2), m.group(1), "guessed"))
    return found[0] if len(found) == 1 else None


def parse_receipt_number(text: str) -> str | None:
    """The number after a receipt-number label in one line, or None. Never raises."""
    try:
        for c in find_cues(text):
            if c.label == "RECEIPT_NO":
                v = _value_after(text, c.end)
                if v:
                    return v[0].upper()
    except Exception:  # noqa: BLE001
        log.debug("receipt number parser failed", exc_info=True)
    return None


def extract_receipt_number(rows: list[Row]) -> FieldValue | None:
    best: tuple[float, str, Row, int, int, str, str] | None = None
    for i, row in enumerate(rows):
        cues = find_cues(row.text)
        for c in cues:
            strength = 0.0
            if c.label == "RECEIPT_NO":
                strength = 0.75 if c.id == "order" else 0.9  # an order number only when nothing better
            elif c.label in ("RECEIPT", "INVOICE") and fold_text(c.text) in _WEAK_TITLES:
                strength = 0.6  # "Receipt #: 123", "Faktura 2022-1234"
            else:
                continue
            v = _value_after(row.text, c.end)
            src = row
            if v is not None and find_cues(v[0]) and any(x.label != "RECEIPT_NO" for x in find_cues(v[0])):
                v = None  # "Bon nr. Data": the next label, not a value
            if v is None and c.label == "RECEIPT_NO" and i + 1 < len(rows):
                nxt = rows[i + 1]
                if not find_cues(nxt.text):
                    v = _value_after(nxt.text, 0)
                    src = nxt
                    strength -= 0.15
            if v is None:
                continue
            tok, s, e = v
            if len(tok) < 2 and strength < 0.9:
                continue
            if best is None or strength > best[0]:
                best = (strength, tok, src, s, e, c.text, "order" if c.id == "order" else c.label.lower())
    if best is None:
        best = _guessed_label(rows)
    if best is None:
        return None
    strength, tok, row, s, e, cue, kind = best
    conf = clamp01(strength * ocr_factor(row.conf_of_span(s, e)))
    return FieldValue(name="receipt_number", raw=tok, value=tok.upper(), confidence=round(conf, 3),
                      evidence=row.span_evidence(s, e), meta={"cue": cue, "cue_kind": kind})
