"""Image-level tamper signals: pixels that do not share the history of the rest of the receipt.

- `image.flat_patch`  a patch of paper with (almost) no sensor/scan noise inside a noisy receipt:
  the trace of a brush or a filled rectangle (an erased or re-typed line, a digit painted out).
- `image.copy_move`   a glyph of a decisive field (date, total) whose surrounding paper carries the
  same noise as a glyph elsewhere on the receipt: the digit was cut from there and pasted, paper
  texture included (genuine prints of the same digit share the shape, never the noise).

Both work on the page image the OCR saw (same pixel grid as the OCR boxes) and use the OCR lines
and the extracted fields only to know where the text and the decisive fields are. The helpers at
the bottom (page geometry, decisive boxes, glyph components) are shared with `layout.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from models.documents import Box, Page
from pipeline.forensics import ForensicInput, Region, Signal, SignalFamily, register

DECISIVE = ("purchase_date", "total", "serial_handwritten")
_DATE_RE = re.compile(r"\b\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|\b\d{1,2}\s*[A-Za-z]{3,9}\s*\d{2,4}\b")
_AMOUNT_RE = re.compile(r"\d[\d.,\s]*[.,]\d{2}\b")


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
        """`line_glyphs` of a box, cached (full measurements serve light requests too)."""
        if self.glyph_cache is None:
            self.glyph_cache = {}
        full = self.glyph_cache.get((box, False))
        if full is not None:
            return full
        if light:
            got = self.glyph_cache.get((box, True))
            if got is None:
                got = self.glyph_cache[(box, True)] = line_glyphs(self.gray, box, light=True)
            return got
        got = self.glyph_cache[(box, False)] = line_glyphs(self.gray, box)
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
                for pg in inp.doc.pages:
                    if pg.page_no != page_no:
                        continue
                    for ln in pg.lines:
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
    if inp.doc is None:
        return out
    for pg in inp.doc.pages:
        if pg.page_no != page_no:
            continue
        labels = [ln.box for ln in pg.lines if re.search(r"total|jumlah|amount|i alt|totalt|sum", ln.text, re.I)]
        for ln in pg.lines:
            t = ln.text
            if _DATE_RE.search(t):
                out.append(("purchase_date", ln.box))
            elif _AMOUNT_RE.search(t) and any(min(b.y1, ln.box.y1) - max(b.y0, ln.box.y0) > 0.5 * ln.box.height for b in labels):
                out.append(("total", ln.box))  # an amount on the row of a "total" label
    return out


def _printed_values(inp: ForensicInput, page_no: int) -> list[tuple[str, Box]]:
    out: list[tuple[str, Box]] = []
    if inp.doc is None:
        return out
    for pg in inp.doc.pages:
        if pg.page_no != page_no:
            continue
        for ln in pg.lines:
            for w in ln.words:
                if _AMOUNT_RE.fullmatch(w.text.strip("()[]:;*")) and re.search(r"\d{2}$", w.text.strip("()[]:;*")):
                    out.append(("total", w.box))
                elif _DATE_RE.search(w.text):
                    out.append(("purchase_date", w.box))
    return out


def line_boxes(view: PageView) -> list[tuple[tuple[int, int, int, int], str]]:
    if view.page is None:
        return []
    out = []
    for ln in view.page.lines:
        if not ln.words:
            continue
        b = view.to_view(ln.box)
        if b[2] - b[0] >= 4 and b[3] - b[1] >= 6:
            out.append((b, ln.text))
    return out


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


def line_glyphs(gray: np.ndarray, box: tuple[int, int, int, int], pad_frac: float = 0.25,
                light: bool = False) -> tuple[list[Glyph], float]:
    """Dark connected components of a text line (page coordinates), and the paper grey level."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    py = int(round(pad_frac * h))
    H, W = gray.shape
    X0, Y0, X1, Y1 = max(0, x0 - 2), max(0, y0 - py), min(W, x1 + 2), min(H, y1 + py)
    crop = gray[Y0:Y1, X0:X1]
    if crop.size < 30:
        return [], 255.0
    u8 = np.clip(crop, 0, 255).astype(np.uint8)
    t, bw = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    paper = _hist_median(u8, cv2.bitwise_not(bw), 255.0)
    inkv = _hist_median(u8, bw, paper)
    if paper - inkv < 25:
        return [], paper
    n, lab, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    if light:
        gx = gy = crop[:1, :1]
    else:
        gx = cv2.Sobel(crop, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(crop, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt(gx * gx + gy * gy)
    edge = None if light else cv2.morphologyEx(bw, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    out = []
    for i in range(1, n):
        x, y, w, hh, a = (int(v) for v in stats[i])
        if a < 8 or hh < 0.3 * h or hh > 1.6 * h or w > 2.5 * hh:
            continue
        if light:
            out.append(Glyph(X0 + x, Y0 + y, X0 + x + w, Y0 + y + hh, a, 0.0, 0.0, 0.0))
            continue
        sub = (lab[y:y + hh, x:x + w] == i).astype(np.uint8)
        cnts, _ = cv2.findContours(sub, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        per = sum(cv2.arcLength(c, True) for c in cnts)
        ink5, ink = (float(v) for v in np.percentile(crop[y:y + hh, x:x + w][sub > 0], (5, 50)))
        # stroke width with sub-pixel ink: 2 * (ink mass) / perimeter, the mass from grey levels
        # around the component (antialiased edges count for their darkness)
        ya, yb, xa, xb = max(0, y - 1), min(crop.shape[0], y + hh + 1), max(0, x - 1), min(crop.shape[1], x + w + 1)
        near = cv2.dilate((lab[ya:yb, xa:xb] == i).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        frac = np.clip((paper - crop[ya:yb, xa:xb]) / max(1.0, paper - ink5), 0, 1)
        frac[(frac < 0.15) | ~near] = 0
        mass = float(frac.sum())
        e = edge[y:y + hh, x:x + w] & near[y - ya:y - ya + hh, x - xa:x - xa + w]
        sharp = float(grad[y:y + hh, x:x + w][e].mean()) / max(1.0, paper - ink) if e.any() else 0.0
        out.append(Glyph(X0 + x, Y0 + y, X0 + x + w, Y0 + y + hh, a, 2.0 * mass / max(1.0, per), ink, sharp))
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


# ---------------------------------------------------------------- copy-move of digits

COPY_THRESHOLD = 0.85  # genuine (tune halves) reach 0.80
COPY_MIN_NOISE = 0.75
EXACT_MARGIN = 0.10  # pixel match above the receipt's usual best match (75th pct) that scores 0.5
COPY_MAX_LINES = 6  # field lines judged (the extraction's fields come first)
COPY_MAX_TARGETS = 40  # glyphs of those lines judged
COPY_SOURCES = 4  # best shape matches compared per glyph
RING_GAP = 7  # paper pixels this far from the ink only: glyph edges are alike in every print of a digit


@register("copy_move", SignalFamily.IMAGE)
def copy_move(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        # digits of the date and the amounts; model names are letters, where narrow glyphs (l, I, i)
        # leave too little paper around them to compare
        fields = [f for f in decisive_boxes(inp, view.page_no, all_values=False) if f[0] != "product_model"]
        if not fields:
            continue
        out.extend(_copy_move_page(view, fields))
    return out


def _ring_residual(gray: np.ndarray, g: Glyph, size: tuple[int, int] | None, m: int = 5) -> tuple[np.ndarray, np.ndarray] | None:
    H, W = gray.shape
    x0, y0, x1, y1 = g.x0 - m, g.y0 - m, g.x1 + m, g.y1 + m
    if x0 < 0 or y0 < 0 or x1 > W or y1 > H:
        return None
    p = gray[y0:y1, x0:x1]
    if size is not None and (p.shape[1], p.shape[0]) != size:
        p = cv2.resize(p, size, interpolation=cv2.INTER_LINEAR)
    r = p - cv2.GaussianBlur(p, (0, 0), 1.0)
    return p, r


def _thumb(gray: np.ndarray, g: Glyph) -> np.ndarray:
    p = cv2.resize(gray[g.y0:g.y1, g.x0:g.x1], (10, 14), interpolation=cv2.INTER_AREA).ravel()
    p = p - p.mean()
    return p / max(1e-6, float(np.linalg.norm(p)))


def _copy_move_page(view: PageView, fields: list[tuple[str, Box]]) -> list[Signal]:
    gray = view.gray
    lines = line_boxes(view)
    # candidate sources: glyphs of every line, computed once per line
    cache: dict[tuple[int, int, int, int], list[Glyph]] = {}

    def glyphs_of(b):
        if b not in cache:
            cache[b] = view.glyphs(b, light=True)[0]
        return cache[b]

    noise = float(np.median(np.abs(_residual(gray[:: 4, :: 4]))))
    noisy = noise >= COPY_MIN_NOISE  # a clean digital image has no paper noise to compare
    best: tuple[float, str, Glyph, Glyph] | None = None
    best_exact: tuple[float, str, Glyph, Glyph] | None = None
    done = set()
    n_targets = 0
    for name, fb in fields:
        vb = view.to_view(fb)
        lb = field_line(view, vb) or vb
        if lb in done or len(done) >= COPY_MAX_LINES:
            continue
        done.add(lb)
        targets = [g for g in glyphs_of(lb) if g.cx >= vb[0] - 2 and g.cx <= vb[2] + 2]
        if not targets:
            continue
        th = float(np.median([g.h for g in targets]))
        srcs = [g for b, _ in lines for g in glyphs_of(b) if 0.7 * th <= g.h <= 1.45 * th]
        if not srcs:
            continue
        S = view.thumbs(srcs)
        for t in targets:
            if n_targets >= COPY_MAX_TARGETS:
                break
            if t.h < 0.6 * th or t.w < 0.35 * t.h:
                continue
            n_targets += 1
            tp = _ring_residual(gray, t, None)
            if tp is None:
                continue
            tpix, tres = tp
            size = (tpix.shape[1], tpix.shape[0])
            tink = tpix < (tpix.max() - 0.5 * (tpix.max() - tpix.min()))
            ring = ~(cv2.dilate(tink.astype(np.uint8), np.ones((RING_GAP, RING_GAP), np.uint8)) > 0)
            ring &= tpix > tpix.max() - 0.25 * (tpix.max() - tpix.min())
            if ring.sum() < 12:
                continue
            a = tres[ring]
            a = a - a.mean()
            na = float(np.sqrt((a * a).sum()))
            if not noisy or na < 1e-3 or a.std() < 0.5:
                a, na = a, 0.0  # no noise path for this glyph; the pixel match still runs
            shape = S @ view.thumb(t)
            for k in np.argsort(-shape)[:COPY_SOURCES]:
                s = srcs[int(k)]
                if shape[k] < 0.6 or s is t or (abs(s.x0 - t.x0) < 2 and abs(s.y0 - t.y0) < 2):
                    continue
                sp = _ring_residual(gray, s, size)
                if sp is None:
                    continue
                spix = sp[0]
                ex_ = _exactness(gray, t, s)
                if best_exact is None or ex_ > best_exact[0]:
                    best_exact = (ex_, name, t, s)
                both = ring & (spix > spix.max() - 0.25 * (spix.max() - spix.min()))
                if na == 0.0 or both.sum() < 12:
                    continue
                a2 = tres[both] - tres[both].mean()
                na2 = float(np.sqrt((a2 * a2).sum()))
                b = sp[1][both]
                b = b - b.mean()
                nb = float(np.sqrt((b * b).sum()))
                if nb < 1e-3 or na2 < 1e-3:
                    continue
                a_, na_ = a, na
                a, na = a2, na2
                c = float((a * b).sum() / (na * nb))
                a, na = a_, na_
                if best is None or c > best[0]:
                    best = (c, name, t, s)
    if best is None and best_exact is None:
        return []
    # how exactly do two prints of a glyph match on this receipt anyway (digital renders: perfectly)
    field_lines = done
    refs = [g for b, _ in lines if b not in field_lines for g in glyphs_of(b)]
    refs = [g for g in refs if best_exact is not None and 0.8 * best_exact[2].h <= g.h <= 1.25 * best_exact[2].h]
    ref_vals = []
    if refs:
        R = view.thumbs(refs)
        for g in refs[:: max(1, len(refs) // 10)][:10]:
            sh = R @ view.thumb(g)
            vals = [_exactness(gray, g, refs[int(k)]) for k in np.argsort(-sh)[:6]
                    if refs[int(k)] is not g and sh[k] >= 0.6 and abs(refs[int(k)].x0 - g.x0) + abs(refs[int(k)].y0 - g.y0) > 3]
            if vals:
                ref_vals.append(max(vals))
    ref_exact = float(np.percentile(ref_vals, 75)) if len(ref_vals) >= 3 else 1.0
    c = best[0] if best is not None else 0.0
    e = best_exact[0] if best_exact is not None else 0.0
    # two ways to be a copy: the paper noise around the glyph repeats, or the glyph's own pixels
    # (ragged print edges, speckle) repeat far more exactly than two prints of a digit do
    s_noise = float(min(1.0, max(0.0, c)))
    s_exact = float(min(1.0, max(0.0, 0.5 + 2.5 * (e - ref_exact - EXACT_MARGIN)))) if e > 0 else 0.0
    if best_exact is not None and (s_exact > s_noise or best is None):
        score, (_, name, t, s) = s_exact, best_exact
    else:
        assert best is not None
        score, (_, name, t, s) = s_noise, best
    regions = (Region(page=view.page_no, box=view.to_upload((t.x0, t.y0, t.x1, t.y1)), note="pasted glyph"),
               Region(page=view.page_no, box=view.to_upload((s.x0, s.y0, s.x1, s.y1)), note="copied from here"))
    return [Signal(detector="image.copy_move", family=SignalFamily.IMAGE, score=round(score, 4), threshold=COPY_THRESHOLD,
                   message=("A character of this field repeats a character elsewhere on the receipt pixel for pixel "
                            "(paper noise and print edges included): it looks cut from there and pasted."),
                   field=name, regions=regions if score >= COPY_THRESHOLD else regions[:1],
                   detail={"noise_correlation": round(c, 4), "pixel_match": round(e, 4), "usual_pixel_match": round(ref_exact, 4),
                           "image_noise": round(noise, 3)})]


def _exactness(gray: np.ndarray, t: Glyph, s: Glyph, m: int = 2) -> float:
    """Best normalised correlation of t's pixels with s's, s scaled to t's size, over small shifts;
    high-passed so that only fine detail (edges' raggedness, speckle) counts."""
    H, W = gray.shape
    if t.x0 - m < 0 or t.y0 - m < 0 or t.x1 + m > W or t.y1 + m > H:
        return 0.0
    tp = gray[t.y0:t.y1, t.x0:t.x1]
    sx, sy = t.w / max(1, s.w), t.h / max(1, s.h)
    mx, my = int(np.ceil(m / max(sx, 1e-3))), int(np.ceil(m / max(sy, 1e-3)))
    if s.x0 - mx < 0 or s.y0 - my < 0 or s.x1 + mx > W or s.y1 + my > H:
        return 0.0
    sp = gray[s.y0 - my:s.y1 + my, s.x0 - mx:s.x1 + mx]
    sp = cv2.resize(sp, (max(1, int(round(sp.shape[1] * sx))), max(1, int(round(sp.shape[0] * sy)))),
                    interpolation=cv2.INTER_LINEAR)
    if sp.shape[0] < tp.shape[0] or sp.shape[1] < tp.shape[1]:
        return 0.0
    hp = lambda a: a - cv2.GaussianBlur(a, (0, 0), 1.5)  # noqa: E731
    r = cv2.matchTemplate(hp(sp).astype(np.float32), hp(tp).astype(np.float32), cv2.TM_CCOEFF_NORMED)
    return float(r.max()) if r.size else 0.0
