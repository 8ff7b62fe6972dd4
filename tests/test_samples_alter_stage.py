"""`--alter-stage final`: the generator's pixel alterations replayed on the finished image
(an image-editor forgery) instead of on the flat page before the photo/scan degradations.

Builds a handful of claims of one plan in both stages: claims without a pixel alteration
must be byte-identical, altered ones must carry the same labels (plus the stage), and the
edit must really be in the final pixels where the label says."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.campaigns import load_campaigns
from pipeline.samples import alter
from pipeline.samples.generator import build_claim, generate_dataset, make_plan

SEED = 11
PIXEL_EDITS = ("digit_copy", "line_replaced", "line_erased")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """One claim per pixel alteration type (raster files only) and one clean claim, in both stages."""
    plans = make_plan(40, SEED, load_campaigns())
    pick: dict[str, object] = {}
    for p in plans:
        key = p.alteration or "clean"
        if key in (*PIXEL_EDITS, "clean") and key not in pick and p.layout != "webshop_pdf":
            pick[key] = p
    assert set(pick) == {*PIXEL_EDITS, "clean"}, f"plan of 40 lacks a type: {sorted(pick)}"
    out: dict[str, dict[str, Path]] = {}
    for stage in ("render", "final"):
        d = tmp_path_factory.mktemp(stage)
        for key, plan in pick.items():
            out.setdefault(key, {})[stage] = build_claim(plan, d, SEED, stage)
    return out


def _truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def _image(folder: Path) -> np.ndarray:
    t = _truth(folder)["receipt"]
    data = (folder / t["file"]).read_bytes()
    if t["format"] == "pdf":  # image-only PDF: the embedded JPEG is the page
        import io
        data = data[data.index(b"\xff\xd8"): data.rindex(b"\xff\xd9") + 2]
        return np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.float32)
    return np.asarray(Image.open(folder / t["file"]).convert("L"), np.float32)


def test_claims_without_pixel_edits_are_byte_identical(built):
    a, b = built["clean"]["render"], built["clean"]["final"]
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("kind", PIXEL_EDITS)
def test_same_labels_with_the_stage_recorded(built, kind):
    r, f = _truth(built[kind]["render"]), _truth(built[kind]["final"])
    assert [a["type"] for a in f["alterations"]] == [kind]
    det = f["alterations"][0]["detail"]
    assert det.pop("stage") == "after_degradation"
    q1, q2 = det.pop("capture_quality"), det.pop("resave_quality")
    assert (q1 is None) == (q2 is None) == (f["receipt"]["format"] == "png")
    assert f == r  # every field value, box and degradation as in the render-stage claim


def test_erased_row_is_painted_flat_in_the_final_image(built):
    folder = built["line_erased"]["final"]
    t = _truth(folder)
    x0, y0, x1, y1 = t["alterations"][0]["box"]
    img = _image(folder)
    # the inner part of the painted quad (the box is its axis-aligned hull: trim the corners)
    w, h = x1 - x0, y1 - y0
    inner = img[y0 + h // 3: y1 - h // 3, x0 + w // 4: x1 - w // 4]
    assert inner.size > 50
    # no text left: a printed line has ink far darker than its paper
    assert float(np.percentile(inner, 2)) > float(np.median(inner)) - 40


def test_copied_digit_matches_its_source_cell(built):
    folder = built["digit_copy"]["final"]
    a = _truth(folder)["alterations"][0]
    img = _image(folder)
    x0, y0, x1, y1 = a["box"]
    sx0, sy0, sx1, sy1 = a["detail"]["from_box"]
    tgt = img[y0:y1, x0:x1]
    src = cv2.resize(img[sy0:sy1, sx0:sx1], (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    assert tgt.size and src.size
    ncc = float(cv2.matchTemplate(tgt, src, cv2.TM_CCOEFF_NORMED).max())
    # a clone-stamped cell correlates with its source (mapped through the same homography)
    assert ncc > 0.7


def test_retyped_line_has_ink_where_the_new_text_is(built):
    folder = built["line_replaced"]["final"]
    t = _truth(folder)
    x0, y0, x1, y1 = t["alterations"][0]["box"]
    patch = _image(folder)[y0:y1, x0:x1]
    assert float(np.percentile(patch, 3)) < float(np.median(patch)) - 60


def test_replay_on_final_moves_a_glyph_through_a_homography():
    """A synthetic page: a dark square 'glyph' cloned onto an empty cell, after a shift-and-scale."""
    page = np.full((100, 200, 3), 240, np.uint8)
    page[20:40, 20:35] = 30
    H = np.array([[1.5, 0, 10], [0, 1.5, 5], [0, 0, 1]], np.float64)
    final = cv2.warpPerspective(page, H, (320, 160), borderValue=(240, 240, 240))
    rec = {"type": "digit_copy", "box": [120, 20, 135, 40], "detail": {"from_box": [20, 20, 35, 40]}}
    out = np.asarray(alter.replay_on_final(Image.fromarray(final), rec, [H]).convert("L"))
    # the target cell maps to x 190..212, y 35..65 in the final image
    assert out[40:60, 195:207].mean() < 60
    assert out[40:60, 230:260].mean() > 230  # nothing painted beside it


def test_unknown_stage_is_refused(tmp_path):
    with pytest.raises(ValueError):
        generate_dataset(tmp_path, n=3, seed=1, alter_stage="later")
