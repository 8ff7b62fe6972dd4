"""Layout-level tamper signals: printed glyphs and lines that do not fit the rest of the receipt.

- `layout.glyph_mismatch` a digit of a printed decisive field (date, total) whose stroke width,
  height, baseline or ink differs from the digits and capitals of its own printed row by more than
  the receipt's own glyphs differ anyway: a digit pasted from another font size or weight, or
  re-typed. Characters are named from the OCR words whose boxes are the engine's own segmentation.
- `layout.line_offset`    a text line whose baseline (along the page's slope) sits off the even
  spacing of the lines around it, beyond the page's own jitter: a line re-typed.
- `layout.font_mismatch`  on a monospaced print, a row whose capitals and digits are taller or
  shorter for the character pitch than on the receipt's other body rows (robust z-score against
  their own spread), throughout the row: a line painted over and re-typed in a similar font.
- `layout.line_gap`       a blank row of one missing line (two line pitches, no ink in it) between
  two item lines, or next to a printed rule where the step to the rule is one pitch longer than at
  the page's other rules: an item line erased. Other ink-free blank rows are reported below the
  threshold (blank rows between sections are common by design).
- `layout.print_texture`  a text row whose ink is one flat grey and whose paper is flat, where the
  rows just above and below it (similar height, not bolder) show the grain of real print and of the
  scan or photo: text typed with an editor's text tool over a painted-out line.
- `layout.painted_row`    a text row whose paper carries no grain at all while every row just above
  and below it (similar height) shows the scan's or photo's: the line was painted out with one
  colour and typed again, whatever the typed ink looks like (thin typed strokes keep no ink core
  for `print_texture` to measure).

The first four measure connected components of the binarised OCR line boxes (see
`image.line_glyphs`); `print_texture` and `painted_row` the grey levels of each line box's ink core and paper.
"""

from __future__ import annotations

import re

import numpy as np

from pipeline.forensics import ForensicInput, Region, Signal, SignalFamily, register
from pipeline.forensics.image import Glyph, PageView, decisive_boxes, field_line, line_boxes, page_views

GLYPH_THRESHOLD = 0.9
GLYPH_MAX_LINES = 6  # field lines measured (the extraction's fields come first)
# score shaping (chosen on the tune halves: SROIE tune split and generated seed11, see bench_forensics.py)
GLYPH_SPREAD_K = 2.0
GLYPH_EXCESS = 0.45
GLYPH_SPREAD_UNKNOWN = 1.0
GLYPH_SPREAD_SAMPLE = 24  # glyphs per line measured for the spread
# printed fields only: the serial on the receipt is written by hand (SIGMA 5), and handwriting varies
# in stroke, height and baseline from one digit to the next; the claimant writes it anyway, so a
# mismatch there tells nothing about an edit
GLYPH_FIELDS = ("purchase_date", "total")
GLYPH_ROW_SPLIT = 0.5  # glyph bottoms this many letter heights apart belong to different printed rows
GLYPH_BRIDGE = 0.5  # a component covering half the letter bands of two rows is ink of both rows merged
# deviation (relative) that scores 0.5, per feature
GLYPH_SCALES = {"stroke": 0.25, "height": 0.22, "baseline": 0.20, "ink": 0.30}


def _tall(gs: list[Glyph]) -> list[Glyph]:
    if not gs:
        return []
    h90 = float(np.percentile([g.h for g in gs], 85))
    return [g for g in gs if g.h >= 0.8 * h90]


