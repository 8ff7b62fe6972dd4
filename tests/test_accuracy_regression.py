"""Accuracy regression guard (slow; runs in CI): fixed subsets of SROIE dev and
of a generated set must keep every field at its recorded figure
(`tests/accuracy_floor.json`; see pipeline/eval/regression.py)."""

from __future__ import annotations

import os

import pytest

from pipeline.eval import regression


def test_check_names_fields_that_fell():
    floor = {"sroie": {"fields": {"date": {"n": 20, "right": 18}, "total": {"n": 20, "right": 15}}},
             "generated": {"fields": {"total": {"n": 24, "right": 20}},
                           "forensics": {"altered": 4, "detected": 3, "genuine": 20, "false_alarms": 0}}}
    same = {"sroie": {"fields": {"date": {"n": 20, "right": 18}, "total": {"n": 20, "right": 14}}},
            "generated": {"fields": {"total": {"n": 24, "right": 20}},
                          "forensics": {"altered": 4, "detected": 3, "genuine": 20, "false_alarms": 1}}}
    assert regression.check(same, floor) == []  # within one document of slack
    worse = {"sroie": {"fields": {"date": {"n": 20, "right": 16}}},
             "generated": {"fields": {"total": {"n": 24, "right": 20}},
                           "forensics": {"altered": 4, "detected": 1, "genuine": 20, "false_alarms": 2}}}
    problems = regression.check(worse, floor)
    assert any(p.startswith("sroie/date: 16 of 20") for p in problems)
    assert any(p.startswith("sroie/total: not measured") for p in problems)
    assert sum("forensics" in p for p in problems) == 2


@pytest.mark.slow
@pytest.mark.skipif(not regression.SROIE_DIR.is_dir() and not os.environ.get("CI"),
                    reason="../shared/datasets/sroie-dev not beside the checkout (under CI this fails instead)")
def test_fixed_subsets_keep_their_recorded_accuracy():
    problems = regression.check(regression.measure(workers=2), regression.load_floor())
    assert not problems, "accuracy fell:\n" + "\n".join(problems)
