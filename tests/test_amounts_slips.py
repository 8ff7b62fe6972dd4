"""Totals read from synthetic receipt lines (tests/docbuild.py), by section below."""

from __future__ import annotations

import pytest

from pipeline.extract import extract_receipt
from pipeline.extract.cues import find_cues
from tests.docbuild import doc


@pytest.mark.parametrize("text", ["| ALT DKK 10.597,00", "l alt kr. 1.490,00", "1 ALT 299,00", "! alt 5,00",
                                  "|ALT DKK 10,00"])
def test_i_alt_with_the_i_misread_is_a_strong_total_cue(text: str) -> None:
    assert any(c.label == "TOTAL" and c.id == "strong" for c in find_cues(text)), find_cues(text)


@pytest.mark.parametrize("text", ["Salt 1,00", "Kobalt 2,00", "12 alt", "Halt", "ALT 5,00"])
def test_alt_in_other_words_is_no_total_cue(text: str) -> None:
    assert not any(c.label == "TOTAL" for c in find_cues(text)), find_cues(text)


def test_net_subtotal_is_not_the_total_when_the_i_alt_line_is_misread() -> None:
    lines = ["Linser A/S FAKTURA", "Vare 1 8.999,00 8.999,00", "Subtotal ekskl. moms 7.199,20",
             "Heraf moms 25% 1.799,80", "| ALT DKK 8.999,00", "Betalt med Dankort"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "8999.00"


@pytest.mark.parametrize("line, value", [("TOTAL LEI 4759 .96", "4759.96"), ("TOTAL RM 64 13", "64.13"),
                                         ("TOTAL 12 ,50", "12.50")])
def test_total_with_a_space_at_the_decimal_point(line: str, value: str) -> None:
    t = extract_receipt(doc(["MAGAZIN SRL", "ARTICOL 10.00", line])).total
    assert t is not None and t.value == value


def test_currency_code_glued_to_the_total() -> None:
    lines = ["Kamerakauppa Oy", "Objektiivi 1209,90", "Suodin 49,90", "YHTEENSÄ EUR1259,80", "ALV osuus 24% 243,83"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "1259.80"


def test_a_tax_row_is_not_the_value_of_an_unread_total_line() -> None:
    lines = ["Kamerakauppa Oy", "Objektiivi 1209,90", "YHTEENSÄ EUR", "ALV osuus 24% 234,17"]
    t = extract_receipt(doc(lines)).total
    assert t is None or t.value != "234.17"


# ---------------------------------------------------------------- Malay vocabulary (synthetic receipts)

@pytest.mark.parametrize("lines, total", [
    (["KEDAI RUNCIT A", "ROTI 3.50", "AIR 2.00", "JUMLAH KECIL 5.50", "CUKAI 0.33", "JUMLAH BESAR 5.83",
      "TUNAI 10.00", "BAKI 4.17"], "5.83"),
    (["KEDAI B", "ITEM 12.00", "JUMLAH 12.00", "TUNAI 20.00", "BAKI 8.00"], "12.00"),
    (["KEDAI C", "ITEM 7.90", "Jumlah Perlu Dibayar RM 7.90", "Bayaran Tunai 10.00"], "7.90"),
])
def test_malay_total_labels(lines: list[str], total: str) -> None:
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == total and t.meta.get("cue")


@pytest.mark.parametrize("text, label", [("Jumlah Kecil 5.50", "SUBTOTAL"), ("Cukai 6% 0.33", "TAX"),
                                         ("Jumlah Dibayar 50.00", "PAYMENT"), ("Diskaun 1.00", "PAYMENT")])
def test_malay_non_total_sums_are_not_total_cues(text: str, label: str) -> None:
    cues = find_cues(text)
    assert any(c.label == label for c in cues) and not any(c.label == "TOTAL" for c in cues), cues


# ---------------------------------------------------------------- payment contradicting the total (synthetic)

def _agreed(text: str) -> tuple[str, float, str]:
    return (text, 0.99, "tesseract+rapidocr")


def test_cleanly_read_total_contradicted_by_the_card_is_kept_with_a_low_confidence() -> None:
    lines = ["Fotobutik ApS", "Objektiv 4.298,00", "Filter 299,00", _agreed("I ALT kr. 4.597,00"),
             "Heraf moms 25% 919,40", "Dankort 3.587,00"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "4597.00" and t.confidence < 0.6
    assert t.meta["contradicted_by"] == "card" and t.meta["payment_amount"] == "3587.00"


def test_card_a_few_cents_off_a_cleanly_read_total_keeps_it_below_the_accept_threshold() -> None:
    lines = ["MAGAZIN SRL", "ARTICOL 15499.99", _agreed("TOTAL LEI 15749.94"), "CARD 15749.98"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "15749.94" and t.confidence < 0.8 and "engines_agree" not in t.meta


def test_poorly_read_total_is_still_repaired_from_the_card() -> None:
    lines = ["Fotobutik ApS", "Objektiv 3.587,00", ("I ALT kr. 4.587,00", 0.6), "Dankort 3.587,00"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "3587.00" and t.meta.get("repaired_from") == "4587.00"


# ---------------------------------------------------------------- credit notes (synthetic)

def test_credit_note_total_is_negative() -> None:
    lines = ["BAKERY SDN BHD", "TAX INVOICE / ADJUSTMENT NOTE", "BREAD 2.43 -1 -2.43",
             "Total supplies (excl. GST): -2.29", "GST: -0.14", "Total Payable: -2.43"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "-2.43" and t.confidence < 0.8


def test_a_lone_negative_total_line_is_not_taken_as_negative() -> None:
    # one dash misread before the amount on an ordinary receipt: no other sum is negative
    lines = ["KEDAI A", "ITEM 5.00", "Subtotal 5.00", "Total Payable: -5.00", "CASH 10.00", "CHANGE 5.00"]
    t = extract_receipt(doc(lines)).total
    assert t is None or t.value != "-5.00"


# ---------------------------------------------------------------- confirmations (synthetic)

def test_net_plus_the_vat_it_includes_confirms_the_total() -> None:
    lines = ["Fotosenter AS INVOICE", "Sony body 1 34,999.00 34,999.00", "Hoya filter 1 499.00 499.00",
             "Subtotal excl. VAT 28,398.40", "incl. VAT 25% 7,099.60", "TOTAL kr. 35,498.00", "Paid by invoice"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "35498.00" and "net+tax" in t.meta.get("support", "") and t.confidence >= 0.8
    # a VAT that is not the printed rate of the net confirms nothing
    bad = [*lines[:4], "incl. VAT 25% 7,000.00", *lines[5:]]
    t = extract_receipt(doc(bad)).total
    assert t is not None and "net+tax" not in t.meta.get("support", "")


def test_total_tax_row_is_an_added_tax() -> None:
    lines = ["MAGAZIN SRL FACTURA", "Articol 1 6199.99 6199.99", "Subtotal fara TVA 5210.08", "TOTAL TVA 19% 989.91",
             "TOTAL 6199.99"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "6199.99" and "net+tax" in t.meta.get("support", "")


def _pdf(lines: list[str]):  # noqa: ANN202 - a DocumentText whose page is a PDF text layer
    d = doc(lines, conf=1.0, engine="pdfplumber", name="receipt.pdf")
    return d.model_copy(update={"pages": tuple(p.model_copy(update={"source": "pdf-text"}) for p in d.pages)})


def test_strong_total_from_a_pdf_text_layer_is_trusted() -> None:
    lines = ["Webshop ApS FAKTURA", "Kamera 1 4.999,00 4.999,00", "Total inkl. moms 4.999,00"]
    t = extract_receipt(_pdf(lines)).total
    assert t is not None and t.value == "4999.00" and t.confidence >= 0.8 and t.meta.get("text_layer") == "yes"
    # the same lines read by one OCR engine stay unconfirmed
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.confidence < 0.8
    # another labelled amount on the page: not settled by the text layer either
    t = extract_receipt(_pdf([*lines, "Amount due 4.899,00"])).total
    assert t is not None and t.confidence < 0.8


def test_a_second_reading_that_missed_the_payment_line_does_not_lift_a_contradicted_total() -> None:
    lines = ["Fotobutik ApS", "Objektiv 4.298,00", "Filter 299,00", _agreed("I ALT kr. 4.597,00"), "Dankort 3.587,00"]
    second = doc(["Fotobutik ApS", "Objektiv 4.298,00", "Filter 299,00", "I ALT kr. 4.597,00"], engine="rapidocr")
    t = extract_receipt(doc(lines), extra_docs=[second], reread=False).total
    assert t is not None and t.value == "4597.00" and t.confidence < 0.6 and t.meta["contradicted_by"] == "card"


def test_a_strong_total_label_on_a_net_row_is_no_total() -> None:
    lines = ["KEDAI HARDWARE", "PUNCH SET 100.88", "TOTAL SALES(EXCLUDING GST) : 95.17", "TOTAL GST : 5.71",
             "ROUNDING : 0.02", "TOTAL SALES(INCLUSIVE OF GST) :", "CASH : 101.00"]
    t = extract_receipt(doc(lines)).total
    assert t is None or t.value not in ("95.17", "95.15", "95.19")


def test_a_bare_total_before_rounding_and_cash_is_the_printed_total() -> None:
    lines = ["STATIONERY SDN BHD", "PEN RM1.30", "GST 6% RM0.08", "TOTAL RM1.38", "ROUNDING RM0.02", "CASH RM1.40"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "1.38"
    # under a pre-rounding label the adjusted amount is the total (its line went unread)
    pre = ["KEDAI MAKAN", "NASI RM 60.50", "Service Chrg (Incl GST 6%) RM 3.63", "Total Sales (Incl GST 6%) RM 64.13",
           "Rounding Adjustment RM 0.02", "CASH RM 100.00"]
    t = extract_receipt(doc(pre)).total
    assert t is not None and t.value == "64.15" and t.confidence < 0.8


def test_cash_minus_change_beats_a_tax_summary_row_when_the_total_line_is_unread() -> None:
    lines = ["KEDAI HARDWARE", "PUNCH SET 100.88", "TOTAL SALES(EXCLUDING GST) : 95.17", "TOTAL GST : 5.71",
             "100.90", "TOTAL SALES(INCLUSIVE OF GST) :", "CASH : 101.00", "CHANGE : 0.10", "GST SUMMARY",
             "TOTAL : 95.17 5.71"]
    t = extract_receipt(doc(lines)).total
    assert t is not None and t.value == "100.90" and t.meta.get("support") == "cash-change" and t.confidence < 0.8
