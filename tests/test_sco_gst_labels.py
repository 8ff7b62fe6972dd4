"""Malaysian GST numbers behind labels OCR garbled further than the known slips
(synthetic lines): a letter dropped ("GT NO", "ST ID"), punctuation inside the label
("G,ST"), a long label ("GST REGISTRATION NO"), a letter or a separator inside the
number. Such readings are repaired and never confident enough to be auto-accepted."""

from __future__ import annotations

import pytest

from pipeline.extract import extract_receipt
from pipeline.extract.vat import find_vat_numbers
from tests.docbuild import doc


def _gst(text: str) -> list[tuple[str, bool]]:
    return [(h.value, h.repaired) for h in find_vat_numbers(text) if h.kind == "gst"]


@pytest.mark.parametrize("text, value", [
    ("GT No, : 000123456789", "000123456789"),            # G S T with the S dropped, then "No"
    ("ST ID : 001234567890", "001234567890"),             # G dropped, then "ID"
    ("- G,ST ID No: 002012345678", "002012345678"),       # a comma inside the label
    ("G,ST ID. N0 : 000123456789", "000123456789"),       # and 0 for O in "NO"
    ("GST REGISTRATION NO : 0001234567G9", "000123456769"),  # a long label and G for 6
    ("GST REGISTRATIO'N NO : 000123456789", "000123456789"),
    ("GT REG #00012345678G", "000123456786"),
    ("GST (D): 00012345678'9", "000123456789"),           # an apostrophe inside the number
])
def test_gst_number_behind_a_garbled_label_is_read_as_repaired(text: str, value: str) -> None:
    assert _gst(text) == [(value, True)]


@pytest.mark.parametrize("text", [
    "GET 10% OFF 000123456789",          # digits between the word and the number
    "OST 200012345678",                  # a word one letter from GST, no sub-label
    "ST:512 CTR2 ID:3001 000123456789",  # a store code, then other fields
    "GT NO. 0001234567",                 # ten digits
    "GST LD: 00-012 3456.789",           # three separators: not one number
    "GT TOTAL 000123456789",             # another word between label and number
])
def test_garbled_label_rules_do_not_invent_a_gst_number(text: str) -> None:
    assert _gst(text) == []


def test_a_label_word_letter_is_not_taken_into_the_number() -> None:
    # "NO s 0001234567l9": the O of "NO" and the stray "s" are no digits of the number
    assert [h.value for h in find_vat_numbers("GST ID. NO s 0001234567l9")] == ["000123456719"]


@pytest.mark.parametrize("line, accepted", [
    ("GST No. : 000123456789", True),   # the clean label, both engines agreeing: auto-accepted
    ("GT No, : 000123456789", False),   # the same digits behind a garbled label: repaired
])
def test_repaired_gst_number_is_below_the_auto_accept_threshold_even_when_engines_agree(
        line: str, accepted: bool) -> None:
    ex = extract_receipt(doc(["KEDAI A SDN BHD", (line, 0.99, "tesseract+rapidocr"), "TOTAL 5.00"]))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == "000123456789"
    assert (ex.reseller_vat.confidence >= 0.8) is accepted


@pytest.mark.parametrize("line, accepted", [
    ("GST No. : 001234567890", True),    # a Malaysian GST number starts "00"
    ("GST No. : 501234567890", False),   # read otherwise: a misread, even when both engines agree
])
def test_gst_number_not_starting_00_is_not_auto_accepted(line: str, accepted: bool) -> None:
    ex = extract_receipt(doc(["KEDAI A SDN BHD", (line, 0.99, "tesseract+rapidocr"), "TOTAL 5.00"]))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == line.split(": ")[1]
    assert (ex.reseller_vat.confidence >= 0.8) is accepted


def test_plausible_gst_reading_wins_over_an_implausible_one() -> None:
    # the number printed twice, once misread with a leading digit wrong
    ex = extract_receipt(doc(["KEDAI A SDN BHD", "GST ID : 501234567890", "ABC", "GST REG NO: 001234567890",
                              "TOTAL 5.00"]))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == "001234567890"
