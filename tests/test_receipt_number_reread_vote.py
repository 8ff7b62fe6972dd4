"""The receipt number against its line re-reads (synthetic readings): most views agreeing
with the page reading keep its confidence; a split vote still lowers it."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.extract.serial import MAJORITY_RNO_CONF, _vote_receipt_number
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
