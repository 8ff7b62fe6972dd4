"""Issue 5 follow-ups: rows of pages read after a quarter turn, the tax arithmetic
as a confirmation of the total, GST numbers both engines agree on, serial
readings that may have lost a digit, and orientation detection when OSD is unsure."""

from __future__ import annotations

import numpy as np
import pytest

from models.documents import Box, DocumentText, Line, Page, Word
from pipeline.extract import extract_receipt
from pipeline.extract.layout import build_rows, rotate_box
from tests.docbuild import doc

# ----------------------------------------------------------------- rotation


def _turn_doc(d: DocumentText, rot: int) -> DocumentText:
    """The same page as uploaded turned so that `rot` degrees clockwise makes it
    upright again (the way read_document returns a page read after a turn)."""
    page = d.pages[0]
    w, h = page.width, page.height
    undo = (360 - rot) % 360  # upright -> as uploaded
    # the uploaded image is h x w for 90/270
    lines = tuple(Line(words=tuple(wd.model_copy(update={"box": rotate_box(wd.box, undo, w, h)})
                                   for wd in ln.words)) for ln in page.lines)
    uw, uh = (h, w) if rot in (90, 270) else (w, h)
    p2 = Page(page_no=1, width=uw, height=uh, lines=lines, engine=page.engine, rotation=rot)
    return DocumentText(file=d.file, pages=(p2,))


@pytest.mark.parametrize("rot", [0, 90, 180, 270])
def test_rotate_box_round_trip(rot: int) -> None:
    b = Box(x0=10, y0=20, x1=110, y1=48)
    w, h = 1000.0, 400.0
    turned = rotate_box(b, rot, w, h)
    tw, th = (h, w) if rot in (90, 270) else (w, h)
    back = rotate_box(turned, (360 - rot) % 360, tw, th)
    assert (back.x0, back.y0, back.x1, back.y1) == pytest.approx((b.x0, b.y0, b.x1, b.y1))
    assert turned.width * turned.height == pytest.approx(b.width * b.height)


@pytest.mark.parametrize("rot", [90, 180, 270])
def test_rows_of_a_turned_page_are_in_upright_order(rot: int) -> None:
    lines = ["Fotohuset ApS", "Vare 1.490,00", "I alt DKK 1.490,00", "Dankort 1.490,00", "Tak for handlen"]
    upright = build_rows(doc(lines))
    turned = build_rows(_turn_doc(doc(lines), rot))
    assert [r.text for r in turned] == [r.text for r in upright]
    assert [round(r.rel_y(), 3) for r in turned] == [round(r.rel_y(), 3) for r in upright]
    # evidence boxes stay in the pixels of the file as uploaded
    page = turned[0].page
    assert all(0 <= r.box.x1 <= page.width + 1e-6 and 0 <= r.box.y1 <= page.height + 1e-6 for r in turned)


def test_label_and_amount_on_one_row_after_a_quarter_turn() -> None:
    # "TOTAL" at the left and the amount at the right are two OCR lines of one row
    w_total = Word(text="TOTAL", conf=0.95, box=Box(x0=20, y0=300, x1=90, y1=328))
    w_amt = Word(text="15.90", conf=0.95, box=Box(x0=600, y0=302, x1=670, y1=330))
    w_head = Word(text="Shop", conf=0.95, box=Box(x0=20, y0=20, x1=80, y1=48))
    page_w, page_h = 800.0, 600.0
    lines = [Line(words=(w_head,)), Line(words=(w_total,)), Line(words=(w_amt,))]
    d = DocumentText(file=doc(["x"]).file, pages=(Page(page_no=1, width=page_w, height=page_h,
                                                         lines=tuple(lines)),))
    turned = _turn_doc(d, 90)
    rows = build_rows(turned)
    assert [r.text for r in rows] == ["Shop", "TOTAL  15.90"]
    ex = extract_receipt(turned)
    assert ex.total is not None and ex.total.value == "15.90"


# ----------------------------------------------------- total: net + tax


def test_subtotal_plus_tax_confirms_the_total() -> None:
    ex = extract_receipt(doc(["SHOP SDN BHD", "ITEM A 20.00", "ITEM B 10.00", "SUB TOTAL 30.00", "GST 6% 1.80",
                              "TOTAL 31.80", "THANK YOU"]))
    assert ex.total is not None and ex.total.value == "31.80"
    assert "net+tax" in ex.total.meta.get("support", "")
    assert ex.total.confidence >= 0.8


def test_tax_summary_row_confirms_the_total() -> None:
    ex = extract_receipt(doc(["SHOP SDN BHD", "ITEM A 61.70", "TOTAL 65.40", "GST SUMMARY AMOUNT TAX",
                              "SR @ 6% 61.70 3.70"]))
    assert ex.total is not None and ex.total.value == "65.40"
    assert "net+tax" in ex.total.meta.get("support", "")


