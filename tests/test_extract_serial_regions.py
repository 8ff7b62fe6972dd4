"""Where the handwritten serial and a missing receipt number are looked for on a page:
numbers split by the OCR, short scraps, table rules, item numbers on printed lines,
and the vote between readings of one serial."""

from __future__ import annotations

import numpy as np

from models.documents import Box, DocumentText, Line, Word
from pipeline.extract.layout import build_rows
from pipeline.extract.serial import (
    SerialCand,
    _unexplained_ink,
    _vote_chars,
    receipt_number_regions,
    serial_candidates,
    serial_regions,
)
from tests.docbuild import doc

SIGMA = "[A-Z0-9]{6,12}"
SONY = "[0-9]{7,8}"


def test_receipt_number_regions_skip_postcodes_dates_and_labelled_numbers() -> None:
    rows = build_rows(doc(["Obiectiv Plus SRL", "BUCURESTI, SECTOR 1 Pacha ra 6933-6410", "2200 København N",
                           "Tel. 0213104477", "Data 29/11/2018", "x", "x", "x", "x", "x", "x", "x"]))
    boxes = receipt_number_regions(rows, 1)
    assert len(boxes) == 1
    b = boxes[0]
    assert 60 <= b.y0 <= 100  # the second row, with the two words before the number
    assert b.x1 - b.x0 > 12 * len("6933-6410")


def test_item_number_on_a_printed_line_is_no_serial() -> None:
    rows = build_rows(doc(["Shop", "746889 Rengöringsduk mikrofiber 1 00'66 00'66", "Total 99,00"]))
    assert serial_candidates(rows, SIGMA) == []
    rows = build_rows(doc(["Shop", "Sigma 100-400mm f/5-6.3 DG DN OS 006666"]))
    assert serial_candidates(rows, SIGMA) == []  # a product line
    rows = build_rows(doc(["Shop", "S/N 74688912 Rengöringsduk mikrofiber"]))
    assert [c.value for c in serial_candidates(rows, SIGMA)] == ["74688912"]  # after a cue it stays


def _words_doc(items: list[tuple[str, float, float]], y: float) -> DocumentText:
    d = doc(["Shop"])
    words = tuple(Word(text=t, conf=0.9, box=Box(x0=x0, y0=y, x1=x1, y1=y + 28), engine="tesseract")
                  for t, x0, x1 in items)
    page = d.pages[0].model_copy(update={"lines": d.pages[0].lines + (Line(words=words),)})
    return d.model_copy(update={"pages": (page,)})


def test_regions_include_a_number_split_in_two_and_short_scraps() -> None:
    rows = build_rows(_words_doc([("ON:", 20, 60), ("9", 80, 92), ("425330", 104, 176)], 100))
    regs = serial_regions([rows], SONY, 1)
    assert regs and regs[0][1].x0 == 80 and regs[0][1].x1 == 176
    scrap = build_rows(doc(["Shop", ("b198", 0.69, "rapidocr")]))
    assert serial_regions([scrap], SIGMA, 1)
    town = build_rows(doc(["Shop", "2200 København"]))
    assert serial_regions([town], SIGMA, 1) == []


def test_unexplained_ink_skips_table_rules() -> None:
    gray = np.full((600, 800), 255, np.uint8)
    gray[200:202, 20:780] = 0            # a table rule across the page
    gray[400:430, 300:420:6] = 0         # a blob of strokes, text-line shaped
    boxes = _unexplained_ink(gray, [], 20.0)
    assert len(boxes) == 1 and 380 <= boxes[0].y0 <= 410


def _cand(value: str, conf: float = 0.9) -> SerialCand:
    row = build_rows(doc(["x"]))[0]
    return SerialCand(value, value, 0.8, conf, row, 0, len(value), 0, "rapidocr-line")


def test_vote_prefers_a_digit_to_a_lone_letter_among_digits() -> None:
    assert _vote_chars([_cand("48V66013"), _cand("48V66013"), _cand("48266013", 0.8)]) == "48266013"
    assert _vote_chars([_cand("V4202545"), _cand("V4202545")]) == "V4202545"  # no reading says otherwise
    assert _vote_chars([_cand("AB123456"), _cand("AB123456"), _cand("A8123456", 0.5)]) == "AB123456"  # two letters


def test_a_tall_loose_box_does_not_swallow_the_ink_region() -> None:
    from pipeline.extract.serial import MAX_REGION_HEIGHT, _merge_regions

    h = 14.0
    loose = Box(x0=22, y0=627, x1=334, y1=718)   # a second engine's loose line box, 6.5 h
    ink = Box(x0=108, y0=600, x1=321, y1=707)     # the ink blob, overlapping it
    merged = _merge_regions([(1.0, loose), (0.5, ink)], h)
    assert merged == [(1.0, loose)]
    assert all(b.height < MAX_REGION_HEIGHT * h for _, b in merged)
    small = _merge_regions([(1.0, Box(x0=0, y0=0, x1=50, y1=20)), (0.5, Box(x0=40, y0=5, x1=90, y1=25))], h)
    assert small == [(1.0, Box(x0=0, y0=0, x1=90, y1=25))]


def _view(value: str, engine: str, doc_no: int, conf: float = 0.95) -> SerialCand:
    row = build_rows(doc([f"Serienr. {value}"]))[0]
    return SerialCand(value, value, 0.92, conf, row, 9, 9 + len(value), doc_no, engine)


def test_a_cue_letter_left_on_one_view_is_no_lost_digit() -> None:
    from pipeline.extract.serial import pick_serial

    views = [_view("45980652", "rapidocr", 1), _view("45980652", "rapidocr-line", 2),
             _view("45980652", "rapidocr-line", 4)]
    fv = pick_serial([*views, _view("S45980652", "rapidocr-line", 3, 0.78)], 5)
    assert fv is not None and fv.value == "45980652" and fv.confidence >= 0.8
    lost = pick_serial([*views, _view("459806521", "rapidocr-line", 3, 0.78)], 5)  # a digit more: maybe lost
    assert lost is not None and lost.confidence < 0.8


def test_a_view_that_lost_one_character_is_no_rival_of_the_longer_reading() -> None:
    from pipeline.extract.serial import pick_serial

    fv = pick_serial([_view("82752868", "rapidocr", 1), _view("82752868", "rapidocr-line", 4, 0.89),
                      _view("8752868", "rapidocr-line", 2, 0.87)], 5)
    assert fv is not None and fv.value == "82752868" and fv.confidence >= 0.8
    other = pick_serial([_view("82752868", "rapidocr", 1), _view("82752868", "rapidocr-line", 4, 0.89),
                         _view("13572468", "rapidocr-line", 2, 0.87)], 5)
    assert other is not None and other.confidence < 0.8  # a different cued number is a rival
