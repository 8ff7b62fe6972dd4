"""Shop abbreviations of lens names, receipt vs order numbers, and the handwritten-serial
vote across engines (issue #5)."""

from __future__ import annotations

import numpy as np
import pytest

from models.documents import Box
from models.fields import DocumentKind
from pipeline.extract import extract_receipt
from pipeline.extract.products import parse_product
from pipeline.extract.serial import (
    _compile,
    _rot_box,
    _unexplained_ink,
    is_fuzzy_serial_cue,
    normalise_serial_token,
    reread_serial_regions,
)
from pipeline.match import match_sku
from tests.docbuild import doc

SIGMA = "[A-Z0-9]{6,12}"
SONY = "[0-9]{7,8}"


# ------------------------------------------------------------------ products

@pytest.mark.parametrize("text, focal, aperture, series, line, mount", [
    ("SIG 85 1.4 DGDN A SE", (85, 85), (1.4, 1.4), {"DG", "DN"}, "A", "sony_e"),
    ("SIG 100-400 5-6.3 DGDNOS C L", (100, 400), (5.0, 6.3), {"DG", "DN", "OS"}, "C", "l"),
    ("SIG 24 1.4 DGHSM A Nikon", (24, 24), (1.4, 1.4), {"DG", "HSM"}, "A", "nikon"),
    ("SIG 105 2.8 DGDNMACRO A Sony-E", (105, 105), (2.8, 2.8), {"DG", "DN", "MACRO"}, "A", "sony_e"),
    ("Sony FE 70-200 F4 G II", (70, 200), (4.0, 4.0), {"G", "II"}, None, "sony_e"),
    ("SONY FE 100-400 GM", (100, 400), None, {"GM"}, None, "sony_e"),
    ("Sigma 40mm f/1.4 DG HSM | A (Cano", (40, 40), (1.4, 1.4), {"DG", "HSM"}, "A", "canon"),   # cut off
    ("SIGMA 28-70MM F2.8 DG DN C L-MOUN", (28, 70), (2.8, 2.8), {"DG", "DN"}, "C", "l"),
    ("Sigma 28mm f/1.4 DG HSM | A (NF)", (28, 28), (1.4, 1.4), {"DG", "HSM"}, "A", "nikon"),
    ("SIG 35 1.4 DGDNAL", (35, 35), (1.4, 1.4), {"DG", "DN"}, "A", "l"),                     # OCR glued it all
])
def test_shop_abbreviations(text, focal, aperture, series, line, mount) -> None:  # type: ignore[no-untyped-def]
    sp = parse_product(text)
    assert sp.focal == focal and sp.aperture == aperture
    assert series <= sp.series
    assert sp.line == line and sp.mount == mount


@pytest.mark.parametrize("text", [
    "1.000 BUC x 3719.99", "Card SD SanDisk 64GB 89.99", "TREPIED MANFROTTO BEFREE 809.99",
    "Kvittering nr. 2022 4170", "SEL35F14GM",
])
def test_not_a_lens_spec(text: str) -> None:
    sp = parse_product(text)
    assert sp.focal is None or sp.aperture is None
    assert sp.aperture != (14.0, 14.0)  # "F14" inside a model code is no f-number


def test_truncated_range_is_not_a_focal_length() -> None:
    assert parse_product("SEL70200G2 Sony FE 70-2").focal is None


@pytest.mark.parametrize("line, sku", [
    ("SIG 85 1.4 DGDN A SE 7.499,00", "322965"),
    ("SIG 85 1.4 DGDN A L 7.499,00", "322969"),
    ("SIG 40 1.4 DGHSM A Nikon 5.999,00", "332955"),
    ("SIG 100-400 5-6.3 DGDNOS C L 7.499,00", "750969"),
])
def test_abbreviated_sku_match(sigma, line: str, sku: str) -> None:  # type: ignore[no-untyped-def]
    d = doc(["Fotohuset ApS", line, "I alt 1,00"])
    m = match_sku(extract_receipt(d), sigma.skus, d)
    assert m.sku is not None and m.sku.sku == sku
    assert m.score - m.runner_up_score >= 0.2


# ------------------------------------------------------------------ receipt numbers

def test_invoice_number_beats_order_number() -> None:
    ex = extract_receipt(doc(["Kamerakulma Oy LASKU", "Laskun nro 2022-5117", "Tilausnumero W1161013",
                              "YHTEENSÄ EUR 1 289,70"]))
    assert ex.receipt_number is not None and ex.receipt_number.value == "2022-5117"


def test_order_confirmation_has_no_receipt_number() -> None:
    ex = extract_receipt(doc(["Objektivhuset Norr AB Orderbekräftelse", "Ordernummer: ORD-3171149",
                              "Detta är inte en faktura.", "TOTALT SEK 13 498,00"]))
    assert ex.document_kind == DocumentKind.ORDER_CONFIRMATION
    assert ex.receipt_number is None


