"""Receipt number against its line re-reads (synthetic readings): a view that slipped
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
