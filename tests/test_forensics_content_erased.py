"""Content signals on synthetic readings with synthetic images: erased item lines on
half-turned and slanted pages, badly read item amounts, a total whose cents OCR split off."""

from __future__ import annotations

import math
from types import SimpleNamespace

from models.documents import Box, DocumentRole, FileInfo
from pipeline.extract import extract_receipt
from pipeline.forensics import ForensicInput, SignalFamily, run_detectors
from pipeline.forensics import content as ct
from tests.docbuild import doc

HEAD = ["Fotohuset ApS", "Norrebrogade 112", "CVR-nr. 12972997", "Kvitteringsnr. 10234", "Dato 14.10.2022 Kl. 12:01"]
#: line 6 (the empty one) is where an item line was painted out
ERASED = [*HEAD, "Sigma 85mm F1.4 DG DN Art 7.999,00", "", "Objektivdeksel 149,00", "I ALT DKK 8.347,00",
          "Heraf moms 25% 1.669,40", "Dankort 8.347,00"]
W = 1000


def _turn_box(b: Box, w: float, h: float) -> Box:
    return Box(x0=w - b.x1, y0=h - b.y1, x1=w - b.x0, y1=h - b.y0)


def _synthetic(tmp_path, lines, *, ink_rows=(), half_turn=False, slant_deg=0.0, border=False):
    """A reading of `lines` and a PNG where each read word is a dark bar. `ink_rows` get ink where
    nothing was read; `slant_deg` tilts every bar (and grows its box, as the OCR's mapped-back box
    of a slanted line does; the page records the deskew); `border` draws a dark vertical line
    down the page inside the text column; `half_turn` stores page and boxes upside down."""
    import numpy as np
    from PIL import Image

    d = doc(lines)
    page = d.pages[0]
    H = int(page.height)
    img = np.full((H, W), 250, np.uint8)
    t = math.tan(math.radians(slant_deg))

    def bar(x0, x1, y0, y1):
        for x in range(int(x0), int(x1)):
            dy = int(round((x - W / 2) * t))
            img[max(0, int(y0) + dy):max(0, int(y1) + dy), x] = 20

    new_lines = []
    for ln in page.lines:
        words = []
        for w in ln.words:
            bar(w.box.x0, w.box.x1, w.box.y0 + 4, w.box.y1 - 4)
            dys = [(x - W / 2) * t for x in (w.box.x0, w.box.x1)]
            box = Box(x0=w.box.x0, y0=w.box.y0 + min(dys), x1=w.box.x1, y1=w.box.y1 + max(dys))
            words.append(w.model_copy(update={"box": box}))
        new_lines.append(ln.model_copy(update={"words": tuple(words)}))
    for i in ink_rows:
        y = 20 + 40 * i
        bar(20, 400, y + 4, y + 24)
    if border:
        img[:, 24:26] = 20
    update: dict = {"lines": tuple(new_lines), "skew": slant_deg}
    if half_turn:
        img = img[::-1, ::-1].copy()
        update["lines"] = tuple(ln.model_copy(update={"words": tuple(
            w.model_copy(update={"box": _turn_box(w.box, W, H)}) for w in ln.words)}) for ln in new_lines)
        update["rotation"] = 180
    p = tmp_path / "receipt.png"
    Image.fromarray(img).save(p)
    info = FileInfo(role=DocumentRole.RECEIPT, name=p.name, path=str(p), size=p.stat().st_size, sha256="0" * 64,
                    detected_type="png", width=W, height=H)
    return d.model_copy(update={"file": info, "pages": (page.model_copy(update=update),)})


def _run(d, country="DK"):
    ex = extract_receipt(d, country=country)
    inp = ForensicInput(file=d.file, doc=d, extraction=ex, campaign=SimpleNamespace(country=country))
    sigs, _ = run_detectors(inp, only=(SignalFamily.CONTENT,))
    return {s.detector: s for s in sigs}


def test_erased_line_on_a_half_turned_page(tmp_path) -> None:
    s = _run(_synthetic(tmp_path, ERASED, half_turn=True))["content.totals_mismatch"]
    assert s.flagged and s.detail["blank_gap"] is True and s.detail["missing"] == "199.00"
    gap = s.regions[0]
    # the band is reported in the uploaded (upside-down) pixels: line 6 counted from the bottom
    h = 40 + 40 * len(ERASED)
    assert gap.note.startswith("blank gap") and h - (20 + 40 * 7) - 5 < gap.box.cy < h - (20 + 40 * 6) + 5


def test_unread_line_with_ink_on_a_half_turned_page_is_not_flagged(tmp_path) -> None:
    s = _run(_synthetic(tmp_path, ERASED, half_turn=True, ink_rows=(6,)))["content.totals_mismatch"]
    assert not s.flagged and s.detail["blank_gap"] is False


