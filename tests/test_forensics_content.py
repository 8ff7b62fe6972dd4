"""Content forensic signals on hand-built OCR readings (no OCR, no files)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from pipeline.extract import extract_receipt
from pipeline.forensics import ForensicInput, SignalFamily, run_detectors
from pipeline.forensics import content as ct
from tests.docbuild import doc


def _signals(lines, country: str = "DK", conf: float = 0.95) -> dict[str, object]:
    d = doc(lines, conf=conf)
    ex = extract_receipt(d, country=country)
    inp = ForensicInput(file=d.file, doc=d, extraction=ex, campaign=SimpleNamespace(country=country))
    sigs, _ = run_detectors(inp, only=(SignalFamily.CONTENT,))
    return {s.detector: s for s in sigs}


HEAD = ["Fotohuset ApS", "Norrebrogade 112", "CVR-nr. 12972997", "Kvitteringsnr. 10234", "Dato 14.10.2022 Kl. 12:01"]


def _till(total: str = "8.148,00", vat: str = "1.629,60", pay: str = "8.148,00", items=("7.999,00", "149,00")):
    return [*HEAD, f"Sigma 85mm F1.4 DG DN Art {items[0]}", f"Linseklud mikrofiber {items[1]}",
            f"I ALT DKK {total}", f"Heraf moms 25% {vat}", f"Dankort {pay}", "Tak for dit kob!"]


def test_genuine_till_slip_is_silent() -> None:
    assert _signals(_till()) == {}


def test_changed_total_is_the_odd_one_out() -> None:
    sigs = _signals(_till(total="9.148,00"))
    s = sigs["content.totals_mismatch"]
    assert s.flagged and s.field == "total" and s.detail["kind"] == "total_odd"
    assert s.detail["expected"] == "8148.00" and s.detail["total"] == "9148.00"
    assert s.regions[0].note == "total" and len(s.regions) >= 3
    v = sigs["content.vat_rate"]
    assert v.flagged and v.detail["fits_items"] is True


def test_badly_read_total_is_not_a_signal() -> None:
    lines = _till(total="9.148,00")
    i = next(k for k, t in enumerate(lines) if t.startswith("I ALT"))
    lines[i] = (lines[i], 0.6)
    assert "content.totals_mismatch" not in _signals(lines)


def test_items_short_without_a_blank_gap_is_scored_not_flagged() -> None:
    # an item line the OCR did not read: the payment confirms the total, there is no image to check for a gap
    lines = [*HEAD, "Sigma 85mm F1.4 DG DN Art 7.999,00", "I ALT DKK 8.148,00", "Heraf moms 25% 1.629,60",
             "Dankort 8.148,00"]
    s = _signals(lines)["content.totals_mismatch"]
    assert not s.flagged and s.detail["kind"] == "items_short" and s.detail["missing"] == "149.00"


def test_net_invoice_with_subtotal_adds_up() -> None:
    lines = [*HEAD, "Sigma 85mm F1.4 DG DN Art 6.399,20", "Linseklud 119,20", "Subtotal ekskl. moms 6.518,40",
             "Moms 25% 1.629,60", "I alt DKK 8.148,00"]
    assert _signals(lines) == {}
    lines[-1] = "I alt DKK 8.748,00"
    assert _signals(lines)["content.totals_mismatch"].flagged


def test_poorly_read_total_is_odd_when_items_and_net_plus_vat_agree() -> None:
    # a pasted digit is the glyph the OCR trusts least: the total is read at 0.6, but the item
    # lines and the net subtotal + VAT (two independent sums) both come to 8148.00
    lines = [*HEAD, "Sigma 85mm F1.4 DG DN Art 6.399,20", "Linseklud 119,20", "Subtotal ekskl. moms 6.518,40",
             "Moms 25% 1.629,60", ("I alt DKK 8.748,00", 0.6)]
    s = _signals(lines)["content.totals_mismatch"]
    assert s.flagged and s.score < 0.9 and s.detail["kind"] == "total_odd" and s.detail["expected"] == "8148.00"
    assert "misread" in s.message and s.detail["total_confidence"] < ct.TOTAL_CONF
    lines[-1] = ("I alt DKK 8.748,00", 0.4)  # below any trust: nothing to say about it
    assert "content.totals_mismatch" not in _signals(lines)


@pytest.mark.parametrize(("printed", "flag"), [("Fredag 14.10.2022", False), ("Lordag 14.10.2022", True),
                                               ("Fre 14.10.2022", False), ("Man 14.10.2022", True),
                                               ("14-10-2022 (SUN) 16:02", True), ("vineri 14.10.2022", False),
                                               ("Dato 14.10.2022 Ekspedient: Tor", False)])
def test_weekday_against_date(printed: str, flag: bool) -> None:
    sigs = _signals(["Fotohuset ApS", printed, "I alt 100,00"])
    assert ("content.weekday_mismatch" in sigs and sigs["content.weekday_mismatch"].flagged) is flag


def test_weekday_on_the_line_above() -> None:
    s = _signals(["Fotohuset ApS", "Torstai", "14.10.2022 12:01", "Yhteensa 100,00"])["content.weekday_mismatch"]
    assert s.flagged and s.detail["printed_weekday"] == "thursday" and s.detail["date_weekday"] == "friday"
    assert len(s.regions) == 2


def test_weekday_badly_read_is_silent() -> None:
    sigs = _signals(["Fotohuset ApS", ("Lordag 14.10.2022", 0.5), "I alt 100,00"])
    assert "content.weekday_mismatch" not in sigs


@pytest.mark.parametrize(("printed", "flag"), [("Dato 31.11.2022", True), ("Dato 30.02.2023", True),
                                               ("Dato 29.02.2024", False), ("Dato 30.11.2022", False),
                                               ("DATA: 2022-09-31", True), ("Dato 31. november 2022", True),
                                               ("Ref 12.31.2018", False)])
def test_impossible_dates(printed: str, flag: bool) -> None:
    sigs = _signals(["Fotohuset ApS", printed, "I alt 100,00"])
    assert ("content.impossible_date" in sigs and sigs["content.impossible_date"].flagged) is flag


def test_vat_rate_of_another_country_is_flagged() -> None:
    lines = _till(vat="1.577,00")
    lines[lines.index("Heraf moms 25% 1.577,00")] = "Heraf moms 24% 1.577,00"
    s = _signals(lines)["content.vat_rate"]
    assert s.flagged and s.detail["kind"] == "rate_unknown"


def test_vat_amount_not_matching_the_total() -> None:
    s = _signals(_till(vat="1.892,60"))["content.vat_rate"]
    assert s.flagged and s.detail["expected_vat"] == "1629.60"


def test_romanian_rates() -> None:
    head = ["FOTO SRL", "CUI RO18547290", "DATA: 14.11.2018"]
    ok = [*head, "APARAT FOTO 4999.00 A", "TOTAL 4999.00", "TOTAL TVA 798.16"]
    assert _signals(ok, country="RO") == {}
    reduced = [*head, "CARTE 109.00", "TOTAL 109.00", "TOTAL TVA 9.00"]  # 9 % reduced rate, not printed
    assert "content.vat_rate" not in _signals(reduced, country="RO")
    wrong = [*head, "APARAT FOTO 4999.00 A", "TOTAL 4999.00", "TVA A 24.00% 967.55"]
    assert _signals(wrong, country="RO")["content.vat_rate"].flagged


def test_standard_rates_by_date() -> None:
    assert ct.standard_rate("FI", dt.date(2022, 10, 1)) == 24
    assert ct.standard_rate("FI", dt.date(2024, 9, 1)) == Decimal("25.5")
    assert ct.standard_rate("RO", dt.date(2018, 12, 1)) == 19
    assert ct.standard_rate("RO", dt.date(2016, 6, 1)) == 20
    assert ct.standard_rate("MY", dt.date(2018, 1, 1)) is None
    assert ct.vat_of(Decimal("8148.00"), Decimal(25)) == Decimal("1629.60")


def test_no_reading_no_signal() -> None:
    d = doc([])
    sigs, _ = run_detectors(ForensicInput(file=d.file, doc=d), only=(SignalFamily.CONTENT,))
    assert sigs == []


def _with_image(tmp_path, lines, ink_rows=()):
    """The reading of `lines` plus a PNG where every read word is a black bar; rows in
    `ink_rows` (indexes into `lines`) get ink even when nothing was read there."""
    from PIL import Image, ImageDraw

    from models.documents import DocumentRole, FileInfo

    d = doc(lines)
    im = Image.new("L", (1000, int(d.pages[0].height)), 250)
    dr = ImageDraw.Draw(im)
    for ln in d.pages[0].lines:
        for w in ln.words:
            dr.rectangle([w.box.x0, w.box.y0 + 4, w.box.x1, w.box.y1 - 4], fill=20)
    for i in ink_rows:
        y = 20 + 40 * i
        dr.rectangle([20, y + 4, 400, y + 24], fill=20)
    p = tmp_path / "receipt.png"
    im.save(p)
    info = FileInfo(role=DocumentRole.RECEIPT, name=p.name, path=str(p), size=p.stat().st_size, sha256="0" * 64,
                    detected_type="png", width=im.width, height=im.height)
    return d.model_copy(update={"file": info})


def _run(d, country="DK"):
    ex = extract_receipt(d, country=country)
    inp = ForensicInput(file=d.file, doc=d, extraction=ex, campaign=SimpleNamespace(country=country))
    sigs, _ = run_detectors(inp, only=(SignalFamily.CONTENT,))
    return {s.detector: s for s in sigs}


ERASED = [*HEAD, "Sigma 85mm F1.4 DG DN Art 7.999,00", "", "Objektivdeksel 149,00", "I ALT DKK 8.347,00",
          "Heraf moms 25% 1.669,40", "Dankort 8.347,00"]


def test_erased_item_line_leaves_a_blank_gap(tmp_path) -> None:
    s = _run(_with_image(tmp_path, ERASED))["content.totals_mismatch"]
    assert s.flagged and s.detail["blank_gap"] is True and s.detail["missing"] == "199.00"
    gap = s.regions[0]
    assert gap.note.startswith("blank gap") and 20 + 40 * 6 - 5 < gap.box.cy < 20 + 40 * 7 + 5


def test_unread_item_line_with_ink_is_not_flagged(tmp_path) -> None:
    s = _run(_with_image(tmp_path, ERASED, ink_rows=(6,)))["content.totals_mismatch"]
    assert not s.flagged and s.detail["blank_gap"] is False


def test_cent_change_of_the_total_is_caught_but_cash_rounding_is_not() -> None:
    assert _signals(_till(total="8.148,04", pay="8.148,00"))["content.totals_mismatch"].flagged
    lines = [*HEAD, "Sigma 85mm F1.4 DG DN Art 7.999,02", "Linseklud 149,00", "I ALT DKK 8.148,00",
             "Heraf moms 25% 1.629,60", "Dankort 8.148,02"]
    assert "content.totals_mismatch" not in _signals(lines)


def test_mixed_basket_without_printed_rate_is_not_flagged() -> None:
    head = ["Kamerabutiken AB", "Momsreg.nr SE556677889901", "Datum 2022-10-14"]
    lines = [*head, "Kamera 1 000,00", "Fotobok 200,00", "TOTALT SEK 1 200,00", "Varav moms 211,32"]
    s = _signals(lines, country="SE").get("content.vat_rate")
    assert s is None or not s.flagged


@pytest.mark.parametrize("near", ["Mandag-Fredag 10-18", "Abent mandag - lordag", "Lordag 10-14"])
def test_opening_hours_are_not_a_printed_weekday(near: str) -> None:
    sigs = _signals(["Fotohuset ApS", near, "Dato 14.10.2022", "I alt 100,00"])
    assert "content.weekday_mismatch" not in sigs


def test_vat_one_digit_off_alone_is_an_ocr_slip() -> None:
    s = _signals(_till(vat="1.629,69"))["content.vat_rate"]
    assert not s.flagged
