"""`scripts/bench_forensics.py compare` (issue 6): the same receipts through the forensics of two
source trees in one interleaved run. With this checkout as both trees, every signal agrees and
both sides report the same detection."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.test_forensics_image import MONO, add_noise, draw_receipt

pytestmark = pytest.mark.skipif(not MONO.is_file(), reason="DejaVu fonts missing")
ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_forensics_fxt", ROOT / "scripts" / "bench_forensics.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_forensics_fxt"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _item(tmp: Path, name: str, seed: int, tampered: bool) -> dict:
    img, boxes = draw_receipt()
    img = add_noise(img, seed=seed)
    p = tmp / f"{name}.png"
    img.convert("RGB").save(p)
    lines = tmp / f"{name}.txt"
    lines.write_text("\n".join(f"{b[0]},{b[1]},{b[2]},{b[1]},{b[2]},{b[3]},{b[0]},{b[3]},{t}" for t, b in boxes))
    return {"id": name, "set": "sroie", "split": "tune", "tampered": tampered, "types": ["digit_copy"] if tampered else [],
            "boxes": [], "path": p, "campaign": None, "lines": lines}


def test_median_pair_reports_the_ratio_of_medians():
    bf = _bench()
    got = bf._median_pair([1.0, 2.0, 3.0], [0.5, 1.0, 3.0])
    assert got["old_median"] == 2.0 and got["new_median"] == 1.0 and got["ratio"] == 0.5
    assert got["median_of_ratios"] == 0.5


def test_compare_of_a_tree_with_itself_finds_no_difference(tmp_path):
    bf = _bench()
    items = [_item(tmp_path, "a", 1, False), _item(tmp_path, "b", 2, True), _item(tmp_path, "c", 3, False)]
    out = bf.compare(items, ROOT, gt_lines=True, history=False, cache=tmp_path / "cache")
    assert out["n"] == 3 and out["signals_differ"] == [] and out["duplicates_differ"] == []
    assert out["old_detection"] == out["new_detection"]
    assert out["old_detection"]["per_type"]["digit_copy"][1] == 1
    assert out["detectors"]["old_median"] > 0 and out["detectors"]["new_median"] > 0
    assert "copy_move" in out["per_detector_median"]