@register("glyph_mismatch", SignalFamily.LAYOUT)
def glyph_mismatch(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        fields = [f for f in decisive_boxes(inp, view.page_no) if f[0] in GLYPH_FIELDS]
        raws = _raw_texts(inp)
        best = None
        done = set()
        lines_seen: set = set()
        for name, fb in fields:
            vb = view.to_view(fb)
            lb = field_line(view, vb) or vb
            if (vb, name) in done or (lb not in lines_seen and len(lines_seen) >= GLYPH_MAX_LINES):
                continue
            done.add((vb, name))
            lines_seen.add(lb)
            r = _glyph_dev(view, lb, vb, raws.get(name) if _same_box(fb, inp, name) else None)
            if r is not None and (best is None or r[0] > best[0]):
                best = (*r, name, lb)
        if best is None:
            continue
        raw, g, feat, devs, name, lb = best
        spread_vals = [v for b in lines_seen for v in _line_spread(view, b)]
        spread = float(np.percentile(spread_vals, 75)) if len(spread_vals) >= 8 else None
        score = _glyph_score(raw, spread)
        out.append(Signal(
            detector="layout.glyph_mismatch", family=SignalFamily.LAYOUT, score=round(score, 4),
            threshold=GLYPH_THRESHOLD, field=name,
            message=f"A character of this field does not match the others on its line ({feat} differs): it may "
                    "have been pasted or re-typed.",
            regions=(Region(page=view.page_no, box=view.to_upload((g.x0, g.y0, g.x1, g.y1)), note="odd character"),),
            detail={"feature": feat, **{k: round(v, 4) for k, v in devs.items()}, "mismatch": round(raw, 4),
                    "receipt_spread": round(spread, 4) if spread is not None else -1.0}))
    return out


def _glyph_score(raw: float, spread: float | None) -> float:
    """The field glyph's mismatch beyond what this receipt's own glyphs show anyway: print, scan and
    font quirks make every glyph of some receipts a little off (upper quartile of all glyphs measured
    on the field lines, `GLYPH_SPREAD_K` times it is taken off). Too few glyphs to know: assume a
    quirky receipt. Scores `GLYPH_THRESHOLD` at `GLYPH_EXCESS` beyond that."""
    sp = spread if spread is not None else GLYPH_SPREAD_UNKNOWN
    return float(min(1.0, max(0.0, raw - GLYPH_SPREAD_K * sp - GLYPH_EXCESS + GLYPH_THRESHOLD)))


def _same_box(fb, inp: ForensicInput, name: str) -> bool:
    fv = getattr(inp.extraction, name, None) if inp.extraction is not None else None
    return fv is not None and fv.evidence is not None and fv.evidence.box == fb


def _raw_texts(inp: ForensicInput) -> dict[str, str]:
    out: dict[str, str] = {}
    ex = inp.extraction
    if ex is not None:
        for name in GLYPH_FIELDS:
            fv = getattr(ex, name, None)
            if fv is not None:
                out[name] = fv.raw
    return out


def _big_chars(text: str) -> list[str]:
    """The characters of a printed value that make a full-height glyph (what `line_glyphs` keeps)."""
    return [c for c in text if c.isalnum() or c in "/()%&#@$"]


def _glyph_dev(view: PageView, lb, vb, raw: str | None = None):
    gs, paper = view.glyphs(lb)
    tall = _tall(gs)
    if len(tall) < 4:
        return None
    # letters with descenders (g, p, y) are not comparable: drop what hangs well below the baseline
    b0 = float(np.median([g.y1 for g in tall]))
    h0 = float(np.median([g.h for g in tall]))
    tall = [g for g in tall if g.y1 - b0 < 0.18 * h0]
    if len(tall) < 4:
        return None
    # an OCR line may span two printed rows (tesseract merges rows that are close): a component that
    # reaches into another row's letter band is ink of both rows touching, not one character
    bands = _row_bands([g for g in gs if g.h >= 0.5 * h0], h0)
    tall = [g for g in tall if not _bridges(g, bands)]
    if len(tall) < 4:
        return None
    # characters named from the OCR words (where a word's glyphs match its letters one to one): a
    # digit is compared with digits and capitals only, not with lower-case letters (x-height) nor
    # symbols ($, /, parentheses reach above or below the digits)
    names = _glyph_names(view, lb, gs)
    tall = [g for g in tall if names.get(id(g), "0").isdigit() or names.get(id(g), "0").isupper()]
    if len(tall) < 4:
        return None
    targets = [g for g in tall if _in_box(g, vb)]
    inbox = [g for g in gs if _in_box(g, vb)]
    chars = _big_chars(raw) if raw else []
    if chars and len(inbox) == len(chars):
        # name the glyphs of the value when they match its characters one to one: judge digits only
        digits = {id(g) for g, c in zip(inbox, chars, strict=True) if c.isdigit()}
        targets = [g for g in targets if id(g) in digits]
    else:
        targets = [g for g in targets if names[id(g)].isdigit()] if all(id(g) in names for g in targets) else \
            [g for g in targets if names.get(id(g), "0").isdigit() and 0.3 <= g.w / max(1, g.h) <= 0.95]
    best = None
    for t in targets:
        m = _measure(t, tall, paper)
        if m is not None and (best is None or m[0] > best[0]):
            best = (m[0], t, m[1], m[2])
    return best


def _exact_box(engine: str) -> bool:
    """Whether an engine's word boxes are its own segmentation of the pixels. RapidOCR reads text
    lines: its words (a page reading, or a key-line re-read that replaced tesseract's words) get
    x-ranges in proportion to their letters (`split_line_into_words`). Words both engines read
    alike keep tesseract's boxes (`AGREED_SUFFIX` only marks them)."""
    from pipeline.ocr import AGREED_SUFFIX

    base = engine[: -len(AGREED_SUFFIX)] if engine.endswith(AGREED_SUFFIX) else engine
    return not base.startswith("rapidocr")


def _glyph_names(view: PageView, lb, gs: list[Glyph]) -> dict[int, str]:
    """id(glyph) -> character, for the glyphs of an OCR line that sit in a word with an exact box
    whose full-height characters match its glyphs one to one."""
    if view.page is None:
        return {}
    out: dict[int, str] = {}
    for ln in view.page.lines:
        if not ln.words or view.to_view(ln.box) != lb:
            continue
        for w in ln.words:
            if not _exact_box(w.engine):
                continue
            wb = view.to_view(w.box)
            inw = [g for g in gs if wb[0] - 1 <= g.cx <= wb[2] + 1 and min(g.y1, wb[3]) - max(g.y0, wb[1]) >= 0.5 * g.h]
            chars = _big_chars(w.text)
            if inw and len(inw) == len(chars):
                out.update({id(g): c for g, c in zip(inw, chars, strict=True)})
        break
    return out


def _in_box(g: Glyph, vb) -> bool:
    """Whether glyph g prints inside the field box: across, and down too (an OCR line spanning
    two printed rows has the other row's characters at the same x)."""
    ov = min(g.y1, vb[3]) - max(g.y0, vb[1])
    return vb[0] - 2 <= g.cx <= vb[2] + 2 and ov >= 0.5 * max(1, g.h)


def _row_bands(tall: list[Glyph], h0: float) -> list[tuple[float, float]]:
    """The printed rows of an OCR line's full-height glyphs: (median top, median bottom) of each
    group of glyphs whose bottoms lie together (split where consecutive bottoms jump by more
    than `GLYPH_ROW_SPLIT` letter heights)."""
    gs = sorted(tall, key=lambda g: g.y1)
    groups: list[list[Glyph]] = []
    for g in gs:
        if groups and g.y1 - groups[-1][-1].y1 <= GLYPH_ROW_SPLIT * h0:
            groups[-1].append(g)
        else:
            groups.append([g])
    return [(_med([g.y0 for g in grp]), _med([g.y1 for g in grp])) for grp in groups if len(grp) >= 2]


def _bridges(g: Glyph, bands: list[tuple[float, float]]) -> bool:
    """Whether g covers a good part of the letter bands of two printed rows."""
    hit = 0
    for top, bot in bands:
        ov = min(g.y1, bot) - max(g.y0, top)
        if ov >= GLYPH_BRIDGE * max(1.0, bot - top):
            hit += 1
    return hit >= 2


def _line_spread(view: PageView, lb) -> list[float]:
    """The mismatch (uncapped, in scale units) of every full-height glyph of a line: how much this
    receipt's genuine glyphs differ from their neighbours anyway (print, scan and font quirks)."""
    gs, paper = view.glyphs(lb)
    tall = _tall(gs)
    if len(tall) < 4:
        return []
    b0 = _med([g.y1 for g in tall])
    h0 = _med([g.h for g in tall])
    tall = [g for g in tall if g.y1 - b0 < 0.18 * h0]
    bands = _row_bands([g for g in gs if g.h >= 0.5 * h0], h0)
    tall = [g for g in tall if not _bridges(g, bands)]
    out = []
    for t in tall[:: max(1, len(tall) // GLYPH_SPREAD_SAMPLE)]:
        m = _measure(t, tall, paper)
        if m is not None:
            out.append(m[0])
    return out


def _med(v) -> float:
    s = sorted(v)
    n = len(s)
    return float(s[n // 2]) if n % 2 else 0.5 * float(s[n // 2 - 1] + s[n // 2])


def _measure(t: Glyph, tall: list[Glyph], paper: float):
    """(uncapped mismatch, worst feature, deviations) of glyph t against its neighbours on the row."""
    # neighbours on the same printed row (a skewed photo or an OCR line spanning two rows has
    # several): full-height glyphs overlapping t vertically, within a few letter widths
    ref = [g for g in tall if g is not t and min(g.y1, t.y1) - max(g.y0, t.y0) >= 0.6 * t.h
           and abs(g.cx - t.cx) <= 5 * t.h]
    if len(ref) < 3:
        return None
    rb0 = _med([g.y1 for g in ref])
    ref = [g for g in ref if g.y1 - rb0 < 0.15 * t.h]  # no descenders
    if len(ref) < 3:
        return None
    rs = _med([g.stroke for g in ref])
    rh = _med([g.h for g in ref])
    ri = _med([g.ink for g in ref])
    xs = [g.cx for g in ref]
    if max(xs) - min(xs) > 2 * t.h:
        # least-squares baseline through the neighbours (closed form: np.polyfit is slow per glyph)
        ys = [float(g.y1) for g in ref]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        k = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
        rb = float(my + k * (t.cx - mx))
    else:
        rb = _med([g.y1 for g in ref])
    near = sorted(ref, key=lambda g: abs(g.cx - t.cx))[:2]
    ns = _med([g.stroke for g in near])
    devs = {
        "stroke": min(abs(t.stroke / max(0.5, rs) - 1), abs(t.stroke / max(0.5, ns) - 1)),
        "height": abs(t.h / max(1.0, rh) - 1),
        "baseline": abs(t.y1 - rb) / max(1.0, rh),
        "ink": abs(t.ink - ri) / max(10.0, paper - ri),
    }
    z = {k: v / GLYPH_SCALES[k] for k, v in devs.items()}
    feat = max(z, key=z.get)
    # features add up: a pasted digit is usually a little off in several ways at once
    return float(0.5 * np.sqrt(sum(v * v for v in z.values()))), feat, devs


# ---------------------------------------------------------------- line rhythm: erased / re-typed lines

# a blank row is common in genuine layouts (generated and real): a gap that is not between item
# lines is reported for the handler with its region, but its score stays below the threshold
GAP_THRESHOLD = 0.95
GAP_MAX_SCORE = 0.9
GAP_FLAG_SLOPE = 0.1  # between two item lines: score per unit of closeness to two pitches around the threshold
OFFSET_THRESHOLD = 0.7  # 0.5 flagged genuine scans (tune halves: genuine up to 0.56)
OFFSET_SCALE = 0.05  # baseline offset, in line pitches, beyond the page's own jitter, that scores 0.5
OFFSET_JITTER = 3.0  # times the page's median row offset that counts as its own jitter


ROW_COLUMN_GAP = 3.0  # glyphs this many letter heights apart on one OCR line are separate columns
ROW_SPLIT = 0.5  # glyph bottoms (along the page's slope) this many letter heights apart: different rows


def _rows(view: PageView) -> list[dict]:
    """Printed rows: glyph baseline, letter height, horizontal extent; lines of one row merged.

    Baselines are taken along the page's slope, at one x for all rows: on a tilted photo or scan
    a short row and a full-width row otherwise have their median baselines at different x, hence
    at different heights. OCR lines are cut into columns at wide gaps and into printed rows where
    glyph bottoms jump (tesseract joins the left part of one row with the right part of the next
    on a tilted page, or two close rows): each piece counts as (part of) its own row."""
    lines = []
    for b, text in line_boxes(view):
        gs, _paper = view.glyphs(b, light=True)
        tall = _tall(gs)
        if len(tall) < 3:
            continue
        base0 = float(np.median([g.y1 for g in tall]))
        h = float(np.median([g.h for g in tall]))
        lines.append((h, [g for g in tall if g.y1 - base0 < 0.18 * h], (b, text)))
    # the page's slope: the median of the slopes of the columns wide enough to measure one
    pieces = [(h, col, ln) for h, tall, ln in lines for col in _columns(tall, h)]
    known = [k for h, col, _ in pieces if (k := _row_slope(col, h)) is not None]
    slope = float(np.median(known)) if known else 0.0
    x_ref = float(view.gray.shape[1]) / 2
    rows: list[dict] = []
    for h, col, ln in pieces:
        for grp in _split_rows(col, h, slope, x_ref):
            if len(grp) < 3:
                continue
            base = float(np.median([g.y1 + slope * (x_ref - g.cx) for g in grp]))
            rows.append({"base": base, "h": h, "x0": min(g.x0 for g in grp), "x1": max(g.x1 for g in grp),
                         "n": len(grp), "y": float(np.median([g.y1 for g in grp])),  # y: where it prints
                         "lines": [ln]})  # the OCR lines (view box, text) the row's glyphs come from
    rows.sort(key=lambda r: r["base"])
    merged: list[dict] = []
    for r in rows:
        if merged and abs(r["base"] - merged[-1]["base"]) < 0.35 * min(r["h"], merged[-1]["h"]):
            m = merged[-1]
            w_m, w_r = m["n"], r["n"]
            m["base"] = (m["base"] * w_m + r["base"] * w_r) / (w_m + w_r)
            m["y"] = (m["y"] * w_m + r["y"] * w_r) / (w_m + w_r)
            m["h"] = max(m["h"], r["h"]) if abs(m["h"] - r["h"]) > 2 else (m["h"] + r["h"]) / 2
            m["x0"], m["x1"], m["n"] = min(m["x0"], r["x0"]), max(m["x1"], r["x1"]), w_m + w_r
            m["lines"] = m["lines"] + [ln for ln in r["lines"] if ln not in m["lines"]]
        else:
            merged.append(dict(r))
    return merged


def _columns(tall: list[Glyph], h: float) -> list[list[Glyph]]:
    """An OCR line's glyphs cut where the gap between neighbours exceeds `ROW_COLUMN_GAP` letter heights."""
    out: list[list[Glyph]] = []
    for g in sorted(tall, key=lambda g: g.x0):
        if out and g.x0 - out[-1][-1].x1 <= ROW_COLUMN_GAP * h:
            out[-1].append(g)
        else:
            out.append([g])
    return out


def _split_rows(col: list[Glyph], h: float, slope: float, x_ref: float) -> list[list[Glyph]]:
    """The glyphs of one column grouped by their bottoms along the page's slope."""
    key = sorted(col, key=lambda g: g.y1 + slope * (x_ref - g.cx))
    out: list[list[Glyph]] = []
    last = None
    for g in key:
        y = g.y1 + slope * (x_ref - g.cx)
        if out and last is not None and y - last <= ROW_SPLIT * h:
            out[-1].append(g)
        else:
            out.append([g])
        last = y
    return out


ROW_SLOPE_SPAN = 6.0  # a row's own baseline slope is measured when its glyphs span this many letter heights


def _row_slope(tall: list[Glyph], h: float) -> float | None:
    """The baseline slope of one printed row (least squares through the glyph bottoms), or None
    when its glyphs span too little of the page to tell a slope from letter-to-letter jitter."""
    xs = np.array([g.cx for g in tall], float)
    if len(xs) < 5 or xs.max() - xs.min() < ROW_SLOPE_SPAN * h:
        return None
    ys = np.array([g.y1 for g in tall], float)
    c = np.polyfit(xs, ys, 1)
    k = float(c[0])
    # a descender or a symbol left in can tilt a least-squares line: refit without the worst outliers
    res = np.abs(ys - np.polyval(c, xs))
    keep = res <= max(1.0, 2.0 * float(np.median(res)))
    if keep.sum() >= 5:
        k = float(np.polyfit(xs[keep], ys[keep], 1)[0])
    return k if abs(k) < 0.2 else None


GAP_TOL = 0.25  # |gap / pitch - 2| that still counts as one missing row (closeness 0 there)
GAP_INK = 0.003  # share of dark pixels in the gap above which it holds print (a rule, a logo, unread text)
GAP_RIGHT_ALIGN = 0.6  # letter heights the right ends of the two item lines may differ by
_AMOUNT_END = re.compile(r"\d[.,]\s?\d{2}\s*[A-Za-z*]{0,3}\s*$")
_NOT_ITEM = ("TOTAL", "SUBTOTAL", "TAX", "PAYMENT")


def _row_extent(row: dict) -> tuple[int, int]:
    """Left and right end of a printed row, from its OCR line boxes (the glyph extent misses the
    lower-case letters and short characters)."""
    return min(b[0] for b, _ in row["lines"]), max(b[2] for b, _ in row["lines"])


def _row_text(row: dict) -> str:
    return " ".join(t for _, t in sorted(row["lines"], key=lambda ln: ln[0][0]))


def _item_line(row: dict) -> bool:
    """Whether a printed row reads as an item line: it ends with an amount and carries no total,
    subtotal, tax or payment label (those rows are set apart by blank rows by design)."""
    from pipeline.extract.cues import find_cues

    text = _row_text(row)
    return bool(_AMOUNT_END.search(text)) and not any(c.label in _NOT_ITEM for c in find_cues(text))


def _gap_ink(view: PageView, a: dict, y0: float, y1: float, x0: int, x1: int) -> float | None:
    """Share of dark pixels in the band y0..y1 across x0..x1 (a gap below printed row a): dark is
    nearer the ink of row a than the band's paper."""
    g = view.gray
    band = g[max(0, int(y0)):max(0, int(y1)), max(0, x0):max(0, x1)]
    if band.size < 20:
        return None
    ref = g[max(0, int(a["y"] - a["h"])):max(0, int(a["y"])), max(0, x0):max(0, x1)]
    paper = float(np.median(band))
    ink = float(np.percentile(ref, 2)) if ref.size else paper - 100.0
    thr = paper - max(25.0, 0.5 * (paper - ink))
    return float(np.mean(band < thr))


RULE_FILL = 0.4  # share of an image row's pixels (across the text) that are dark on a printed rule
RULE_MAX_THICK = 6  # px: thicker dark bands are not a rule
RULE_NEXT_TOL = 0.15  # |step / pitch - 1| between the item line at a rule and the item line before it
RULE_STEP_TOL = 0.35  # pitches a rule-to-row step may differ from the page's usual one


def _rules(view: PageView, rows: list[dict]) -> list[float]:
    """y of the printed horizontal rules (dashed or solid separator lines) of a page: image rows,
    outside the OCR lines, dark across much of the text width in a thin band."""
    if not rows or view.page is None:
        return []
    boxes = [b for b, _ in line_boxes(view)]
    x0 = int(min(b[0] for b in boxes))
    x1 = int(max(b[2] for b in boxes))
    if x1 - x0 < 20:
        return []
    g = view.gray[:, x0:x1]
    paper = float(np.median(g))
    dark = (g < paper - 60).mean(axis=1)
    inside = np.zeros(len(dark), bool)
    for b in boxes:
        hh = b[3] - b[1]
        inside[max(0, b[1] + hh // 5):max(0, b[3] - hh // 5)] = True
    cand = (dark >= RULE_FILL) & ~inside
    out: list[float] = []
    y = 0
    n = len(cand)
    while y < n:
        if cand[y]:
            e = y
            while e + 1 < n and dark[e + 1] >= 0.5 * RULE_FILL:
                e += 1
            if e - y + 1 <= RULE_MAX_THICK:
                out.append((y + e) / 2)
            y = e + 1
        else:
            y += 1
    return out


def _rule_gap(view: PageView, rows: list[dict], p: float) -> tuple | None:
    """A missing row next to a printed rule: the step from an item line down to the rule below it
    (or from a rule down to the item line below it) is one line pitch longer than the same step at
    the page's other rules, and the band in between holds no ink: the last (or first) item line of
    a block erased. (score, gap in pitches, region, True).

    The item line must be part of an item list: the row on its other side, one pitch away, is an
    item line too, or it is the only row between two rules (at their usual steps) of a block whose
    header (the row above its opening rule) carries no total/tax/payment label (a tax summary
    block of one row, followed by a blank row, is printed so by design)."""
    rules = _rules(view, rows)
    if len(rules) < 3:
        return None

    def above(y: float) -> list[dict]:
        return [r for r in rows if r["base"] < y - 1]

    def below(y: float) -> list[dict]:
        return [r for r in rows if r["y"] - r["h"] > y + 1]

    ups = [(y - ab[-1]["y"], y) for y in rules if (ab := above(y))]
    downs = [(be[0]["y"] - y, y) for y in rules if (be := below(y))]
    if len(ups) < 3 or len(downs) < 3:
        return None
    up_usual = float(np.median([d for d, _ in ups]))
    down_usual = float(np.median([d for d, _ in downs]))

    def header_clean(y_open: float) -> bool:
        from pipeline.extract.cues import find_cues

        ab = above(y_open)
        return not ab or not any(c.label in _NOT_ITEM for c in find_cues(_row_text(ab[-1])))

    def in_list(r: dict, other: dict | None, rule_other: float | None, usual_other: float, y_open: float) -> bool:
        if other is not None and abs(abs(other["base"] - r["base"]) / p - 1.0) <= RULE_NEXT_TOL \
                and _item_line(other) and (rule_other is None or not
                                           min(r["base"], other["base"]) < rule_other < max(r["base"], other["base"])):
            return True
        if rule_other is None or abs(abs(r["y"] - rule_other) - usual_other) > RULE_STEP_TOL * p:
            return False
        return header_clean(y_open)

    best = None
    for steps, up in ((ups, True), (downs, False)):
        others = [d for d, _ in steps]
        for i, (d, y) in enumerate(steps):
            usual = float(np.median([x for j, x in enumerate(others) if j != i]))
            closeness = 1.0 - min(1.0, abs((d - usual) / p - 1.0) / GAP_TOL)
            if closeness <= 0:
                continue
            if up:  # item line r, blank row, rule y; the block opens at the rule above r
                ab = above(y)
                r, other = ab[-1], (ab[-2] if len(ab) > 1 else None)
                ro = max((z for z in rules if z < r["y"] - r["h"]), default=None)
                ok = _item_line(r) and in_list(r, other, ro, down_usual, ro if ro is not None else y)
            else:  # rule y, blank row, item line r; the block opens at y
                be = below(y)
                r, other = be[0], (be[1] if len(be) > 1 else None)
                ro = min((z for z in rules if z > r["y"] + 1), default=None)
                ok = _item_line(r) and in_list(r, other, ro, up_usual, y)
            if not ok:
                continue
            x0, x1 = _row_extent(r)
            y0, y1 = (r["y"] + 0.35 * r["h"], y - 2) if up else (y + 2, r["y"] - 1.15 * r["h"])
            ink = _gap_ink(view, r, y0, y1, x0, x1)
            if ink is None or ink > GAP_INK:
                continue
            sc = GAP_THRESHOLD - 0.5 * GAP_FLAG_SLOPE + GAP_FLAG_SLOPE * closeness
            if best is None or sc > best[0]:
                best = (min(1.0, sc), 1.0 + (d - usual) / p, (x0, y0, x1, y1), True)
    return best


def _gap(view: PageView, rows: list[dict]) -> tuple | None:
    """(score, gap in pitches, region, item neighbours) of the best missing-row finding of a page.

    The page's line pitch is the median step between neighbouring rows of one letter height. A gap
    of two pitches between two such rows, with no ink in it (a printed rule or unread print holds
    no erased line), is a blank row: common by design between the sections of a receipt, so only
    informational (`GAP_MAX_SCORE`). Between two item lines (each ends with an amount, no total/tax/
    payment label, right ends aligned), a blank row breaks the item list, which is printed without
    one: that flags (`GAP_THRESHOLD` at half the tolerance)."""
    n = len(rows)
    same = lambda a, b: 0.85 * a["h"] <= b["h"] <= 1.18 * a["h"]  # noqa: E731
    steps = [b["base"] - a["base"] for a, b in zip(rows, rows[1:], strict=False)
             if same(a, b) and 1.0 * a["h"] <= b["base"] - a["base"] <= 3.0 * a["h"]]
    if len(steps) < 3:
        return None
    p = float(np.median(steps))
    best = None
    for k in range(n - 1):
        a, b = rows[k], rows[k + 1]
        if not same(a, b) or not 1.0 * a["h"] <= p <= 3.0 * a["h"]:
            continue
        d = b["base"] - a["base"]
        closeness = 1.0 - min(1.0, abs(d / p - 2.0) / GAP_TOL)
        if closeness <= 0:
            continue
        (ax0, ax1), (bx0, bx1) = _row_extent(a), _row_extent(b)
        x0, x1 = min(ax0, bx0), max(ax1, bx1)
        ink = _gap_ink(view, a, a["y"] + 0.35 * a["h"], b["y"] - 1.15 * b["h"], x0, x1)
        if ink is None or ink > GAP_INK:
            continue
        items = abs(ax1 - bx1) <= GAP_RIGHT_ALIGN * a["h"] and _item_line(a) and _item_line(b)
        sc = (GAP_THRESHOLD - 0.5 * GAP_FLAG_SLOPE + GAP_FLAG_SLOPE * closeness) if items else \
            min(GAP_MAX_SCORE, 0.5 + 0.5 * closeness)
        if best is None or sc > best[0]:
            # the region spans the rows around: an erased line may have reached further left or right
            near = [_row_extent(r) for r in rows[max(0, k - 2):k + 4]]
            rx0, rx1 = min(e[0] for e in near), max(e[1] for e in near)
            best = (min(1.0, sc), d / p, (rx0, a["y"] + 0.35 * a["h"], rx1, b["y"] - 1.15 * b["h"]), items)
    rg = _rule_gap(view, rows, p)
    if rg is not None and (best is None or rg[0] > best[0]):
        best = rg
    return best


def _rhythm(view: PageView) -> tuple[tuple | None, tuple | None]:
    """(best missing-row finding, best offset-row finding) of a page."""
    rows = _rows(view)
    gap = _gap(view, rows)
    off = None
    n = len(rows)
    # a row off the rhythm of its neighbours: k-1 and k+1 (same size) sit on one grid of pitch p,
    # k does not sit half-way between them
    same_h = [b2["base"] - b1["base"] for b1, b2 in zip(rows, rows[1:], strict=False)
              if 0.85 * b1["h"] <= b2["h"] <= 1.18 * b1["h"] and 1.0 * b1["h"] <= b2["base"] - b1["base"] <= 3.0 * b1["h"]]
    if len(same_h) >= 4:
        p = float(np.median(same_h))
        b = [r["base"] for r in rows]
        cands: list[tuple[float, tuple, float]] = []
        for k in range(1, n - 1):
            h = rows[k]["h"]
            if not all(0.85 * h <= rows[j]["h"] <= 1.18 * h for j in (k - 1, k + 1)):
                continue
            if rows[k]["n"] < 4 or abs(b[k + 1] - b[k - 1] - 2 * p) > max(1.0, 0.03 * p):
                continue
            if not 0.7 * p <= b[k] - b[k - 1] <= 1.3 * p:
                continue
            dev = abs(b[k] - (b[k - 1] + b[k + 1]) / 2) / p
            y = rows[k]["y"]
            cands.append((dev, (rows[k]["x0"], y - h, rows[k]["x1"], y + 0.2 * h), b[k] - (b[k - 1] + b[k + 1]) / 2))
        # judged against the receipt's own jitter: real prints and scans wobble more than renders
        if len(cands) >= 3:
            jitter = float(np.median([c[0] for c in cands]))
            dev, ob, px = max(cands, key=lambda c: c[0])
            sc = float(min(1.0, max(0.0, 0.5 * (dev - OFFSET_JITTER * jitter) / OFFSET_SCALE)))
            off = (sc, dev, ob, px)
    return gap, off


@register("line_rhythm", SignalFamily.LAYOUT)
def line_rhythm(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        gap, off = _rhythm(view)
        if gap is not None:
            sc, ratio, gb, items = gap
            out.append(Signal(
                detector="layout.line_gap", family=SignalFamily.LAYOUT, score=round(float(sc), 4),
                threshold=GAP_THRESHOLD,
                message=("Two item lines are one blank line apart, where the item list has no blank lines: a line "
                         "may have been erased." if items else
                         "Printed lines have a blank gap of exactly one missing line: a line may have been erased."),
                regions=(Region(page=view.page_no, box=view.to_upload(gb), note="missing line"),),
                detail={"gap_in_pitches": round(float(ratio), 3), "between_item_lines": float(items)}))
        if off is not None:
            sc, dev, ob, px = off
            out.append(Signal(
                detector="layout.line_offset", family=SignalFamily.LAYOUT, score=round(float(sc), 4),
                threshold=OFFSET_THRESHOLD,
                message="A printed line sits off the even spacing of the lines around it: it may have been re-typed.",
                regions=(Region(page=view.page_no, box=view.to_upload(ob), note="line off the rhythm"),),
                detail={"offset_in_pitches": round(float(dev), 4), "offset_px": round(float(px), 2)}))
    return out


# ---------------------------------------------------------------- font metrics: a row re-typed in another font

FONT_THRESHOLD = 0.9
FONT_MIN_GLYPHS = 8  # glyphs of a printed row piece measured
FONT_CAPS = set("0123456789ABCDEFGHIKLMNOPRSTUVWXYZ")  # full-height characters without descenders
FONT_MIN_ROWS = 6  # rows of the same letter height the odd one is judged against


def _refined(v: list[float], tol: float) -> float:
    """The mean of the values within `tol` (relative) of their median: a sub-pixel typical value."""
    m = _med(v)
    near = [x for x in v if abs(x - m) <= tol * m]
    return float(np.mean(near)) if near else m


def _font_pieces(view: PageView) -> list[dict]:
    """Printed row pieces (one column of one printed row, cut with `_columns` / `_split_rows` as
    `_rows` cuts them) with their font metrics: letter height, character pitch (monospaced advance:
    the typical step between neighbouring glyph centres within words, and how much the steps vary),
    and the heights of the capitals and digits named from the OCR words (`_glyph_names`)."""
    out: list[dict] = []
    for b, _ in line_boxes(view):
        gs, _paper = view.glyphs(b)
        tall = _tall(gs)
        if len(tall) < 3:
            continue
        base0 = _med([g.y1 for g in tall])
        h = _med([g.h for g in tall])
        body = [g for g in gs if g.h >= 0.4 * h and g.y1 - base0 < 0.18 * h and g.y1 - base0 > -0.3 * h]
        names = _glyph_names(view, b, gs)
        for col in _columns(body, h):
            for grp in _split_rows(col, h, 0.0, 0.0):
                if len(grp) < FONT_MIN_GLYPHS:
                    continue
                grp.sort(key=lambda g: g.x0)
                tg = _tall(grp)
                if len(tg) < 4:
                    continue
                # capital / digit / ascender height: the upper end of the row's letter heights
                th = float(np.percentile([g.h for g in grp], 90))
                steps = [b2.cx - b1.cx for b1, b2 in zip(grp, grp[1:], strict=False)
                         if 0.3 * th <= b2.cx - b1.cx <= 1.1 * th and b2.x0 >= b1.x1 - 1]
                if len(steps) < 5:
                    continue
                pitch = _refined(steps, 0.15)
                caps = [g.h for g in grp if names.get(id(g), "a") in FONT_CAPS]
                m = _med(steps)
                out.append({"h": th, "n": len(grp), "pitch_px": pitch,
                            "step_spread": _med([abs(x / m - 1) for x in steps]),
                            "cap": _refined(caps, 0.08) / pitch if len(caps) >= 2 else None, "ncap": len(caps),
                            "caps": caps,
                            "box": (min(g.x0 for g in grp), min(g.y0 for g in grp),
                                    max(g.x1 for g in grp), max(g.y1 for g in grp))})
    return out


FONT_PITCH_BAND = 0.12  # rows whose character pitch is this close (relative) to the receipt's median are body text
FONT_MIN_HEIGHT = 12  # px of capital height: below, one pixel is more than the fonts differ by
FONT_MONO_SPREAD = 0.02  # median relative deviation of the rows' pitch of a monospaced print
FONT_MONO_FRACTION = 0.7  # share of a page's rows that must be monospaced for it to be judged
FONT_STEP_SPREAD = 0.045  # median relative deviation of a row's glyph-centre steps: monospaced (proportional: more)
# glyph centres fall on half pixels, so a monospaced row's steps of a small pitch are off by half a
# pixel or more anyway: a row judged on a monospaced page may have this many pixels of step jitter
FONT_STEP_QUANT = 0.8
FONT_CAP_MIN = 3  # named capitals/digits a row needs for its cap height to count
FONT_CAP_FLOOR = 0.03  # relative spread floor of the cap-height/pitch ratio (pixel quantisation of small prints)
FONT_CAP_BAND = 0.08  # a capital within this (relative) of the predicted height fits the other rows
FONT_INSIDE_MAX = 0.2  # share of the odd row's capitals that may fit the other rows
FONT_ROW_CONSISTENT = 0.8  # share of the odd row's capitals that must have its own (typical) height
FONT_Z = 3.5  # robust z-score (deviation / receipt's own spread) that scores the threshold
FONT_Z_SLOPE = 0.1  # score per z unit around the threshold


def _step_tolerance(pitch_px: float) -> float:
    """The step spread up to which a row of a page found monospaced is judged: `FONT_STEP_SPREAD`,
    or the half-pixel quantisation of its glyph centres at a small pitch (`FONT_STEP_QUANT` pixels
    of jitter), whichever is larger (still far below a proportional font's letter-dependent steps)."""
    return max(FONT_STEP_SPREAD, FONT_STEP_QUANT / max(1.0, pitch_px))


def _font_odd_row(view: PageView) -> tuple | None:
    """(score, z, row, expected ratio) of the row piece whose capital/digit height per character
    pitch is furthest from the receipt's other rows (their trend down the page), in units of their
    own spread (median and MAD of their residuals: a robust z-score)."""
    pieces = _font_pieces(view)
    # a monospaced print: the steps between glyph centres of most rows are one constant pitch (a
    # proportional font's depend on the letters; its digits alone are tabular, hence the majority)
    if not pieces or np.mean([r["step_spread"] <= FONT_STEP_SPREAD for r in pieces]) < FONT_MONO_FRACTION:
        return None
    rows = [r for r in pieces if r["cap"] is not None and r["ncap"] >= FONT_CAP_MIN
            and r["step_spread"] <= _step_tolerance(r["pitch_px"])]
    if len(rows) < FONT_MIN_ROWS:
        return None
    # the body text only: a header or a logo line in a bigger face is a different font by design, a
    # re-typed line is made to fit the spacing of the print around it
    p0 = _med([r["pitch_px"] for r in rows])
    rows = [r for r in rows if abs(r["pitch_px"] / p0 - 1) <= FONT_PITCH_BAND and r["h"] >= FONT_MIN_HEIGHT]
    if len(rows) < FONT_MIN_ROWS:
        return None
    # a monospaced print: every row has the same character pitch (a proportional font's step between
    # glyph centres depends on the letters, and so does its height per step)
    pp = np.array([r["pitch_px"] for r in rows])
    if float(np.median(np.abs(pp / np.median(pp) - 1))) > FONT_MONO_SPREAD:
        return None
    best = None
    ys = np.array([(r["box"][1] + r["box"][3]) / 2 for r in rows])
    caps = np.array([r["cap"] for r in rows])
    for k, r in enumerate(rows):
        keep = np.arange(len(rows)) != k
        # a photo taken at an angle scales height and width differently from top to bottom: the
        # other rows' ratio is taken along a straight trend down the page, not as one level
        c = np.polyfit(ys[keep], caps[keep], 1) if np.ptp(ys[keep]) > 0 else np.array([0.0, float(np.median(caps[keep]))])
        # the trend is known where the other rows print: a row above or below all of them is
        # judged against the trend's end, not an extrapolation (a few rows high on the page would
        # otherwise predict any level at its foot)
        fit = np.polyval(c, np.clip(ys, float(ys[keep].min()), float(ys[keep].max())))
        rel = caps / fit - 1
        med = float(fit[k])
        spread = max(FONT_CAP_FLOOR, 1.4826 * float(np.median(np.abs(rel[keep] - np.median(rel[keep])))))
        z = abs(rel[k] - float(np.median(rel[keep]))) / spread
        # a row re-typed in another font is odd throughout: when a good part of its capitals have the
        # height the other rows predict, the odd level comes from a few misnamed or broken glyphs
        # (faded thermal print) or a row mixing print sizes, not from another font
        want = fit[k] * (1 + float(np.median(rel[keep]))) * r["pitch_px"]
        if np.mean([abs(h / want - 1) <= FONT_CAP_BAND for h in r["caps"]]) > FONT_INSIDE_MAX:
            z = 0.0
        # ... and its capitals agree with each other (one face, one size): a level made of a few
        # consistent capitals among misnamed or broken ones is no font
        own = r["cap"] * r["pitch_px"]
        if np.mean([abs(h / own - 1) <= FONT_CAP_BAND for h in r["caps"]]) < FONT_ROW_CONSISTENT:
            z = 0.0
        if best is None or z > best[1]:
            best = (0.0, z, r, med)
    assert best is not None
    sc = float(min(1.0, max(0.0, FONT_THRESHOLD + FONT_Z_SLOPE * (best[1] - FONT_Z))))
    return (sc, *best[1:])


@register("font_mismatch", SignalFamily.LAYOUT)
def font_mismatch(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        got = _font_odd_row(view)
        if got is None:
            continue
        sc, z, r, med = got
        out.append(Signal(
            detector="layout.font_mismatch", family=SignalFamily.LAYOUT, score=round(sc, 4),
            threshold=FONT_THRESHOLD,
            message="A printed line's letters are taller or shorter for their spacing than on the receipt's other "
                    "lines: it may have been re-typed in another font.",
            regions=(Region(page=view.page_no, box=view.to_upload(r["box"]), note="line in another font"),),
            detail={"cap_per_pitch": round(float(r["cap"]), 4), "receipt_expected": round(med, 4),
                    "robust_z": round(float(z), 3)}))
    return out


# ---------------------------------------------------------------- print texture: a row typed over painted paper

PRINT_THRESHOLD = 0.9
PRINT_DEPTH = 1.5  # combined flatness (log-ratios to the neighbour rows) that scores the threshold (genuine SROIE tune: <= 1.0)
PRINT_SLOPE = 0.1  # score per unit of depth around the threshold
PRINT_NEIGHBOURS = 3  # rows above and below a row that it is judged against
PRINT_MIN_ROWS = 6  # text rows a page needs to be judged
PRINT_HEIGHT_BAND = (0.6, 1.6)  # line box height ratio of the neighbours used
# each measure is compared as log((row + eps) / (neighbours' median + eps)): eps keeps a clean render
# (no grain anywhere, values near 0) from making large ratios of small numbers
PRINT_EPS = {"core_std": 0.01, "core_iqr": 0.01, "paper_noise": 0.3}
PRINT_PAPER_WEIGHT = 2.0  # the paper flatness counts double (ink log-ratios span more)
PRINT_IQR_WEIGHT = 0.5
PRINT_MIN_CORE = 20  # ink core pixels a row needs
PRINT_BOLD = 1.5  # a row whose share of core pixels in its ink is this many times its neighbours' is bolder print
PRINT_MIN_PAPER = 50  # paper pixels a row needs
_K3 = np.ones((3, 3), np.uint8)
_K5 = np.ones((5, 5), np.uint8)


def _print_texture(gray: np.ndarray, b: tuple[int, int, int, int]) -> dict | None:
    """Ink and paper texture of one OCR line box: how much the grey of the ink varies inside the
    strokes (standard deviation and interquartile range of the eroded ink core, per unit of
    paper-ink contrast) and the fine noise of the paper away from the strokes (standard
    deviation of the 3x3 high-pass, in grey levels). Printed and scanned or photographed ink is
    grainy (thermal dots, toner, fading, sensor noise); text typed with an editor's text tool is
    one flat colour, and the paper it is typed on was painted flat first."""
    got = _line_texture(gray, b)
    return got[1] if got is not None else None


def _line_texture(gray: np.ndarray, b: tuple[int, int, int, int]) -> tuple[float, dict | None] | None:
    """(paper noise, `_print_texture` measures or None when the strokes leave too little ink core)
    of one OCR line box, or None when it holds no text or too little paper."""
    import cv2

    x0, y0, x1, y1 = b
    crop = gray[y0:y1, x0:x1]
    if crop.size < 50:
        return None
    u8 = np.clip(crop, 0, 255).astype(np.uint8)
    _, bw = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if cv2.countNonZero(bw) < 0.02 * bw.size:
        return None
    paper = cv2.bitwise_not(cv2.dilate(bw, _K5))
    if cv2.countNonZero(paper) < PRINT_MIN_PAPER:
        return None
    hp = crop - cv2.blur(crop, (3, 3))
    _, psd = cv2.meanStdDev(hp, mask=paper)
    noise = float(psd[0, 0])
    core = cv2.erode(bw, _K3)
    if cv2.countNonZero(core) < PRINT_MIN_CORE:
        return noise, None
    hist = cv2.calcHist([u8], [0], core, [256], [0, 256]).ravel()
    c = np.cumsum(hist)
    q25, q50, q75 = (float(np.searchsorted(c, q * c[-1])) for q in (0.25, 0.5, 0.75))
    ph = cv2.calcHist([u8], [0], paper, [256], [0, 256]).ravel()
    pc = np.cumsum(ph)
    p50 = float(np.searchsorted(pc, 0.5 * pc[-1]))
    contrast = max(10.0, p50 - q50)
    _, sd = cv2.meanStdDev(u8, mask=core)
    return noise, {"core_std": float(sd[0, 0]) / contrast, "core_iqr": (q75 - q25) / contrast,
                   "paper_noise": noise, "core_share": cv2.countNonZero(core) / cv2.countNonZero(bw),
                   "core_px": float(cv2.countNonZero(core))}


def _line_textures(view: PageView) -> list[tuple[tuple[int, int, int, int], float, dict | None]]:
    """`_line_texture` of every OCR line box of a page that has one, measured once per page view
    for `print_texture` and `painted_row` both (kept on the view object)."""
    if view.texture_cache is None:
        view.texture_cache = [(b, t[0], t[1]) for b, _ in line_boxes(view)
                              if (t := _line_texture(view.gray, b)) is not None]
    return view.texture_cache


def _row_neighbours(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, list[int]]]:
    """For each row (boxes sorted top to bottom) that has at least 3, the rows within
    PRINT_NEIGHBOURS above and below it whose height is within PRINT_HEIGHT_BAND of its own:
    what `print_texture` and `painted_row` judge a row against."""
    hs = np.array([b[3] - b[1] for b in boxes], float)
    out = []
    for j in range(len(boxes)):
        nb = [i for i in range(max(0, j - PRINT_NEIGHBOURS), min(len(boxes), j + PRINT_NEIGHBOURS + 1))
              if i != j and PRINT_HEIGHT_BAND[0] <= hs[i] / hs[j] <= PRINT_HEIGHT_BAND[1]]
        if len(nb) >= 3:
            out.append((j, nb))
    return out


def _print_odd_row(view: PageView) -> tuple | None:
    """(score, depth, box, measures) of the text row whose ink is most uniform and paper flattest
    against the rows printed just above and below it (log-ratios to their median, combined; only
    deviations towards flat count: a row printed grainier, darker or fainter is no edit)."""
    rows = [(b, t) for b, _, t in _line_textures(view) if t is not None]
    if len(rows) < PRINT_MIN_ROWS:
        return None
    rows.sort(key=lambda r: (r[0][1] + r[0][3]) / 2)
    vals = {f: np.array([t[f] for _, t in rows]) for f in (*PRINT_EPS, "core_share")}
    best = None
    for j, nb in _row_neighbours([b for b, _ in rows]):
        # a row printed bolder than its neighbours has solid ink by weight: its strokes keep a core
        # after erosion where thin print keeps a few pixels, whose grey is noise
        if vals["core_share"][j] > PRINT_BOLD * float(np.median(vals["core_share"][nb])):
            continue
        lr = {f: float(np.log((vals[f][j] + PRINT_EPS[f]) / (float(np.median(vals[f][nb])) + PRINT_EPS[f])))
              for f in PRINT_EPS}
        # both at once: flat paper alone is a clean stretch of the scan (or a row printed bold and
        # dark has solid ink), flat ink alone a saturated print; a row typed in one colour on paint
        # is flat in both (the geometric mean of the two flatnesses)
        paper = PRINT_PAPER_WEIGHT * max(0.0, -lr["paper_noise"])
        ink = float(np.hypot(min(0.0, lr["core_std"]), PRINT_IQR_WEIGHT * min(0.0, lr["core_iqr"])))
        d = float(np.sqrt(paper * ink))
        if best is None or d > best[0]:
            best = (d, j)
    if best is None or best[0] <= 0:
        return None
    depth = best[0]
    sc = float(min(1.0, max(0.0, PRINT_THRESHOLD + PRINT_SLOPE * (depth - PRINT_DEPTH))))
    return sc, depth, rows[best[1]][0], rows[best[1]][1]


@register("print_texture", SignalFamily.LAYOUT)
def print_texture(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        got = _print_odd_row(view)
        if got is None:
            continue
        sc, depth, b, t = got
        out.append(Signal(
            detector="layout.print_texture", family=SignalFamily.LAYOUT, score=round(sc, 4),
            threshold=PRINT_THRESHOLD,
            message="A printed line's ink is one flat colour on flat paper, unlike the grainy print of the lines "
                    "around it: it may have been painted over and re-typed.",
            regions=(Region(page=view.page_no, box=view.to_upload(b), note="line in flat ink"),),
            detail={"depth": round(depth, 3), **{k: round(v, 4) for k, v in t.items()}}))
    return out


# ---------------------------------------------------------------- painted row: a text row on paper flatter than all around it

ROW_PAPER_THRESHOLD = 0.9
ROW_PAPER_DEPTH = 1.0  # flatness (log-ratio to the least noisy neighbour) that scores the threshold (genuine SROIE tune: <= 0.69)
ROW_PAPER_SLOPE = 0.1  # score per unit of flatness around the threshold
ROW_PAPER_EPS = 0.3  # grey levels added to both noises: a clean render (no grain anywhere) makes no ratio
ROW_PAPER_MIN_NOISE = 0.6  # grey levels of paper grain the flattest neighbour must show: on a clean page nothing is flatter
# grey levels of grain a painted row may keep: a fill of one colour has none, a JPEG re-save leaves a
# fraction of a level (forged SROIE tune: painted rows <= 0.35 but one; genuine rows flatter than
# their neighbours still show 0.6 and more: a smooth stretch of a scan or photo is not grain-free)
ROW_PAPER_MAX_NOISE = 0.6


def _painted_row(view: PageView) -> tuple | None:
    """(score, flatness, box, noise, neighbours' least noise) of the text row whose paper is
    flattest against EVERY row printed just above and below it (similar height): the log-ratio of
    its paper noise to the least noisy of them. Scan or photo grain covers the whole sheet; paper
    painted out with one colour to type a line over it has none, whatever the typed ink looks like
    (thin re-typed strokes keep no ink core for `print_texture`; the paper is measured without one)."""
    rows = [(b, n) for b, n, _ in _line_textures(view)]
    if len(rows) < PRINT_MIN_ROWS:
        return None
    rows.sort(key=lambda r: (r[0][1] + r[0][3]) / 2)
    noise = np.array([n for _, n in rows])
    best = None
    for j, nb in _row_neighbours([b for b, _ in rows]):
        least = float(noise[nb].min())
        if least < ROW_PAPER_MIN_NOISE or noise[j] > ROW_PAPER_MAX_NOISE:
            continue
        d = float(np.log((least + ROW_PAPER_EPS) / (noise[j] + ROW_PAPER_EPS)))
        if best is None or d > best[0]:
            best = (d, j, least)
    if best is None or best[0] <= 0:
        return None
    d, j, least = best
    sc = float(min(1.0, max(0.0, ROW_PAPER_THRESHOLD + ROW_PAPER_SLOPE * (d - ROW_PAPER_DEPTH))))
    return sc, d, rows[j][0], float(noise[j]), least


@register("painted_row", SignalFamily.LAYOUT)
def painted_row(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        got = _painted_row(view)
        if got is None:
            continue
        sc, d, b, n, least = got
        out.append(Signal(
            detector="layout.painted_row", family=SignalFamily.LAYOUT, score=round(sc, 4),
            threshold=ROW_PAPER_THRESHOLD,
            message="The paper behind a printed line is smoother than behind every line around it, as if it had "
                    "been painted over and the line typed again.",
            regions=(Region(page=view.page_no, box=view.to_upload(b), note="line on painted paper"),),
            detail={"flatness": round(d, 3), "paper_noise": round(n, 3), "neighbours_least_noise": round(least, 3)}))
    return out