def test_order_number_on_a_receipt_is_kept() -> None:
    ex = extract_receipt(doc(["Fotohuset ApS", "Kvittering", "Ordrenr. 55512", "I alt 100,00"]))
    assert ex.receipt_number is not None and ex.receipt_number.value == "55512"


# ------------------------------------------------------------------ serials

@pytest.mark.parametrize("tok, pattern, expected", [
    ("54I23456", SIGMA, "54123456"),     # a stray letter between digits
    ("A7B8C9D0", SIGMA, "A7B8C9D0"),     # a serial with letters stays as read
    ("8O25I364", SONY, "80251364"),      # digits-only pattern: every look-alike repaired
    ("2OA48U3", SONY, None),
    ("AB123456", SIGMA, "AB123456"),
])
def test_normalise_serial_token(tok: str, pattern: str, expected: str | None) -> None:
    assert normalise_serial_token(tok, _compile(pattern)) == expected


@pytest.mark.parametrize("word, ok", [
    ("S/N:", True), ("Serienr.", True), ("Serien.", True), ("Semenr.", True), ("SN", True),
    ("Sarjanumero", True), ("Summa", False), ("Sony", False), ("Serviceaftale", False),
])
def test_fuzzy_serial_cue(word: str, ok: bool) -> None:
    assert is_fuzzy_serial_cue(word) is ok


PRINTED = ["Fotohuset ApS", "CVR-nr. 12972997", "Dato 14.10.2022", "Kvitteringsnr. 100234",
           "Sigma 85mm F1.4 DG DN Art 7.499,00", "I alt 7.499,00"]


def test_engines_agreeing_make_a_confident_serial() -> None:
    a = doc(PRINTED + [("Serienr. 2OA48U3", 0.3)])                                   # tesseract: debris
    b = doc(PRINTED + [("Serien. 70948237", 0.99, "rapidocr")], engine="rapidocr")    # whole page
    c = doc(PRINTED + [("Serienr. 70948237", 0.98, "rapidocr-line")], engine="rapidocr-line")
    one = extract_receipt(a, serial_pattern=SIGMA, extra_docs=[b]).serial_handwritten
    assert one is not None and one.value == "70948237" and one.confidence < 0.8   # one engine: not proven
    two = extract_receipt(a, serial_pattern=SIGMA, extra_docs=[b, c]).serial_handwritten
    assert two is not None and two.value == "70948237" and two.confidence >= 0.8


def test_serial_glued_to_its_cue() -> None:
    ex = extract_receipt(doc(PRINTED + [("Serienr.43933637", 0.99, "rapidocr")], engine="rapidocr"),
                         serial_pattern=SIGMA)
    assert ex.serial_handwritten is not None and ex.serial_handwritten.value == "43933637"


def test_word_with_a_few_digits_is_no_serial() -> None:
    ex = extract_receipt(doc(PRINTED + [("Rengoringsduk MIKROFIBER99", 0.9)]), serial_pattern=SIGMA)
    assert ex.serial_handwritten is None


def test_disagreeing_cued_readings_lower_the_confidence() -> None:
    a = doc(PRINTED + [("S/N 58444398", 0.9)])
    b = doc(PRINTED + [("S/N 12345678", 0.9, "rapidocr")], engine="rapidocr")
    s = extract_receipt(a, serial_pattern=SIGMA, extra_docs=[b]).serial_handwritten
    assert s is not None and s.confidence <= 0.7


@pytest.mark.parametrize("rot", [0, 90, 180, 270])
def test_rot_box_round_trip(rot: int) -> None:
    b = Box(x0=10, y0=20, x1=110, y1=50)
    r = _rot_box(_rot_box(b, rot, 400, 300), rot, 400, 300, inverse=True)
    assert (round(r.x0), round(r.y0), round(r.x1), round(r.y1)) == (10, 20, 110, 50)


def test_unexplained_ink_finds_an_unread_line() -> None:
    img = np.full((400, 600), 255, np.uint8)
    img[100:120, 50:300] = np.where(np.indices((20, 250))[1] % 7 < 3, 0, 255)   # a read printed line
    img[250:290, 80:400] = np.where(np.indices((40, 320))[1] % 9 < 4, 40, 255)  # pen ink nobody read
    found = _unexplained_ink(img, [Box(x0=50, y0=100, x1=300, y1=120)], 20.0)
    assert len(found) == 1 and 240 <= found[0].y0 <= 255 and found[0].y1 >= 285


def test_reread_leaves_text_pdfs_and_sure_serials_alone() -> None:
    d = doc(PRINTED + [("S/N 54123456", 0.99)])
    ex = extract_receipt(d, serial_pattern=SIGMA)
    assert reread_serial_regions(None, d, ex, SIGMA) is ex
    sure = ex.model_copy(update={"serial_handwritten": ex.serial_handwritten.model_copy(  # type: ignore[union-attr]
        update={"confidence": 0.95})})
    assert reread_serial_regions(d.file, d, sure, SIGMA) is sure
