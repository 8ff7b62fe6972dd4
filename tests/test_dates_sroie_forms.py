"""Date forms of Malaysian (SROIE-style) receipts and their OCR slips, on small
synthetic lines: Malay month names, "JAN 25,2018", month-first dates, and
month-name dates whose day, month or year OCR read with look-alike characters."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.extract import extract_receipt
from pipeline.extract.dates import find_dates, parse_date
from tests.docbuild import doc


@pytest.mark.parametrize("text, expected", [
    ("Tarikh: 5 Mac 2018", dt.date(2018, 3, 5)),
    ("12 Mei 2018", dt.date(2018, 5, 12)),
    ("3 Julai 2017", dt.date(2017, 7, 3)),
    ("21 Ogos 2017", dt.date(2017, 8, 21)),
    ("30 Disember 2017", dt.date(2017, 12, 30)),
    ("30-DIS-17", dt.date(2017, 12, 30)),
    ("JAN 25,2018", dt.date(2018, 1, 25)),   # no space after the comma
    ("DEC 9,2017 10:11", dt.date(2017, 12, 9)),
])
def test_malay_and_compact_month_names(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


def test_month_first_only_when_day_first_is_no_date() -> None:
    hit = find_dates("01/25/2018")
    assert [(h.date, h.style) for h in hit] == [(dt.date(2018, 1, 25), "mdy")]
    # an ambiguous one stays day-first
    assert [(h.date, h.style) for h in find_dates("03/04/2018")] == [(dt.date(2018, 4, 3), "dmy")]
    # neither reading is a date
    assert find_dates("13/25/2018") == []


def test_month_first_date_is_not_auto_approved() -> None:
    lines = ["KEDAI A", ("Date: 01/25/2018 10:23", 0.95, "tesseract+rapidocr"), "TOTAL 5.00"]
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None and d.value == "2018-01-25" and d.confidence < 0.8
    lines[1] = ("Date: 25/01/2018 10:23", 0.95, "tesseract+rapidocr")
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None and d.value == "2018-01-25" and d.confidence >= 0.8


@pytest.mark.parametrize("text, iso, repaired", [
    ("DATE : 10 0CT 2017 TUE", "2017-10-10", False),   # only the month word had a digit: unambiguous
    ("0CT 3, 2016 12:16", "2016-10-03", False),
    ("16 JU1 2018", "2018-07-16", False),
    ("I6 JUN 20I8 18:25", "2018-06-16", True),         # the day needed a repair: marked, scores lower
    ("DATE: OCT 3, 20IG 12:16", "2016-10-03", True),
    ("27/0G/18", "2018-06-27", True),                  # G read for 6 in a numeric date
])
def test_month_name_dates_with_look_alikes(text: str, iso: str, repaired: bool) -> None:
    assert [(h.date.isoformat(), h.repaired) for h in find_dates(text)] == [(iso, repaired)]


@pytest.mark.parametrize("text", [
    "1 B0X 2018",        # not a month word
    "IO OCT IS",         # too few real digits
    "QTY SO MAY ZO",
])
def test_look_alike_repair_needs_a_month_and_real_digits(text: str) -> None:
    assert find_dates(text) == []


def test_repaired_month_name_date_scores_lower() -> None:
    clean = extract_receipt(doc(["KEDAI A", "DATE: 16 JUN 2018 18:25", "TOTAL 5.00"])).purchase_date
    slip = extract_receipt(doc(["KEDAI A", "DATE: I6 JUN 20I8 18:25", "TOTAL 5.00"])).purchase_date
    assert clean is not None and slip is not None
    assert clean.value == slip.value == "2018-06-16"
    assert slip.confidence < clean.confidence and slip.confidence < 0.8
