"""Product lines on a receipt, and a structured parse of product names.

`parse_product` reads a lens/camera name into focal range, aperture, series
(DG DN, DG HSM, DC DN, OS, GM, G, ZA, OSS; generations II-IV), line
(ART/CONTEMPORARY/SPORTS, also "| A", "(A)"), mount (sony_e, l, canon, nikon, ...) and model codes
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
_APER = re.compile(r"(?<![A-Z0-9])F\s?/?\s?(\d{1,2}(?:[.,]\d{1,2})?)(?:\s?-\s?(\d{1,2}(?:[.,]\d{1,2})?))?(?![\d])")
# shop abbreviations: "SIG 85 1.4 DGDN A SE", "Sony FE 70-200 F4 G II", "SIG 100-400 5-6.3 DGDNOS C L"
_BARE = re.compile(r"(?<![\d.,A-Z/])(\d{1,3})(?:\s?-\s?(\d{2,4}))?\s+F?\s?(\d{1,2}(?:[.,]\d)?)(?:\s?-\s?(\d{1,2}(?:[.,]\d)?))?"
                   r"(?![\d.,]?\d)(?!\s?(?:MM|CM|GB|TB|MP|X|STK|PCS|BUC|KG|G\b))")
_MOUNT_WORD_FOCAL = re.compile(r"(?<![A-Z])(?:FE|E|RF|Z|EF|SIGMA|SIG|TAMRON|SAMYANG|SONY)\s(\d{1,3})(?:\s?-\s?(\d{2,4}))?(?![\d.,\-])")
_SERIES_CODES = ("MACRO", "HSM", "OSS", "DG", "DN", "DC", "OS", "GM")
_GLUED = re.compile(r"(?<![A-Z0-9])((?:MACRO|HSM|OSS|DG|DN|DC|OS){2,5}(?:[ACS](?:L|E|SE)?)?)(?![A-Z0-9])")
_LENS_CONTEXT = re.compile(r"(?<![A-Z])(?:SIGMA|SIG|TAMRON|SAMYANG|ZEISS|FE|DG|DN|DC|HSM|OSS|OS|GM|ART|CONTEMPORARY|SPORTS|"
                           r"LENS|OBJEKTIV|OBIECTIV|OBJEKTIIVI|MOUNT)(?![A-Z])")
#: a plausible f-number (0.95 .. 22)
_FSTOPS = (0.95, 1.0, 1.2, 1.4, 1.7, 1.8, 2.0, 2.5, 2.8, 3.5, 4.0, 4.5, 5.0, 5.6, 6.3, 6.7, 7.1, 8.0, 11.0, 16.0, 22.0)
_TRUNC_MOUNT = [("sony_e", ("SONY", "SONY E", "SONY-E", "E-MOUNT", "E MOUNT", "SONY FE")),
                ("l", ("L-MOUNT", "L MOUNT", "LMOUNT")),
                ("canon", ("CANON", "CANON EF")), ("nikon", ("NIKON", "NIKON F"))]


def _split_glued(t: str) -> str:
    """"DGDN" -> "DG DN", "DGDNOS" -> "DG DN OS" (series codes printed without spaces)."""
    def split(m: re.Match[str]) -> str:
        tok, out = m.group(1), []
        while tok:
            for code in _SERIES_CODES:
                if tok.startswith(code):
                    out.append(code)
                    tok = tok[len(code):]
                    break
            else:
                # what the OCR glued on after the series: the line letter and a mount ("DGDNAL")
                if len(out) >= 2 and re.fullmatch(r"[ACS](?:L|E|SE)?", tok):
                    out.extend([tok[0], tok[1:]] if len(tok) > 1 else [tok])
                    break
                return m.group(1)
        return " ".join(out)

    return _GLUED.sub(split, t)


def _truncated_mount(t: str) -> str | None:
    """A mount name cut off at the end of a line ("(Niko", "L-MOUN", "Cano", "Son")."""
    m = re.search(r"[(\s]([A-Z][A-Z\-]{1,9})\W*$", t)
    if not m:
        return None
    tail = m.group(1).strip(" -")
    if len(tail.replace(" ", "").replace("-", "")) < 3:
        return None
    for code, names in _TRUNC_MOUNT:
        if any(n.startswith(tail) for n in names):
            return code
    return None
_TRUNC_LINE = (("A", "ART", 2), ("S", "SPORTS", 3), ("C", "CONTEMPORARY", 3))


def _truncated_line(t: str) -> str | None:
    """A line name cut off at the end of a narrow receipt's line, right after the series
    codes ("... DG DN OS Spor", "... DG DN Ar"): a prefix of ART (two letters or more),
    SPORTS or CONTEMPORARY (three or more)."""
    m = re.search(r"(?<![A-Z])(?:DG|DN|DC|HSM|OS|OSS|MACRO)\s([A-Z]{2,11})$", t)
    if not m:
        return None
    word = m.group(1)
    for code, name, least in _TRUNC_LINE:
        if len(word) >= least and name.startswith(word):
            return code
    return None


_LINE = [
    (re.compile(r"(?<![A-Z])(ART|ARTLINE)(?![A-Z])|\|\s?A(?![A-Z])|\(A\)|\[A\]"), "A"),
    (re.compile(r"(?<![A-Z])(CONTEMPORARY|CONTEMP|CONT)(?![A-Z])|\|\s?C(?![A-Z])|\(C\)|\[C\]"), "C"),
    (re.compile(r"(?<![A-Z])(SPORTS|SPORT)(?![A-Z])|\|\s?S(?![A-Z])|\(S\)|\[S\]"), "S"),
]
_MOUNTS = [
    (re.compile(r"(?<![A-Z0-9/\-.])E(?![A-Z0-9\-/.])|SONY\s?-?\s?E(?![A-Z])|SONY\s?FE(?![A-Z])|E\s?/\s?FE(?![A-Z])|(?<![A-Z])E\s?-?\s?MOUNT|"
                r"(?<![A-Z])FE(?![A-Z])|SONY\s?E\s?-?\s?MOUNT|(?<![A-Z])SE(?![A-Z])(?=\s*(?:[\d.,]+\s*)?\W*$)"), "sony_e"),
    (re.compile(r"(?<![A-Z0-9/\-.])L(?![A-Z0-9\-/.])|(?<![A-Z])L\s?-?\s?MOUNT|LEICA\s?L(?![A-Z])|(?<![A-Z/])L\s*$|\|\s?L(?![A-Z])|\(L\)|(?<![A-Z])L-M(?![A-Z])"), "l"),
    (re.compile(r"CANON\s?RF|(?<![A-Z])RF(?![A-Z])"), "canon_rf"),
    (re.compile(r"NIKON\s?Z(?![A-Z])|(?<![A-Z])Z\s?-?\s?MOUNT"), "nikon_z"),
    (re.compile(r"CANON|(?<![A-Z])EF(?![A-Z-])"), "canon"),
    (re.compile(r"NIKON|(?<![A-Z/])F\s?-?\s?MOUNT|(?<![A-Z/\d.])F\s*$"), "nikon"),
    (re.compile(r"FUJI|(?<![A-Z])X\s?-?\s?MOUNT"), "fuji_x"),
    (re.compile(r"MICRO\s?4\s?/\s?3|(?<![A-Z])MFT(?![A-Z])|M4/3"), "m43"),
]
_SERIES = re.compile(r"(?<![A-Z])(DG|DN|HSM|DC|OS|OSS|GM|G|ZA|MACRO|II|III|IV)(?![A-Z])")
#: a Zeiss lens: its designation is ZA ("Sonnar T* FE 55mm F1.8 ZA", "Zeiss Batis 85mm F1.8")
_ZEISS = re.compile(r"(?<![A-Z])(?:ZEISS|SONNAR|DISTAGON|PLANAR|BATIS|LOXIA)(?![A-Z])")
_CODE = re.compile(r"(?<![A-Z0-9])([A-Z]{1,6}-?[0-9][A-Z0-9]*(?:-[A-Z0-9]+)?)(?![A-Z0-9])")


_VOCAB = ("DG", "DN", "HSM", "DC", "OS", "OSS", "GM", "ART", "SPORTS", "CONTEMPORARY", "SONY", "CANON", "NIKON",
          "MOUNT", "SIGMA", "MACRO", "LEICA", "FUJI")
_VOCAB_FOLD = {fold_confusions(v): v for v in _VOCAB}


def _fix_token(tok: str) -> str:
    """Repair an OCR slip in a lens-name word ("0G" -> "DG", "H5M" -> "HSM", "S0NY" -> "SONY")."""
    if tok in _VOCAB or not any(ch.isalpha() for ch in tok) or not any(ch.isdigit() for ch in tok):
        return tok
    return _VOCAB_FOLD.get(fold_confusions(tok), tok)


#: a roman generation numeral read with OCR slips ("Il", "lI", "I1" upper-cased to "IL", "LI", "I1")
_ROMAN_SLIP = re.compile(r"(?<![A-Z0-9|])([IL1|]{2,3})(?![A-Z0-9|])")


def _fix_roman(t: str) -> str:
    """ "G Il" -> "G II": a two- or three-stroke token of I, l, 1 and | with at least one letter is
    the generation numeral (all-digit "11" is a number and stays)."""
    return _ROMAN_SLIP.sub(lambda m: "I" * len(m.group(1)) if re.search(r"[IL|]", m.group(1)) else m.group(1), t)


def _f(x: str) -> float:
    return float(x.replace(",", "."))


def parse_product(text: str) -> ProductSpec:
    """Never raises."""
    spec = ProductSpec()
    glued_mount: str | None = None
    try:
        t = _split_glued(re.sub(r"[A-Z0-9]+", lambda m: _fix_token(m.group(0)), _fix_roman(_norm(text))))
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
        lens_ctx = bool(_LENS_CONTEXT.search(t))
        if spec.focal is None and lens_ctx:
            # "85 1.4", "100-400 5-6.3", "70-200 F4": a focal length and an f-number without units
            for mb in _BARE.finditer(t):
                lo = int(mb.group(1))
                hi = int(mb.group(2)) if mb.group(2) else lo
                a1 = _f(mb.group(3))
                a2 = _f(mb.group(4)) if mb.group(4) else a1
                if 8 <= lo <= 800 and hi >= lo and hi <= 1200 and a1 in _FSTOPS and a2 in _FSTOPS and a2 >= a1:
                    spec.focal, spec.aperture = (lo, hi), (a1, a2)
                    break
        if spec.focal is None and lens_ctx:
            mf = _MOUNT_WORD_FOCAL.search(t)  # "Sony FE 100-400 GM", "FE 35 F1.4"
            if mf:
                lo = int(mf.group(1))
                hi = int(mf.group(2)) if mf.group(2) else lo
                if 8 <= lo <= 800 and lo <= hi <= 1200:
                    spec.focal = (lo, hi)
        ma = _APER.search(t)
        if ma and spec.aperture is None:
            a1 = _f(ma.group(1))
            spec.aperture = (a1, _f(ma.group(2)) if ma.group(2) else a1)
        spec.series = set(_SERIES.findall(t))
        if _ZEISS.search(t):
            spec.series.add("ZA")
        for rx, code in _LINE:
            if rx.search(t):
                spec.line = code
                break
        if spec.line is None:
            # "DG DN A L", "DG HSM A Canon": a lone A/C/S right after the series codes
            ml = re.search(r"(?<![A-Z])(?:DG|DN|DC|HSM|OS|MACRO)\s([ACS])(?![A-Z0-9])", t)
            if ml:
                spec.line = ml.group(1)
        if spec.line is None:
            # "DG DN OS SL": the line letter and the mount read as one word after the series codes
            mg = re.search(r"(?<![A-Z])(?:DG|DN|DC|HSM|OS|OSS|MACRO)\s([ACS])(L|E|SE)(?![A-Z0-9])", t)
            if mg:
                spec.line = mg.group(1)
                glued_mount = "l" if mg.group(2) == "L" else "sony_e"
        if spec.line is None and spec.is_lens:
            spec.line = _truncated_line(re.sub(r"[\s\d.,\-]+$", "", t))  # before a trailing price
        for rx, code in _MOUNTS:
            if rx.search(t):
                spec.mount = code
                break
        if spec.mount is None and glued_mount is not None:
            spec.mount = glued_mount
        if spec.mount is None and re.search(r"(?<![A-Z])NF(?![A-Z])", t):
            spec.mount = "nikon"  # "(NF)": Nikon F
        if spec.mount is None and spec.is_lens:
            spec.mount = _truncated_mount(re.sub(r"[\s\d.,\-]+$", "", t))  # before a trailing price
        if spec.mount is None and re.search(r"(?<![A-Z])(?:SIGMA|SIG|TAMRON|SAMYANG)(?![A-Z])", t) \
                and re.search(r"(?<![A-Z])SONY(?![A-Z])", t):
            spec.mount = "sony_e"  # a third-party lens "for Sony" is an E-mount lens
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


#: confidence cap of a product line read only by another OCR reading of the receipt: below the
#: accept threshold, so it helps the SKU match find the line the page reading garbled, but never
#: on its own names an ineligible product (rules.rule_sku) or an accepted product model
OTHER_READING_LINE_CONF = 0.7


def _line_key(text: str) -> str:
    return fold_confusions(re.sub(r"[^0-9A-Za-z]", "", text).upper())


def merge_product_lines(primary: list[FieldValue], others: list[list[FieldValue]]) -> list[FieldValue]:
    """The product lines of the page reading, plus those of the other readings of the same receipt
    (`others`, e.g. the second engine's) that it did not read alike. A row one engine garbled
    ("ON = bod 99 00", "SIG 48 1.4 DGHSM") is often read cleanly by the other; its line joins at
    `OTHER_READING_LINE_CONF` at most. Without any primary line, the first reading that has lines
    is taken as it is (as before) and the rest merged onto it."""
    base = list(primary)
    rest = list(others)
    if not base:
        while rest and not base:
            base = list(rest.pop(0))
    seen = {_line_key(p.value) for p in base}
    out = list(base)
    for lines in rest:
        for p in lines:
            k = _line_key(p.value)
            if not k or k in seen:
                continue
            seen.add(k)
            out.append(p.model_copy(update={"confidence": round(min(p.confidence, OTHER_READING_LINE_CONF), 3),
                                            "meta": {**p.meta, "reading": "other"}}))
    return out
