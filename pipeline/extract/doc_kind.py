"""What kind of document the receipt is."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from models.fields import DocumentKind, FieldValue
from pipeline.extract.cues import find_cues
from pipeline.extract.layout import clamp01, ocr_factor
from pipeline.extract.text import fold_text

if TYPE_CHECKING:
    from pipeline.extract.layout import Row

log = logging.getLogger(__name__)

HANDWRITING_ENGINES = ("handwriting", "htr", "trocr")

#: a receipt-number label that names a till receipt ("Kuitti nro", "Kvitteringsnr.", "Bon nr.")
_RECEIPT_NO_OF_RECEIPT = ("kvitt", "kuitt", "kuitin", "bon", "nr bon", "numar bon", "receipt", "slip", "cash bill",
                          "bong", "kassa")
_RECEIPT_NO_OF_INVOICE = ("faktur", "invoice", "factur", "lasku", "forfald", "due date", "scadent", "erapaiva",
                          "inv no")
#: words that negate the next few words ("Dette er ikke en faktura", "This is not an invoice")
_NEGATIONS = frozenset({"ikke", "inte", "ej", "not", "no", "nu", "ei", "eika", "non", "nicht", "never", "aldrig"})


def _negated(text: str, start: int) -> bool:
    """A negation among the three words before `start`."""
    # diacritics kept: "nö" (the end of "Malmö" read into the title's line) is not the negation "no"
    words = re.findall(r"[^\W\d_]+", text[:start].casefold())[-3:]
    return any(w in _NEGATIONS for w in words)


def _in_sentence(text: str, start: int, end: int) -> bool:
    """The cue is a word of running text (a sentence of 6+ words, the cue in lower case
    and not followed by a number), not a document title or a label."""
    words = re.findall(r"[^\W\d_]{2,}", text)
    if len(words) < 6:
        return False
    if text[start:end].isupper():
        return False
    return not re.match(r"\s*(?:n[or]\.?|nr|#|:)?\s*[0-9]", text[end:end + 8], re.IGNORECASE)


def _narrow_page(rows: list[Row]) -> bool:
    """The page is a till slip's shape (at least 2.2 times as tall as wide, upright)."""
    from pipeline.extract.layout import page_rotation

    page = rows[0].page
    w, h = float(page.width or 0.0), float(page.height or 0.0)
    if page_rotation(page) in (90, 270):
        w, h = h, w
    return w > 0 and h >= 2.2 * w


def classify(rows: list[Row]) -> tuple[DocumentKind, float]:
    """Order confirmation > invoice > till receipt by label cues; a document whose
    text is almost all low-confidence (or read by a handwriting engine) is a
    handwritten receipt."""
    if not rows:
        return DocumentKind.UNKNOWN, 0.0
    counts = {"ORDER_CONF": 0, "INVOICE": 0, "RECEIPT": 0, "PAYMENT": 0, "RECEIPT_NO": 0}
    total_cues = 0
    negated_order = False
    for row in rows:
        for c in find_cues(row.text):
            if c.label in ("INVOICE", "RECEIPT", "ORDER_CONF") and _negated(row.text, c.start):
                negated_order |= c.label == "ORDER_CONF"
                continue  # "Dette er ikke en faktura": not an invoice
            if c.label == "INVOICE" and _in_sentence(row.text, c.start, c.end):
                continue  # "Faktura sendes ved afsendelse": an invoice mentioned, not this document
            if c.label in counts:
                counts[c.label] += 1
            total_cues += c.label == "TOTAL"
            folded = " ".join(re.findall(r"[a-z0-9]+", fold_text(c.text)))
            if c.label in ("RECEIPT_NO", "DATE", "OTHER_DATE") and folded.startswith(_RECEIPT_NO_OF_INVOICE):
                counts["INVOICE"] += 1
            elif c.label == "RECEIPT_NO" and folded.startswith(_RECEIPT_NO_OF_RECEIPT):
                counts["RECEIPT"] += 1  # "Kuitti nro 69148": a till receipt's number
    words = [w for r in rows for ln in r.lines for w in ln.words]
    n = len(words)
    low = sum(1 for w in words if w.conf < 0.55)
    hw_engine = sum(1 for w in words if any(h in w.engine.lower() for h in HANDWRITING_ENGINES))
    # rows with printed-field labels: a blurred photo of a till receipt also reads with low
    # confidence, but still shows its VAT-number / total / receipt-number labels
    printed = sum(1 for r in rows if any(c.label in ("ID", "TOTAL", "RECEIPT_NO", "TAX") for c in find_cues(r.text)))
    mostly_low = n >= 8 and low / n > 0.8
    if n and (hw_engine / n > 0.6 or (mostly_low and printed < 3)):
        return DocumentKind.HANDWRITTEN_RECEIPT, round(clamp01(0.4 + 0.3 * max(low, hw_engine) / n), 3)
    if counts["ORDER_CONF"]:
        return DocumentKind.ORDER_CONFIRMATION, round(min(0.95, 0.75 + 0.1 * counts["ORDER_CONF"]), 3)
    receipt_score = counts["RECEIPT"] + 0.5 * min(counts["PAYMENT"], 4)
    invoice_score = 1.5 * counts["INVOICE"]
    if invoice_score == 0 and receipt_score == 0:
        if total_cues and _narrow_page(rows):
            return DocumentKind.TILL_RECEIPT, 0.45  # no title, but a slip's shape with a total
        return DocumentKind.UNKNOWN, 0.0
    # an order-confirmation title read as negated: printed documents seldom say what they are not
    # ("no Order confirmation" is more likely an OCR slip before the title, a neighbour's word read
    # into its line): whatever kind the other cues give is unsure
    cap = 0.5 if mostly_low or negated_order else 1.0
    if invoice_score > receipt_score:
        margin = invoice_score - receipt_score
        return DocumentKind.INVOICE, round(min(cap, clamp01(0.5 + 0.1 * margin)), 3)
    margin = receipt_score - invoice_score
    return DocumentKind.TILL_RECEIPT, round(min(cap, clamp01(0.5 + 0.1 * margin)), 3)


def condition_flags(rows: list[Row], product_rows: set[int] | None = None) -> list[FieldValue]:
    """used / demo / refurbished / returned, once per kind, where printed about the
    goods: not in the buyer's name/address block ("Demo Hansen") nor in the shop's
    header. On or next to a product line the flag is surer."""
    from pipeline.extract.amounts import find_amounts

    products = product_rows or set()
    first_product = min(products) if products else None
    out: dict[str, FieldValue] = {}
    buyer_until = -1
    for i, row in enumerate(rows):
        cues = find_cues(row.text)
        if any(c.label == "BUYER" and len(row.text[:c.start].strip(" ([-*:")) <= 3 for c in cues):
            buyer_until = i + 3
            continue
        if i <= buyer_until:
            continue
        if first_product is not None and row.index < first_product - 1:
            continue
        near = bool(products & {row.index - 1, row.index, row.index + 1}) or any(
            a.has_decimals for a in find_amounts(row.text))
        for c in cues:
            if c.label == "CONDITION" and c.id not in out:
                base = 0.9 if near else 0.5
                out[c.id] = FieldValue(name="condition", raw=c.text, value=c.id,
                                       confidence=round(clamp01(base * ocr_factor(row.conf_of_span(c.start, c.end))), 3),
                                       evidence=row.span_evidence(c.start, c.end),
                                       meta={"on_product_line": "yes" if near else "no"})
    return list(out.values())
