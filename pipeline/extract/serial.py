"""Serial numbers: handwritten on the receipt, and on the product's label.

A candidate is a token that fully matches the campaign's serial pattern and
carries at least two digits. Tokens that belong to printed fields (dates,
amounts, VAT/org numbers, receipt numbers, phone numbers, EAN codes, product
rows, labelled rows) are excluded. Candidates score higher after a serial cue
("S/N", "Serienr", "Sarjanumero", "Seria"...), on sparse rows (a pen-written
number stands alone), when the OCR read them with low confidence or with the
handwriting-capable engine, and when several readings agree (compared after
OCR-confusion folding).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stdnum import ean

from models.fields import FieldValue
from pipeline.extract.amounts import find_amounts
from pipeline.extract.cues import find_cues
from pipeline.extract.dates import find_dates
from pipeline.extract.layout import clamp01, ocr_factor
from pipeline.extract.text import fold_confusions
from pipeline.extract.vat import find_vat_numbers

if TYPE_CHECKING:
    from models.documents import Word
    from pipeline.extract.layout import Row

log = logging.getLogger(__name__)

DEFAULT_PATTERN = r"[A-Z0-9]{5,14}"
_STRIP = ".,:;'\"()[]{}*#=_|"


def _compile(pattern: str | None) -> re.Pattern[str]:
    try:
        return re.compile(pattern or DEFAULT_PATTERN)
    except re.error:
        return re.compile(DEFAULT_PATTERN)


def parse_serial(text: str, pattern: str | None = None) -> str | None:
    """The first token of `text` matching the serial pattern (2+ digits), after a
    serial cue when there is one. Never raises."""
    try:
        if not isinstance(text, str):
            return None
        rx = _compile(pattern)
        cues = [c for c in find_cues(text) if c.label == "SERIAL"]
        start = cues[0].end if cues else 0
        for m in re.finditer(r"\S+", text[start:]):
            tok = m.group(0).strip(_STRIP).upper()
            if sum(ch.isdigit() for ch in tok) >= 2 and rx.fullmatch(tok):
                return tok
    except Exception:  # noqa: BLE001
        log.debug("serial parser failed", exc_info=True)
    return None


@dataclass
class SerialCand:
    value: str
    raw: str
    score: float
    conf: float
    row: Row
    start: int
    end: int
    doc_no: int
    engine: str


def _excluded_spans(text: str) -> list[tuple[int, int]]:
    spans = [(d.start, d.end) for d in find_dates(text)]
    spans += [(a.start, a.end) for a in find_amounts(text) if a.has_decimals]
    spans += [(v.start, v.end) for v in find_vat_numbers(text)]
    return spans


_INTL_PHONE = re.compile(r"(?<![\w+])\+\s?\d{1,3}[\s\-]?\(?\d")
_BLOCK_LABELS = ("PHONE", "ID", "RECEIPT_NO", "DATE", "TOTAL", "SUBTOTAL", "PAYMENT", "TAX", "OTHER_DATE")


def _after_other_label(text: str, pos: int) -> bool:
    """True when the word before `pos` is a label ending with ':' ("Term:", "Ref.:")."""
    before = text[:pos].rstrip()
    if before.endswith(":"):
        return True
    m = re.search(r"(\S+)$", text[:pos])
    return bool(m and ":" in m.group(1))


def serial_candidates(rows: list[Row], pattern: str | None, doc_no: int = 0,
                      exclude_values: set[str] | None = None) -> list[SerialCand]:
    rx = _compile(pattern)
    excl = {fold_confusions(v) for v in (exclude_values or set()) if v}
    out: list[SerialCand] = []
    for i, row in enumerate(rows):
        text = row.text
        cues = find_cues(text)
        serial_cues = [c for c in cues if c.label == "SERIAL"]
        prev_serial = i > 0 and any(c.label == "SERIAL" for c in find_cues(rows[i - 1].text)) \
            and parse_serial(rows[i - 1].text, pattern) is None
        blocked = (any(c.label in _BLOCK_LABELS for c in cues) or bool(_INTL_PHONE.search(text))) and not serial_cues
        if blocked:
            continue
        spans = _excluded_spans(text)
        priced = any(a.has_decimals for a in find_amounts(text))
        words = row.word_spans()
        n_words = len(words)
        # single words, and two adjacent words joined (handwriting split by the OCR)
        pieces: list[tuple[str, int, int, list[Word]]] = []
        for k, (w, s, e) in enumerate(words):
            pieces.append((w.text, s, e, [w]))
            # "S/N:85258362" read as one word: the parts after a ':' / '=' / '#'
            for pm in re.finditer(r"[^:;=#]+", w.text):
                if pm.group(0) != w.text:
                    pieces.append((pm.group(0), s + pm.start(), s + pm.end(), [w]))
            if k + 1 < len(words):
                w2, s2, e2 = words[k + 1]
                a, b = w.text.strip(_STRIP), w2.text.strip(_STRIP)
                # handwriting split in two ("AB12 3456"); both halves carry digits
                # (not "5000 ODENSE", a postcode and a town)
                if len(a) <= 6 and len(b) <= 6 and any(ch.isdigit() for ch in a) and any(ch.isdigit() for ch in b):
                    pieces.append((w.text + w2.text, s, e2, [w, w2]))
        for raw, s, e, ws in pieces:
            tok = raw.strip(_STRIP).upper()
            if sum(ch.isdigit() for ch in tok) < 2 or not rx.fullmatch(tok):
                continue
            if any(s < b and e > a for a, b in spans):
                continue
            if re.search(r"X{3,}|\*", tok) or raw.lstrip().startswith("+"):
                continue  # a masked card number, a phone number
            if tok.isdigit() and len(tok) in (12, 13, 14) and ean.is_valid(tok):
                continue
            if fold_confusions(tok) in excl:
                continue
            after_cue = any(c.end <= s for c in serial_cues) or prev_serial
            if not after_cue and _after_other_label(text, s):
                continue  # "Xyz: 878623": a printed, labelled field
            if priced and not after_cue:
                continue
            score = 0.35
            if after_cue:
                score += 0.4
            if n_words <= 3:
                score += 0.12
            wconf = sum(w.conf for w in ws) / len(ws)
            engine = ws[0].engine
            if engine.lower() != "tesseract" or wconf < 0.6:
                score += 0.05
            if len(ws) > 1:
                score -= 0.05
            if any(ch.isalpha() for ch in tok) and any(ch.isdigit() for ch in tok):
                score += 0.03
            out.append(SerialCand(tok, raw, score, wconf, row, s, e, doc_no, engine))
    return out


def pick_serial(cands: list[SerialCand], n_docs: int) -> FieldValue | None:
    """Vote over readings: candidates that fold to the same string support each other."""
    if not cands:
        return None
    groups: dict[str, list[SerialCand]] = {}
    for c in cands:
        groups.setdefault(fold_confusions(c.value), []).append(c)
    best_key, best_score, best_rep = "", -1.0, None
    for key, lst in groups.items():
        docs = {c.doc_no for c in lst}
        top = max(lst, key=lambda c: (c.score, c.conf))
        s = top.score + 0.15 * (len(docs) - 1)
        if s > best_score:
            best_key, best_score, best_rep = key, s, top
    assert best_rep is not None
    others = [max(c.score for c in lst) for k, lst in groups.items() if k != best_key]
    margin = best_score - max(others) if others else 0.3
    conf = clamp01(best_score * ocr_factor(best_rep.conf) * (0.7 + min(margin, 0.3)))
    docs = {c.doc_no for c in groups[best_key]}
    cued = any(c.score >= 0.7 for c in groups[best_key])
    if not cued and len(docs) < 2:
        conf = min(conf, 0.5)  # an unlabelled number seen by one reading: plausible, not proven
    alternatives = sorted((k for k in groups if k != best_key), key=lambda k: -max(c.score for c in groups[k]))[:3]
    alt_values = [max(groups[k], key=lambda c: c.score).value for k in alternatives]
    return FieldValue(name="serial_handwritten", raw=best_rep.raw, value=best_rep.value,
                      confidence=round(min(conf, 0.95), 3),
                      evidence=best_rep.row.span_evidence(best_rep.start, best_rep.end),
                      meta={"readings": str(len(docs)), "of_readings": str(n_docs), "engine": best_rep.engine,
                            "candidates": str(len(groups)), "cue": "yes" if cued else "no",
                            "alternatives": ",".join(alt_values)})
