"""Top-line (header) re-reads by the second engine: what they may not do to a line
(synthetic word lines and fake second readings; no OCR engine runs)."""

from __future__ import annotations

import numpy as np

from models.documents import Box, DocumentText, Line, Page, Word
from pipeline import ocr
from pipeline.extract import extract_receipt
from tests.docbuild import doc, words_line

_line = words_line


def _extract(lines: list[Line]):  # type: ignore[no-untyped-def]
    page = Page(page_no=1, width=400, height=600, lines=tuple(lines))
    return extract_receipt(DocumentText(file=doc(["x"]).file, pages=(page,)), country="RO")


def test_vat_prefix_is_not_cut_from_its_digits() -> None:
    # the page reads "C.I1.F.: R025771280" (O as 0, a stray 1); the second engine reads the
    # label cleanly and the number the same: the number must stay one word, as on the page
    ln = _line(["C.I1.F.:", "R025771280"], conf=0.6)
    out = ocr._vote_header_line(ln, "C.I.F.: R025771280", 0.97)
    assert out.text == "C.I.F.: R025771280"
    assert "R 025771280" not in out.text


def test_vat_line_after_a_header_re_read_keeps_its_checksum_valid_value() -> None:
    before = [_line(["Digital", "Cluj", "SRL"], conf=0.9, y=10), _line(["C.I1.F.:", "R025771280"], conf=0.6, y=40)]
    after = [before[0], ocr._vote_header_line(before[1], "C.I.F.: R025771280", 0.97)]
    for lines in (before, after):
        ex = _extract(lines)
        assert ex.reseller_vat is not None and ex.reseller_vat.value == "RO25771280", lines


def test_a_reading_much_longer_than_the_line_is_refused() -> None:
    # tesseract read a neighbouring column's label as "i"; the crop holds the whole label
    ln = _line(["Vesterbrogade", "58", "i"], conf=0.5)
    assert ocr._vote_header_line(ln, "Vesterbrogade 58 Ordrenummer", 0.97) == ln
    # about as long: taken
    name = _line(["restaurawr", "sii"], conf=0.36)
    assert ocr._vote_header_line(name, "RESTAURANT SIN DU", 0.95).text == "RESTAURANT SIN DU"


def test_a_reading_may_not_bring_in_a_field_label() -> None:
    ln = _line(["Lipscani", "Strada", "Mare"], conf=0.5)
    # as long as the line, but it holds a receipt-number label the page line has not got
    assert ocr._vote_header_line(ln, "Bon nr. Strada Mare", 0.97) == ln
    # a label the page line has too is no new label
    lab = _line(["ALV-rek.", "F1I50090518"], conf=0.6)
    assert ocr._vote_header_line(lab, "ALV-rek. FI50090518", 0.97).text == "ALV-rek. FI50090518"


def test_digits_read_differently_keep_a_lowered_confidence() -> None:
    ln = _line(["Serienr,", "7U7645", "77"], conf=0.5)
    out = ocr._vote_header_line(ln, "Serienr. 727645 72", 0.97)
    assert out.text == "Serienr. 727645 72"
    digit_words = [w for w in out.words if any(c.isdigit() for c in w.text)]
    assert digit_words and all(w.conf <= ocr.HEADER_DIGITS_DIFFER_CONF for w in digit_words)
    assert all(w.conf > ocr.HEADER_DIGITS_DIFFER_CONF for w in out.words if w not in digit_words)
    # the same number with a letter read as a digit before it: agreement, full confidence
    same = ocr._vote_header_line(_line(["ALV-rek.", "F1I50090518"], conf=0.6), "ALV-rek. FI50090518", 0.97)
    assert min(w.conf for w in same.words) == ocr.HEADER_WORD_CONF


def test_digits_agree_is_strict_on_short_numbers() -> None:
    assert ocr._digits_agree("NO 4, JALAN 10", "NO 4 JALAN 10")
    assert not ocr._digits_agree("NO 4, JALAN 10", "NO 4, JALAN 18")
    assert ocr._digits_agree("F1I50090518", "FI50090518")
    assert not ocr._digits_agree("RO25771280", "RO25771288")


def test_a_line_box_spanning_two_rows_is_not_a_candidate() -> None:
    one = _line(["Electro", "Dunarea", "SA"], conf=0.6, y=10)
    # tesseract joined two printed rows: words 20 px high, the line 48 px
    w1 = Word(text="Strada", conf=0.6, box=Box(x0=10, y0=40, x1=80, y1=60))
    w2 = Word(text="Mare", conf=0.6, box=Box(x0=100, y0=68, x1=150, y1=88))
    two = Line(words=(w1, w2))
    assert ocr._spans_two_rows(two) and not ocr._spans_two_rows(one)
    assert ocr._header_candidates([one, two], 600) == [0]


def test_header_re_read_leaves_an_id_line_with_a_cut_prefix_alone(monkeypatch) -> None:
    import pipeline.ocr.rapid as rapid

    image = np.full((600, 400), 255, np.uint8)
    lines = [_line(["C.I1.F.:", "R025771280"], conf=0.6, y=40)]
    monkeypatch.setattr(rapid, "recognize_crops", lambda crops, threads=1: [("C.I.F.:R025771280", 0.97)] * len(crops))
    monkeypatch.setattr(ocr, "REREAD_HEADER_LINES", True)
    out = ocr._reread_header_lines(image, lines, [])
    assert "R025771280" in out[0].text.split()


def test_header_re_reads_switched_off_make_no_call(monkeypatch) -> None:
    import pipeline.ocr.rapid as rapid

    calls: list[int] = []

    def fake(crops, threads=1):  # type: ignore[no-untyped-def]
        calls.append(len(crops))
        return [("POPULAR BOOK CO", 0.97)] * len(crops)

    monkeypatch.setattr(rapid, "recognize_crops", fake)
    lines = [_line(["ROPULAR", "BOOK", "CO"], conf=0.5, y=10)]
    monkeypatch.setattr(ocr, "REREAD_HEADER_LINES", False)
    assert ocr._reread_header_lines(np.full((600, 400), 255, np.uint8), lines, []) == lines
    assert calls == []  # no second-engine call at all
