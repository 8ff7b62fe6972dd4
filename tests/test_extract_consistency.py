"""Total selection by arithmetic consistency, OCR-slip repairs of amounts, dates
and GST numbers, and the re-reading helpers of the OCR stage (no binaries)."""

from __future__ import annotations

import numpy as np

from pipeline import ocr
from pipeline.extract import extract_receipt
from pipeline.extract.amounts import find_amounts
from pipeline.extract.dates import find_dates
from pipeline.extract.vat import find_vat_numbers
from pipeline.preprocess import estimate_skew, stretch_faint
from tests.docbuild import doc, words_line


def test_total_confirmed_by_card_payment_is_confident() -> None:
    ex = extract_receipt(doc(["Total (Inclusive of GST): 65.53", "Rounding Adj: 0.02", "TOTAL: 65.55",
                              "VISA 65.55"]))
    assert ex.total is not None and ex.total.value == "65.55"
    assert ex.total.confidence >= 0.8 and "card" in ex.total.meta.get("support", "")


def test_misread_total_is_repaired_from_cash_minus_change_with_low_confidence() -> None:
    ex = extract_receipt(doc(["TOTAL: 85.59", "CASH 100.00", "CHANGE 34.45"]))
    assert ex.total is not None and ex.total.value == "65.55"
    assert ex.total.meta.get("repaired_from") == "85.59"
    assert ex.total.confidence < 0.8


def test_unconfirmed_total_stays_below_auto_approve() -> None:
    ex = extract_receipt(doc(["Item 12.00", "TOTAL 15.90"]))
    assert ex.total is not None and ex.total.value == "15.90"
    assert ex.total.confidence < 0.8


def test_rounding_difference_is_not_a_repair() -> None:
    ex = extract_receipt(doc(["TOTAL (GST INCL) 2.56", "CASH 50.55", "CHANGE DUE 48.00"]))
    assert ex.total is not None and ex.total.value == "2.56"


def test_rounded_total_row_counts_as_a_total_label() -> None:
    ex = extract_receipt(doc(["Total Sales (Inclusive GST) RM 42.33", "Rounding Adjustment RM 0.02",
                              "Rounding RM 42.35", "CREDIT RM 42.35"]))
    assert ex.total is not None and ex.total.value == "42.35"


def test_amount_with_space_after_the_point_and_letter_slips() -> None:
    assert [str(h.value) for h in find_amounts("Total RM 14. 65")] == ["14.65"]
    assert [str(h.value) for h in find_amounts("Cash ~5O. 00")] == ["50.00"]
    assert [str(h.value) for h in find_amounts("1 234,50")] == ["1234.50"]


def test_year_with_one_digit_slip_is_repaired_and_less_trusted() -> None:
    hits = find_dates("Date: 06/03/2078")
    assert hits and hits[0].date.isoformat() == "2018-03-06" and hits[0].repaired
    ex = extract_receipt(doc(["Date: 06/03/2078"]))
    assert ex.purchase_date is not None and ex.purchase_date.confidence < 0.8
    assert find_dates("05~05-17")[0].date.isoformat() == "2017-05-05"


def test_gst_number_after_a_misread_label() -> None:
    for text in ("GST LD: 00038 1399040", "GST Reg Na: 000203587584", "GST No, : 000689913856"):
        hits = find_vat_numbers(text)
        assert hits and len(hits[0].value) == 12 and hits[0].kind == "gst", text
    assert not find_vat_numbers("GST 6% 12.00 0.72")


def test_faint_print_is_stretched_and_normal_print_is_not() -> None:
    page = np.full((200, 300), 250, np.uint8)
    page[50:60, 20:280] = 200  # faint text
    out = stretch_faint(page)
    assert out is not None and int(out[55, 100]) < 20 and int(out[0, 0]) > 240
    page[50:60, 20:280] = 10
    assert stretch_faint(page) is None


def test_skew_at_the_edge_of_the_search_range_is_ignored() -> None:
    page = np.full((600, 400), 255, np.uint8)
    # one long, steep straight band (a coloured margin stripe): not text
    for y in range(600):
        x = int(40 + y * 0.3)
        page[y, x:x + 12] = 0
    assert estimate_skew(page) == 0.0


_line = words_line


def test_second_reading_is_respaced_like_the_page_reading() -> None:
    assert ocr._normalise_second_reading("Date:06-05-201812:43:19", "Date =: 06-05-2018 12:43:19") == \
        "Date : 06-05-2018 12:43:19"
    assert ocr._normalise_second_reading("TOTAL:65.55", "") == "TOTAL: 65.55"


def test_value_groups_and_votes() -> None:
    ln = _line(["TOTAL:", "85.59"])
    assert ocr._value_groups(ln) == [[1]]
    box = ln.words[1].box
    same = ocr._vote_group(ln, [1], "85.59", 0.99, box)
    assert same[0].text == "85.59" and same[0].conf >= 0.95
    other = ocr._vote_group(ln, [1], "65.55", 0.99, box)
    assert other[0].text == "65.55" and other[0].conf < 0.8
    weak = ocr._vote_group(ln, [1], "65.55", 0.5, box)
    assert weak[0].text == "85.59" and weak[0].conf <= 0.6


def test_key_lines_are_reread_and_failures_are_harmless(monkeypatch) -> None:
    import pipeline.ocr.rapid as rapid

    image = np.full((100, 400), 255, np.uint8)
    lines = [_line(["Shop"], y=5), _line(["TOTAL:", "85.59"], y=40)]
    monkeypatch.setattr(rapid, "recognize_crops", lambda crops, threads=1: [("65.55", 0.99)] * len(crops))
    out = ocr._reread_key_lines(image, lines, [])
    assert out[0] == lines[0] and out[1].text == "TOTAL: 65.55"

    def boom(crops, threads=1):
        raise ocr.OcrError("no model")
    monkeypatch.setattr(rapid, "recognize_crops", boom)
    warnings: list[str] = []
    assert ocr._reread_key_lines(image, lines, warnings) == lines and warnings


def test_misread_rounded_total_is_repaired_from_total_plus_adjustment() -> None:
    ex = extract_receipt(doc(["Total Inclusive GST 6% : 109.70", "Rounding Adjustment : 0.00",
                              "Rounded Total (RM): (08.70)"]))
    assert ex.total is not None and ex.total.value == "109.70" and ex.total.confidence < 0.8


def test_rounding_adjustment_row_is_never_the_total() -> None:
    ex = extract_receipt(doc(["TOTAL (GST INCL) 2.56", "ROUNDING ADJUSTMENTS 9.01-", "CASH 50.00"]))
    assert ex.total is not None and ex.total.value == "2.56"
