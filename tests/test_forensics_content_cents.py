"""totals_mismatch to the cent, on hand-built readings (no OCR, no files)."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.extract import extract_receipt
from pipeline.forensics import ForensicInput, SignalFamily, run_detectors
from tests.docbuild import doc

HEAD = ["Fotohuset ApS", "Norrebrogade 112", "CVR-nr. 12972997", "Kvitteringsnr. 10234", "Dato 14.10.2022 Kl. 12:01"]


def _signals(lines, country: str = "DK"):
    d = doc(lines)
    ex = extract_receipt(d, country=country)
    inp = ForensicInput(file=d.file, doc=d, extraction=ex, campaign=SimpleNamespace(country=country))
    sigs, _ = run_detectors(inp, only=(SignalFamily.CONTENT,))
    return {s.detector: s for s in sigs}


def test_total_one_cent_off_the_items_and_the_card_is_odd() -> None:
    lines = [*HEAD, "Sigma 85mm F1.4 DG DN Art 7.999,00", "Linseklud mikrofiber 149,00", "I ALT DKK 8.148,01",
             "Heraf moms 25% 1.629,60", "Dankort 8.148,00"]
    s = _signals(lines)["content.totals_mismatch"]
    assert s.flagged and s.detail["kind"] == "total_odd" and s.detail["expected"] == "8148.00"


def test_net_invoice_a_cent_off_from_its_vat_is_silent() -> None:
    # net item prices, subtotal and VAT worked out by the till: subtotal + VAT is a cent over the total
    lines = [*HEAD, "Sigma 85mm F1.4 DG DN Art 6.399,20", "Linseklud 119,21", "Subtotal ekskl. moms 6.518,41",
             "Moms 25% 1.629,60", "I alt DKK 8.148,00"]
    s = _signals(lines).get("content.totals_mismatch")
    assert s is None or not s.flagged
    lines[-1] = "I alt DKK 8.148,07"  # the same invoice with its total changed: caught
    assert _signals(lines)["content.totals_mismatch"].flagged
