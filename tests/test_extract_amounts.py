"""Amounts, totals and currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.extract import extract_receipt
from pipeline.extract.amounts import parse_amount
from tests.docbuild import doc


@pytest.mark.parametrize("text, expected", [
    ("1.234,50", "1234.50"),
    ("1 234,50", "1234.50"),
    ("1,234.50", "1234.50"),
    ("1234.50", "1234.50"),
    ("1234,50", "1234.50"),
    ("kr 1.490,00", "1490.00"),
    ("1.490,-", "1490.00"),
    ("1.490", "1490.00"),
    ("RM 15.90", "15.90"),
    ("RM15.90", "15.90"),
    ("€ 12,5", "12.50"),
    ("2 x 1.490,00", "1490.00"),
    ("-5,00", "-5.00"),
    ("12 345 678,90", "12345678.90"),
])
def test_parse_amount(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "14.10.2022", "12:30", "15%"])
def test_parse_amount_none(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize("lines, total, currency", [
    (["Fotohuset ApS", "Vare 1.490,00", "I alt DKK 1.490,00", "Heraf moms 298,00", "Dankort 1.490,00"],
     "1490.00", "DKK"),                                                                           # da
    (["Mellemsum 200,00", "Rabat -20,00", "At betale kr. 180,00"], "180.00", None),              # da
    (["Fjordfoto AS", "Totalt NOK 2 499,00", "Herav mva 499,80"], "2499.00", "NOK"),           # nb
    (["Å betale 349,00 kr", "Bankkort 349,00"], "349.00", None),                                 # nb
    (["Bildbutiken AB", "Att betala 1 999,00 SEK", "Varav moms 399,80"], "1999.00", "SEK"),     # sv
    (["Kamerakulma Oy", "Yhteensä 899,00 €", "ALV 24 % 174,00"], "899.00", "EUR"),              # fi
    (["Foto Carpati SRL", "TOTAL DE PLATĂ 4.599,99 lei", "TVA 19% 734,45"], "4599.99", "RON"),  # ro
    (["Subtotal 100.00", "Tax 8.00", "Total 108.00 EUR"], "108.00", "EUR"),                     # en
    (["TOTAL EXCL. OF GST 15.00", "TOTAL INCL. OF GST 15.90", "CASH 50.00", "CHANGE 34.10"],
     "15.90", None),                                                                              # MY
    (["TOTAL INCL GST 65.53", "ROUNDING ADJ 0.02", "TOTAL: RM 65.55", "CASH RM 70.00"], "65.55", "MYR"),
    (["TOTAL", "RM1.38", "CASH", "RM1.40"], "1.38", "MYR"),                                      # value on next row
])
def test_total_and_currency(lines: list[str], total: str, currency: str | None) -> None:
    ex = extract_receipt(doc(lines))
    assert ex.total is not None
    assert ex.total.value == total
    if currency is None:
        assert ex.currency is None or ex.currency.value in ("KR", "DKK", "NOK", "SEK", "EUR", "RON", "MYR")
    else:
        assert ex.currency is not None and ex.currency.value == currency


def test_krone_resolved_by_country() -> None:
    ex = extract_receipt(doc(["Totalt 1 000,00 kr"]), country="NO")
    assert ex.currency is not None and ex.currency.value == "NOK"


def test_krone_resolved_by_vat_country() -> None:
    ex = extract_receipt(doc(["Org.nr. 556123-4567", "Att betala 1 000,00 kr"]))
    assert ex.currency is not None and ex.currency.value == "SEK"


def test_tax_summary_row_is_not_the_total() -> None:
    ex = extract_receipt(doc(["TOTAL AMT PAYABLE: 159.00", "PAID AMOUNT: 200.00", "GST SUMMARY", "TOTAL 150.00 9.00"]))
    assert ex.total is not None and ex.total.value == "159.00"


def test_no_total_label_gives_low_confidence_or_nothing() -> None:
    ex = extract_receipt(doc(["Shop", "Item A 10.00", "Item B 20.00"]))
    assert ex.total is None or ex.total.confidence <= 0.3


@pytest.mark.parametrize("lines, total", [
    (["SUBTOTAL: 28.60", "CASH 100.00", "CHANGE 71.40"], "28.60"),                       # subtotal is all there is
    (["SUB TOTAL : RM 68.87", "GST 6% : RM 4.13", "TO : RM 73.00", "CA : RM 73.00", "CHANGE: 0.00"], "73.00"),
])
def test_total_without_total_label(lines: list[str], total: str) -> None:
    ex = extract_receipt(doc(lines))
    assert ex.total is not None and ex.total.value == total
    assert ex.total.confidence <= 0.5   # a guess without a total label


# ------------------------------------------------------------ payment lines as the only reading of the total

def test_exact_cash_with_no_change_line_is_the_total_when_the_items_add_up() -> None:
    ex = extract_receipt(doc(["RESTAURANT SIN DU", "09/03/2018 21:28", "DPT 08 RM 149.00", "DPT 04 RM 21.00",
                              "CASH", "RM 170.00"]))
    assert ex.total is not None and ex.total.value == "170.00"
    assert "items" in ex.total.meta["support"] and ex.total.confidence < 0.8


def test_exact_cash_is_not_the_total_when_change_is_given() -> None:
    # the change amount is unreadable: cash alone says nothing about the total
    ex = extract_receipt(doc(["KEDAI A", "ITEM 1 149.00", "CASH RM 200.00", "CHANGE RM ~~"]))
    assert ex.total is None or ex.total.value != "200.00"


def test_accepted_amount_minus_change_is_the_total() -> None:
    ex = extract_receipt(doc(["PARKING", "Pay parking ticket 5.00 RM", "Aount Incl. GST 5.00 RM",
                              "Accepted total 10.00 RM", "Change 5.00 RM"]))
    assert ex.total is not None and ex.total.value == "5.00" and ex.total.confidence < 0.8


def test_payment_words_read_with_one_wrong_letter() -> None:
    # "Chanqe" is the change line: cash - change confirms the labelled total
    ex = extract_receipt(doc(["SHOP", "ITEM 12.00", "TOTAL RM 12.00", "CASH 20.00", "CHANQE 8.00"]))
    assert ex.total is not None and ex.total.value == "12.00" and "cash-change" in ex.total.meta["support"]


def test_a_restaurant_name_is_no_change_line() -> None:
    from pipeline.extract.amounts import _payment_facts
    from pipeline.extract.layout import build_rows

    assert _payment_facts(build_rows(doc(["RESTORAN WAN SHENG", "CASH 5.00"]))).change_rows == 0
    assert _payment_facts(build_rows(doc(["RESTORAN WAN SHENG", "CASH 5.00", "CHANGE 0.00"]))).change_rows == 1


def test_service_charge_is_no_change_line() -> None:
    from pipeline.extract.amounts import _payment_facts
    from pipeline.extract.layout import build_rows

    facts = _payment_facts(build_rows(doc(["Service charge 5.00", "Cash 50.00", "Total 45.00"])))
    assert facts.change_rows == 0 and facts.cash_change == ()


def test_strong_total_read_alike_by_both_engines_is_trusted() -> None:
    lines = ["KEDAI A", "ITEM 20.90", ("Total Sales (Inclusive GST) 20.90", 0.9, "tesseract+rapidocr")]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "20.90" and t.confidence >= 0.8 and t.meta["engines_agree"] == "yes"
    # one engine only: unconfirmed, below the accept threshold
    t = extract_receipt(doc([*lines[:2], ("Total Sales (Inclusive GST) 20.90", 0.9, "tesseract")])).total
    assert t is not None and t.value == "20.90" and t.confidence < 0.8
    # another labelled amount on the receipt: which one is the total is not settled by the reading
    t = extract_receipt(doc([*lines, "Total Amount 19.90"])).total
    assert t is not None and t.confidence < 0.8


def test_unread_final_total_line_keeps_an_earlier_total_unsure() -> None:
    lines = ["KEDAI A", "Total 0% supplies: 12.98", "Total 6% supplies (Inc. GST): 14.71", "Total 0% supplies: 12.98",
             "Total Payable: ~~"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.meta.get("unread_total_below") == "yes" and t.confidence < 0.8
    # the same receipt with the payable amount read: no such doubt
    t = extract_receipt(doc([*lines[:-1], "Total Payable: 27.69"])).total
    assert t is not None and t.value == "27.69" and "unread_total_below" not in t.meta


def test_the_same_total_line_printed_twice_is_no_confirmation() -> None:
    same = extract_receipt(doc(["KEDAI A", "Total 0% supplies: 12.98", "ITEM 2.00", "Total 0% supplies: 12.98"])).total
    assert same is not None and same.value == "12.98" and same.confidence < 0.8
    # a net amount repeating it confirms nothing either
    net = extract_receipt(doc(["KEDAI A", "Total Sales (Excluding GST): 109.70", "TOTAL: 109.70"])).total
    assert net is None or net.confidence < 0.8
    # two different total lines agreeing do
    other = extract_receipt(doc(["KEDAI A", "Total Amount: 21.80", "ITEM 2.00", "TOTAL: RM 21.80"])).total
    assert other is not None and other.value == "21.80" and other.confidence >= 0.8


def test_amount_just_above_the_change_line_is_the_cash_tendered() -> None:
    # "CASH" misread "GASH": cash - change still repairs the misread total, below the accept threshold
    ex = extract_receipt(doc(["KEDAI A", "ITEM 6.00", "SUB-TOTAL (GST) 6.00", "FOTAL 6.60", "GASH 20.00", "CHANGE 14.00"]))
    assert ex.total is not None and ex.total.value == "6.00" and ex.total.confidence < 0.8
    # a total line above the change line is no tender
    from pipeline.extract.amounts import _payment_facts
    from pipeline.extract.layout import build_rows

    assert _payment_facts(build_rows(doc(["TOTAL 6.60", "CHANGE 0.40"]))).tender == ()
