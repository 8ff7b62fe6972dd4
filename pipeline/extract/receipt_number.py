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

_TOKEN = re.compile(r"[\s:#.=\-]*(?:no\.?|nr\.?|n°|#)?[\s:#.=]*([A-Za-z0-9][A-Za-z0-9\-/]{0,28}[A-Za-z0-9]|[0-9])",
                    re.IGNORECASE)


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
        return None
    strength, tok, row, s, e, cue, kind = best
    conf = clamp01(strength * ocr_factor(row.conf_of_span(s, e)))
    return FieldValue(name="receipt_number", raw=tok, value=tok.upper(), confidence=round(conf, 3),
                      evidence=row.span_evidence(s, e), meta={"cue": cue, "cue_kind": kind})
