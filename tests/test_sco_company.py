"""Company names on receipts whose seller name OCR missed or garbled (synthetic lines,
small made-up lists): a customer's name below a nameless seller block, a bare company
form, a name sharing only generic words with the receipt's. In each the wrong company
must not be auto-accepted (score >= 0.80), and the plain case still is."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.match import match_names
from tests.docbuild import doc

NAMES = ["GARDENIA BAKERIES (KL) SDN BHD", "MAKASSAR FRESH MARKET S/B", "COSWAY (M) SDN BHD",
         "POPULAR BOOK CO. (M) SDN BHD", "MR. D.I.Y. (M) SDN BHD"]

#: the seller's block (address, phone, GST id), an invoice number and a date, then the customer
_BODY = ["LOT 3, JALAN PELABUR 23/1,", "40300 SHAH ALAM, SELANGOR.", "TEL: 03- 55423228", "GST ID: 000381399040",
         "TAX INVOICE / ADJUSTMENT NOTE", "CASH INV NO.: 7805F712", "DATE: 05/08/2017",
         "MAKASSAR FRESH MARKET SDN BHD", "GROUND FLOOR, NO. 4 & 6,", *[""] * 14, "TOTAL 12.00"]


def _ex(lines: list[str]):  # type: ignore[no-untyped-def]
    return extract_receipt(doc(lines))


def test_customer_name_below_a_nameless_seller_block_is_not_auto_accepted() -> None:
    ex = _ex(_BODY)  # the seller's name (a logo) not read
    assert [h.meta["block"] for h in ex.header_lines if h.value.startswith("MAKASSAR")] == ["1"]
    m = match_names(ex, NAMES)
    assert m.score < 0.8
    # the seller's name read: it wins, auto-accepted
    m = match_names(_ex(["GARDENIA BAKERIES (KL) SDN BHD", *_BODY]), NAMES)
    assert m.name == "GARDENIA BAKERIES (KL) SDN BHD" and m.score >= 0.8


def test_number_row_above_everything_opens_no_block() -> None:
    # no phone or VAT-id row before the number: the name below it is the seller's
    ex = _ex(["CASH SALE", "INVOICE NO: 12345", "MAKASSAR FRESH MARKET SDN BHD", "LOT 3, JALAN 2", *[""] * 10,
              "TOTAL 5.00"])
    assert [h.meta["block"] for h in ex.header_lines if h.value.startswith("MAKASSAR")] == ["0"]
    assert match_names(ex, NAMES).score >= 0.8


def test_joined_rows_do_not_span_a_number_row() -> None:
    # "CASH" (cut from "CASH INV NO.") + the customer's name must not form a seller-block candidate
    ex = _ex(_BODY)
    cash = [h for h in ex.header_lines if h.value == "CASH"]
    assert cash and cash[0].meta["block"] == "0"
    assert match_names(ex, NAMES).score < 0.8


def test_bare_company_form_does_not_match_another_company_with_that_form() -> None:
    # "POPULAR BOOK" (the first row) not read: "CO. (M) SDN BHD" is not COSWAY
    m = match_names(_ex(["CO. (M) SDN BHD", "NO 8, JALAN 7/118B", "TOTAL 5.00"]), NAMES)
    assert m.name != "COSWAY (M) SDN BHD" or m.score < 0.8
    m = match_names(_ex(["COSWAY (M) SDN BHD", "NO 8, JALAN 7/118B", "TOTAL 5.00"]), NAMES)
    assert m.name == "COSWAY (M) SDN BHD" and m.score >= 0.8


#: a list long enough to tell generic words: ENTERPRISE on five names
_LONG = ["SWC ENTERPRISE SDN BHD", "PANA JAYA ENTERPRISE", "FY EAGLE ENTERPRISE", "HIGH FIVE ENTERPRISE",
         "AIK HUAT HARDWARE ENTERPRISE (SETIA ALAM) SDN BHD",
         *[f"KEDAI Q{i:02d}X RUNCIT{i:02d}Z" for i in range(40)]]


def test_generic_words_alone_do_not_make_a_match() -> None:
    # the distinctive words ("AIK HUAT HARDWARE") misread: ENTERPRISE and SDN BHD alone
    # do not make it "SWC ENTERPRISE SDN BHD"
    m = match_names(_ex(["ENTERPRISE (SETIA ALAM) SDN BHD", "NO. 17-G, JALAN SETIA INDAH", "TOTAL 5.00"]), _LONG)
    assert m.name != "SWC ENTERPRISE SDN BHD" or m.score < 0.8
    m = match_names(_ex(["SWC ENTERPRISE SDN BHD", "NO. 17-G, JALAN SETIA INDAH", "TOTAL 5.00"]), _LONG)
    assert m.name == "SWC ENTERPRISE SDN BHD" and m.score >= 0.8
    m = match_names(_ex(["AIK HUAT HARDWARE", "ENTERPRISE (SETIA", "ALAM) SDN BHD", "TOTAL 5.00"]), _LONG)
    assert m.name == "AIK HUAT HARDWARE ENTERPRISE (SETIA ALAM) SDN BHD" and m.score >= 0.8


def test_shorter_spelling_of_a_chain_is_unsure_when_a_longer_one_is_listed() -> None:
    # two spellings of one company on the list, one with an extra word: read without
    # it, the OCR may have lost it ("(M)" is small print); read with it, it is that one
    names = ["MR. D.I.Y. (M) SDN BHD", "MR. D.I.Y. SDN BHD", "COSWAY (M) SDN BHD"]
    m = match_names(_ex(["MR. D.I.Y. SDN BHD", "LOT 3, JALAN 2", "TOTAL 5.00"]), names)
    assert m.name is not None and m.name.startswith("MR. D.I.Y.") and m.score < 0.8
    m = match_names(_ex(["MR. D.I.Y. (M) SDN BHD", "LOT 3, JALAN 2", "TOTAL 5.00"]), names)
    assert m.name == "MR. D.I.Y. (M) SDN BHD" and m.score >= 0.8
    # with no longer spelling listed, the short one stands
    m = match_names(_ex(["MR. D.I.Y. SDN BHD", "LOT 3, JALAN 2", "TOTAL 5.00"]), names[1:])
    assert m.name == "MR. D.I.Y. SDN BHD" and m.score >= 0.8
