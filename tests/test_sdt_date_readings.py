"""A purchase date's confidence comes from how many independent readings read its digits alike:
the page reading, the second engine's re-read of the value crop and a digits-only tesseract
reading of each date word at three scales (`pipeline.ocr._reread_date_digits`). A date that a
reading contradicts, or that rests on one reading where another read otherwise, is never
auto-approved; one that no second reading confirmed never reaches the top band."""

from __future__ import annotations

import numpy as np
import pytest

from models.documents import Box, Line, Word
from pipeline import ocr
from pipeline.extract import extract_receipt
from tests.docbuild import doc, make_line

AGREED = "tesseract+rapidocr"
LABELLED = "Date: {} 12:16"  # a labelled date with a time: the pattern alone would give it 0.97


def _date(date_text: str, engine: str, *, conf: float = 0.97, extra: tuple[str, ...] = ()) -> object:
    d = extract_receipt(doc(["KEDAI A", (LABELLED.format(date_text), conf, engine), "TOTAL 5.00", *extra])).purchase_date
    assert d is not None
    return d


# ------------------------------------------------------------------ the marks in engine names

def test_marks_go_before_the_agreed_suffix_and_keep_the_engine_family() -> None:
    e = ocr.with_mark(AGREED, ocr.DIGITS_CONFIRMED)
    assert e == "tesseract+digits+rapidocr"
    assert e.endswith(ocr.AGREED_SUFFIX) and e.split("+")[0] == "tesseract"
    assert ocr.words_agreed([Word(text="20/12/2017", conf=0.9, box=Box(x0=0, y0=0, x1=9, y1=9), engine=e)])
    assert ocr.marks_of(e) == {ocr.DIGITS_CONFIRMED}
    assert ocr.with_mark(e, ocr.DIGITS_CONFIRMED) == e  # once
    assert ocr.marks_of(ocr.with_mark("tesseract", ocr.DIGITS_CONTRADICTED)) == {ocr.DIGITS_CONTRADICTED}
    assert ocr.marks_of("tesseract+rapidocr") == set()


def test_the_readings_vote_on_the_date_not_on_stray_digits() -> None:
    line = make_line("Date: 0:20/12/2017 12:16", 20)
    # a reading that lost the glued "0:" or read the separators otherwise makes the same date
    assert ocr._digits_mark(line, 1, [":20/12/2017", "20-12-2017", "0:30/12/2017"]) == ocr.DIGITS_CONFIRMED
    assert ocr._digits_mark(line, 1, ["2016", "2015", ""]) == ocr.DIGITS_UNSURE  # no date, no vote
    assert ocr._digits_mark(line, 1, ["30/12/2017", "0:30/12/2017", "20/12/2017"]) == ocr.DIGITS_CONTRADICTED
    # the same digits with a separator lost are a vote for the page's date
    assert ocr._digits_mark(line, 1, ["020/122017", "0:20/12/2017", ""]) == ocr.DIGITS_CONFIRMED
    # a date only a digit-slip repair makes ("2617" -> 2017) is no vote
    assert ocr._digits_mark(line, 1, ["30/12/2617", "30/12/2617", "20/12/2017"]) == ocr.DIGITS_UNSURE


def test_a_majority_contradicts_only_with_digits_that_still_make_a_date() -> None:
    line = make_line("Date: 08/04/2018 12:16", 20)
    assert ocr._digits_mark(line, 1, ["08/04/2018", "08/04/2018", "68/04/2018"]) == ocr.DIGITS_CONFIRMED
    assert ocr._digits_mark(line, 1, ["08/01/2018", "08/01/2018", "08/04/2018"]) == ocr.DIGITS_CONTRADICTED
    # "68/04/2018", "08/04/2118": slips of the restricted reading, no date: unsure, not a contradiction
    assert ocr._digits_mark(line, 1, ["68/04/2018", "68/04/2018", "08/04/2018"]) == ocr.DIGITS_UNSURE
    assert ocr._digits_mark(line, 1, ["08/04/2118", "08/04/2118", "08/04/2018"]) == ocr.DIGITS_UNSURE
    assert ocr._digits_mark(line, 1, ["08/04/2018", "", "3/"]) == ocr.DIGITS_UNSURE
    # a month-name date: the year word alone
    line = make_line("Oct 3, 2015 12:16:25 PM", 20)
    assert ocr._digits_mark(line, 2, ["2016", "2016", "2015"]) == ocr.DIGITS_CONTRADICTED


# ------------------------------------------------------------------ the confidence of the date

def test_three_readings_alike_reach_the_top_band() -> None:
    d = _date("20/12/2017", "tesseract+digits+rapidocr")
    assert d.value == "2017-12-20" and d.confidence >= 0.95
    assert (d.meta["second_reading"], d.meta["digits_reading"]) == ("agreed", "confirmed")


