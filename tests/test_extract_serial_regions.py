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
