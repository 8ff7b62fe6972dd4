"""Handwritten serial on the receipt, and the serial label photo."""

from __future__ import annotations

import pytest

from models.documents import DocumentRole
from pipeline.extract import extract_label, extract_receipt
from pipeline.extract.serial import parse_serial
from tests.docbuild import doc

SIGMA = "[A-Z0-9]{6,12}"
SONY = "[0-9]{7,8}"

PRINTED = ["Fotohuset ApS", "CVR-nr. 12972997", "Tlf. 35353535", "Dato 14.10.2022", "Kvitteringsnr. 100234",
           "Sigma 85mm F1.4 DG DN Art 5901234123457 7.499,00", "I alt 7.499,00"]


@pytest.mark.parametrize("text, pattern, expected", [
    ("S/N: 54123456", SIGMA, "54123456"),
    ("SN 54123456", SIGMA, "54123456"),
    ("Serial No. A1B2C3D4", SIGMA, "A1B2C3D4"),
    ("Serienr. 54123456", SIGMA, "54123456"),        # da/nb
    ("Serienummer: 54123456", SIGMA, "54123456"),    # sv/da
    ("Sarjanumero 54123456", SIGMA, "54123456"),     # fi
    ("Seria: 1234567", SONY, "1234567"),             # ro
    ("S/N 1234567", SONY, "1234567"),
    ("Serial: ABCDEFG", SIGMA, None),                # no digits
    ("S/N 12345", SONY, None),                       # too short for the pattern
])
def test_parse_serial(text: str, pattern: str, expected: str | None) -> None:
    assert parse_serial(text, pattern) == expected


def test_handwritten_serial_after_cue_low_confidence_line() -> None:
    ex = extract_receipt(doc(PRINTED + [("SN 54123456", 0.35)]), serial_pattern=SIGMA)
    assert ex.serial_handwritten is not None and ex.serial_handwritten.value == "54123456"


@pytest.mark.parametrize("printed_only", [PRINTED])
def test_printed_numbers_are_not_serials(printed_only: list[str]) -> None:
    ex = extract_receipt(doc(printed_only), serial_pattern=SIGMA)
    assert ex.serial_handwritten is None


def test_isolated_token_without_cue() -> None:
    ex = extract_receipt(doc(PRINTED + [("54I23456", 0.4)]), serial_pattern=SIGMA)
    # the letter between two digits is read as the digit it looks like
    assert ex.serial_handwritten is not None and ex.serial_handwritten.value == "54123456"
    assert ex.serial_handwritten.confidence < 0.8  # one unlabelled reading: not proven


def test_second_reading_finds_serial_the_first_missed() -> None:
    first = doc(PRINTED + [("~~ ;", 0.2)])
    second = doc(PRINTED + [("54123456", 0.8, "rapidocr")], engine="rapidocr")
    ex = extract_receipt(first, serial_pattern=SIGMA, extra_docs=[second])
    assert ex.serial_handwritten is not None and ex.serial_handwritten.value == "54123456"


def test_readings_vote() -> None:
    a = doc(PRINTED + [("S/N 5412345B", 0.4)])           # tesseract: 8 read as B
    b = doc(PRINTED + [("S/N 54123458", 0.8, "rapidocr"), ("X9Y8Z7W6", 0.8, "rapidocr")], engine="rapidocr")
    ex = extract_receipt(a, serial_pattern=SIGMA, extra_docs=[b])
    s = ex.serial_handwritten
    assert s is not None
    assert s.value in ("5412345B", "54123458")
    assert s.meta["readings"] == "2"


def test_label_barcode_and_text() -> None:
    d = doc(["SIGMA", "85mm F1.4 DG DN | A", "S/N 54123456", "Made in Japan"], role=DocumentRole.SERIAL_PHOTO,
            barcodes=["54123456"])
    lab = extract_label(d, serial_pattern=SIGMA)
    assert lab.serial_barcode is not None and lab.serial_barcode.value == "54123456"
    assert lab.serial_barcode.confidence >= 0.9
    assert lab.serial_text is not None and lab.serial_text.value == "54123456"
    assert lab.serial is lab.serial_barcode
    assert lab.model_text is not None and "85" in lab.model_text.value


