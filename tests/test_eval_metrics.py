"""Metrics of `claimcheck eval` on small hand-made cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pipeline.eval.metrics import (
    FieldRecord,
    auto_threshold,
    band_of,
    breakdown,
    calibration,
    confusion,
    field_stats,
    norm_amount,
    norm_date,
    norm_serial,
    norm_vat,
    outcome,
    quantile,
    same,
    sweep,
    timing_stats,
)


def rec(outcome: str, conf: float | None = None, doc: str = "d", field: str = "f", expected: str | None = "x"):
    return FieldRecord(doc=doc, field=field, outcome=outcome, expected=expected, confidence=conf)


# ----------------------------------------------------------------- normalisation

@pytest.mark.parametrize(("a", "b"), [
    ("2022-10-14", "14.10.2022"),
    ("2018-01-25", "25/01/2018"),
    ("2017-12-30", "30 DEC 17"),
    ("2018-01-15", "15-01-18"),
    ("2018-03-02", dt.date(2018, 3, 2)),
    ("2018-03-02T10:11:00", "02/03/2018"),
])
def test_dates_equal_as_dates(a, b):
    assert norm_date(a) == norm_date(b)
    assert same("date", a, b)


@pytest.mark.parametrize(("a", "b"), [("2018-01-25", "2018-01-26"), ("02/03/2018", "2018-02-03")])
def test_different_dates_differ(a, b):
    assert not same("date", a, b)


@pytest.mark.parametrize("bad", [None, "", "no date here"])
def test_unreadable_dates_are_none(bad):
    assert norm_date(bad) is None


@pytest.mark.parametrize(("text", "value"), [
    ("9447.00", "9447.00"),
    ("9.447,00", "9447.00"),
    ("1,234.50", "1234.50"),
    ("RM 15.90", "15.90"),
    ("$73.00", "73"),
    ("15,90 lei", "15.90"),
    ("1.234.567", "1234567"),
    ("1,234", "1234"),
])
def test_amounts_equal_as_numbers(text, value):
    assert norm_amount(text) == Decimal(value)


@pytest.mark.parametrize(("a", "b", "equal"), [
    ("RM15.90", "15.9", True), ("75.90", "15.90", False), ("9.447,00", "9447", True), ("", "0", False)])
def test_same_amount(a, b, equal):
    assert same("amount", a, b) is equal


@pytest.mark.parametrize(("a", "b"), [
    ("DK12972997", "CVR-nr. 12972997"),
    ("NO987654321MVA", "Org.nr. 987 654 321 MVA"),
    ("RO 1234567", "CUI: RO1234567"),
    ("001637511168", "GST REG NO: 001637511168"),
])
def test_vat_numbers_compare_as_digits(a, b):
    assert norm_vat(a) == norm_vat(b)
    assert same("vat", a, b)


def test_vat_different_digits_differ():
    assert not same("vat", "DK12972997", "DK12972998")


@pytest.mark.parametrize(("a", "b"), [("ab-12 34", "AB1234"), ("39552135", " 3955 2135 ")])
def test_serials_upper_alnum(a, b):
    assert norm_serial(a) == norm_serial(b)


# ----------------------------------------------------------------- per field

@pytest.mark.parametrize(("exp", "got", "equal", "expected"), [
    (True, True, True, "tp"), (True, True, False, "wrong"), (True, False, False, "fn"),
    (False, True, False, "fp"), (False, False, False, "tn")])
def test_outcome(exp, got, equal, expected):
    assert outcome(exp, got, equal) == expected


def test_accuracy_precision_recall_with_absent_fields():
    # 10 documents: 5 right, 1 wrong value, 1 missed, 1 spurious (absent in truth, extracted), 2 correctly absent
    records = [rec("tp")] * 5 + [rec("wrong"), rec("fn"), rec("fp", expected=None)] + [rec("tn", expected=None)] * 2
    s = field_stats(records)
    assert s["n"] == 10
    assert s["accuracy"] == pytest.approx(0.7)  # 5 tp + 2 tn
    assert s["precision"] == pytest.approx(5 / 7, abs=1e-4)  # extracted: 5 tp + wrong + fp
    assert s["recall"] == pytest.approx(5 / 7, abs=1e-4)  # present: 5 tp + wrong + fn
    assert s["found_rate"] == pytest.approx(0.7)


def test_errors_count_wrong_and_against_recall_only_when_expected():
    records = [rec("tp"), rec("error"), rec("error", expected=None), rec("tn", expected=None)]
    s = field_stats(records)
    assert s["accuracy"] == pytest.approx(0.5)
    assert s["recall"] == pytest.approx(0.5)  # tp / (tp + error with an expected value)
    assert s["precision"] == pytest.approx(1.0)


def test_field_with_nothing_extracted_has_no_precision():
    s = field_stats([rec("fn"), rec("tn", expected=None)])
    assert s["precision"] is None
    assert s["recall"] == 0.0


# ----------------------------------------------------------------- calibration

@pytest.mark.parametrize(("conf", "band"), [(0.0, 0), (0.49, 0), (0.5, 1), (0.79, 2), (0.8, 3), (0.9, 4),
                                            (0.949, 4), (0.95, 5), (1.0, 5)])
def test_band_of(conf, band):
    assert band_of(conf) == band


def test_calibration_bands():
    records = [rec("tp", 0.3), rec("wrong", 0.4), rec("tp", 0.96), rec("tp", 1.0), rec("fp", 0.97, expected=None),
               rec("fn"), rec("tp", 0.85)]
    bands = {b["band"]: b for b in calibration(records)}
    assert bands["0-0.5"]["n"] == 2 and bands["0-0.5"]["accuracy"] == pytest.approx(0.5)
    assert bands["0.95-1"]["n"] == 3 and bands["0.95-1"]["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert bands["0.8-0.9"]["accuracy"] == 1.0
    assert bands["0.5-0.7"]["n"] == 0 and bands["0.5-0.7"]["accuracy"] is None
    assert sum(b["n"] for b in bands.values()) == 6  # the missed field has no confidence


def test_auto_threshold_exists():
    # wrong answers only below 0.8: from 0.8 up everything is right
    records = [rec("wrong", 0.5), rec("tp", 0.6), rec("wrong", 0.75)] + [rec("tp", 0.8 + i / 100) for i in range(7)]
    t = auto_threshold(records)
    assert t["threshold"] == pytest.approx(0.8)
    assert t["kept"] == 7
    assert t["coverage"] == pytest.approx(0.7)
    assert t["precision"] == 1.0


def test_auto_threshold_missing_when_the_most_confident_is_wrong():
    records = [rec("tp", 0.5), rec("tp", 0.9), rec("wrong", 0.99)]
    t = auto_threshold(records)
    assert t["threshold"] is None
    assert t["coverage"] == 0.0


def test_auto_threshold_allows_one_percent_wrong():
    records = [rec("wrong", 0.1)] + [rec("tp", 0.2)] * 99 + [rec("wrong", 0.05)]
    t = auto_threshold(records)
    assert t["threshold"] == pytest.approx(0.1)  # 99 of 100 right from 0.1 up
    assert t["kept"] == 100


def test_auto_threshold_ties_are_kept_together():
    records = [rec("wrong", 0.9), rec("tp", 0.9), rec("tp", 0.95)]
    assert auto_threshold(records)["threshold"] == pytest.approx(0.95)


# ----------------------------------------------------------------- verdicts, sweep, times

def test_confusion_matrix():
    pairs = [("approve", "approve"), ("approve", "review"), ("reject", "reject"), ("incomplete", "error"),
             ("review", "review")]
    c = confusion(pairs, ("approve", "incomplete", "review", "reject"))
    assert c["matrix"]["approve"]["approve"] == 1
    assert c["matrix"]["approve"]["review"] == 1
    assert c["matrix"]["incomplete"]["other"] == 1
    assert c["matrix"]["reject"]["approve"] == 0
    assert c["n"] == 5
    assert c["agreement"] == pytest.approx(3 / 5)
    assert "other" not in c["matrix"]  # no expected status outside the labels


def test_sweep_recommends_lowest_cutoff_with_99_percent_precision():
    scores = [(0.55, False), (0.62, False), (0.7, True), (0.8, True), (0.9, True), (None, False)]
    s = sweep(scores)
    rows = {r["cutoff"]: r for r in s["rows"]}
    assert rows[0.5]["accepted"] == 5 and rows[0.5]["precision"] == pytest.approx(0.6)
    assert rows[0.65]["accepted"] == 3 and rows[0.65]["precision"] == 1.0
    assert rows[0.65]["coverage"] == pytest.approx(0.5)
    assert s["recommended"] == pytest.approx(0.65)


def test_sweep_without_a_safe_cutoff():
    s = sweep([(0.99, False), (0.6, True)])
    assert s["recommended"] is None


def test_quantile_and_timing_stats():
    assert quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)
    assert quantile([], 0.5) is None
    t = timing_stats([{"ocr": 1.0, "extract": 0.5}, {"ocr": 3.0}, {"ocr": 2.0, "extract": 1.5}])
    assert t["ocr"]["median"] == 2.0 and t["ocr"]["n"] == 3
    assert t["extract"]["median"] == 1.0
    assert t["ocr"]["p90"] == pytest.approx(2.8)


def test_breakdown_by_group():
    records = [rec("tp", doc="a"), rec("wrong", doc="b"), rec("tp", doc="c")]
    groups = {"degradation": {"a": ["none"], "b": ["blur", "noise"], "c": ["blur"]}}
    b = breakdown(records, groups, ["f"])
    assert b["degradation"]["none"]["fields"]["f"]["accuracy"] == 1.0
    assert b["degradation"]["blur"]["fields"]["f"]["accuracy"] == pytest.approx(0.5)
    assert b["degradation"]["blur"]["documents"] == 2
    assert b["degradation"]["noise"]["fields"]["f"]["accuracy"] == 0.0


def test_at_threshold_counts_what_the_rules_act_on():
    from pipeline.eval.metrics import FieldRecord, at_threshold

    recs = [FieldRecord(doc=f"d{i}", field="total", expected="1", got=g, confidence=c, outcome=o)
            for i, (g, c, o) in enumerate([("1", 0.95, "tp"), ("2", 0.85, "wrong"), ("1", 0.5, "tp"),
                                           (None, None, "fn"), ("3", 0.8, "fp")])]
    assert at_threshold(recs, 0.8) == {"threshold": 0.8, "kept": 3, "right": 1, "precision": round(1 / 3, 4)}
    assert at_threshold(recs, 0.99)["precision"] is None
