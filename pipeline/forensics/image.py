"""Image-level tamper signals: pixels that do not share the history of the rest of the receipt.

- `image.flat_patch`  a patch of paper with (almost) no sensor/scan noise inside a noisy receipt:
  the trace of a brush or a filled rectangle (an erased or re-typed line, a digit painted out).
- `image.copy_move`   a glyph of a date or an amount that is a pixel copy (resized or not) of a
  glyph elsewhere on the receipt: cut from there and pasted. Two prints of a digit share the shape,
  never the print's and the scanner's noise; a copy is a deterministic function of its source, so
  after the best margin/scale/shift it differs from it far less than any other pair of prints on
  the same receipt does (the closest unrelated pair sets the bar, so that digital renders, where
  prints do repeat pixel for pixel, do not flag). Glyphs a paste ran together with a neighbour are
  searched by sliding every source over them; the scale of a resized copy comes from the ink's
  moments, which a 1 px difference in where the ink threshold cuts does not move.
- `image.resample_halo` a glyph of a date or an amount that rings (pixels lighter than the paper
  along its strokes) on a clean, lossless page where no other glyph does: resized in an editor
  (bicubic/Lanczos) and pasted. Where `copy_move` is silent: on a clean render every print of a
  digit is the same pixels anyway.

Both work on the page image the OCR saw (same pixel grid as the OCR boxes) and use the OCR lines
and the extracted fields only to know where the text and the decisive fields are. The helpers at
the bottom (page geometry, decisive boxes, glyph components) are shared with `layout.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from models.documents import Box, Line, Page
from pipeline.forensics import ForensicInput, Region, Signal, SignalFamily, register

DECISIVE = ("purchase_date", "total", "serial_handwritten")
_DATE_RE = re.compile(r"\b\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|\b\d{1,2}\s*[A-Za-z]{3,9}\s*\d{2,4}\b")
_AMOUNT_RE = re.compile(r"\d[\d.,\s]*[.,]\d{2}\b")
# what the OCR makes of a date or an amount whose digit was pasted (a pasted glyph often reads
# wrong): a month name between numbers with any separators, a month name first, or cents after a
# mark with one character of garbage before it
_LOOSE_VALUE_RE = re.compile(r"\b\d{1,2}\s*[-/.]?\s*[A-Za-z]{3,9}\.?\s*[-/.,]?\s*\d{2,4}\b"
                             r"|\b[A-Za-z]{3,9}\.?\s*\d{1,2},?\s+\d{4}\b|\S[.,]\d{2}\b")


# ---------------------------------------------------------------- geometry


@dataclass
class PageView:
    """A page's grey image turned the way the OCR read it, and box mapping both ways."""

    page_no: int
    gray: np.ndarray  # float32, upright
    rot: int  # clockwise degrees applied to the uploaded image
    W: int  # uploaded width/height
    H: int
    page: Page | None
    glyph_cache: dict | None = None
    thumb_cache: dict | None = None
    line_box_cache: list | None = None  # `line_boxes`, mapped once per page
    moment_cache: dict | None = None  # `_glyph_moments` by glyph box
    texture_cache: list | None = None  # layout `_line_textures`, measured once per page

    def thumb(self, g: Glyph) -> np.ndarray:
        """`_thumb` of a glyph, cached (the same glyphs serve as sources for every field line)."""
        return self.thumbs([g])[0]

    def thumbs(self, gs: list[Glyph]) -> np.ndarray:
        """Stacked `_thumb`s of glyphs, the missing ones computed in one batch."""
        if self.thumb_cache is None:
            self.thumb_cache = {}
        cache = self.thumb_cache
        keys = [(g.x0, g.y0, g.x1, g.y1) for g in gs]
        todo = [k for k in dict.fromkeys(keys) if k not in cache]
        if todo:
            P = np.stack([cv2.resize(self.gray[y0:y1, x0:x1], (10, 14), interpolation=cv2.INTER_AREA).ravel()
                          for x0, y0, x1, y1 in todo])
            P = P - P.mean(axis=1, keepdims=True)
            P /= np.maximum(1e-6, np.linalg.norm(P, axis=1, keepdims=True))
            for k, row in zip(todo, P, strict=True):
                cache[k] = row
        if not keys:
            return np.zeros((0, 140), np.float32)
        return np.stack([cache[k] for k in keys])

    def glyphs(self, box: tuple[int, int, int, int], light: bool = False) -> tuple[list[Glyph], float]:
        """`line_glyphs` of a box, cached. The glyphs are always those of a full request (their
        stroke, ink and sharpness are measured only when first used), so a light request and a full
        one share them; `light` is kept for the callers that need no measures."""
        if self.glyph_cache is None:
            self.glyph_cache = {}
        got = self.glyph_cache.get(box)
        if got is None:
            got = self.glyph_cache[box] = line_glyphs(self.gray, box)
        return got

    def to_view(self, b: Box | tuple | list) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = (b.x0, b.y0, b.x1, b.y1) if isinstance(b, Box) else b
        W, H = self.W, self.H
        if self.rot == 90:
            x0, y0, x1, y1 = H - y1, x0, H - y0, x1
        elif self.rot == 180:
            x0, y0, x1, y1 = W - x1, H - y1, W - x0, H - y0
        elif self.rot == 270:
            x0, y0, x1, y1 = y0, W - x1, y1, W - x0
        h, w = self.gray.shape
        return (int(max(0, min(w, np.floor(x0)))), int(max(0, min(h, np.floor(y0)))),
                int(max(0, min(w, np.ceil(x1)))), int(max(0, min(h, np.ceil(y1)))))

    def to_upload(self, b: tuple[float, float, float, float]) -> Box:
        x0, y0, x1, y1 = b
        W, H = self.W, self.H
        if self.rot == 90:
            x0, y0, x1, y1 = y0, H - x1, y1, H - x0
        elif self.rot == 180:
            x0, y0, x1, y1 = W - x1, H - y1, W - x0, H - y0
        elif self.rot == 270:
            x0, y0, x1, y1 = W - y1, x0, W - y0, x1
        return Box(x0=float(x0), y0=float(y0), x1=float(x1), y1=float(y1))


def page_views(inp: ForensicInput, max_pages: int = 2) -> list[PageView]:
    """Upright grey views of the raster pages that have an OCR reading (computed once per input)."""
    key = f"_pixel_views_{max_pages}"
    if key not in inp.extra:
        inp.extra[key] = _page_views(inp, max_pages)
    return inp.extra[key]  # type: ignore[return-value]


def _page_views(inp: ForensicInput, max_pages: int) -> list[PageView]:
    out = []
    pages = {p.page_no: p for p in inp.doc.pages} if inp.doc is not None else {}
    for i, img in enumerate(inp.images[:max_pages]):
        if img is None:
            continue
        pg = pages.get(i + 1)
        if pg is not None and (pg.unit != "px" or pg.source != "ocr"):
            continue
        g = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        H, W = g.shape[:2]
        rot = int(pg.rotation) % 360 if pg is not None else 0
        if rot == 90:
            g = cv2.rotate(g, cv2.ROTATE_90_CLOCKWISE)
        elif rot == 180:
            g = cv2.rotate(g, cv2.ROTATE_180)
        elif rot == 270:
            g = cv2.rotate(g, cv2.ROTATE_90_COUNTERCLOCKWISE)
        else:
            rot = 0
        out.append(PageView(i + 1, g.astype(np.float32), rot, W, H, pg))
    return out


def page_lines(inp: ForensicInput, page_no: int) -> list[Line]:
    """The OCR lines of one page (none without a reading)."""
    if inp.doc is None:
        return []
    return [ln for pg in inp.doc.pages if pg.page_no == page_no for ln in pg.lines]


