"""The receipt number against its line re-reads (synthetic readings): most views agreeing
with the page reading keep its confidence; a split vote still lowers it. A view that slipped
(wholesale, or a repeated character merged) does not lower an otherwise agreed page reading,
but a view one other character off (another reading of an unclear character) keeps it below
the accept threshold."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.extract.serial import MAJORITY_RNO_CONF, _another_reading, _edit_distance, _vote_receipt_number
from tests.docbuild import doc

PAGE = ["Kamerakulma Oy", "Kuittinro 29999", "YHTEENSÄ EUR 1 329,70"]


def _page():  # type: ignore[no-untyped-def]
    ex = extract_receipt(doc(PAGE))
    assert ex.receipt_number is not None and ex.receipt_number.value == "29999"
    return ex


def _views(*values: str):  # type: ignore[no-untyped-def]
    return [doc([f"Kuittinro {v}"], engine="rapidocr-line") for v in values]


def test_two_of_three_views_agree_keeps_the_confidence() -> None:
    ex = _page()
    got = _vote_receipt_number(ex, _views("29999", "29999", "2999"))
    assert got.receipt_number is not None and got.receipt_number.value == "29999"
    assert got.receipt_number.confidence == min(ex.receipt_number.confidence, MAJORITY_RNO_CONF)
    assert got.receipt_number.confidence >= 0.8
    assert got.receipt_number.meta["line_rereads_agree"] == "2/3"


def test_all_views_agree_raises_it() -> None:
    ex = _page()
    got = _vote_receipt_number(ex, _views("29999", "29999", "29999"))
    assert got.receipt_number is not None
    assert got.receipt_number.confidence == round(min(0.97, ex.receipt_number.confidence + 0.12), 3)


def test_a_split_vote_lowers_it() -> None:
    ex = _page()
    for views in (("29999", "28999"), ("29999", "28999", "28989"), ("28999",)):
        got = _vote_receipt_number(ex, _views(*views))
        assert got.receipt_number is not None and got.receipt_number.confidence <= 0.6, views


def test_edit_distance() -> None:
    assert _edit_distance("29999", "29999") == 0
    assert _edit_distance("29999", "28999") == 1
    assert _edit_distance("29999", "2999") == 1
    assert _edit_distance("29999", "20000") == 4


def test_another_reading_is_one_character_but_not_a_merged_repeat() -> None:
    assert _another_reading("28999", "29999")       # a digit read otherwise
    assert _another_reading("2999", "23999")        # a non-repeated digit dropped
    assert _another_reading("299991", "29999")      # a digit added
    assert not _another_reading("2999", "29999")    # repeated 9s merged: a slip
    assert not _another_reading("299999", "29999")  # doubled
    assert not _another_reading("20000", "29999")   # wholesale: a failed view


def test_a_view_slipped_wholesale_keeps_the_majority() -> None:
    ex = _page()
    for views in (("29999", "20000", "29999"), ("29999", "29999", "2999")):
        got = _vote_receipt_number(ex, _views(*views))
        assert got.receipt_number is not None and got.receipt_number.value == "29999"
        assert got.receipt_number.confidence == min(ex.receipt_number.confidence, MAJORITY_RNO_CONF), views


def test_a_view_one_character_off_lowers_the_page_reading() -> None:
    ex = _page()
    for views in (("29999", "29999", "28999"), ("29999", "29999", "299991")):
        got = _vote_receipt_number(ex, _views(*views))
        assert got.receipt_number is not None and got.receipt_number.value == "29999"
        assert got.receipt_number.confidence <= 0.6, views