def test_net_plus_tax_that_does_not_add_up_confirms_nothing() -> None:
    ex = extract_receipt(doc(["SHOP SDN BHD", "SUB TOTAL 30.00", "GST 6% 1.80", "TOTAL 31.30"]))
    assert ex.total is not None and ex.total.value == "31.30"
    assert "net+tax" not in ex.total.meta.get("support", "")
    assert ex.total.confidence < 0.8


def test_net_plus_tax_before_rounding_is_not_the_total() -> None:
    # net + tax = 64.13; a rounding line follows and the final total line was not read
    ex = extract_receipt(doc(["SHOP SDN BHD", "Total Sales (Incl GST 6%) RM 64.13", "Rounding Adjustment RM 0.02",
                              "GST Summary Amount Tax", "S 6% 60.50 3.63"]))
    assert ex.total is not None and ex.total.value == "64.15"
    assert ex.total.meta.get("repaired_from") == "64.13"
    assert ex.total.confidence < 0.8


def test_rounding_of_the_cash_payment_does_not_move_the_total() -> None:
    ex = extract_receipt(doc(["SHOP", "SUBTOTAL 13.78", "TOTAL (GST INCL) 13.78", "CASH 20.00",
                              "ROUNDING ADJUSTMENTS 0.02", "CHANGE DUE 6.20"]))
    assert ex.total is not None and ex.total.value == "13.78"


def test_net_plus_tax_equal_to_the_amount_paid_beats_an_unconfirmed_net_total() -> None:
    ex = extract_receipt(doc(["SHOP", "AMT PAID incl GST RM 78.30", "Amt Paid excl. GST RM 73.87",
                              "GST AMT : RM 4.43", "TOTAL 73.87"]))
    assert ex.total is not None and ex.total.value == "78.30"
    assert ex.total.confidence < 0.8


# ------------------------------------------------------ GST: engine agreement


def test_gst_number_both_engines_agree_on_reaches_the_accept_threshold() -> None:
    agreed = extract_receipt(doc(["SHOP SDN BHD", ("GST REG NO: 000136577024", 0.95, "tesseract+rapidocr"),
                                  "TOTAL 10.00"]))
    single = extract_receipt(doc(["SHOP SDN BHD", ("GST REG NO: 000136577024", 0.95, "tesseract"),
                                  "TOTAL 10.00"]))
    assert agreed.reseller_vat is not None and agreed.reseller_vat.value == "000136577024"
    assert agreed.reseller_vat.confidence >= 0.8
    assert single.reseller_vat is not None and single.reseller_vat.confidence < 0.8


def test_gst_agreement_on_poorly_read_words_stays_below_the_threshold() -> None:
    ex = extract_receipt(doc(["SHOP SDN BHD", ("GST REG NO: 000136577024", 0.55, "tesseract+rapidocr")]))
    assert ex.reseller_vat is not None and ex.reseller_vat.confidence < 0.8


def test_gst_agreement_on_only_part_of_the_number_is_not_agreement() -> None:
    d = doc(["SHOP SDN BHD", "GST REG NO: 000136 577024"])
    page = d.pages[0]
    ln = page.lines[1]
    words = list(ln.words)
    words[-2] = words[-2].model_copy(update={"engine": "tesseract+rapidocr"})  # "000136" agreed, "577024" not
    lines = (page.lines[0], Line(words=tuple(words)))
    d = DocumentText(file=d.file, pages=(page.model_copy(update={"lines": lines}),))
    ex = extract_receipt(d)
    assert ex.reseller_vat is not None and ex.reseller_vat.confidence < 0.8


def test_vote_group_marks_agreement_in_the_engine_name() -> None:
    from pipeline.ocr import _vote_group, words_agreed

    box = Box(x0=0, y0=0, x1=200, y1=30)
    ln = Line(words=(Word(text="GST:", conf=0.9, box=box), Word(text="000136577024", conf=0.7, box=box)))
    same = _vote_group(ln, [1], "000136577024", 0.97, box)
    assert words_agreed(same) and same[0].conf == pytest.approx(0.97)
    weak = _vote_group(ln, [1], "000136577024", 0.5, box)
    assert not words_agreed(weak)
    other = _vote_group(ln, [1], "000136577021", 0.97, box)
    assert not words_agreed(other) and all(w.conf < 0.8 for w in other)


# ------------------------------------------------- serial: a dropped digit


def _cand(value: str, engine: str, doc_no: int, conf: float = 0.95):  # type: ignore[no-untyped-def]
    from pipeline.extract.serial import SerialCand

    row = build_rows(doc([f"Serienr. {value}"]))[0]
    return SerialCand(value=value, raw=value, score=1.0, conf=conf, row=row, start=9, end=9 + len(value),
                      doc_no=doc_no, engine=engine)


