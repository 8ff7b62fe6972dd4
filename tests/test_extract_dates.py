"""Dates: numeric and month-name styles in da/nb/sv/fi/ro/en; purchase-date selection."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.extract import extract_receipt
from pipeline.extract.dates import find_dates, parse_date
from tests.docbuild import doc


@pytest.mark.parametrize("text, expected", [
    ("14.10.2022", dt.date(2022, 10, 14)),
    ("14-10-22", dt.date(2022, 10, 14)),
    ("14/10/2022", dt.date(2022, 10, 14)),
    ("2022-10-14", dt.date(2022, 10, 14)),
    ("14.10.22 13:45", dt.date(2022, 10, 14)),
    ("1.11.2022", dt.date(2022, 11, 1)),
    ("Dato: 14. okt. 2022", dt.date(2022, 10, 14)),           # da
    ("14. oktober 2022", dt.date(2022, 10, 14)),              # da/nb
    ("Kjøpsdato 3. des. 2022", dt.date(2022, 12, 3)),         # nb
    ("Datum 5 maj 2022", dt.date(2022, 5, 5)),                # sv
    ("Päivämäärä 14. lokakuuta 2022", dt.date(2022, 10, 14)),  # fi
    ("14 noiembrie 2018", dt.date(2018, 11, 14)),             # ro
    ("Data: 2 decembrie 2018", dt.date(2018, 12, 2)),         # ro
    ("30 DEC 17", dt.date(2017, 12, 30)),                     # Malaysian receipts
    ("Oct 14, 2022", dt.date(2022, 10, 14)),                  # en
    ("DATE : 22/12/2017 14:03", dt.date(2017, 12, 22)),
])
def test_parse_date_styles(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", [
    "31.02.2022",        # no such day
    "14.13.2022",        # no such month
    "12:45:10",          # a time
    "Tlf. 35 35 35 35",
    "1.490,00",
    "14.10.1899",        # outside the plausible range
    "",
])
def test_parse_date_rejects(text: str) -> None:
    assert parse_date(text) is None


def test_dates_day_first_not_month_first() -> None:
    assert find_dates("03/04/2022")[0].date == dt.date(2022, 4, 3)


def test_purchase_date_prefers_labelled_date_over_due_date() -> None:
    d = doc(["Faktura 2022-1043", "Forfaldsdato: 28.10.2022", "Fakturadato: 14.10.2022", "I alt 100,00"])
    ex = extract_receipt(d)
    assert ex.purchase_date is not None
    assert ex.purchase_date.value == "2022-10-14"
    assert ex.purchase_date.meta["cue"] == "yes"


def test_purchase_date_label_on_row_above() -> None:
    d = doc(["Dato", "14.10.2022", "Total 12,00"])
    ex = extract_receipt(d)
    assert ex.purchase_date is not None and ex.purchase_date.value == "2022-10-14"


@pytest.mark.parametrize("line, weekday, matches", [
    ("Fredag 14.10.2022", "friday", "yes"),          # da/nb/sv
    ("perjantai 14.10.2022", "friday", "yes"),       # fi
    ("vineri 14.10.2022", "friday", "yes"),          # ro
    ("Mon 14/10/2022", "monday", "no"),             # en short form, inconsistent with the date
])
def test_weekday(line: str, weekday: str, matches: str) -> None:
    ex = extract_receipt(doc(["Butik", line]))
    assert ex.weekday is not None
    assert ex.weekday.value == weekday
    assert ex.weekday.meta["matches_date"] == matches


def test_low_ocr_confidence_lowers_date_confidence() -> None:
    hi = extract_receipt(doc(["Dato: 14.10.2022"], conf=0.95)).purchase_date
    lo = extract_receipt(doc(["Dato: 14.10.2022"], conf=0.3)).purchase_date
    assert hi is not None and lo is not None
    assert lo.confidence < hi.confidence


@pytest.mark.parametrize("lines, expected", [
    (["Offer valid 24 NOVEMBER 2017 - 4 MARCH 2018", "Item 10.00", "14-01-2018 (SUN) 16:02"], "2018-01-14"),
    (["Tilbud 01.10.2022 til 31.10.2022", "Vare 100,00", "15.10.2022 13:12"], "2022-10-15"),
])
def test_periods_lose_to_transaction_stamps(lines: list[str], expected: str) -> None:
    ex = extract_receipt(doc(lines))
    assert ex.purchase_date is not None and ex.purchase_date.value == expected


@pytest.mark.parametrize("text, expected", [
    ("14th October 2022", dt.date(2022, 10, 14)),
    ("1st of November 2022", dt.date(2022, 11, 1)),
])
def test_english_ordinals(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, iso, repaired", [
    ("O7/O7/I7", "2017-07-07", True),           # as many look-alikes as digits: repaired, marked
    ("Date: 2I-O3-2O18", "2018-03-21", False),   # more digits than look-alikes: the plain repair
    ("17/01/2018", "2018-01-17", False),
])
def test_date_read_with_letter_look_alikes(text: str, iso: str, repaired: bool) -> None:
    from pipeline.extract.dates import find_dates

    hits = find_dates(text)
    assert [(h.date.isoformat(), h.repaired) for h in hits] == [(iso, repaired)]


def test_too_few_real_digits_is_no_date() -> None:
    from pipeline.extract.dates import find_dates

    assert find_dates("ref 1O/OB/ZOI8") == [] and find_dates("SO/OS/IS") == []


def test_only_date_read_alike_by_both_engines_is_trusted() -> None:
    from tests.docbuild import doc

    lines = ["KEDAI A", ("19-03-18 10:23 SH 01", 0.9, "tesseract+rapidocr"), "ITEM 5.00", "TOTAL 5.00"]
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None and d.value == "2018-03-19" and d.confidence >= 0.8 and d.meta["engines_agree"] == "yes"
    # one engine only: the same unlabelled date stays below the accept threshold
    lines[1] = ("19-03-18 10:23 SH 01", 0.9, "tesseract")
    d = extract_receipt(doc(lines)).purchase_date
    assert d is not None and d.value == "2018-03-19" and d.confidence < 0.8
    # another date printed elsewhere: no longer the only one
    lines[1] = ("19-03-18 10:23 SH 01", 0.9, "tesseract+rapidocr")
    d = extract_receipt(doc([*lines, "Valid until 19-04-18"])).purchase_date
    assert d is not None and d.meta["only_date"] == "no" and d.confidence < 0.8