def decisive_boxes(inp: ForensicInput, page_no: int, all_values: bool = True) -> list[tuple[str, Box]]:
    """(field name, box) of the fields that decide eligibility, from the extraction; without
    an extraction, the OCR lines that look like a date or an amount."""
    out: list[tuple[str, Box]] = []
    ex = inp.extraction
    if ex is not None:
        for name in DECISIVE:
            fv = getattr(ex, name, None)
            if fv is not None and fv.evidence is not None and fv.evidence.box is not None and fv.evidence.page == page_no:
                out.append((name, fv.evidence.box))
        # the same amount/date printed elsewhere (a total is often printed twice, the extraction may
        # have picked the other print): every OCR word with the same digits is judged too
        if inp.doc is not None:
            for name in ("total", "purchase_date"):
                fv = getattr(ex, name, None)
                digits = re.sub(r"\D", "", fv.raw) if fv is not None else ""
                if len(digits) < 3:
                    continue
                for ln in page_lines(inp, page_no):
                    if digits not in re.sub(r"\D", "", ln.text):
                        continue
                    for w in ln.words:
                        wd = re.sub(r"\D", "", w.text)
                        if len(wd) >= 2 and wd in digits and (fv.evidence is None or fv.evidence.box != w.box):
                            out.append((name, w.box))
        for fv in ex.product_lines[:3]:
            if fv.evidence is not None and fv.evidence.box is not None and fv.evidence.page == page_no:
                out.append(("product_model", fv.evidence.box))
        # every printed amount and date too: an altered total no longer adds up, so the extraction
        # may well have taken another amount as the total
        seen = {(round(b.x0), round(b.y0)) for _, b in out}
        for name, b in (_printed_values(inp, page_no) if all_values else []):
            if (round(b.x0), round(b.y0)) not in seen:
                seen.add((round(b.x0), round(b.y0)))
                out.append((name, b))
        return out
    lines = page_lines(inp, page_no)
    labels = [ln.box for ln in lines if re.search(r"total|jumlah|amount|i alt|totalt|sum", ln.text, re.I)]
    for ln in lines:
        t = ln.text
        if _DATE_RE.search(t):
            out.append(("purchase_date", ln.box))
        elif _AMOUNT_RE.search(t) and any(min(b.y1, ln.box.y1) - max(b.y0, ln.box.y0) > 0.5 * ln.box.height for b in labels):
            out.append(("total", ln.box))  # an amount on the row of a "total" label
    return out


def _printed_values(inp: ForensicInput, page_no: int) -> list[tuple[str, Box]]:
    out: list[tuple[str, Box]] = []
    for ln in page_lines(inp, page_no):
        for w in ln.words:
            if _AMOUNT_RE.fullmatch(w.text.strip("()[]:;*")) and re.search(r"\d{2}$", w.text.strip("()[]:;*")):
                out.append(("total", w.box))
            elif _DATE_RE.search(w.text):
                out.append(("purchase_date", w.box))
    return out


def line_boxes(view: PageView) -> list[tuple[tuple[int, int, int, int], str]]:
    """The page's OCR line boxes in view pixels, with their text (mapped once per view: every
    field's line is looked up among them)."""
    if view.page is None:
        return []
    if view.line_box_cache is None:
        out = []
        for ln in view.page.lines:
            if not ln.words:
                continue
            b = view.to_view(ln.box)
            if b[2] - b[0] >= 4 and b[3] - b[1] >= 6:
                out.append((b, ln.text))
        view.line_box_cache = out
    return list(view.line_box_cache)