def test_both_engines_alike_but_the_digits_reading_reads_another_date_is_not_auto_approved() -> None:
    # the faint "2016" both engines read as "2015": the restricted reading's majority read 2016
    d = _date("20/12/2015", "tesseract+digits-no+rapidocr")
    assert d.confidence < 0.8 and d.meta["digits_reading"] == "contradicted"
    d = extract_receipt(doc(["KEDAI A", ("Date: Oct 3, 2015 12:16:25 PM", 0.97, "tesseract+digits-no+rapidocr"),
                             "TOTAL 5.00"])).purchase_date
    assert d is not None and d.value == "2015-10-03" and d.confidence < 0.8


def test_two_readings_alike_are_accepted_below_the_top_band() -> None:
    for engine in (AGREED, "tesseract+digits-unsure+rapidocr", "tesseract+digits", "rapidocr+replaced+digits",
                   "tesseract+rapidocr-no+digits"):
        d = _date("20/12/2017", engine, conf=0.97 if not engine.startswith("rapidocr") else 0.7)
        assert 0.8 <= d.confidence <= ocr_cap(), engine


def ocr_cap() -> float:
    from pipeline.extract.dates import TWO_READINGS_CAP
    return TWO_READINGS_CAP


@pytest.mark.parametrize("engine", [
    "rapidocr+replaced+digits-unsure",   # the second engine replaced the page's reading; no digits majority
    "tesseract+rapidocr-no+digits-unsure",  # the second engine read other characters; no digits majority
    "tesseract+digits-unsure",           # read once, the digits reading had no majority
    "rapidocr+replaced",                 # the second engine's reading against the page's
])
def test_one_reading_against_another_or_unconfirmed_is_not_auto_approved(engine: str) -> None:
    d = _date("20/12/2017", engine, conf=0.7 if engine.startswith("rapidocr") else 0.97)
    assert d.value == "2017-12-20" and d.confidence < 0.8


def test_page_digits_alike_under_a_replaced_reading_count_as_two_readings() -> None:
    d = _date("20/12/2017", "rapidocr+replaced+pagedigits+digits", conf=0.7)
    assert d.meta["second_reading"] == "agreed" and d.confidence >= 0.8


def test_the_printed_weekday_confirms_a_date_read_once() -> None:
    # 22 April 2018 was a Sunday
    d = extract_receipt(doc(["KEDAI A", ("Date: 22/04/2018 (SUN) 19:29", 0.97, "tesseract+digits-unsure"),
                             "TOTAL 5.00"])).purchase_date
    assert d is not None and d.confidence >= 0.8 and "weekday" in d.meta["year_confirmed"]
    # but not one a reading contradicts
    d = extract_receipt(doc(["KEDAI A", ("Date: 22/04/2018 (SUN) 19:29", 0.97, "tesseract+digits-no"),
                             "TOTAL 5.00"])).purchase_date
    assert d is not None and d.confidence < 0.8


def test_an_unmarked_reading_never_reaches_the_top_band_but_a_text_layer_does() -> None:
    d = _date("20/12/2017", "tesseract")
    assert 0.8 <= d.confidence <= ocr_cap()
    d = _date("20/12/2017", "pdfplumber", conf=1.0)
    assert d.confidence >= 0.95
    d = _date("20/12/2017", "htr", conf=1.0)  # any other engine is a reading of pixels
    assert 0.8 <= d.confidence <= ocr_cap()


# ------------------------------------------------------------------ the digits-only reading itself

