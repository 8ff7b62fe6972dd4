"""Layout-level: an item row set wider or narrower for its letters than the receipt's other rows.

`layout.set_width` - a line painted over and re-typed with an editor's text tool is typed in a face
close to the printed one, at the size that looks right; a different face sets the same letters
wider or narrower (DejaVu Sans sets them about a tenth wider than Arial / Liberation Sans at the
same size). Each OCR word's ink width is compared with the width its letters take in a reference
proportional face (`reference_data/glyph_metrics`, Liberation Sans: Arial's metrics), giving the
word's "set width" in pixels per em; on a monospaced print the same is done per character pitch,
whichever of the two models makes the receipt's rows agree best. A row's set width is the median
of its words'. The item rows (a row ending in an amount, not a total, tax or payment row: the
lines whose model and price decide the claim) are judged against the receipt's body rows (same
letter height, not bolder), as a robust z-score of the log set width: deviation from the plane
(across and down the page: a photo's perspective) through the other rows' set widths, in units of
their own spread. Every word of the row must deviate the same way, by at least half the row's
deviation: an OCR misreading of one word moves only that word. Only words mostly in small letters
are measured (capitals' widths against the small letters differ from face to face, and model codes
in capitals carry OCR confusions), so a print all in capitals, as most SROIE till rolls are, is not
judged. Thresholds were chosen on the tune sets (generated seeds 11 and 17, the SROIE tune half;
see docs/benchmarks.md), never on the report sets.

Reads only what the OCR already has (word boxes and text) and the glyph components that the other
layout detectors measure (letter height and stroke, cached on the page view).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.forensics import ForensicInput, Region, Signal, SignalFamily, register
from pipeline.forensics.image import PageView, page_views
from pipeline.forensics.layout import _exact_box, _item_line, _med, _tall

METRICS = Path(__file__).resolve().parents[2] / "reference_data" / "glyph_metrics" / "liberation_sans.json"

SETW_THRESHOLD = 0.9
SETW_Z = 5.0  # robust z-score of a row's log set width that scores the threshold
SETW_Z_SLOPE = 0.1  # score per z unit around the threshold
SETW_TREND_ROWS = 6  # other rows needed to fit the plane of set widths across the page (else: their median)
SETW_MAD_FLOOR = 0.012  # spread floor of the rows' log set width (about 1 %: sub-pixel box jitter)
SETW_MIN_DEV = 0.08  # log set-width deviation below which the z-score is scaled down in proportion
SETW_MAX_DEV = 0.34  # log deviation (x1.4) beyond which a row is not judged
SETW_MIN_ROWS = 5  # body rows a page needs to be judged
SETW_HEIGHT_BAND = 0.12  # body rows: letter height within this (relative) of the page's median
SETW_BOLD = 1.3  # ... and stroke per letter height at most this many times the page's median
SETW_WORD_LETTERS = 4  # a word measured has at least this many characters ...
SETW_ALPHA = 0.6  # ... this share of them letters (amounts and codes are set in tabular figures)
# ... and this share lower-case: capitals' widths against the small letters differ from face to face
# far more than the small letters' among themselves, and model codes in capitals carry OCR confusions
SETW_LOWER = 0.5
SETW_ROW_CHARS = 7  # characters of measured words a row needs
SETW_WORD_AGREE = 0.5  # each word of the odd row deviates the same way by this share of the row's deviation


@cache
def _glyph_table() -> dict[str, tuple[float, float, float]]:
    """char -> (advance, ink left, ink right) in em of the reference face."""
    data = json.loads(METRICS.read_text(encoding="utf-8"))
    return {c: (v[0], v[1], v[2]) for c, v in data["glyphs"].items()}


def em_width(text: str) -> float | None:
    """Ink width of `text` set in the reference face, in em (None for a character it lacks)."""
    t = _glyph_table()
    if len(text) < 2 or any(c not in t for c in text):
        return None
    first, last = t[text[0]], t[text[-1]]
    return sum(t[c][0] for c in text) - first[1] - (last[0] - last[2])


def _word_text(text: str) -> str:
    return text.strip(".,:;")


def _rows(view: PageView) -> list[dict]:
    """OCR lines with their letter height, stroke per height and per-word log set width under the
    proportional and the monospaced model."""
    if view.page is None:
        return []
    out = []
    for ln in view.page.lines:
        if not ln.words:
            continue
        lb = view.to_view(ln.box)
        if lb[2] - lb[0] < 4 or lb[3] - lb[1] < 6:
            continue
        words, boxes = [], []
        for w in ln.words:
            t = _word_text(w.text)
            if (not _exact_box(w.engine) or len(t) < SETW_WORD_LETTERS or sum(c.isalpha() for c in t) < SETW_ALPHA * len(t)
                    or sum(c.islower() for c in t) < SETW_LOWER * len(t)):
                continue
            e = em_width(t)
            wb = view.to_view(w.box)
            if e is None or e <= 0 or wb[2] - wb[0] < 4:
                continue
            px = float(wb[2] - wb[0])
            words.append((float(np.log(px / e)), float(np.log(px / (len(t) - 0.25))), len(t)))
            boxes.append(wb)
        if sum(n for *_, n in words) < SETW_ROW_CHARS:
            continue
        gs, _paper = view.glyphs(lb)
        tall = _tall(gs)
        if len(tall) < 4:
            continue
        h = _med([g.h for g in tall])
        out.append({"box": lb, "text": ln.text, "h": h, "stroke": _med([g.stroke for g in tall]) / max(1.0, h),
                    "words": words,  # the words measured, and where they print (the evidence region)
                    "span": (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))})
    return out


def _odd_row(view: PageView) -> tuple | None:
    """(z, row, model, spread, rows judged against) of the item row furthest from the body rows."""
    rows = _rows(view)
    if len(rows) < SETW_MIN_ROWS:
        return None
    h0 = _med([r["h"] for r in rows])
    s0 = _med([r["stroke"] for r in rows])
    body = [r for r in rows if abs(r["h"] / h0 - 1) <= SETW_HEIGHT_BAND and r["stroke"] <= SETW_BOLD * s0]
    if len(body) < SETW_MIN_ROWS:
        return None
    # the model (proportional face or monospaced pitch) under which the body rows agree best
    best_model = None
    for m in (0, 1):
        vals = np.array([_med([w[m] for w in r["words"]]) for r in body])
        spread = float(np.median(np.abs(vals - np.median(vals))))
        if best_model is None or spread < best_model[0]:
            best_model = (spread, m, vals)
    _, m, vals = best_model
    # a photo taken at an angle scales widths across the page: each row is judged against the
    # plane (across and down the page) through the other rows' set widths, not one level
    xy = np.array([[1.0, (r["box"][0] + r["box"][2]) / 2, (r["box"][1] + r["box"][3]) / 2] for r in body])
    span = np.ptp(xy[:, 1:], axis=0)
    xy[:, 1:] = (xy[:, 1:] - xy[:, 1:].min(axis=0)) / np.maximum(1.0, span)
    best = None
    for k, r in enumerate(body):
        if not _item_line({"lines": [(r["box"], r["text"])]}):
            continue
        keep = np.arange(len(body)) != k
        if keep.sum() >= SETW_TREND_ROWS:
            coef, *_ = np.linalg.lstsq(xy[keep], vals[keep], rcond=None)
            pred = xy @ coef
        else:
            pred = np.full(len(body), float(np.median(vals[keep])))
        res = vals - pred
        med = float(np.median(res[keep]))
        mad = max(SETW_MAD_FLOOR, 1.4826 * float(np.median(np.abs(res[keep] - med))))
        d = float(res[k]) - med
        ref = float(pred[k]) + med
        agree = all(np.sign(w[m] - ref) == np.sign(d) and abs(w[m] - ref) >= SETW_WORD_AGREE * abs(d) for w in r["words"])
        # a face an editor offers as "similar" sets letters 10-20 % wider or narrower; a row off by a
        # few per cent on a receipt of very even rows is within box jitter, and one off by more than
        # SETW_MAX_DEV is a printer's own mode (double width) or a misread row, not a similar face
        z = abs(d) / mad * min(1.0, abs(d) / SETW_MIN_DEV) if agree and abs(d) <= SETW_MAX_DEV else 0.0
        if best is None or z > best[0]:
            best = (z, r, "proportional" if m == 0 else "monospaced", mad, len(body), d)
    return best


@register("set_width", SignalFamily.LAYOUT)
def set_width(inp: ForensicInput) -> list[Signal]:
    out: list[Signal] = []
    for view in page_views(inp):
        got = _odd_row(view)
        if got is None:
            continue
        z, r, model, mad, n, d = got
        sc = float(min(1.0, max(0.0, SETW_THRESHOLD + SETW_Z_SLOPE * (z - SETW_Z))))
        out.append(Signal(
            detector="layout.set_width", family=SignalFamily.LAYOUT, score=round(sc, 4), threshold=SETW_THRESHOLD,
            message="An item line's letters are set wider or narrower than the same letters on the receipt's other "
                    "lines: it may have been re-typed in another font.",
            regions=(Region(page=view.page_no, box=view.to_upload(r["span"]), note="words set in another width"),),
            detail={"robust_z": round(z, 3), "width_ratio": round(float(np.exp(d)), 4), "model": model,
                    "rows_compared": n, "spread": round(mad, 4)}))
    return out