def test_serial_views_that_agree_are_trusted() -> None:
    from pipeline.extract.serial import pick_serial

    fv = pick_serial([_cand("93527906", "tesseract", 0), _cand("93527906", "rapidocr", 1),
                      _cand("93527906", "rapidocr-line", 2)], 3)
    assert fv is not None and fv.value == "93527906" and fv.confidence >= 0.8


def test_serial_with_a_reading_one_digit_longer_is_not_trusted() -> None:
    from pipeline.extract.serial import pick_serial

    fv = pick_serial([_cand("9352796", "tesseract", 0), _cand("9352796", "rapidocr", 1),
                      _cand("9352796", "rapidocr-line", 2), _cand("93527906", "rapidocr-line", 3, conf=0.6)], 4)
    assert fv is not None and fv.confidence < 0.8


def test_is_one_insertion() -> None:
    from pipeline.extract.serial import _is_one_insertion

    assert _is_one_insertion("9352796", "93527906")
    assert _is_one_insertion("9352796", "09352796")
    assert not _is_one_insertion("9352796", "93527961X")
    assert not _is_one_insertion("9352796", "9352797")


# ------------------------------------------- orientation when OSD is unsure


class _FakeEngine:
    """Reads well only when the image is upright (the marker pixel is top-left)."""

    name = "tesseract"

    def recognize(self, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
        upright = image[0, 0] == 0
        conf = 0.95 if upright else 0.3
        words = [Word(text=f"word{i}", conf=conf, box=Box(x0=0, y0=10 * i, x1=50, y1=10 * i + 8)) for i in range(8)]
        return [Line(words=(w,)) for w in words]


def _fake_prep(monkeypatch: pytest.MonkeyPatch, upright_at: int | None, size: int = 10) -> list[int]:
    """Patch `pipeline.ocr._prep`: the page turned by `upright_at` degrees carries the marker
    pixel `_FakeEngine` reads well; returns the list of turns tried, in order."""
    import pipeline.ocr as ocr

    calls: list[int] = []

    class P:
        def __init__(self, rot: int) -> None:
            self.rotation = rot
            self.image = np.full((size, size), 255, np.uint8)
            if rot == upright_at:
                self.image[0, 0] = 0

    monkeypatch.setattr(ocr, "_prep", lambda image, rot, page_no, **kw: calls.append(rot) or P(rot))
    return calls


def test_unsure_osd_answer_is_tried_and_the_better_reading_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.ocr as ocr
    import pipeline.preprocess as pre

    img = np.full((60, 40), 255, np.uint8)
    # as uploaded, the page is turned 90 degrees clockwise: turning it 270 more makes it upright

    calls = _fake_prep(monkeypatch, 270)
    monkeypatch.setattr(ocr, "_detect_orientation", lambda image, warnings: (90, 0.05))  # unsure, a half turn off
    monkeypatch.setattr(pre, "_downscale", lambda image, side: (image, 1.0))
    read = ocr._read_image(img, _FakeEngine(), ("eng",), [], 1)
    assert read.prep.rotation == 270
    assert calls == [0, 90, 270]


def test_sure_osd_zero_keeps_the_first_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.ocr as ocr
    import pipeline.preprocess as pre


    calls = _fake_prep(monkeypatch, None)
    monkeypatch.setattr(ocr, "_detect_orientation", lambda image, warnings: (0, 3.0))
    monkeypatch.setattr(pre, "_downscale", lambda image, side: (image, 1.0))
    ocr._read_image(np.zeros((5, 5), np.uint8), _FakeEngine(), ("eng",), [], 1)
    assert calls == [0]


# ------------------------------------- whole-line re-read of registration numbers


def _line(*texts: str, conf: float = 0.9) -> Line:
    words, x = [], 0.0
    for t in texts:
        words.append(Word(text=t, conf=conf, box=Box(x0=x, y0=0, x1=x + 12 * len(t), y1=30)))
        x += 12 * len(t) + 12
    return Line(words=tuple(words))


def test_regnum_line_agreement_marks_the_number() -> None:
    from pipeline.ocr import _vote_regnum_line, words_agreed

    ln = _line("GST", "REG", "NO:", "001335787520")
    out = _vote_regnum_line(ln, "GST REG NO: 001335787520", 0.97)
    assert out.text == ln.text
    assert words_agreed([out.words[-1]]) and not words_agreed([out.words[0]])


def test_regnum_line_split_number_is_replaced_with_lowered_confidence() -> None:
    from pipeline.ocr import _vote_regnum_line, words_agreed

    ln = _line("GST", "ID", "No:", "001", "31760640", "TAX", "INVOICE", conf=0.8)
    out = _vote_regnum_line(ln, "GST ID No: 001531760640TAX INVOICE", 0.97)
    assert "".join(out.text.split()).startswith("GSTIDNo:001531760640")
    assert [w.text for w in out.words[:3]] == ["GST", "ID", "No:"]  # the label is kept
    assert all(w.conf <= 0.7 for w in out.words[3:]) and not words_agreed(out.words[3:])
    ex = extract_receipt(DocumentText(file=doc(["x"]).file, pages=(Page(page_no=1, width=800, height=100,
                                                                        lines=(out,)),)))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == "001531760640"
    assert ex.reseller_vat.confidence < 0.8


def test_regnum_line_unsure_second_reading_changes_nothing() -> None:
    from pipeline.ocr import _vote_regnum_line

    ln = _line("GST", "ID", "No:", "001", "31760640")
    assert _vote_regnum_line(ln, "GST ID No: 001531760640", 0.6) == ln
    assert _vote_regnum_line(ln, "GST ID No: 0015", 0.99) == ln


def test_regnum_lines_are_labelled_numbers_not_dates() -> None:
    from pipeline.ocr import _is_regnum_line

    assert _is_regnum_line(_line("GST", "REG", "NO:", "001335787520"))
    assert _is_regnum_line(_line("CVR-nr.", "12", "97", "29", "97"))
    assert not _is_regnum_line(_line("REG", "30-04-2018", "15:57"))
    assert not _is_regnum_line(_line("SR", "@", "6%", "61.70", "3.70", "GST"))


def test_garbled_gst_lines_are_re_read_but_ordinary_lines_are_not() -> None:
    from pipeline.ocr import _is_regnum_line, _key_line_priority

    garbled = [_line("\u00abBST", "HO:", "OOLSZ4708c08"), _line("(UST", "Ree", "Now", "v0149299200")]
    for ln in garbled:
        assert _is_regnum_line(ln)  # label and digits both misread: the whole line goes to the second engine
        assert _key_line_priority(ln, 0.1) > 0
    ordinary = [_line("BEST", "BUY", "0149299200"),  # no label near GST/REG
                _line("UST", "LOT", "12"),  # a label-like token, but no long number
                _line("GST", "SUMMARY", "AMOUNT(RM)"),
                _line("Slip", "No.", ":", "0010291725")]
    for ln in ordinary:
        assert not _is_regnum_line(ln)
    assert _key_line_priority(ordinary[0], 0.1) == 0.0


def test_a_remembered_turn_is_read_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.ocr as ocr


    calls = _fake_prep(monkeypatch, 180)
    monkeypatch.setattr(ocr, "_detect_orientation", lambda image, warnings: pytest.fail("OSD not needed"))
    read = ocr._read_image(np.zeros((5, 5), np.uint8), _FakeEngine(), ("eng",), [], 1, hint=180)
    assert read.prep.rotation == 180 and calls == [180]


def test_orientation_memo_is_per_file_and_page() -> None:
    import pipeline.ocr as ocr

    ocr._remember_rotation(("f" * 64, 1), 180)
    ocr._remember_rotation(("f" * 64, 2), 0)
    assert ocr._remembered_rotation(("f" * 64, 1)) == 180
    assert ocr._remembered_rotation(("f" * 64, 2)) == 0
    assert ocr._remembered_rotation(("e" * 64, 1)) == 0
    assert ocr._remembered_rotation(None) == 0


def test_unsure_osd_zero_tries_the_half_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.ocr as ocr
    import pipeline.preprocess as pre


    calls = _fake_prep(monkeypatch, 180)
    monkeypatch.setattr(ocr, "_detect_orientation", lambda image, warnings: (0, 0.3))  # upside down, OSD unsure
    monkeypatch.setattr(pre, "_downscale", lambda image, side: (image, 1.0))
    read = ocr._read_image(np.zeros((5, 5), np.uint8), _FakeEngine(), ("eng",), [], 1)
    assert read.prep.rotation == 180 and calls == [0, 180]


def test_osd_retries_at_full_size_when_the_small_image_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.ocr as ocr
    import pipeline.preprocess as pre

    osd_sizes: list[int] = []

    def osd(image: np.ndarray, warnings: list[str]):  # type: ignore[no-untyped-def]
        osd_sizes.append(image.shape[0])
        return None if image.shape[0] < 40 else (90, 6.7)

    calls = _fake_prep(monkeypatch, 90, size=40)
    monkeypatch.setattr(ocr, "_detect_orientation", osd)
    monkeypatch.setattr(pre, "_downscale", lambda image, side: (image[::2, ::2], 0.5))
    read = ocr._read_image(np.zeros((5, 5), np.uint8), _FakeEngine(), ("eng",), [], 1)
    assert osd_sizes == [20, 40]
    assert read.prep.rotation == 90 and calls == [0, 90]