class _BandReader:
    """A fake digits engine: one word per band of ink on the stacked image, texts given in order."""

    name = ocr.DIGITS_ENGINE

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.calls = 0

    def recognize(self, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
        self.calls += 1
        ink = (image < 128).any(axis=1)
        bands, y = [], 0
        while y < len(ink):
            if ink[y]:
                y0 = y
                while y < len(ink) and ink[y]:
                    y += 1
                bands.append((y0, y))
            y += 1
        return [Line(words=(Word(text=t, conf=0.9, box=Box(x0=30, y0=a, x1=60, y1=b), engine=self.name),))
                for t, (a, b) in zip(self.texts, bands, strict=False) if t]


def _page_with_date() -> tuple[np.ndarray, list[Line]]:
    img = np.full((200, 600), 255, np.uint8)
    line = make_line("Date: 03/10/2015 12:16", 80, 0.97, AGREED)
    for w in line.words:  # ink where the words are
        img[int(w.box.y0) + 4:int(w.box.y1) - 4, int(w.box.x0) + 2:int(w.box.x1) - 2] = 0
    return img, [make_line("KEDAI A", 20), line]


@pytest.fixture
def reader():
    def use(texts: list[str]) -> _BandReader:
        eng = _BandReader(texts)
        ocr.register_engine(ocr.DIGITS_ENGINE, eng)
        return eng
    yield use
    ocr.register_engine(ocr.DIGITS_ENGINE, None)


def test_date_words_are_read_at_three_scales_in_one_call_and_marked(reader) -> None:
    img, lines = _page_with_date()
    eng = reader(["03/10/2016", "03/10/2016", "03/10/2015"])
    out = ocr._reread_date_digits(img, lines, [])
    assert eng.calls == 1
    date_word = out[1].words[1]
    assert date_word.text == "03/10/2015" and date_word.conf == 0.97  # text and confidence kept
    assert date_word.engine == "tesseract+digits-no+rapidocr"
    assert out[1].words[0].engine == AGREED and out[0] == lines[0]  # only date words are marked
    d = extract_receipt(doc(["KEDAI A", ("Date: 03/10/2015 12:16", 0.97, date_word.engine), "TOTAL 5.00"]))
    assert d.purchase_date is not None and d.purchase_date.confidence < 0.8


def test_a_confirming_reading_marks_the_word_confirmed(reader) -> None:
    img, lines = _page_with_date()
    reader(["03/10/2015", "03-10-2015", "03/10/2016"])
    assert ocr._reread_date_digits(img, lines, [])[1].words[1].engine == "tesseract+digits+rapidocr"


def test_no_reading_leaves_the_word_unsure_and_a_page_without_dates_is_not_read(reader) -> None:
    img, lines = _page_with_date()
    reader(["", "", ""])
    assert ocr._reread_date_digits(img, lines, [])[1].words[1].engine == "tesseract+digits-unsure+rapidocr"
    eng = reader(["1"])
    plain = [make_line("KEDAI A", 20), make_line("TOTAL 5.00", 80)]
    assert ocr._reread_date_digits(img, plain, []) == plain and eng.calls == 0


def test_the_key_line_vote_says_what_the_second_engine_read() -> None:
    line = make_line("Date: 20/12/2017", 20, 0.9)
    box = line.words[1].box
    same = ocr._vote_group(line, [1], "20/12/2017", 0.95, box)
    assert [w.engine for w in same] == [AGREED]
    # a confident other reading replaces the words; the same digits under other characters are noted
    other = ocr._vote_group(line, [1], "20/12/2016", 0.97, box)
    assert other[0].text == "20/12/2016" and ocr.marks_of(other[0].engine) == {ocr.RAPID_REPLACED}
    punct = ocr._vote_group(line, [1], "20-12-2017", 0.97, box)
    assert ocr.marks_of(punct[0].engine) == {ocr.RAPID_REPLACED, ocr.PAGE_DIGITS_AGREE}
    # an unsure other reading: the page's words are kept, marked as contradicted
    kept = ocr._vote_group(line, [1], "20/12/2016", 0.7, box)
    assert kept[0].text == "20/12/2017" and ocr.marks_of(kept[0].engine) == {ocr.RAPID_DIFFERED}
    assert not ocr.words_agreed(kept)


def test_a_whole_page_of_the_second_engine_is_one_reading() -> None:
    d = _date("20/12/2017", "rapidocr", conf=0.95)
    assert d.meta["second_reading"] == "none" and 0.8 <= d.confidence <= ocr_cap()


def test_a_clean_date_line_crowded_out_by_amount_lines_is_still_re_read(monkeypatch) -> None:
    import pipeline.ocr.rapid as rapid

    image = np.full((900, 600), 255, np.uint8)
    amounts = [make_line(f"TOTAL {k}.50", 40 + 40 * k, 0.5) for k in range(ocr.MAX_REREAD_LINES + 2)]
    date = make_line("Date: 20/12/2017 12:16", 40 * (ocr.MAX_REREAD_LINES + 4), 0.97)
    lines = [*amounts, date]
    seen: list[int] = []

    def fake(crops, threads=1):  # reads the date crop alike, the amounts as they are
        seen.append(len(crops))
        return [("20/12/2017 12:16", 0.98) if c.shape[1] > 140 else ("0.50", 0.5) for c in crops]

    monkeypatch.setattr(rapid, "recognize_crops", fake)
    out = ocr._reread_key_lines(image, lines, [])
    # the eight most promising amount lines, plus the date line's date (and the time next to it)
    assert seen == [ocr.MAX_REREAD_LINES + 1]
    assert [w.engine for w in out[-1].words] == ["tesseract", AGREED, AGREED]
    assert all(ln == old for ln, old in zip(out[:2], lines[:2], strict=True))  # the least promising: not re-read
