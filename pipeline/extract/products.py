"""Product lines on a receipt, and a structured parse of product names.

`parse_product` reads a lens/camera name into focal range, aperture, series
(DG DN, DG HSM, DC DN, OS, GM, G, OSS), line (ART/CONTEMPORARY/SPORTS, also
"| A", "(A)"), mount (sony_e, l, canon, nikon, ...) and model codes
(ILCE-7M4, SEL2470GM2); pipeline.match scores SKUs on these attributes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.fields import FieldValue
from pipeline.extract.amounts import _masked_amounts
from pipeline.extract.cues import find_cues
from pipeline.extract.layout import clamp01, ocr_factor
from pipeline.extract.text import fold_confusions, strip_accents

if TYPE_CHECKING:
    from pipeline.extract.layout import Row

log = logging.getLogger(__name__)


@dataclass
class ProductSpec:
    focal: tuple[int, int] | None = None
    aperture: tuple[float, float] | None = None
    series: set[str] = field(default_factory=set)
    line: str | None = None  # "A", "C", "S"
    mount: str | None = None  # "sony_e", "l", "canon", "nikon", "canon_rf", "nikon_z", "fuji_x", "m43"
    codes: set[str] = field(default_factory=set)  # model codes, compact upper-case

    @property
    def is_lens(self) -> bool:
        return self.focal is not None


def _norm(s: str) -> str:
    s = strip_accents(s).upper()
    s = s.replace("Ø", "O")
    return " ".join(s.split())


_FOCAL = re.compile(r"(?<![\d.])(\d{1,3})(?:\s?-\s?(\d{2,4}))?\s?MM(?![A-Z])")
_SHORT = re.compile(r"(?<![\d.])(\d{1,3})(?:\s?-\s?(\d{2,4}))?\s?/\s?F?\s?(\d{1,2}(?:[.,]\d{1,2})?)(?:\s?-\s?(\d{1,2}(?:[.,]\d{1,2})?))?(?![\d])")
_APER = re.compile(r"(?<![A-Z])F\s?/?\s?(\d{1,2}(?:[.,]\d{1,2})?)(?:\s?-\s?(\d{1,2}(?:[.,]\d{1,2})?))?(?![\d])")
_LINE = [
    (re.compile(r"(?<![A-Z])(ART|ARTLINE)(?![A-Z])|\|\s?A(?![A-Z])|\(A\)|\[A\]"), "A"),
    (re.compile(r"(?<![A-Z])(CONTEMPORARY|CONTEMP|CONT)(?![A-Z])|\|\s?C(?![A-Z])|\(C\)|\[C\]"), "C"),
    (re.compile(r"(?<![A-Z])(SPORTS|SPORT)(?![A-Z])|\|\s?S(?![A-Z])|\(S\)|\[S\]"), "S"),
]
_MOUNTS = [
    (re.compile(r"(?<![A-Z0-9/\-.])E(?![A-Z0-9\-/.])|SONY\s?-?\s?E(?![A-Z])|SONY\s?FE(?![A-Z])|E\s?/\s?FE(?![A-Z])|(?<![A-Z])E\s?-?\s?MOUNT|"
                r"(?<![A-Z])FE(?![A-Z])|SONY\s?E\s?-?\s?MOUNT|(?<![A-Z])SE(?![A-Z])\s*$"), "sony_e"),
    (re.compile(r"(?<![A-Z0-9/\-.])L(?![A-Z0-9\-/.])|(?<![A-Z])L\s?-?\s?MOUNT|LEICA\s?L(?![A-Z])|(?<![A-Z/])L\s*$|\|\s?L(?![A-Z])|\(L\)|(?<![A-Z])L-M(?![A-Z])"), "l"),
    (re.compile(r"CANON\s?RF|(?<![A-Z])RF(?![A-Z])"), "canon_rf"),
    (re.compile(r"NIKON\s?Z(?![A-Z])|(?<![A-Z])Z\s?-?\s?MOUNT"), "nikon_z"),
    (re.compile(r"CANON|(?<![A-Z])EF(?![A-Z-])"), "canon"),
    (re.compile(r"NIKON|(?<![A-Z/])F\s?-?\s?MOUNT|(?<![A-Z/\d.])F\s*$"), "nikon"),
    (re.compile(r"FUJI|(?<![A-Z])X\s?-?\s?MOUNT"), "fuji_x"),
    (re.compile(r"MICRO\s?4\s?/\s?3|(?<![A-Z])MFT(?![A-Z])|M4/3"), "m43"),
]
_SERIES = re.compile(r"(?<![A-Z])(DG|DN|HSM|DC|OS|OSS|GM|G|MACRO|II|III|IV)(?![A-Z])")
_CODE = re.compile(r"(?<![A-Z0-9])([A-Z]{1,6}-?[0-9][A-Z0-9]*(?:-[A-Z0-9]+)?)(?![A-Z0-9])")


_VOCAB = ("DG", "DN", "HSM", "DC", "OS", "OSS", "GM", "ART", "SPORTS", "CONTEMPORARY", "SONY", "CANON", "NIKON",
          "MOUNT", "SIGMA", "MACRO", "LEICA", "FUJI")
_VOCAB_FOLD = {fold_confusions(v): v for v in _VOCAB}


def _fix_token(tok: str) -> str:
    """Repair an OCR slip in a lens-name word ("0G" -> "DG", "H5M" -> "HSM", "S0NY" -> "SONY")."""
    if tok in _VOCAB or not any(ch.isalpha() for ch in tok) or not any(ch.isdigit() for ch in tok):
        return tok
    return _VOCAB_FOLD.get(fold_confusions(tok), tok)


def _f(x: str) -> float:
    return float(x.replace(",", "."))


def parse_product(text: str) -> ProductSpec:
    """Never raises."""
    spec = ProductSpec()
    try:
        t = re.sub(r"[A-Z0-9]+", lambda m: _fix_token(m.group(0)), _norm(text))
        m = _FOCAL.search(t)
        if m:
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) else lo
            spec.focal = (lo, hi)
        ms = _SHORT.search(t)
        if ms and spec.focal is None:
            lo = int(ms.group(1))
            hi = int(ms.group(2)) if ms.group(2) else lo
            if 4 <= lo <= 800:
                spec.focal = (lo, hi)
                a1 = _f(ms.group(3))
                spec.aperture = (a1, _f(ms.group(4)) if ms.group(4) else a1)
        ma = _APER.search(t)
        if ma and spec.aperture is None:
            a1 = _f(ma.group(1))
            spec.aperture = (a1, _f(ma.group(2)) if ma.group(2) else a1)
        spec.series = set(_SERIES.findall(t))
        for rx, code in _LINE:
            if rx.search(t):
                spec.line = code
                break
        for rx, code in _MOUNTS:
            if rx.search(t):
                spec.mount = code
                break
        for cm in _CODE.finditer(t):
            c = cm.group(1).replace("-", "")
            if len(c) >= 4 and any(ch.isalpha() for ch in c) and not re.fullmatch(r"\d+MM", c) \
                    and not re.fullmatch(r"F\d+", c):
                spec.codes.add(c)
    except Exception:  # noqa: BLE001
        log.debug("product parser failed", exc_info=True)
    return spec


_NOT_PRODUCT = ("TOTAL", "SUBTOTAL", "TAX", "PAYMENT", "DATE", "ID", "PHONE", "RECEIPT_NO", "BUYER", "OTHER_DATE")


def extract_product_lines(rows: list[Row]) -> list[FieldValue]:
    """Rows that describe a product: a description with a price (not totals, tax,
    payment or header fields), plus a description printed on the row above a
    price-only row."""
    out: list[FieldValue] = []
    for i, row in enumerate(rows):
        text = row.text
        cues = find_cues(text)
        if any(c.label in _NOT_PRODUCT for c in cues):
            continue
        letters = sum(ch.isalpha() for ch in text)
        amts = [a for a in _masked_amounts(text) if a.has_decimals]
        spec = parse_product(text)
        if letters >= 3 and (amts or spec.is_lens or spec.codes and letters >= 5):
            has_price = bool(amts)
            c = (0.9 if has_price else 0.6) * ocr_factor(row.conf)
            out.append(FieldValue(name="product_line", raw=text, value=" ".join(text.split()),
                                  confidence=round(clamp01(c), 3), evidence=row.evidence(),
                                  meta={"row": str(row.index), "price": str(amts[-1].value) if amts else ""}))
        elif letters < 3 and amts and i > 0 and (not out or out[-1].meta.get("row") != str(rows[i - 1].index)):
            prev = rows[i - 1]
            pc = find_cues(prev.text)
            if sum(ch.isalpha() for ch in prev.text) >= 3 and not any(c.label in _NOT_PRODUCT for c in pc):
                out.append(FieldValue(name="product_line", raw=prev.text, value=" ".join(prev.text.split()),
                                      confidence=round(clamp01(0.8 * ocr_factor(prev.conf)), 3),
                                      evidence=prev.evidence(),
                                      meta={"row": str(prev.index), "price": str(amts[-1].value)}))
    return out
