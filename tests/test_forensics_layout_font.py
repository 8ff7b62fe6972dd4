"""layout.font_mismatch's judgement of the odd row, on fake row measurements (no image): the
trend of the other rows is not extrapolated beyond where they print, and a row's own capitals
must agree with each other for its level to count as another font."""

from __future__ import annotations

import numpy as np

from pipeline.forensics import layout


def _piece(y: float, caps: list[float], pitch: float = 20.0) -> dict:
    """A fake measured row piece as `_font_pieces` returns it: monospaced, capitals named."""
    return {"h": max(caps), "n": 20, "pitch_px": pitch, "step_spread": 0.01,
            "cap": layout._refined(caps, 0.08) / pitch, "ncap": len(caps), "caps": caps,
            "box": (50, y - 15, 500, y + 15)}


def _odd(monkeypatch, pieces: list[dict]):
    monkeypatch.setattr(layout, "_font_pieces", lambda view: pieces)  # a fake view: rows given
    return layout._font_odd_row(object())


def _body(levels: list[float], ys: list[float]) -> list[dict]:
    rng = np.random.default_rng(3)
    return [_piece(y, [lv * 20 + d for d in rng.normal(0, 0.3, 6)]) for lv, y in zip(levels, ys, strict=True)]


def test_a_row_below_all_others_is_judged_against_the_trend_end(monkeypatch):
    # rows high on the page creep up in cap/pitch (a photo's perspective); a row far below them at
    # the last rows' level is no other font, though the trend extrapolated would predict far more
    body = _body([1.60, 1.63, 1.66, 1.69, 1.72, 1.75], [100, 200, 300, 400, 500, 600])
    far = _piece(1600, [1.75 * 20] * 6)
    sc, z, r, _ = _odd(monkeypatch, [*body, far])
    assert sc < layout.FONT_THRESHOLD and z < 2.0


def test_a_consistent_shorter_row_still_flags(monkeypatch):
    body = _body([1.75] * 7, [100, 200, 300, 400, 500, 600, 700])
    odd = _piece(450, [31.0] * 6)  # 1.55 cap/pitch against 1.75, every capital alike
    sc, z, r, _ = _odd(monkeypatch, [*body, odd])
    assert sc >= layout.FONT_THRESHOLD and r is odd


def test_a_row_of_mixed_capital_heights_is_no_other_font(monkeypatch):
    # three capitals at one lower level among two misnamed small glyphs: not one face throughout
    body = _body([1.75] * 7, [100, 200, 300, 400, 500, 600, 700])
    mixed = _piece(450, [20.0, 23.0, 31.0, 31.0, 31.0])
    sc, z, r, _ = _odd(monkeypatch, [*body, mixed])
    assert sc < layout.FONT_THRESHOLD
