"""Purchase dates that OCR garbled (a separator lost or read as "1", a time glued to
the year, a full month name ending in a look-alike letter) and the year checked
against the receipt's other evidence (a second date, a number embedding the date,
the printed weekday, a configurable plausible window). Small synthetic lines."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.extract import extract_receipt
from pipeline.extract.dates import find_dates
from tests.docbuild import doc

AGREED = "tesseract+rapidocr"  # both engines read the words alike


@pytest.mark.parametrize("text, iso", [
    ("25 JANUARI 2018", "2018-01-25"),      # not "JANUAR" + day "I" (read as 1)
    ("1 FEBRUARI 2018", "2018-02-01"),
    ("JANUARI 25, 2018", "2018-01-25"),
    ("OCT3, 2016", "2016-10-03"),
])
def test_full_month_names_are_not_split_into_month_and_day(text: str, iso: str) -> None:
    assert [h.date.isoformat() for h in find_dates(text)] == [iso]


@pytest.mark.parametrize("text, iso", [
    ("25/01/201812:30", "2018-01-25"),
    ("25/01/1812:30", "2018-01-25"),
    ("Date:25-01-201809:05:33", "2018-01-25"),
])
def test_time_glued_to_the_year(text: str, iso: str) -> None:
    hits = find_dates(text)
    assert [(h.date.isoformat(), h.repaired) for h in hits] == [(iso, False)]


@pytest.mark.parametrize("text, iso", [
    ("DATE : 06/022018 07:09:46 PM", "2018-02-06"),   # second separator lost
    ("1804/2018 5:18:08 PM", "2018-04-18"),           # first separator lost
    ("DATE: 20/0512018", "2018-05-20"),               # "/" read as "1"
    ("DATE: 06102/2018", "2018-02-06"),
    ("DATE : 0410412017", "2017-04-04"),              # both read as "1"
    ("DATE : S/312018 22:52:33", "2018-03-05"),       # and a look-alike letter
    ("11/0218 19 : 21", "2018-02-11"),                # two-digit year, spaced time
])
def test_lost_or_misread_separators_only_in_loose_mode(text: str, iso: str) -> None:
    assert find_dates(text) == []  # other extractors (receipt numbers, serials) never see these
    hits = find_dates(text, loose=True)
    assert [(h.date.isoformat(), h.style, h.repaired) for h in hits] == [(iso, "loose", True)]


@pytest.mark.parametrize("text", [
    "TEL: 03-62801198", "019-7521215", "INV 18341/103", "01-283886", "25/12", "1205.18", "12.50 13.05",
    "5/112018",  # 5/11/2018 or 5/1/2018: ambiguous, no date
])
def test_loose_mode_leaves_other_numbers_alone(text: str) -> None:
    assert find_dates(text, loose=True) == []


def test_loose_date_needs_a_label_or_a_time_and_stays_below_auto_approve() -> None:
    lines = ["KEDAI A", ("DOC NO: CS001 DATE: 20/0512018", 0.97, AGREED), "TOTAL 5.00"]
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None and d.value == "2018-05-20" and d.confidence < 0.8
    # the same number with neither a date label nor a time: no date
    lines[1] = ("REF 20/0512018", 0.97, AGREED)
    assert extract_receipt(doc(lines)).purchase_date is None


def test_a_clean_date_beats_a_loose_one() -> None:
    lines = ["KEDAI A", "SLIP 1804/2018 5:18", ("Date: 19/04/2018 10:00", 0.95, AGREED), "TOTAL 5.00"]
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None and d.value == "2018-04-19"


def _date(lines: list) -> object:
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None
    return d


def test_same_day_and_month_with_another_year_caps_the_date() -> None:
    base = ["KEDAI A", ("Date: 28/12/2011 11:58", 0.97, AGREED), "TOTAL 5.00"]
    d = _date(base)
    assert d.value == "2011-12-28" and d.confidence >= 0.8 and "year_conflict" not in d.meta
    # the closing stamp prints the same day with another year: one of them is misread
    d = _date([*base, "Closed: 28/12/2017 12:03"])
    assert d.confidence < 0.8 and d.meta["year_conflict"] == "other_date"


def test_number_embedding_the_date_with_another_year_caps_it() -> None:
    base = ["KEDAI A", ("Date: 22/04/2016 19:29", 0.97, AGREED), "TOTAL 5.00"]
    d = _date([*base, "INVOICE NO: 2018042210100260452"])
    assert d.confidence < 0.8 and d.meta["year_conflict"] == "embedded"
    # the same number with the year read: a confirmation
    d = _date([*base[:1], ("Date: 22/04/2018 19:29", 0.97, AGREED), *base[2:], "INVOICE NO: 2018042210100260452"])
    assert d.confidence >= 0.8 and "embedded" in d.meta["year_confirmed"]


def test_unlabelled_date_confirmed_by_an_embedded_number_or_its_weekday_is_trusted() -> None:
    plain = ["KEDAI A", ("22/04/2018 19:29", 0.9), "TOTAL 5.00"]
    assert _date(plain).confidence < 0.8
    d = _date([*plain, "INVOICE NO: 2018042210100260452"])
    assert d.confidence >= 0.8 and d.meta["year_confirmed"] == "embedded"
    d = _date(["KEDAI A", ("22/04/2018 (SUN) 19:29", 0.9), "TOTAL 5.00"])  # 22 April 2018 was a Sunday
    assert d.confidence >= 0.8 and "weekday" in d.meta["year_confirmed"]


def test_weekday_of_another_year_caps_the_date() -> None:
    # 22 April 2016 was a Friday; "SUN" fits 2018 (a year one digit slip away)
    d = _date(["KEDAI A", ("Date: 22/04/2016 SUN 19:29", 0.97, AGREED), "TOTAL 5.00"])
    assert d.value == "2016-04-22" and d.confidence < 0.8 and d.meta["year_conflict"] == "weekday"


def test_configurable_plausible_window(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["KEDAI A", ("Date: 03/10/2015 12:16", 0.97, AGREED), "TOTAL 5.00"]
    monkeypatch.delenv("CLAIMCHECK_DATE_WINDOW", raising=False)
    assert _date(lines).confidence >= 0.8
    monkeypatch.setenv("CLAIMCHECK_DATE_WINDOW", "2016-01-01..2018-12-31")
    d = _date(lines)
    assert d.value == "2015-10-03" and d.confidence < 0.8 and d.meta["year_conflict"] == "outside_window"
    monkeypatch.setenv("CLAIMCHECK_DATE_WINDOW", "2015-01-01..")
    assert _date(lines).confidence >= 0.8


def test_a_date_in_the_future_is_never_auto_approved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIMCHECK_DATE_WINDOW", raising=False)
    future = dt.date.today() + dt.timedelta(days=40)
    d = _date(["KEDAI A", (f"Date: {future:%d/%m/%Y} 12:16", 0.97, AGREED), "TOTAL 5.00"])
    assert d.value == future.isoformat() and d.confidence < 0.8


@pytest.mark.parametrize("text, iso", [
    ("25/01/20 18", "2018-01-25"),              # a space read inside the year: not 2020
    ("Date: 25/01/20 18 12:30", "2018-01-25"),
    ("25/01/20 18:30", "2020-01-25"),           # a two-digit year and a time
    ("25/01/20", "2020-01-25"),
])
def test_four_digit_year_with_a_space_in_it(text: str, iso: str) -> None:
    assert [h.date.isoformat() for h in find_dates(text)] == [iso]


def test_loose_date_after_a_time_on_its_row() -> None:
    d = extract_receipt(doc(["99 MART", "05: 38PM 568268 04-0618", "TOTAL 5.00"])).purchase_date
    assert d is not None and d.value == "2018-06-04" and d.confidence < 0.8
    # a price is no time
    assert extract_receipt(doc(["99 MART", "ITEM 5.38 568268 04-0618", "TOTAL 5.00"])).purchase_date is None


@pytest.mark.parametrize("label", ["TXN DATE", "Transaction Date", "Sales Date", "Tarikh Invois", "Issue Date"])
def test_more_date_labels_lift_the_date(label: str) -> None:
    lines = ["KEDAI A", ("REF 77 CASHIER 2", 0.95), (f"{label}: 25/01/2018", 0.95), "TOTAL 5.00"]
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None and d.meta["cue"] == "yes"


@pytest.mark.parametrize("label", ["Valid till", "Reprinted on", "Tarikh Luput", "Expiry Date", "Redeem by"])
def test_voucher_and_reprint_dates_are_not_the_purchase_date(label: str) -> None:
    lines = ["KEDAI A", f"{label}: 25/01/2019", "TOTAL 5.00", "25/01/2018"]
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None and d.value == "2018-01-25"


def test_warranty_end_on_the_same_day_is_no_year_conflict() -> None:
    d = _date(["KEDAI A", ("Date: 25/01/2018 11:58", 0.97, AGREED), "TOTAL 5.00", "Warranty until 25/01/2020"])
    assert d.value == "2018-01-25" and d.confidence >= 0.8 and "year_conflict" not in d.meta


def test_one_digit_day_after_a_lone_digit_is_not_auto_approved() -> None:
    d = _date(["KEDAI A", ("Date: 2 8/12/2017 11:58", 0.97, AGREED), "TOTAL 5.00"])
    assert d.value == "2017-12-08" and d.confidence < 0.8  # maybe the 28th, read apart
    d = _date(["KEDAI A", ("Date: 8/12/2017 11:58", 0.97, AGREED), "TOTAL 5.00"])
    assert d.value == "2017-12-08" and d.confidence >= 0.8
    # "4 8/12/2017" joined is no date (day 48): nothing to doubt
    d = _date(["KEDAI A", ("Date: 4 8/12/2017 11:58", 0.97, AGREED), "TOTAL 5.00"])
    assert d.confidence >= 0.8


@pytest.mark.parametrize("text, iso", [
    ("DATE: 24/0 5/2018", "2018-05-24"),
    ("24/05/201 8 11:58", "2018-05-24"),
])
def test_space_read_inside_a_digit_group_in_loose_mode(text: str, iso: str) -> None:
    assert find_dates(text) == []
    assert [(h.date.isoformat(), h.style) for h in find_dates(text, loose=True)] == [(iso, "loose")]


@pytest.mark.parametrize("text", ["12 34 5678", "TEL 03 - 8079 0255", "RM 12.3 4", "1 2 3"])
def test_spaced_numbers_are_no_loose_dates(text: str) -> None:
    assert find_dates(text, loose=True) == []
