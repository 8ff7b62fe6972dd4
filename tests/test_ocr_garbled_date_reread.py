"""Key-line re-reads: a date-shaped word whose digits OCR read as letters
("OR/OT/I?" for 07/07/17) is re-read by the second engine (a fake recogniser
here), and the date read from the second reading is found but not auto-approved."""

from __future__ import annotations

import numpy as np

from models.documents import DocumentText, Page
from pipeline import ocr
from pipeline.extract import extract_receipt
from tests.docbuild import doc, words_line

_line = words_line


def test_garbled_date_shapes_are_told_from_ordinary_text() -> None:
    assert ocr._garbled_date("2056 = OR/OT/I?")
    assert ocr._garbled_date("O7/O7/I7")
    for text in ("S/B", "A/C/NO", "07/07/17", "Lot B-005-006", "Jln SS 21/60", "SDN-BHD-KL", "CASH"):
        assert not ocr._garbled_date(text), text


def test_garbled_date_line_is_a_key_line_and_its_word_a_value() -> None:
    garbled = _line(["2056", "=", "OR/OT/I?"], y=500)
    plain = _line(["Thank", "you", "for", "shopping"], y=520)
    assert ocr._key_line_priority(garbled, 0.9) > 0
    assert ocr._key_line_priority(plain, 0.9) == 0
    assert [2] in ocr._value_groups(garbled)


def test_garbled_date_re_read_gives_a_date_below_the_accept_threshold(monkeypatch) -> None:
    import pipeline.ocr.rapid as rapid

    image = np.full((600, 400), 255, np.uint8)
    lines = [_line(["Shop", "Sdn", "Bhd"], y=5), _line(["2056", "=", "OR/OT/I?"], y=500)]

    def fake(crops, threads=1):  # the second engine reads the crops' digits
        return [("07/07/17", 0.97)] * len(crops)

    monkeypatch.setattr(rapid, "recognize_crops", fake)
    out = ocr._reread_key_lines(image, lines, [])
    assert out[0] == lines[0]
    assert "07/07/17" in out[1].text
    page = Page(page_no=1, width=400, height=600, lines=tuple(out))
    ex = extract_receipt(DocumentText(file=doc(["x"]).file, pages=(page,)))
    assert ex.purchase_date is not None and ex.purchase_date.value == "2017-07-07"
    assert ex.purchase_date.confidence < 0.8  # read by one engine only, where the other read letters
    # an unsure second reading keeps the page's words: no date
    monkeypatch.setattr(rapid, "recognize_crops", lambda crops, threads=1: [("07/07/17", 0.5)] * len(crops))
    out = ocr._reread_key_lines(image, lines, [])
    assert "OR/OT/I?" in out[1].text


# ------------------------------------------------ header (name) lines re-read whole


def test_header_lines_are_chosen_from_the_top_and_not_key_lines() -> None:
    lines = [_line(["restaurawr", "sii"], conf=0.36, y=10), _line(["TOTAL:", "85.59"], y=40),
             _line(["NO", "4,JALAN", "PERJIRANAN", "10,"], y=70), _line(["Thank", "you", "for", "shopping"], y=500)]
    assert ocr._header_candidates(lines, 600) == [0, 2]   # not the total, not below the top part


def test_header_line_replaced_only_by_a_clearly_more_confident_reading() -> None:
    ln = _line(["restaurawr", "sii"], conf=0.36)
    out = ocr._vote_header_line(ln, "RESTAURANT SIN DU", 0.95)
    assert out.text == "RESTAURANT SIN DU" and all(w.engine == "rapidocr" and w.conf <= 0.9 for w in out.words)
    assert ocr._vote_header_line(ln, "RESTAURANT SIN DU", 0.8) == ln            # not confident enough
    good = _line(["PASAR", "MINI", "JIN", "SENG"], conf=0.9)
    assert ocr._vote_header_line(good, "PASAR MIN JIN SENG", 0.95) == good     # not clearly better
    assert ocr._vote_header_line(ln, "下单", 0.99) == ln                        # another script


def test_header_re_read_reaches_the_name_match(monkeypatch) -> None:
    import pipeline.ocr.rapid as rapid
    from pipeline.match import match_names

    image = np.full((600, 400), 255, np.uint8)
    lines = [_line(["ROPULAR", "BOOK", "CO"], conf=0.5, y=10), _line(["TOTAL:", "85.59"], conf=0.9, y=300)]
    names = ["POPULAR BOOK CO", "ROYAL BOOK CO"]

    def match(ls):  # type: ignore[no-untyped-def]
        page = Page(page_no=1, width=400, height=600, lines=tuple(ls))
        return match_names(extract_receipt(DocumentText(file=doc(["x"]).file, pages=(page,))), names)

    monkeypatch.setattr(rapid, "recognize_crops", lambda crops, threads=1: [("POPULAR BOOK CO", 0.97)] * len(crops))
    monkeypatch.setattr(ocr, "REREAD_HEADER_LINES", True)  # off by default (their cost)
    out = ocr._reread_header_lines(image, lines, [])
    assert out[1] == lines[1] and out[0].text == "POPULAR BOOK CO"
    before, after = match(lines), match(out)
    assert after.name == "POPULAR BOOK CO" and after.score > before.score


def test_header_line_already_read_confidently_is_not_cropped() -> None:
    # no second reading can be HEADER_MIN_GAIN more confident than 0.95: the crop is skipped
    sure = _line(["POPULAR", "BOOK", "CO"], conf=0.95, y=10)
    unsure = _line(["ROPULAR", "BOOK", "CO"], conf=0.70, y=40)
    assert ocr._header_candidates([sure, unsure], 600) == [1]