def field_line(view: PageView, fbox: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The OCR line box that contains the field box (most vertical overlap)."""
    best, ov_best = None, 0.0
    for b, _ in line_boxes(view):
        ov = min(b[3], fbox[3]) - max(b[1], fbox[1])
        hov = min(b[2], fbox[2]) - max(b[0], fbox[0])
        if ov > 0 and hov > 0:
            f = ov / max(1, min(b[3] - b[1], fbox[3] - fbox[1]))
            if f > ov_best:
                best, ov_best = b, f
    return best if ov_best >= 0.5 else None


# ---------------------------------------------------------------- glyphs


@dataclass
class Glyph:
    x0: int
    y0: int
    x1: int
    y1: int
    area: int
    stroke: float  # 2 * area / perimeter: mean stroke width
    ink: float  # median grey of the ink
    sharp: float  # mean edge gradient / contrast

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


class _LineInk:
    """The thresholded crop of one text line, made again only when a glyph of the line is first
    measured (`_MeasuredGlyph`): most lines' glyphs are only ever looked at for their boxes, and the
    measures (Sobel gradients, contours, percentiles per component) were most of the time spent
    finding glyphs. The arrays are exactly those `line_glyphs` found the components in."""

    def __init__(self, gray: np.ndarray, box: tuple[int, int, int, int], pad_frac: float) -> None:
        self.gray, self.box, self.pad_frac = gray, box, pad_frac
        self._arrays: tuple | None = None
        self._grad: tuple | None = None

    def arrays(self) -> tuple:
        """(crop, bw, labels, stats, paper, X0, Y0), as `line_glyphs` computes them."""
        if self._arrays is None:
            got = _line_components(self.gray, self.box, self.pad_frac)
            assert got is not None  # the same pixels gave components when the glyphs were found
            self._arrays = got
        return self._arrays

    def gradient(self) -> tuple[np.ndarray, np.ndarray]:
        """(gradient magnitude, ink edge mask) of the crop."""
        if self._grad is None:
            crop, bw = self.arrays()[:2]
            gx = cv2.Sobel(crop, cv2.CV_32F, 1, 0, ksize=3)
            gy = cv2.Sobel(crop, cv2.CV_32F, 0, 1, ksize=3)
            self._grad = (np.sqrt(gx * gx + gy * gy),
                          cv2.morphologyEx(bw, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0)
        return self._grad


class _MeasuredGlyph(Glyph):
    """A glyph of `line_glyphs(light=False)` whose stroke, ink and sharpness are measured on first
    use (the same measures, on the same pixels, as if measured when found)."""

    def __init__(self, x0: int, y0: int, x1: int, y1: int, area: int, line: _LineInk, label: int) -> None:
        self.x0, self.y0, self.x1, self.y1, self.area = x0, y0, x1, y1, area
        self._line, self._label = line, label
        self._measures: tuple[float, float] | None = None
        self._sharp: float | None = None

    def _measure(self) -> tuple[float, float]:
        if self._measures is None:
            crop, bw, lab, _stats, paper, X0, Y0 = self._line.arrays()
            self._measures = _stroke_ink(crop, bw, lab, self._label, self.x0 - X0, self.y0 - Y0,
                                         self.x1 - self.x0, self.y1 - self.y0, paper)
        return self._measures

    @property  # type: ignore[override]
    def stroke(self) -> float:
        return self._measure()[0]

    @property  # type: ignore[override]
    def ink(self) -> float:
        return self._measure()[1]

    @property  # type: ignore[override]
    def sharp(self) -> float:
        if self._sharp is None:
            crop, bw, lab, _stats, paper, X0, Y0 = self._line.arrays()
            grad, edge = self._line.gradient()
            x, y, w, hh = self.x0 - X0, self.y0 - Y0, self.x1 - self.x0, self.y1 - self.y0
            ya, yb, xa, xb = max(0, y - 1), min(crop.shape[0], y + hh + 1), max(0, x - 1), min(crop.shape[1], x + w + 1)
            near = cv2.dilate((lab[ya:yb, xa:xb] == self._label).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
            e = edge[y:y + hh, x:x + w] & near[y - ya:y - ya + hh, x - xa:x - xa + w]
            ink = self.ink
            self._sharp = float(grad[y:y + hh, x:x + w][e].mean()) / max(1.0, paper - ink) if e.any() else 0.0
        return self._sharp


def _line_components(gray: np.ndarray, box: tuple[int, int, int, int], pad_frac: float) -> tuple | None:
    """The crop of a text line (box padded by `pad_frac` of its height), its Otsu ink mask, the
    connected components and the paper grey level; None when the crop is too small or has no
    contrast (paper minus ink under 25 grey levels: then (None, paper))."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    py = int(round(pad_frac * h))
    H, W = gray.shape
    X0, Y0, X1, Y1 = max(0, x0 - 2), max(0, y0 - py), min(W, x1 + 2), min(H, y1 + py)
    crop = gray[Y0:Y1, X0:X1]
    if crop.size < 30:
        return None
    u8 = np.clip(crop, 0, 255).astype(np.uint8)
    t, bw = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    paper = _hist_median(u8, cv2.bitwise_not(bw), 255.0)
    inkv = _hist_median(u8, bw, paper)
    if paper - inkv < 25:
        return None, paper
    n, lab, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    return crop, bw, lab, stats, paper, X0, Y0


def _stroke_ink(crop: np.ndarray, bw: np.ndarray, lab: np.ndarray, i: int, x: int, y: int, w: int, hh: int,
                paper: float) -> tuple[float, float]:
    """(stroke width, ink grey) of component i of a line crop (its box x, y, w, hh in the crop)."""
    sub = (lab[y:y + hh, x:x + w] == i).astype(np.uint8)
    cnts, _ = cv2.findContours(sub, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    per = sum(cv2.arcLength(c, True) for c in cnts)
    ink5, ink = (float(v) for v in np.percentile(crop[y:y + hh, x:x + w][sub > 0], (5, 50)))
    # the paper right around the glyph: a shadow or a gradient across a photo darkens paper and
    # ink alike, and against the line's paper level the shadowed glyph's grey edges would count
    # as ink (a thicker stroke) and its ink as darker
    m = max(2, hh // 2)
    ra, rb, rx, ry = max(0, y - m), min(crop.shape[0], y + hh + m), max(0, x - m), min(crop.shape[1], x + w + m)
    ring = crop[ra:rb, rx:ry][bw[ra:rb, rx:ry] == 0]
    lp = float(np.median(ring)) if ring.size >= 8 else paper
    ink5, ink = ink5 + (paper - lp), ink + (paper - lp)  # as if on the line's paper
    # stroke width with sub-pixel ink: 2 * (ink mass) / perimeter, the mass from grey levels
    # around the component (antialiased edges count for their darkness)
    ya, yb, xa, xb = max(0, y - 1), min(crop.shape[0], y + hh + 1), max(0, x - 1), min(crop.shape[1], x + w + 1)
    near = cv2.dilate((lab[ya:yb, xa:xb] == i).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    frac = np.clip((lp - crop[ya:yb, xa:xb]) / max(1.0, lp - (ink5 - (paper - lp))), 0, 1)
    frac[(frac < 0.15) | ~near] = 0
    mass = float(frac.sum())
    return 2.0 * mass / max(1.0, per), ink


def line_glyphs(gray: np.ndarray, box: tuple[int, int, int, int], pad_frac: float = 0.25,
                light: bool = False) -> tuple[list[Glyph], float]:
    """Dark connected components of a text line (page coordinates), and the paper grey level.
    light=True: boxes and areas only (stroke, ink and sharpness 0); else each glyph's stroke, ink
    and sharpness are measured when first used (`_MeasuredGlyph`)."""
    got = _line_components(gray, box, pad_frac)
    if got is None:
        return [], 255.0
    if got[0] is None:
        return [], got[1]
    crop, bw, lab, stats, paper, X0, Y0 = got
    h = box[3] - box[1]
    line = None if light else _LineInk(gray, box, pad_frac)
    out: list[Glyph] = []
    for i in range(1, len(stats)):
        x, y, w, hh, a = (int(v) for v in stats[i])
        if a < 8 or hh < 0.3 * h or hh > 1.6 * h or w > 2.5 * hh:
            continue
        if line is None:
            out.append(Glyph(X0 + x, Y0 + y, X0 + x + w, Y0 + y + hh, a, 0.0, 0.0, 0.0))
        else:
            out.append(_MeasuredGlyph(X0 + x, Y0 + y, X0 + x + w, Y0 + y + hh, a, line, i))
    out.sort(key=lambda g: g.x0)
    return out, paper


def _hist_median(u8: np.ndarray, mask: np.ndarray, default: float) -> float:
    """Median grey of the masked pixels of an 8-bit crop, from its histogram (np.median sorts)."""
    h = cv2.calcHist([u8], [0], mask, [256], [0, 256]).ravel()
    n = float(h.sum())
    if n <= 0:
        return default
    c = np.cumsum(h)
    m = int(n)
    lo = int(np.searchsorted(c, (m - 1) // 2 + 1))  # grey of the pixel of rank (m-1)//2
    hi = int(np.searchsorted(c, m // 2 + 1))
    return 0.5 * (lo + hi)


def _residual(gray: np.ndarray) -> np.ndarray:
    return gray - cv2.blur(gray, (3, 3))


# ---------------------------------------------------------------- flat patch (brush / fill)

FLAT_THRESHOLD = 0.85  # genuine SROIE scans (tune half) reach 0.77
FLAT_PAPER_MARGIN = 40.0  # grey levels below the receipt's paper that a painted patch may be
FLAT_RATIO = 0.30  # block noise below this fraction of its surroundings' noise counts as flat


@register("flat_patch", SignalFamily.IMAGE)
def flat_patch(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        sig = _flat_patch_page(view)
        if sig is not None:
            out.append(sig)
    return out


def _flat_patch_page(view: PageView) -> Signal | None:
    """The stronger of the two measures: noise-free blocks against their surroundings' noise
    (`_flat_blocks`), and a flat bar of paper the size of a text line (`_flat_bar`)."""
    blocks = _flat_blocks(view)
    bar = _flat_bar(view)
    if bar is not None and (blocks is None or bar.score > blocks.score):
        return bar
    return blocks


FLAT_BAR_GATE = (0.05, 0.15)  # page share of flat paper pixels: full weight below, none above
FLAT_BAR_FILL = (0.45, 0.70)  # share of its bounding box the flat area fills: a painted rectangle fills it
FLAT_BAR_WIDTH = (2.5, 5.0)  # its width in text-line heights


def _flat_bar(view: PageView) -> Signal | None:
    """A rectangle of paper with exactly constant grey, as tall as a text line and several lines
    wide, on a receipt whose paper is otherwise grainy: a brush or a filled rectangle over an erased
    (or re-typed) line. Scanner and JPEG noise leave almost no 3x3 neighbourhood of real paper at one
    grey level; a fill keeps its one level through the re-save. What sets the bar is the receipt's own
    share of such flat paper (`FLAT_BAR_GATE`): clean or nearly white scans have flat paper everywhere
    and tell nothing. Paper clipped at white (255) is flat on every scan and is left out."""
    lines = line_boxes(view)
    if len(lines) < 3:
        return None
    lh = float(np.median([b[3] - b[1] for b, _ in lines]))
    if lh < 6:
        return None
    u8 = np.clip(np.rint(view.gray), 0, 255).astype(np.uint8)
    H, W = u8.shape
    near = np.zeros((H, W), np.uint8)
    pad = int(lh)
    for (x0, y0, x1, y1), _ in lines:
        near[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad] = 1
    hist = cv2.calcHist([u8], [0], near, [256], [0, 256]).ravel()
    if hist.sum() < 100:
        return None
    paper = float(np.searchsorted(np.cumsum(hist), 0.75 * hist.sum()))
    k3 = np.ones((3, 3), np.uint8)
    mx, mn = cv2.dilate(u8, k3), cv2.erode(u8, k3)
    rng = cv2.subtract(mx, mn)
    # paper pixels: the paper's level (not clipped white), near the text, not at an ink edge
    cand = (u8 < 255) & (u8 >= paper - 40) & (near > 0) & (rng < 30)
    n_cand = int(cand.sum())
    if n_cand < 200:
        return None
    flat = ((rng == 0) & cand).astype(np.uint8)
    page_flat = float(flat.sum()) / n_cand
    g0, g1 = FLAT_BAR_GATE
    gate = float(np.clip(1.0 - (page_flat - g0) / (g1 - g0), 0.0, 1.0))
    detail0 = {"page_flat_share": round(page_flat, 3)}
    if gate <= 0.0:
        return Signal(detector="image.flat_patch", family=SignalFamily.IMAGE, score=0.0, threshold=FLAT_THRESHOLD,
                      message="Flat paper is common on this receipt: a painted patch cannot be told.", detail=detail0)
    best = None
    f0, f1 = FLAT_BAR_FILL
    w0, w1 = FLAT_BAR_WIDTH
    # a closing of a few pixels bridges JPEG ringing and, on a re-typed line, thin strokes
    for ks in sorted({3, max(3, int(lh / 5)) | 1}):
        closed = cv2.morphologyEx(flat, cv2.MORPH_CLOSE, np.ones((ks, ks), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=4)
        for i in range(1, n):
            x, y, w, h, a = (int(v) for v in stats[i])
            if w < w0 * lh or not 0.4 * lh <= h <= 2.5 * lh:
                continue
            fill = a / float(w * h)
            shape = float(np.clip((fill - f0) / (f1 - f0), 0, 1) * np.clip((w / lh - w0) / (w1 - w0), 0, 1))
            if best is None or shape > best[0]:
                best = (shape, x, y, w, h, fill)
    if best is None:
        return Signal(detector="image.flat_patch", family=SignalFamily.IMAGE, score=0.0, threshold=FLAT_THRESHOLD,
                      message="No line-sized patch of flat paper.", detail=detail0)
    shape, x, y, w, h, fill = best
    score = shape * gate
    box = view.to_upload((x, y, x + w, y + h))
    return Signal(detector="image.flat_patch", family=SignalFamily.IMAGE, score=round(score, 4), threshold=FLAT_THRESHOLD,
                  message="A line-sized rectangle of the receipt's paper has one flat grey, without the grain of the "
                          "paper around it: it may have been painted over (an erased or re-typed line).",
                  regions=(Region(page=view.page_no, box=box, note="flat painted rectangle"),),
                  detail={**detail0, "fill": round(fill, 3), "width_lines": round(w / lh, 2),
                          "height_lines": round(h / lh, 2), "measure": "bar"})


def _flat_blocks(view: PageView) -> Signal | None:
    g = view.gray
    H, W = g.shape
    lines = line_boxes(view)
    if len(lines) < 3:
        return None
    hs = np.array([b[3] - b[1] for b, _ in lines], float)
    lh = float(np.median(hs))
    bs = int(max(6, min(24, round(lh / 2))))  # block size ~ half a text line
    gh, gw = H // bs, W // bs
    if gh < 4 or gw < 4:
        return None
    Hc, Wc = gh * bs, gw * bs
    gc = g[:Hc, :Wc]
    res = cv2.absdiff(gc, cv2.blur(gc, (3, 3)))
    # paper pixels: bright, away from ink, not clipped
    local_bg = cv2.dilate(gc, np.ones((9, 9), np.uint8))
    ink_near = cv2.dilate((gc < local_bg - 40).astype(np.uint8), np.ones((5, 5), np.uint8))
    paper = ((gc > local_bg - 18) & (gc < 250) & (ink_near == 0)).astype(np.float32)
    # block means (INTER_AREA with an integer factor averages each block exactly)
    area = (gw, gh)
    rs = cv2.resize(res * paper, area, interpolation=cv2.INTER_AREA)
    cnt = cv2.resize(paper, area, interpolation=cv2.INTER_AREA)
    bright = cv2.resize(gc, area, interpolation=cv2.INTER_AREA)
    valid = cnt >= 0.5
    noise = np.where(valid, rs / np.maximum(cnt, 1e-6), np.nan)
    # text area: blocks near OCR lines (the receipt, not the table)
    near = np.zeros((gh, gw), bool)
    for b, _ in lines:
        x0, y0, x1, y1 = b
        pad = int(lh * 2)
        near[max(0, (y0 - pad) // bs):min(gh, (y1 + pad) // bs + 1), max(0, x0 // bs):min(gw, x1 // bs + 1)] = True
    vals = noise[valid & near]
    if vals.size < 20:
        return None
    glob = float(np.nanmedian(vals))
    if glob < 0.6:  # a clean digital receipt: no noise to compare
        return None
    # surroundings: median of valid blocks in a 7x7 neighbourhood
    nz = np.nan_to_num(noise, nan=0.0)
    k = 7
    num = cv2.boxFilter(nz, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    den = cv2.boxFilter(valid.astype(np.float32), -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    ring = num / np.maximum(den, 1)
    ref = np.maximum(np.minimum(ring, glob * 1.5), 0.5 * glob)
    # paint has the paper's colour: a dark flat area is the scanner lid or the table around the
    # receipt (clipped black, no noise), not a brush
    paper_level = float(np.median(bright[valid & near]))
    flat = valid & near & (noise < FLAT_RATIO * ref) & (bright < 250) & (bright >= paper_level - FLAT_PAPER_MARGIN)
    # a painted area spans several blocks along the line
    flat_u8 = flat.astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(flat_u8, connectivity=8)
    best = None
    for i in range(1, n):
        x, y, w, h, a = (int(v) for v in stats[i])
        if a < 3:
            continue
        m = lab == i
        depth = float(1.0 - np.nanmean(noise[m] / ref[m]))
        # a thin strip of 1-2 blocks is common on clean paper; long flat areas are not
        strength = depth * min(1.0, a / 8.0)
        if best is None or strength > best[0]:
            best = (strength, x, y, w, h, a, depth)
    if best is None:
        return Signal(detector="image.flat_patch", family=SignalFamily.IMAGE, score=0.0, threshold=FLAT_THRESHOLD,
                      message="The paper noise is even across the receipt.", detail={"paper_noise": round(glob, 3)})
    strength, x, y, w, h, a, depth = best
    score = float(min(1.0, max(0.0, strength)))
    box = view.to_upload((x * bs, y * bs, (x + w) * bs, (y + h) * bs))
    return Signal(detector="image.flat_patch", family=SignalFamily.IMAGE, score=round(score, 4), threshold=FLAT_THRESHOLD,
                  message="A patch of the receipt has none of the paper and scanner noise around it: it may have "
                          "been painted over (an erased or re-typed line or digit).",
                  regions=(Region(page=view.page_no, box=box, note="noise-free patch"),),
                  detail={"paper_noise": round(glob, 3), "blocks": a, "depth": round(depth, 3), "block_px": bs})


# ---------------------------------------------------------------- resampling halo (a resized paste on a clean page)

HALO_THRESHOLD = 0.5
HALO_MIN_PX = 10  # lighter-than-paper pixels around one glyph that make it a resampled one (score 0.5)
HALO_NOISE_MAX = 0.75  # paper noise (grey levels, robust sigma) above which the measure is not made
HALO_PAGE_SHARE = 0.02  # share of the other lines' glyphs with such a halo above which the page rings anyway
HALO_MAX_LINES = 40  # lines measured for the page's own share


@register("resample_halo", SignalFamily.IMAGE)
def resample_halo(inp: ForensicInput) -> list[Signal]:
    """`image.resample_halo`: a glyph of a date or an amount with a light halo on a page where no
    other glyph has one. On a noise-free page (a digital receipt, a rendered PDF) antialiased text
    only ever mixes ink with paper: no pixel next to a stroke is lighter than the paper. A glyph
    cut out, resized with the sharpening kernels editors use (bicubic, Lanczos) and pasted rings:
    pixels lighter than the paper along its strokes. Not measured: a noisy photo or scan (its grain
    lights paper pixels everywhere) and any JPEG (compression rings along edges by itself, unevenly
    from block to block): lossless pages only. A page where other glyphs ring too (a sharpened
    render) is silent (`HALO_PAGE_SHARE`)."""
    from pipeline.forensics.jpeg import _jpeg_stream

    if _jpeg_stream(inp) is not None or b"/DCTDecode" in inp.data:
        return []
    out: list[Signal] = []
    for view in page_views(inp):
        fields = [f for f in decisive_boxes(inp, view.page_no) if f[0] != "product_model"]
        fields += _value_lines(inp, view.page_no)
        if fields:
            sig = _halo_page(view, fields)
            if sig is not None:
                out.append(sig)
    return out


def _halo_counts(view: PageView, lb: tuple[int, int, int, int]) -> tuple[list[tuple[Glyph, int]], float, float] | None:
    """(glyph, lighter-than-paper pixels within 2 px of its ink) of a line, the paper level and its noise."""
    gs = [g for g in view.glyphs(lb, light=True)[0] if g.h >= 6]
    if not gs:
        return None
    H, W = view.gray.shape
    x0, y0 = max(0, min(g.x0 for g in gs) - 3), max(0, min(g.y0 for g in gs) - 3)
    x1, y1 = min(W, max(g.x1 for g in gs) + 3), min(H, max(g.y1 for g in gs) + 3)
    crop = view.gray[y0:y1, x0:x1]
    u8 = np.clip(np.rint(crop), 0, 255).astype(np.uint8)
    t, ink = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    paper = _hist_median(u8, cv2.bitwise_not(ink), 255.0)
    if paper >= 254.5:
        return None  # white paper clips any overshoot
    pp = crop[(crop >= paper - 12) & (ink == 0)]
    if pp.size < 20:
        return None
    sigma = 1.4826 * float(np.median(np.abs(pp - paper)))
    ring = cv2.dilate(ink, np.ones((5, 5), np.uint8)) & cv2.bitwise_not(ink)
    light = ((crop > paper + 2.0 + 3.0 * sigma) & (ring > 0)).astype(np.uint8)
    # integral image: the light pixels inside each glyph's box + 2 px
    ii = cv2.integral(light)
    out = []
    for g in gs:
        a0, b0 = max(0, g.x0 - 2 - x0), max(0, g.y0 - 2 - y0)
        a1, b1 = min(crop.shape[1], g.x1 + 2 - x0), min(crop.shape[0], g.y1 + 2 - y0)
        out.append((g, int(ii[b1, a1] - ii[b0, a1] - ii[b1, a0] + ii[b0, a0])))
    return out, paper, sigma


def _halo_page(view: PageView, fields: list[tuple[str, Box]]) -> Signal | None:
    lines = line_boxes(view)
    field_lines: dict[tuple[int, int, int, int], str] = {}
    for name, fb in fields:
        vb = view.to_view(fb)
        lb = field_line(view, vb) or vb
        if lb not in field_lines and len(field_lines) < COPY_MAX_LINES:
            field_lines[lb] = name
    others = [b for b, _ in lines if b not in field_lines]
    others = others[:: max(1, len(others) // HALO_MAX_LINES)]
    sig: list[float] = []
    page: list[int] = []
    for b in others:
        got = _halo_counts(view, b)
        if got is not None:
            page += [n for _, n in got[0]]
            sig.append(got[2])
    if len(page) < 20 or float(np.median(sig)) > HALO_NOISE_MAX:
        return None
    share = sum(n >= HALO_MIN_PX for n in page) / len(page)
    detail = {"page_share": round(share, 4), "paper_noise": round(float(np.median(sig)), 2)}
    if share > HALO_PAGE_SHARE:
        return Signal(detector="image.resample_halo", family=SignalFamily.IMAGE, score=0.0, threshold=HALO_THRESHOLD,
                      message="Glyphs ring (lighter than the paper next to strokes) all over this receipt.", detail=detail)
    best: tuple[int, str, Glyph] | None = None
    for lb, name in field_lines.items():
        got = _halo_counts(view, lb)
        if got is None or got[2] > HALO_NOISE_MAX:
            continue
        for g, n in got[0]:
            if best is None or n > best[0]:
                best = (n, name, g)
    if best is None:
        return None
    n, name, g = best
    score = float(min(1.0, 0.5 * n / HALO_MIN_PX)) * (1.0 - share / HALO_PAGE_SHARE)
    return Signal(detector="image.resample_halo", family=SignalFamily.IMAGE, score=round(score, 4), threshold=HALO_THRESHOLD,
                  message=("A character of this field has a light halo along its strokes (pixels lighter than the paper), "
                           "as a glyph resized in an image editor and pasted has; no other character of this clean "
                           "receipt has one."),
                  field=name, regions=(Region(page=view.page_no, box=view.to_upload((g.x0, g.y0, g.x1, g.y1)), note="resampled glyph"),),
                  detail={**detail, "halo_pixels": n})


# ---------------------------------------------------------------- copy-move of digits

COPY_THRESHOLD = 0.5  # genuine receipts of the tune halves (SROIE tune split, generated seed 11) reach 0.36
COPY_MAX_LINES = 24  # field lines judged (the extraction's fields come first, then every date and amount)
COPY_MAX_TARGETS = 120  # glyphs of those lines judged
COPY_SOURCES = 3  # best shape matches compared per glyph
COPY_REFS = 14  # glyphs off the field lines whose best natural match sets the receipt's own level
COPY_REF_MIN = 0.02  # below this the receipt's prints of a glyph are pixel-identical anyway (a clean render)
COPY_MARGINS = (0, 1, 2, 3, 4)  # `_copy_residual(fine=True)`: symmetric selection margins tried (tests, diagnostics)
COPY_IDENTICAL = 0.0005  # residual of bit-identical pixels (a re-saved copy in a JPEG never gets this low)
COPY_FLOOR = 0.005  # residual floor added to both sides of the ratio (JPEG rounding, tiny glyphs)
COPY_FINE_GATE = 0.5  # full scale search only for targets whose quick match is below this many times the usual
COPY_SHIFT = 1  # px the cut-out may sit off the glyph box measured
COPY_MIN_ASPECT = 0.35  # width/height of the glyphs judged: a "1" or an "l" is a bar, and any two bars match


@register("copy_move", SignalFamily.IMAGE)
def copy_move(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        # digits of the date and the amounts; model names are letters, where narrow glyphs (l, I, i)
        # leave too little to compare
        fields = [f for f in decisive_boxes(inp, view.page_no) if f[0] != "product_model"]
        fields += _value_lines(inp, view.page_no)
        if not fields:
            continue
        out.extend(_copy_move_page(view, fields))
    return out


def _value_lines(inp: ForensicInput, page_no: int) -> list[tuple[str, Box]]:
    """Every OCR line that prints a date or an amount (after the extraction's fields): a pasted digit
    may sit in a print of the value the extraction did not take."""
    out: list[tuple[str, Box]] = []
    lines = page_lines(inp, page_no)
    out += [("purchase_date", ln.box) for ln in lines if _DATE_RE.search(ln.text)]
    # totals sit low on a receipt
    out += [("total", ln.box) for ln in reversed(lines) if _AMOUNT_RE.search(ln.text) and not _DATE_RE.search(ln.text)]
    # then the lines where the OCR read a garbled value (last: COPY_MAX_LINES keeps the clear ones first)
    for ln in reversed(lines):
        m = _LOOSE_VALUE_RE.search(ln.text)
        if m and not _AMOUNT_RE.search(ln.text) and not _DATE_RE.search(ln.text):
            out.append(("total" if re.fullmatch(r"\S[.,]\d{2}", m.group(0)) else "purchase_date", ln.box))
    return out


def _thumb(gray: np.ndarray, g: Glyph) -> np.ndarray:
    p = cv2.resize(gray[g.y0:g.y1, g.x0:g.x1], (10, 14), interpolation=cv2.INTER_AREA).ravel()
    p = p - p.mean()
    return p / max(1e-6, float(np.linalg.norm(p)))


def _overlap(a: Glyph, b: Glyph) -> bool:
    return min(a.x1, b.x1) > max(a.x0, b.x0) and min(a.y1, b.y1) > max(a.y0, b.y0)


def _copy_residual(gray: np.ndarray, t: Glyph, s: Glyph, fine: bool = True) -> float:
    """How exactly t's pixels are a resampled copy of s's: the smallest RMS difference relative to
    the ink contrast. An editor's cut-out is a rectangle around the glyph with some margin m,
    resized onto a rectangle around the target: for each m (and +-1 px of box error) the source
    rectangle is resized (bicubic) to the target's and slid over the target's surroundings. A glyph
    cut from the same image and pasted, resized or not, is a deterministic function of its source and
    comes out near 0; two prints of a character differ by the printer's and the scanner's noise."""
    H, W = gray.shape
    M = COPY_MARGINS[-1]
    sh = COPY_SHIFT
    if min(t.x0, t.y0, s.x0, s.y0) < M + sh + 1 or max(t.x1, s.x1) + M + sh + 2 > W or max(t.y1, s.y1) + M + sh + 2 > H:
        return 9.0
    tg = gray[t.y0:t.y1, t.x0:t.x1]
    c = max(20.0, float(tg.max() - tg.min()))
    best = float("inf")
    ds = (-1, 0, 1) if fine else (0,)
    # the quick measure tries the source's own size too when it is 1 px off: the ink threshold is set
    # per line, so the same pixels pasted on another line can segment 1 px wider or narrower
    dws = ds if fine else (0,) + ((s.w - t.w,) if abs(s.w - t.w) == 1 else ())
    dhs = ds if fine else (0,) + ((s.h - t.h,) if abs(s.h - t.h) == 1 else ())
    for m in (COPY_MARGINS if fine else (0,)):
        S0 = gray[s.y0 - m:s.y1 + m, s.x0 - m:s.x1 + m]
        for dw in dws:
            for dh in dhs:
                w_, h_ = t.w + 2 * m + dw, t.h + 2 * m + dh
                if w_ < 3 or h_ < 3:
                    continue
                R = S0 if (w_, h_) == (S0.shape[1], S0.shape[0]) else cv2.resize(S0, (w_, h_), interpolation=cv2.INTER_CUBIC)
                img = gray[t.y0 - m - sh:t.y0 - m + h_ + sh, t.x0 - m - sh:t.x0 - m + w_ + sh]
                r = cv2.minMaxLoc(cv2.matchTemplate(img, R, cv2.TM_SQDIFF))[0] / (w_ * h_)
                best = min(best, r)
    return float(np.sqrt(max(0.0, best))) / c if best < float("inf") else 9.0


def _warp_residual(gray: np.ndarray, t: Glyph, s: Glyph, fine_steps: int = 3) -> float:
    """`_copy_residual` with a continuous model of the resampling: t's pixels (box + 1 px) against s's
    surroundings sampled (bicubic) at scale (fx, fy) and a sub-pixel offset (ox, oy). An editor's
    resize of any rectangle around s is such a map, whatever margins the selection had. Coordinate
    descent: scale and offset along x, then along y, then again on a finer grid."""
    H, W = gray.shape
    P = 6
    if t.x0 < 1 or t.y0 < 1 or t.x1 + 1 > W or t.y1 + 1 > H or s.x0 < P or s.y0 < P or s.x1 + P > W or s.y1 + P > H:
        return 9.0
    T = gray[t.y0 - 1:t.y1 + 1, t.x0 - 1:t.x1 + 1]
    c = max(20.0, float(T.max() - T.min()))
    S = gray[s.y0 - P:s.y1 + P, s.x0 - P:s.x1 + P]
    size = (T.shape[1], T.shape[0])
    n = float(T.size)

    seen: dict[tuple[float, float, float, float], float] = {}

    def res(fx: float, fy: float, ox: float, oy: float) -> float:
        # the descent meets the same parameters again (the point it starts each axis from, the grid
        # points a finer step shares with the coarser one): each is resampled once
        key = (fx, fy, ox, oy)
        got = seen.get(key)
        if got is None:
            M = np.array([[1.0 / fx, 0.0, P - 1.0 / fx + ox], [0.0, 1.0 / fy, P - 1.0 / fy + oy]], np.float32)
            w = cv2.warpAffine(S, M, size, flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
            d = w - T
            got = seen[key] = float(np.sqrt(float((d * d).sum()) / n))
        return got

    p = [t.w / max(1, s.w), t.h / max(1, s.h), 0.0, 0.0]  # fx, fy, ox, oy
    best = res(*p)
    step_px, step_o = 1.0, 1.0
    for _ in range(fine_steps):
        for axis in (0, 1):  # (fx, ox), then (fy, oy)
            f0, o0 = p[axis], p[axis + 2]
            span = s.w if axis == 0 else s.h
            for dp in (-step_px, -step_px / 2, 0.0, step_px / 2, step_px):
                f = f0 + dp / max(1, span)
                if f <= 0.3:
                    continue
                for do in (-step_o, -step_o / 2, 0.0, step_o / 2, step_o):
                    q = list(p)
                    q[axis], q[axis + 2] = f, o0 + do
                    r = res(*q)
                    if r < best:
                        best, p = r, q
        step_px, step_o = step_px / 2, step_o / 2
    return best / c


def _ink_moments(P: np.ndarray) -> tuple[float, float, float, float] | None:
    """Centre and spread (x, y) of a patch's ink, each pixel weighted by how much darker than the
    patch's paper it is: measures of a glyph's place and size that do not hang on where an ink
    threshold cuts its antialiased edge."""
    flat = P.ravel()
    k = int(0.9 * (flat.size - 1))
    paper = float(np.partition(flat, k)[k])
    w = np.clip(paper - P, 0.0, None)
    cols, rows = w.sum(axis=0), w.sum(axis=1)
    tot = float(cols.sum())
    if tot <= 1e-3:
        return None
    xs, ys = np.arange(P.shape[1], dtype=np.float32), np.arange(P.shape[0], dtype=np.float32)
    mx, my = float(cols @ xs) / tot, float(rows @ ys) / tot
    sx = float(np.sqrt(float(cols @ (xs - mx) ** 2) / tot))
    sy = float(np.sqrt(float(rows @ (ys - my) ** 2) / tot))
    if sx < 0.5 or sy < 0.5:
        return None
    return mx, my, sx, sy


def _glyph_moments(gray: np.ndarray, g: Glyph, cache: dict | None) -> tuple[float, float, float, float] | None:
    """`_ink_moments` of a glyph's box + 1 px; with a cache (a page's), once per box: a target is
    measured against several sources, and a source serves many targets."""
    key = (g.x0, g.y0, g.x1, g.y1)
    if cache is not None and key in cache:
        return cache[key]
    got = _ink_moments(gray[g.y0 - 1:g.y1 + 1, g.x0 - 1:g.x1 + 1])
    if cache is not None:
        cache[key] = got
    return got


def _moment_residual(gray: np.ndarray, t: Glyph, s: Glyph, moments: dict | None = None) -> float:
    """`_copy_residual` with the scale and the sub-pixel offset taken from the ink moments of the two
    glyphs (one resampling, Lanczos): a resized copy's boxes can be 1 px off its true scale either
    way (where the ink threshold cuts), its ink's spread is not."""
    H, W = gray.shape
    P = 6
    if t.x0 < 1 or t.y0 < 1 or t.x1 + 1 > W or t.y1 + 1 > H or s.x0 < P or s.y0 < P or s.x1 + P > W or s.y1 + P > H:
        return 9.0
    T = gray[t.y0 - 1:t.y1 + 1, t.x0 - 1:t.x1 + 1]
    mt = _glyph_moments(gray, t, moments)
    ms = _glyph_moments(gray, s, moments)
    if mt is None or ms is None:
        return 9.0
    fx, fy = mt[2] / ms[2], mt[3] / ms[3]
    if not (0.6 <= fx <= 1.6 and 0.6 <= fy <= 1.6):
        return 9.0
    S = gray[s.y0 - P:s.y1 + P, s.x0 - P:s.x1 + P]
    # T's pixel (u, v) samples S at the point with the same offset from the ink centre, scaled
    M = np.array([[1.0 / fx, 0.0, ms[0] + P - 1 - mt[0] / fx], [0.0, 1.0 / fy, ms[1] + P - 1 - mt[1] / fy]], np.float32)
    w = cv2.warpAffine(S, M, (T.shape[1], T.shape[0]), flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_REPLICATE)
    c = max(20.0, float(T.max() - T.min()))
    d = w - T
    return float(np.sqrt(float((d * d).mean()))) / c


def _best_copy(view: PageView, t: Glyph, srcs: list[Glyph], S: np.ndarray, fine_below: float = 9.0) -> tuple[float, Glyph | None]:
    """t's closest resampled-copy match among the glyphs of the same shape: the box-ratio scale for
    the best shape matches, the full margin/scale search for the closest of them (when that is
    below `fine_below`)."""
    gray = view.gray
    shape = S @ view.thumb(t)
    found: list[tuple[float, Glyph]] = []
    for k in np.argsort(-shape)[:COPY_SOURCES + 2]:
        s = srcs[int(k)]
        if shape[k] < 0.6 or s is t or _overlap(s, t) or not 0.7 <= t.h / max(1, s.h) <= 1.45:
            continue
        r = _copy_residual(gray, t, s, fine=False)
        if len(found) < COPY_MOMENT_SOURCES:  # the closest shapes also by their ink moments (the time budget)
            if view.moment_cache is None:
                view.moment_cache = {}
            r = min(r, _moment_residual(gray, t, s, view.moment_cache))
        found.append((r, s))
        if len(found) >= COPY_SOURCES:
            break
    if not found:
        return 9.0, None
    r, s = min(found, key=lambda f: f[0])
    if r >= fine_below:
        return r, s
    return min(r, _warp_residual(gray, t, s)), s


COPY_MOMENT_SOURCES = 2  # best shape matches also measured by `_moment_residual`
COPY_LATER_TARGETS = 24  # glyphs added from lines met again (the rest of a value line the first field cut)
COPY_WIDE = 0.9  # width/height above which a judged component is taken for glyphs run together
COPY_MAX_BLOBS = 4  # such components slid over per receipt (the time budget)


def _blob_copy(view: PageView, b: Glyph, th: float, srcs: list[Glyph],
               fine_below: float = 9.0) -> tuple[float, Glyph | None, Glyph | None]:
    """The closest resampled copy of any source glyph inside a component of run-together glyphs:
    each source's ink box resized to the line's glyph height (and to the component's, when it is
    about as tall) is slid over the component (+2 px); the best place, when below `fine_below`, is
    refined with `_warp_residual`. Returns (residual, the place as a glyph box, the source)."""
    gray = view.gray
    H, W = gray.shape
    pad = 2
    X0, Y0, X1, Y1 = b.x0 - pad, b.y0 - pad, b.x1 + pad, b.y1 + pad
    if X0 < 0 or Y0 < 0 or X1 > W or Y1 > H:
        return 9.0, None, None
    region = gray[Y0:Y1, X0:X1]
    c = max(20.0, float(region.max() - region.min()))
    heights = sorted({int(round(th))} | ({b.h} if abs(b.h - th) <= 2 else set()))
    cands: list[tuple[float, Glyph, Glyph]] = []
    for s in srcs:
        if _overlap(s, b) or s.x0 < 1 or s.y0 < 1 or s.x1 + 1 > W or s.y1 + 1 > H or s.w < COPY_MIN_ASPECT * s.h:
            continue
        S0 = gray[s.y0:s.y1, s.x0:s.x1]  # the ink box only: whatever margin the selection had, it holds this
        for hh in heights:
            tw = max(2, int(round(s.w * hh / s.h)))
            if tw > region.shape[1] or hh > region.shape[0] or not 0.8 <= hh / s.h <= 1.25:
                continue
            R = S0 if (tw, hh) == (s.w, s.h) else cv2.resize(S0, (tw, hh), interpolation=cv2.INTER_CUBIC)
            v, _, loc, _ = cv2.minMaxLoc(cv2.matchTemplate(region, R, cv2.TM_SQDIFF))
            r = float(np.sqrt(max(0.0, v) / R.size)) / c
            x, y = X0 + loc[0], Y0 + loc[1]
            cands.append((r, Glyph(x, y, x + tw, y + hh, 0, 0.0, 0.0, 0.0), s))
    if not cands:
        return 9.0, None, None
    r, t, s = min(cands, key=lambda f: f[0])
    if r < fine_below:
        r = min(r, _warp_residual(gray, t, s))
    return r, t, s


def _neighbour(g: Glyph, glyphs: list[Glyph], side: int, dx: float | None = None) -> Glyph | None:
    """The glyph next to g on its text row (side +1: right, -1: left), at gap dx (+-2 px) if given."""
    best, bd = None, None
    for o in glyphs:
        if o is g or min(o.y1, g.y1) - max(o.y0, g.y0) < 0.5 * min(o.h, g.h):
            continue
        gap = o.x0 - g.x1 if side > 0 else g.x0 - o.x1
        if gap < -1 or gap > 1.5 * g.h:
            continue
        d = abs(gap - dx) if dx is not None else gap
        if dx is not None and d > 2:
            continue
        if bd is None or d < bd:
            best, bd = o, d
    return best


def _repeated_print(view: PageView, t: Glyph, s: Glyph, glyphs: list[Glyph], r: float, ref: float) -> bool:
    """Whether a glyph of t's row next to t is as close a copy of the glyph at the same place next
    to s: a whole string printed twice at the same pixel phase (a digital render), not one glyph
    pasted (a pasted digit's neighbours are other prints)."""
    bar = r + 0.5 * (ref - r)
    for side in (1, -1):
        tn = _neighbour(t, glyphs, side)
        if tn is None or _overlap(tn, s):
            continue
        gap = tn.x0 - t.x1 if side > 0 else t.x0 - tn.x1
        sn = _neighbour(s, glyphs, side, dx=gap)
        if sn is None or _overlap(sn, t) or abs(sn.h - tn.h) > 2 or abs(sn.w - tn.w) > 2:
            continue
        if _warp_residual(view.gray, tn, sn) <= bar:
            return True
    return False


COPY_ALIGNED_PAIRS = 80  # column-aligned glyph pairs measured for `_aligned_bar`


def _aligned_bar(view: PageView, t: Glyph, s: Glyph, glyphs: list[Glyph]) -> float | None:
    """For a pair in one column (same left or right edge, same size): the closest other such pair of
    one shape on the receipt, or None. A renderer draws a character in one column at one pixel phase,
    so two prints there are near copies anyway; a column-aligned pair must beat the other aligned
    pairs, not the receipt's pairs at any phase."""
    if (t.x0 != s.x0 and t.x1 != s.x1) or (t.w, t.h) != (s.w, s.h):
        return None
    cols: dict[tuple[str, int, int, int], list[Glyph]] = {}
    for g in glyphs:
        if _overlap(g, t) or _overlap(g, s):
            continue
        cols.setdefault(("l", g.x0, g.w, g.h), []).append(g)
        cols.setdefault(("r", g.x1, g.w, g.h), []).append(g)
    pairs = [(a, b) for gs in cols.values() if len(gs) > 1 for i, a in enumerate(gs) for b in gs[i + 1:]
             if abs(a.y0 - b.y0) >= a.h]
    if not pairs:
        return None
    A = view.thumbs([a for a, _ in pairs])
    B = view.thumbs([b for _, b in pairs])
    shape = (A * B).sum(axis=1)
    order = [int(k) for k in np.argsort(-shape)[:COPY_ALIGNED_PAIRS] if shape[k] >= 0.9]  # the same character
    vals = [_copy_residual(view.gray, *pairs[k], fine=False) for k in order]
    return min(vals) if vals else None


def _copy_move_page(view: PageView, fields: list[tuple[str, Box]]) -> list[Signal]:
    lines = line_boxes(view)
    cache: dict[tuple[int, int, int, int], list[Glyph]] = {}

    def glyphs_of(b):
        if b not in cache:
            cache[b] = [g for g in view.glyphs(b, light=True)[0] if g.h >= 6]
        return cache[b]

    # the glyphs judged: those of the field lines, at most COPY_MAX_TARGETS
    jobs: list[tuple[str, Glyph, float]] = []
    done: set = set()
    judged: set = set()  # glyph boxes already among the targets
    later: list[tuple[str, tuple[int, int, int, int], tuple[int, int, int, int]]] = []

    def add(name: str, lb, vb) -> None:
        targets = [g for g in glyphs_of(lb) if vb[0] - 2 <= g.cx <= vb[2] + 2]
        if not targets:
            return
        th = float(np.median([g.h for g in targets]))
        for t in targets:
            key = (t.x0, t.y0, t.x1, t.y1)
            if key not in judged and t.h >= 0.6 * th and t.w >= COPY_MIN_ASPECT * t.h:
                judged.add(key)
                jobs.append((name, t, th))

    for name, fb in fields:
        vb = view.to_view(fb)
        lb = field_line(view, vb) or vb
        if lb in done:
            later.append((name, lb, vb))
            continue
        if len(done) >= COPY_MAX_LINES or len(jobs) >= COPY_MAX_TARGETS:
            continue
        done.add(lb)
        add(name, lb, vb)
    # then, as the budget allows, the rest of lines met again: the first field of a line may cover
    # only part of its value (one word of it)
    cap = min(COPY_MAX_TARGETS, len(jobs) + COPY_LATER_TARGETS)
    for name, lb, vb in later:
        if len(jobs) >= cap:
            break
        add(name, lb, vb)
    jobs = jobs[:cap]
    jobs = jobs[:COPY_MAX_TARGETS]
    if not jobs:
        return []
    # how exactly two prints of a glyph match on this receipt anyway: the same search for glyphs of
    # the other lines (digital renders: pixel for pixel, then nothing can be told)
    th = float(np.median([t.h for _, t, _ in jobs]))
    def usable(g: Glyph) -> bool:
        return 0.8 * th <= g.h <= 1.25 * th and g.w >= COPY_MIN_ASPECT * g.h

    refs = [g for b, _ in lines if b not in done for g in glyphs_of(b) if usable(g)]
    ref_vals: list[float] = []
    ref_pairs: list[tuple[float, Glyph, Glyph]] = []
    # the glyphs off the field lines first; when too few of them have a second print there, every line's
    for pool in ((refs if len(refs) >= 2 * COPY_REFS else None),
                 [g for b, _ in lines for g in glyphs_of(b) if usable(g)]):
        if pool is None or len(pool) < 4:
            continue
        ref_vals, ref_pairs = [], []
        R = view.thumbs(pool)
        for g in pool[:: max(1, len(pool) // COPY_REFS)][:COPY_REFS]:
            r, s = _best_copy(view, g, pool, R)
            if s is not None:
                ref_vals.append(r)
                ref_pairs.append((r, g, s))
        if len(ref_vals) >= 5:
            break
    ref = float(np.median(ref_vals)) if len(ref_vals) >= 5 else None
    if ref is None or ref < COPY_REF_MIN:
        # a clean render (or too few glyphs): every print of a glyph is the same pixels
        return [Signal(detector="image.copy_move", family=SignalFamily.IMAGE, score=0.0, threshold=COPY_THRESHOLD,
                       message="Prints of the same character cannot be told apart on this receipt (a clean render).",
                       detail={"usual_residual": round(ref, 4) if ref is not None else -1.0, "targets": 0})]
    found: list[tuple[float, str | None, Glyph, Glyph]] = []
    src_cache: dict[tuple[int, int], tuple[list[Glyph], np.ndarray]] = {}
    n_blobs = 0
    for name, t, th in jobs:
        key = (int(0.7 * th), int(1.45 * th))
        if key not in src_cache:
            srcs = [g for b, _ in lines for g in glyphs_of(b) if 0.7 * th <= g.h <= 1.45 * th]
            src_cache[key] = (srcs, view.thumbs(srcs))
        srcs, S = src_cache[key]
        if not srcs:
            continue
        if t.w > COPY_WIDE * t.h:
            # wider than a character: glyphs run together (a pasted glyph's margin often joins it to
            # its neighbours), no one source has its shape; every source is slid over it instead
            if n_blobs >= COPY_MAX_BLOBS:
                continue
            n_blobs += 1
            r, t2, s = _blob_copy(view, t, th, srcs, fine_below=COPY_FINE_GATE * ref)
            if s is not None and t2 is not None:
                found.append((r, name, t2, s))
            continue
        r, s = _best_copy(view, t, srcs, S, fine_below=COPY_FINE_GATE * ref)
        if s is not None:
            found.append((r, name, t, s))
    # a glyph off the field lines that the references found to be a copy is one too (a value line
    # the OCR misread is not among the field lines): the same bar judges it
    found += [(r, None, g, h) for r, g, h in ref_pairs]
    n_targets = len(jobs)
    if not found:
        return []
    found.sort(key=lambda f: f[0])
    all_glyphs = [g for b, _ in lines for g in glyphs_of(b)]
    # the same value printed twice by a renderer repeats whole strings at one pixel phase: when the
    # neighbours of the pair match as closely as the pair, it is a repeated print, not a pasted glyph
    while len(found) > 1 and _repeated_print(view, found[0][2], found[0][3], all_glyphs, found[0][0], ref):
        found.pop(0)
    best = found[0]
    # a second, unrelated pair as close: prints of this receipt repeat pixel for pixel anyway
    # (a digital render with little noise), one close pair then proves nothing
    pair = (best[2], best[3])
    others = [f[0] for f in found[1:] if not any(_overlap(f[2], g) or _overlap(f[3], g) for g in pair)]
    # the bar: the closest unrelated pair among the judged glyphs, or the closest natural match off
    # the field lines (the median alone lets one close natural pair pass as a copy)
    # (a natural match that involves the pair itself, e.g. the source glyph matched to its pasted copy
    # when the references had to come from every line, is the copy again, not a natural bar)
    natural = [v for v, g, h in ref_pairs if not any(_overlap(g, x) or _overlap(h, x) for x in pair)]
    closest = min(natural) if natural else min(ref_vals)
    second = min(others[0] if others else ref, ref, max(closest, COPY_REF_MIN))
    r, name, t, s = best
    aligned = _aligned_bar(view, t, s, all_glyphs)
    if aligned is not None:
        second = min(second, max(aligned, COPY_REF_MIN))
    if r < COPY_IDENTICAL:
        # bit for bit the same pixels: no print or scan noise at all (a digital render, where a
        # character drawn twice at the same sub-pixel phase repeats exactly): a copy cannot be
        # told from a second print there
        score = 0.0
    else:
        score = float(min(1.0, max(0.0, 1.0 - (r + COPY_FLOOR) / (second + COPY_FLOOR))))
    regions = (Region(page=view.page_no, box=view.to_upload((t.x0, t.y0, t.x1, t.y1)), note="pasted glyph"),
               Region(page=view.page_no, box=view.to_upload((s.x0, s.y0, s.x1, s.y1)), note="copied from here"))
    return [Signal(detector="image.copy_move", family=SignalFamily.IMAGE, score=round(score, 4), threshold=COPY_THRESHOLD,
                   message=("A character of this field repeats a character elsewhere on the receipt pixel for pixel "
                            "(scaled or not), far closer than two prints of a character match on this receipt: it "
                            "looks cut from there and pasted."),
                   field=name, regions=regions,
                   detail={"copy_residual": round(r, 4), "usual_residual": round(ref, 4),
                           "closest_usual": round(closest, 4), "second_pair": round(second, 4), "targets": n_targets,
                           "aligned_bar": round(aligned, 4) if aligned is not None else -1.0})]
