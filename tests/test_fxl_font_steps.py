"""layout.font_mismatch on a small monospaced print: a row whose glyph-centre steps jitter by the
half-pixel quantisation of its centres is still judged (a re-typed row at a 14 px pitch), while a
row with a proportional font's letter-dependent steps is not (fake row measurements, no image)."""

from __future__ import annotations

import numpy as np

from pipeline.forensics import layout


def _piece(y: float, caps: list[float], pitch: float, spread: float) -> dict:
    return {"h": max(caps), "n": 16, "pitch_px": pitch, "step_spread": spread,
            "cap": layout._refined(caps, 0.08) / pitch, "ncap": len(caps), "caps": caps,
            "box": (20, y - 9, 400, y + 9)}


def _page(odd_spread: float):
    rng = np.random.default_rng(5)
    pitch = 14.0
    body = [_piece(y, [17.0 + d for d in rng.normal(0, 0.2, 6)], pitch, 0.036)
            for y in (200, 230, 260, 290, 350, 380, 500, 530)]
    odd = _piece(440, [15.0] * 4, pitch, odd_spread)  # capitals 12% shorter, every one alike
    return body, odd


def _odd(monkeypatch, pieces):
    monkeypatch.setattr(layout, "_font_pieces", lambda view: pieces)
    return layout._font_odd_row(object())


def test_step_tolerance_allows_half_pixel_jitter_at_a_small_pitch():
    assert layout._step_tolerance(14.0) > 0.054 > layout.FONT_STEP_SPREAD
    assert layout._step_tolerance(40.0) == layout.FONT_STEP_SPREAD  # a large print: the plain bound
    assert layout._step_tolerance(14.0) < 0.1  # far below a proportional font's steps


def test_a_retyped_row_with_quantised_steps_flags(monkeypatch):
    body, odd = _page(0.054)  # steps of 13, 14 and 14.5 px: centres on half pixels
    sc, z, r, _ = _odd(monkeypatch, [*body, odd])
    assert r is odd and sc >= layout.FONT_THRESHOLD


def test_a_row_with_proportional_steps_is_not_judged(monkeypatch):
    body, odd = _page(0.15)
    sc, z, r, _ = _odd(monkeypatch, [*body, odd])
    assert r is not odd and sc < layout.FONT_THRESHOLD
