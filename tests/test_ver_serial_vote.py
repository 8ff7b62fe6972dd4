"""The serial vote when the winning reading is one character short of another (synthetic
readings): a digit lost by one engine's views is restored, two engines' agreement is not
overruled, and the result is never accepted on the vote alone."""

from __future__ import annotations

from pipeline.extract.layout import build_rows
from pipeline.extract.serial import DROPPED_CHAR_CONF, SerialCand, pick_serial
from tests.docbuild import doc


def _view(value: str, engine: str, doc_no: int, conf: float = 0.9, score: float = 0.92) -> SerialCand:
    row = build_rows(doc([f"S/N {value}"]))[0]
    return SerialCand(value, value, score, conf, row, 4, 4 + len(value), doc_no, engine)


def test_one_engines_short_reading_gives_way_to_the_longer_one() -> None:
    short = [_view("5409262", "rapidocr-line", 2, 0.8), _view("5409262", "rapidocr-line", 3, 0.75)]
    fv = pick_serial([*short, _view("54092626", "rapidocr-line", 4, 0.7)], 5)
    assert fv is not None and fv.value == "54092626"
    assert fv.confidence <= DROPPED_CHAR_CONF < 0.8  # restored, not proven


def test_two_engines_agreeing_on_the_shorter_reading_keep_it() -> None:
    short = [_view("5409262", "rapidocr", 1, 0.8), _view("5409262", "rapidocr-line", 2, 0.8)]
    fv = pick_serial([*short, _view("54092626", "rapidocr-line", 4, 0.7)], 5)
    assert fv is not None and fv.value == "5409262" and fv.confidence <= DROPPED_CHAR_CONF


def test_a_weak_longer_reading_does_not_win() -> None:
    short = [_view("5409262", "rapidocr-line", k, 0.95) for k in (2, 3, 4)]
    fv = pick_serial([*short, _view("54092626", "tesseract", 1, 0.3, score=0.35)], 5)
    assert fv is not None and fv.value == "5409262"


def test_a_cue_letter_is_not_a_lost_digit() -> None:
    short = [_view("45980652", "rapidocr-line", 2, 0.8), _view("45980652", "rapidocr-line", 3, 0.8)]
    fv = pick_serial([*short, _view("S45980652", "rapidocr-line", 4, 0.8)], 5)
    assert fv is not None and fv.value == "45980652"


def test_another_number_of_other_length_is_not_merged() -> None:
    short = [_view("5409262", "rapidocr-line", 2, 0.8), _view("5409262", "rapidocr-line", 3, 0.8)]
    fv = pick_serial([*short, _view("13572468", "rapidocr-line", 4, 0.8)], 5)
    assert fv is not None and fv.value == "5409262"