def test_label_sony_model_code() -> None:
    d = doc(["SONY", "Model ILCE-7M4", "Serial No. 1234567"], role=DocumentRole.SERIAL_PHOTO)
    lab = extract_label(d, serial_pattern=SONY)
    assert lab.serial_barcode is None
    assert lab.serial_text is not None and lab.serial_text.value == "1234567"
    assert lab.model_text is not None and "ILCE-7M4" in lab.model_text.value


def test_label_gs1_barcode_serial() -> None:
    d = doc(["SONY"], role=DocumentRole.SERIAL_PHOTO, barcodes=["0104548736132580211234567"])
    lab = extract_label(d, serial_pattern=SONY)
    assert lab.serial_barcode is not None and lab.serial_barcode.value == "1234567"


def test_readings_vote_on_printed_fields() -> None:
    first = doc(["Shop", "Dato 14.1O.2O22", "I alt 100,00"], conf=0.5)       # garbled, still parsed
    second = doc(["Shop", "Dato 14.10.2022", "I alt 100,00"], engine="rapidocr")
    third = doc(["Shop", "Dato 11.10.2022", "I alt 100,00"], engine="other", conf=0.4)
    ex = extract_receipt(first, extra_docs=[second, third])
    assert ex.purchase_date is not None and ex.purchase_date.value == "2022-10-14"
    assert ex.purchase_date.meta["readings_agree"] == "2/3"


@pytest.mark.parametrize("noise", [
    "Kortnr. XXXXXXXX1234",
    "+45 35353535",
    "AUTH CODE 123456",
    "Ref: 00012345",
    "Terminal ID 70012345",
    "Bonnr 12345678",
])
def test_payment_and_contact_numbers_are_not_serials(noise: str) -> None:
    ex = extract_receipt(doc(PRINTED + [noise]), serial_pattern=SIGMA)
    assert ex.serial_handwritten is None


def test_unlabelled_single_reading_serial_is_capped_and_lists_alternatives() -> None:
    ex = extract_receipt(doc(PRINTED + [("54123456", 0.9), ("A7B8C9D0", 0.9)]), serial_pattern=SIGMA)
    s = ex.serial_handwritten
    assert s is not None and s.meta["cue"] == "no"
    assert s.confidence <= 0.5
    assert set(s.meta["alternatives"].split(",")) | {s.value} == {"54123456", "A7B8C9D0"}


def test_serial_glued_to_cue_and_postcode_not_joined() -> None:
    ex = extract_receipt(doc(["Faktureres til:", "Demo Hansen", "5000 Odense C", "S/N:85258362"]),
                         serial_pattern=SIGMA)
    assert ex.serial_handwritten is not None and ex.serial_handwritten.value == "85258362"
    assert ex.serial_handwritten.meta["cue"] == "yes"


@pytest.mark.parametrize("row", ["Aut.kode: 878623 Term: 0041847", "Medarb.: 4471923", "Ordre-id: 55512345"])
def test_labelled_printed_numbers_are_not_serials(row: str) -> None:
    ex = extract_receipt(doc(PRINTED + [row]), serial_pattern=SIGMA)
    assert ex.serial_handwritten is None


def test_line_rereads_are_remembered_by_crop_content(monkeypatch):
    """extract_receipt runs again when the second engine's reading arrives; the same
    line crops must not be recognised twice."""
    import numpy as np

    from pipeline.extract import serial

    calls = []
    monkeypatch.setattr(serial, "_recognise_line_uncached", lambda crop: calls.append(1) or ("123", 0.9))
    monkeypatch.setattr(serial, "_LINE_CACHE", {})
    crop = np.full((20, 60), 255, np.uint8)
    crop[5:15, 10:50] = 0
    assert serial._recognise_line(crop) == ("123", 0.9)
    assert serial._recognise_line(crop.copy()) == ("123", 0.9)
    assert len(calls) == 1
    other = crop.copy()
    other[0, 0] = 0
    serial._recognise_line(other)
    assert len(calls) == 2