def test_changed_total_on_a_half_turned_page() -> None:
    lines = [*HEAD, "Sigma 85mm F1.4 DG DN Art 7.999,00", "Linseklud mikrofiber 149,00", "I ALT DKK 9.148,00",
             "Heraf moms 25% 1.629,60", "Dankort 8.148,00"]
    d = doc(lines)
    page = d.pages[0]
    turned = tuple(ln.model_copy(update={"words": tuple(
        w.model_copy(update={"box": _turn_box(w.box, page.width, page.height)}) for w in ln.words)})
        for ln in page.lines)
    d = d.model_copy(update={"pages": (page.model_copy(update={"lines": turned, "rotation": 180}),)})
    s = _run(d)["content.totals_mismatch"]
    assert s.flagged and s.detail["kind"] == "total_odd" and s.detail["expected"] == "8148.00"


def test_erased_line_on_a_slanted_page_with_a_border(tmp_path) -> None:
    # 1.5 degrees over 1000 px moves a line 26 px from one side to the other: measured over
    # the whole width, the slant fills the blank band; a border line runs through every row
    s = _run(_synthetic(tmp_path, ERASED, slant_deg=1.5, border=True))["content.totals_mismatch"]
    assert s.flagged and s.detail["blank_gap"] is True


def test_slanted_page_without_a_gap_is_not_flagged(tmp_path) -> None:
    s = _run(_synthetic(tmp_path, ERASED, slant_deg=1.5, border=True, ink_rows=(6,)))["content.totals_mismatch"]
    assert not s.flagged and s.detail["blank_gap"] is False


def _low_conf_item(lines):
    """`lines` with the first item line read at a low confidence (a split amount: '7.999, 00')."""
    i = next(k for k, t in enumerate(lines) if t.startswith("Sigma"))
    out = list(lines)
    out[i] = (lines[i].replace("7.999,00", "7.999, 00"), 0.3)
    return out


def test_badly_read_item_with_a_blank_gap_is_flagged(tmp_path) -> None:
    s = _run(_synthetic(tmp_path, _low_conf_item(ERASED)))["content.totals_mismatch"]
    assert s.flagged and s.detail["kind"] == "items_short" and s.detail["low_conf_items"] == 1
    assert s.detail["missing"] == "199.00" and s.score < 0.8


def test_badly_read_item_without_a_blank_gap_is_silent(tmp_path) -> None:
    sigs = _run(_synthetic(tmp_path, _low_conf_item(ERASED), ink_rows=(6,)))
    assert "content.totals_mismatch" not in sigs


def test_badly_read_item_does_not_make_the_total_odd() -> None:
    lines = _low_conf_item([*HEAD, "Sigma 85mm F1.4 DG DN Art 7.999,00", "Linseklud mikrofiber 149,00",
                            "I ALT DKK 9.148,00", "Heraf moms 25% 1.629,60", "Dankort 8.148,00"])
    s = _run(doc(lines)).get("content.totals_mismatch")
    assert s is None or s.detail["kind"] != "total_odd"


def test_total_with_split_off_cents_is_not_checked() -> None:
    # "4.759 ,96": the amount as read (4759) is not what was printed; the items and the card say 4759.96
    lines = [*HEAD, "Obiectiv 4.339,99", "Card memorie 419,97", "TOTAL DKK 4759 .96", "Dankort 4.759,96"]
    d = doc(lines)
    ex = extract_receipt(d, country="DK")
    assert ex.total is not None
    # the extractor now reads the split-off cents back (amounts.py); an extraction that took the amount
    # as read (4759) must still not be checked against the items and the card
    as_read = ex.total.model_copy(update={"value": "4759.00", "raw": "4759", "meta": {"cue": "TOTAL DKK"}})
    inp = ForensicInput(file=d.file, doc=d, extraction=ex.model_copy(update={"total": as_read}))
    assert ct.summarise(inp) is None
    assert not ct.totals_mismatch(inp)
    sigs = _run(d)
    assert not any(s.flagged for s in sigs.values())


def test_unread_text_between_the_lines_in_another_column_is_not_a_gap(tmp_path) -> None:
    # something printed in the gap, under the end of the first item's name only (no text of either
    # neighbouring line in that column): not a blank band
    d = _synthetic(tmp_path, ERASED)
    import numpy as np
    from PIL import Image

    p = tmp_path / "receipt.png"
    img = np.asarray(Image.open(p)).copy()
    y = 20 + 40 * 6
    img[y + 4:y + 24, 320:400] = 20
    Image.fromarray(img).save(p)
    s = _run(d)["content.totals_mismatch"]
    assert not s.flagged and s.detail["blank_gap"] is False
