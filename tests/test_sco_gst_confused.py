"""GST numbers read with their digits confused (O/0, I/1, S/5, B/8, G/6) after a clean
label, and GST numbers whose label OCR garbled beyond recognition (a twelve-digit number
starting "00" on a header row): found, read back exactly, never auto-accepted; numbers
of other fields (a phone, a receipt number) and bare numbers are not taken for one."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.extract.vat import find_vat_numbers
from tests.docbuild import doc


def _gst(lines: list[str], country: str | None = None):  # type: ignore[no-untyped-def]
    return extract_receipt(doc(lines), country=country).reseller_vat


def test_digits_read_as_letters_after_a_gst_label_are_read_back() -> None:
    for text, want in (("GST ID : 00IS70349OSG", "001570349056"), ("GST REG NO: 00074GGS9B40", "000746659840"),
                       ("(GST ID NO: O00S04664OG4)", "000504664064")):
        hits = find_vat_numbers(text)
        assert [h.value for h in hits] == [want], text
        assert hits[0].repaired
    fv = _gst(["ABC TRADING SDN BHD", "GST ID : 00IS70349OSG", "TOTAL 5.00"])
    assert fv is not None and fv.value == "001570349056" and fv.confidence < 0.8


def test_confused_reading_needs_six_real_digits_and_the_00_start() -> None:
    assert find_vat_numbers("GST ID : OOISZOBGOSGI") == []  # four real digits: too little was read
    assert find_vat_numbers("GST ID : 1OIS70349OSG") == []  # reads back as "101...": not a GST number
    assert find_vat_numbers("GST ID : 00IS70349OSGX") == []  # a thirteenth character: another token
    # a clean number keeps its plain (not repaired) reading
    assert [h.repaired for h in find_vat_numbers("GST ID: 000123456789")] == [False]


def test_garbled_label_twelve_digits_starting_00_on_a_header_row() -> None:
    for label in ("6ST Wk:", "(UST Ree Now", "Ua Lx"):
        fv = _gst(["ABC TRADING SDN BHD", f"{label} 000517095424", "LOT 3, JALAN 2", "TOTAL 5.00"])
        assert fv is not None and fv.value == "000517095424" and fv.confidence < 0.8, label


def test_bare_header_number_is_not_another_fields_number_nor_a_lone_number() -> None:
    for row in ("TEL: 000517095424", "INVOICE NO: 000517095424", "000517095424", "Ua Wk 120517095424",
                "Ua Wk 000517095424 12/03/2018"):
        assert _gst(["ABC TRADING SDN BHD", row, "TOTAL 5.00"]) is None, row
    # below the amounts: not a header row
    assert _gst(["ABC TRADING SDN BHD", "ITEM 5.00", "TOTAL 5.00", "Ua Wk 000517095424"]) is None
    # a labelled number wins; receipts of other countries are not searched
    fv = _gst(["ABC SDN BHD", "Ua Wk 000517095424", "GST ID: 000111222333", "TOTAL 5.00"])
    assert fv is not None and fv.value == "000111222333"
    assert _gst(["Foto ApS", "Ua Wk 000517095424", "I alt 5,00"], country="DK") is None
