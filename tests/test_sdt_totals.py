"""Totals whose payment lines OCR garbled (cash or change with the decimal point lost,
the front of the total lost) and a rounded grand total below an unrounded total
whose rounding line went unread. Small synthetic lines (tests/docbuild.py)."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from tests.docbuild import doc


def _total(lines: list) -> object:
    return extract_receipt(doc(lines)).total


def test_cash_and_change_with_lost_points_repair_a_total_whose_front_was_lost() -> None:
    lines = ["PASAR RAYA SDN BHD", "PRO BALANCE 400GM 17.40", "PRO BALANCE LAMB 13.05",
             "Total Sales inclusive GST@0.00%: ~~ ~~ 45", "Cash Received 30 . 50", "Change 005"]
    t = _total(lines)
    assert t is not None and t.value == "30.45"
    assert t.meta["repaired_from"] == "45.00" and t.confidence < 0.8  # derived, never auto-approved
    # without the change line nothing says what the total is: the read value stays, low
    t = _total(lines[:-1])
    assert t is not None and t.value == "45.00" and t.confidence < 0.8


def test_change_with_lost_point_confirms_the_total() -> None:
    lines = ["KEDAI A", "ITEM 12.35", "TOTAL RM 12.35", "CASH RM 12.40", "CHANGE 005"]
    t = _total(lines)
    assert t is not None and t.value == "12.35" and "cash-change" in t.meta.get("support", "")
    # the same receipt with the change read as 0.50: not confirmed
    lines[-1] = "CHANGE 050"
    t = _total(lines)
    assert t is not None and t.value == "12.35" and "cash-change" not in t.meta.get("support", "")


def test_rounded_grand_total_below_wins_over_net_plus_tax_when_rounding_is_unread() -> None:
    lines = ["KEDAI B", "(GST REG NO: 001559298048)", "ITEM A 14.52", "GST 6% 0.87",
             "TOTAL (INCL GST 6%) RM15.39", "R0UNDlNG RM0.0l", "GRAND TOTAL RM15.40", "TOTAL PA1D RM50.00",
             "GST SUMMARY AMOUNT(RM) GST(RM)", "SR @ 6% 14.52 0.87"]
    t = _total(lines)
    assert t is not None and t.value == "15.40"
    assert t.confidence < 0.8  # nothing confirms the rounded amount


def test_unrounded_total_paid_by_card_keeps_it() -> None:
    # the card pays the first amount: the amount below is something else
    lines = ["KEDAI C", "ITEM A 14.52", "GST 6% 0.87", "TOTAL (INCL GST 6%) RM15.39", "GRAND TOTAL RM15.40",
             "VISA RM15.39"]
    t = _total(lines)
    assert t is not None and t.value == "15.39"


def test_amount_below_that_is_no_rounding_of_the_total_is_ignored() -> None:
    lines = ["KEDAI D", "ITEM A 14.52", "GST 6% 0.87", "TOTAL (INCL GST 6%) RM15.39", "ROUNDING RM0.01",
             "GRAND TOTAL RM15.40", "CASH RM50.00", "CHANGE RM34.60"]
    t = _total(lines)
    assert t is not None and t.value == "15.40" and t.confidence >= 0.8  # confirmed by cash - change


def test_total_with_lost_point_and_a_look_alike_in_the_cents() -> None:
    lines = ["KEDAI E", "ITEM 64.13", "Total Sales (Incl. GST 6%) RM 64 I3", "CASH RM 100.00", "CHANGE RM 35.87"]
    t = _total(lines)
    assert t is not None and t.value == "64.13" and t.raw == "64 I3"
    # two look-alikes are not repaired (no digit left to say it is an amount)
    from pipeline.extract.amounts import _lost_decimal_point

    assert _lost_decimal_point("Total Sales RM 64 II", 0) is None
    assert _lost_decimal_point("Items 3 IO", 0) is None


def test_malay_total_labels() -> None:
    for label in ("JUMLAH SEMUA", "JUMLAH HARGA", "AMAUN PERLU DIBAYAR"):
        t = _total(["KEDAI F", "ITEM A 3.00", "ITEM B 4.50", f"{label} RM 7.50", "ITEMS 2 QTY 2 1.00"])
        assert t is not None and t.value == "7.50" and t.meta["cue"].upper() == label, (label, t)


def test_cents_read_apart() -> None:
    from pipeline.extract.amounts import find_amounts

    assert [str(h.value) for h in find_amounts("CREDIT RM 42.3 5")] == ["42.35"]
    assert [str(h.value) for h in find_amounts("TOTAL 12.5 0%")] == ["12.50"]  # a percentage stays apart
    lines = ["KEDAI G", "ITEM 42.35", "TOTAL SALES (INCL GST) RM 42.3 5", "CREDIT RM 42.35"]
    t = _total(lines)
    assert t is not None and t.value == "42.35" and t.confidence >= 0.8


def test_digits_one_space_before_the_total_keep_it_below_auto_approve() -> None:
    # "14 8.40" may be 148.40 read apart; a tax-summary row repeating 8.40 is no proof
    lines = ["KEDAI H", "ITEM 148.40", "Total Sales (Excluding GST) : 140.00", "Total GST : 8.40",
             "Total Sales (Inclusive of GST) : 14 8.40", "Total : 140.00 8.40"]
    t = _total(lines)
    assert t is not None and t.value == "8.40" and t.confidence < 0.8 and t.meta.get("split_front") == "yes"
    # read whole, the same receipt's total is confirmed by net + tax
    lines[4] = "Total Sales (Inclusive of GST) : 148.40"
    t = _total(lines)
    assert t is not None and t.value == "148.40" and "split_front" not in t.meta
    # a card paying the amount as read settles it
    t = _total(["KEDAI H", "ITEM 12.50", "TOTAL 3 12.50", "VISA 12.50"])
    assert t is not None and t.value == "12.50" and t.confidence >= 0.8
