"""content.totals_mismatch: the last item line erased just above the rule that closes the item
list. The blank it leaves runs from the item line above down to the rule (the section spacing
lies below the rule), so it is judged as a blank between two item lines. Hand-built readings and
synthetic images (every read word a black bar, the rule a thin bar)."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.extract import extract_receipt
from pipeline.forensics import ForensicInput, SignalFamily, run_detectors
from pipeline.forensics import content as ct
from tests.docbuild import doc

HEAD = ["Fotohuset ApS", "Norrebrogade 112", "CVR-nr. 12972997", "Kvitteringsnr. 10234", "Dato 14.10.2022 Kl. 12:01"]
ITEMS = ["Sigma 85mm F1.4 DG DN Art 7.999,00", "Objektivdeksel 149,00"]
TAIL = ["I ALT DKK 8.347,00", "Heraf moms 25% 1.669,40", "Dankort 8.347,00"]  # 199,00 more than the items


def _with_rule(tmp_path, lines, rule_y: int):
    from PIL import Image, ImageDraw

    from models.documents import DocumentRole, FileInfo

    d = doc(lines)
    im = Image.new("L", (1000, int(d.pages[0].height)), 250)
    dr = ImageDraw.Draw(im)
    for ln in d.pages[0].lines:
        for w in ln.words:
            dr.rectangle([w.box.x0, w.box.y0 + 4, w.box.x1, w.box.y1 - 4], fill=20)
    dr.rectangle([20, rule_y, 900, rule_y + 1], fill=20)  # the printed rule, 2 px
    p = tmp_path / "receipt.png"
    im.save(p)
    info = FileInfo(role=DocumentRole.RECEIPT, name=p.name, path=str(p), size=p.stat().st_size, sha256="0" * 64,
                    detected_type="png", width=im.width, height=im.height)
    return d.model_copy(update={"file": info})


def _totals(d):
    ex = extract_receipt(d, country="DK")
    inp = ForensicInput(file=d.file, doc=d, extraction=ex, campaign=SimpleNamespace(country="DK"))
    sigs, _ = run_detectors(inp, only=(SignalFamily.CONTENT,))
    return {s.detector: s for s in sigs}["content.totals_mismatch"]


def test_last_item_erased_above_the_rule_is_flagged(tmp_path) -> None:
    # rows 40 px apart: item ink ends at y 284, the erased row (300-328) is blank, the rule at 328
    s = _totals(_with_rule(tmp_path, [*HEAD, *ITEMS, "", *TAIL], rule_y=328))
    assert s.flagged and s.detail["blank_gap"] is True and s.detail["missing"] == "199.00"
    gap = s.regions[0]
    assert gap.note.startswith("blank gap") and 284 <= gap.box.y0 and gap.box.y1 <= 329


def test_rule_right_below_the_last_item_is_no_blank_gap(tmp_path) -> None:
    # the same reading without the blank row: the rule 8 px below the last item line
    s = _totals(_with_rule(tmp_path, [*HEAD, *ITEMS, *TAIL], rule_y=292))
    assert not s.flagged and s.detail["blank_gap"] is False


def test_run_to_rule() -> None:
    seq = [True] * 3 + [False] * 10 + [True] * 2 + [False] * 4 + [True] * 3
    assert ct._run_to_rule(seq, 0, 3) == (10, 3)  # from the item line at the top down to the rule
    assert ct._run_to_rule(seq, 0, 1) is None  # a 2-row band is no rule at thickness 1
    assert ct._run_to_rule(seq, 1, 3) == (4, 15)  # from the item line at the bottom up to the rule
    thick = [True] * 3 + [False] * 10 + [True] * 6 + [False] * 4 + [True] * 3
    assert ct._run_to_rule(thick, 0, 3) is None  # text, not a rule


def test_usual_spacing_below_an_opening_rule_is_no_blank_gap(tmp_path) -> None:
    # a rule under the header, 36 px of paper (1.3 line heights, less than the 40 px pitch) down
    # to the first item line, whose amount the OCR read short: the spacing is the layout's own
    s = _totals(_with_rule(tmp_path, [*HEAD, "", *ITEMS, *TAIL], rule_y=226))
    assert not s.flagged and s.detail["blank_gap"] is False
