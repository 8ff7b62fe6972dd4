"""Forensics scoring in `claimcheck eval`, on hand-made observations."""

from __future__ import annotations

import json

import pytest

from pipeline.eval.adapters import DocScore
from pipeline.eval.report import build_summary, render_html, write_report
from pipeline.eval.tamper import OPERATING_POINT, TamperObs, roc, tamper_summary


def sig(detector: str, score: float, threshold: float = 0.6) -> dict:
    return {"detector": detector, "family": detector.split(".")[0], "score": score, "threshold": threshold}


def test_combined_score_puts_each_threshold_at_the_operating_point():
    o = TamperObs.from_signals(True, ["digit_copy"], [sig("image.a", 0.3, 0.6), sig("layout.b", 0.1, 0.2)])
    assert o.combined == pytest.approx(OPERATING_POINT * 0.5)  # both at half their threshold
    assert not o.flagged
    o = TamperObs.from_signals(True, ["digit_copy"], [sig("image.a", 0.6, 0.6)])
    assert o.combined == pytest.approx(OPERATING_POINT) and o.flagged
    o = TamperObs.from_signals(True, [], [sig("image.a", 1.0, 0.6)])
    assert o.combined == pytest.approx(1.0)


def test_duplicates_do_not_count_as_alteration():
    o = TamperObs.from_signals(False, [], [sig("duplicate.same_file", 1.0, 0.5)])
    assert not o.flagged and o.flagged_by("duplicate.same_file")


def test_strongest_reading_of_a_detector_is_kept():
    o = TamperObs.from_signals(True, ["x"], [sig("image.a", 0.2), sig("image.a", 0.9)])
    assert o.scores == {"image.a": 0.9}


def test_summary_per_type_and_per_signal():
    obs = {
        "a1": TamperObs.from_signals(True, ["digit_copy"], [sig("image.copy", 0.9)]),
        "a2": TamperObs.from_signals(True, ["digit_copy"], [sig("image.copy", 0.1)]),
        "a3": TamperObs.from_signals(True, ["editor_metadata"], [sig("metadata.editor", 1.0, 0.5)]),
        "g1": TamperObs.from_signals(False, [], [sig("image.copy", 0.7)]),
        "g2": TamperObs.from_signals(False, [], []),
        "g3": TamperObs.from_signals(False, [], [sig("image.copy", 0.2)]),
    }
    s = tamper_summary(obs)
    assert (s["altered"], s["genuine"], s["detected"], s["false_alarms"]) == (3, 3, 2, 1)
    assert s["detection_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["per_type"]["digit_copy"] == {"n": 2, "detected": 1, "detection_rate": 0.5, "by_signal": {"image.copy": 1}}
    assert s["per_signal"]["image.copy"]["false_alarms"] == 1
    assert s["per_signal"]["metadata.editor"]["detection_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["missed_documents"] == ["a2"] and s["false_alarm_documents"] == ["g1"]


def test_roc_and_auc():
    r = roc([(0.9, True), (0.8, True), (0.1, False), (0.85, False)])
    assert r["auc"] == pytest.approx(0.75)  # 3 of the 4 altered-genuine pairs are ordered right
    first, last = r["points"][0], r["points"][-1]
    assert (first["tpr"], first["fpr"]) == (1.0, 1.0) and last["cutoff"] == 1.0
    assert roc([(0.5, True)])["auc"] is None  # no genuine document: no curve to speak of


def test_report_has_forensics_section_and_roc_png(tmp_path):
    docs = {f"a{i}": DocScore(records=[], timings={}, tamper=TamperObs.from_signals(True, ["line_erased"], [sig("image.copy", 0.9 if i else 0.2)]))
            for i in range(3)}
    docs.update({f"g{i}": DocScore(records=[], timings={}, tamper=TamperObs.from_signals(False, [], [sig("image.copy", 0.1 * i)]))
                 for i in range(4)})
    summary = build_summary(docs, fields=())
    assert summary["forensics"]["detected"] == 2
    files = write_report(summary, tmp_path)
    assert "roc.png" in files and files["roc.png"].stat().st_size > 1000
    html = render_html(summary, ["roc.png"])
    assert "Forensics" in html and "line_erased" in html
    assert json.loads(files["summary"].read_text())["forensics"]["per_type"]["line_erased"]["n"] == 3


def test_no_forensics_section_without_observations():
    assert "forensics" not in build_summary({"d": DocScore(records=[], timings={})}, fields=())
