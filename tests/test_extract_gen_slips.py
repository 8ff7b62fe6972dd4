"""OCR slips in labels and layouts seen on photographed / scanned Nordic and Romanian
receipts: cue words with a letter too many, glued or dotted labels, negated titles,
garbled receipt-number labels, slipped VAT prefixes."""

from __future__ import annotations

import pytest

from models.documents import DocumentText
from models.fields import DocumentKind
from pipeline.extract import DISAGREED_NUMBER_CONF, extract_receipt
from pipeline.extract.cues import find_cues, prepare
from pipeline.extract.doc_kind import classify
from pipeline.extract.layout import build_rows
from pipeline.extract.receipt_number import GUESSED_LABEL_STRENGTH, parse_receipt_number
from pipeline.extract.vat import find_vat_numbers
from tests.docbuild import doc

# ---------------------------------------------------------------- cues

@pytest.mark.parametrize("text, label, cue_id", [
    ("Kamerakælderen ApS Ordrebekreeftelse", "ORDER_CONF", "order_confirmation"),  # "æ" read "ee"
    ("Ordrebekrftelse mottatt", None, None),                                         # ambiguous: not corrected
    ("Kvitteringsar, 79268", "RECEIPT_NO", "strong"),                                # one letter slip
    ("C.1.F.: R092708425", "ID", "cui"),                                             # digit for a letter
    ("Laskun nro5793-8974", "RECEIPT_NO", "strong"),                                 # label glued to the number
    ("Pankkikortti 1 109,80", "PAYMENT", "pay"),
])
def test_slipped_cues(text: str, label: str | None, cue_id: str | None) -> None:
    cues = find_cues(text)
    if label is None:
        assert not any(c.label == "ORDER_CONF" for c in cues), cues
    else:
        assert any(c.label == label and c.id == cue_id for c in cues), cues


def test_prepare_offsets_survive_insertions_and_deletions() -> None:
    text = "Firma Ordrebekreeftelse nro5793"
    folded, idx = prepare(text)
    assert folded == "firma ordrebekreftelse nro 5793"
    assert len(idx) == len(folded)
    c = [c for c in find_cues(text) if c.label == "ORDER_CONF"][0]
    assert text[c.start:c.end] == "Ordrebekreeftelse"
    assert idx == sorted(idx)


def test_glued_split_leaves_codes_alone() -> None:
    assert prepare("SEL24105G ILCE7M3")[0] == "sel24105g ilce7m3"


# ---------------------------------------------------------------- document kind

def test_receipt_number_label_of_a_till_makes_a_till_receipt() -> None:
    ex = extract_receipt(doc(["Kamerakulma Oy", "Kuitti nro 69148", "YHTEENSÄ EUR 1 109,80", "Pankkikortti 1 109,80"]))
    assert ex.document_kind == DocumentKind.TILL_RECEIPT


def test_negated_and_mentioned_invoice_does_not_make_an_invoice() -> None:
    rows = build_rows(doc(["Kamerakælderen ApS Ordrebekreeftelse", "Ordrenummer: 6024361", "I ALT kr. 5.597,00",
                           "Dette er ikke en faktura. Faktura sendes ved afsendelse"]))
    assert classify(rows)[0] == DocumentKind.ORDER_CONFIRMATION
    rows = build_rows(doc(["Shop", "I alt 100,00", "This is not an invoice"]))
    assert classify(rows)[0] == DocumentKind.UNKNOWN
    # a title is still a title
    rows = build_rows(doc(["Obiectiv Plus SRL FACTURA", "Factura nr. 123", "TOTAL LEI 10.00"]))
    assert classify(rows)[0] == DocumentKind.INVOICE
    # a word that only folds to a negation is none: "nö" (the end of "Malmö" read into the title's line)
    rows = build_rows(doc(["nö AB Orderbekräftelse", "Bildbutiken i Malmö AB", "Ordernummer: ORD-7205556",
                           "Totalt 12 497,00"]))
    assert classify(rows)[0] == DocumentKind.ORDER_CONFIRMATION


def _slip_doc(lines: list[str], width: float, height: float) -> DocumentText:
    d = doc(lines)
    page = d.pages[0].model_copy(update={"width": width, "height": height})
    return d.model_copy(update={"pages": (page,)})


def test_a_narrow_slip_with_a_total_and_no_title_is_a_till_receipt() -> None:
    lines = ["Shop", "Xyz 10,00", "Total 10,00"]
    kind, conf = classify(build_rows(_slip_doc(lines, 440, 1400)))
    assert kind == DocumentKind.TILL_RECEIPT and conf < 0.8
    assert classify(build_rows(_slip_doc(lines, 1654, 2339)))[0] == DocumentKind.UNKNOWN
    assert classify(build_rows(_slip_doc(["Shop", "Hello"], 440, 1400)))[0] == DocumentKind.UNKNOWN


# ---------------------------------------------------------------- receipt numbers

def test_comma_after_the_label() -> None:
    assert parse_receipt_number("Kvitteringsnr, 70268") == "70268"


def test_garbled_label_before_nr_is_a_guess_below_the_threshold() -> None:
    ex = extract_receipt(doc(["Kamerakulma Oy", "Kultts nro 7362-3880", "Pvm 23/10/2022", "YHTEENSÄ 10,00",
                              "x", "x", "x", "x"]))
    rn = ex.receipt_number
    assert rn is not None and rn.value == "7362-3880" and rn.meta["cue_kind"] == "guessed"
    assert rn.confidence <= GUESSED_LABEL_STRENGTH < 0.8


@pytest.mark.parametrize("line", ["Str. Test nr. 43", "CALEA VICTORIEI NR. 101", "Tlf nr 35361240",
                                  "Org nr 918057889", "Kasse nr 1234"])
def test_no_guess_from_addresses_phones_and_other_labels(line: str) -> None:
    ex = extract_receipt(doc(["Shop", line, "Total 10,00", "x", "x", "x"]))
    assert ex.receipt_number is None


def test_readings_that_disagree_cap_the_receipt_number() -> None:
    main = doc(["Shop", "Laskun nro 5793-8974", "Yhteensä 10,00"])
    other = doc(["Shop", "Laskun nro 5793974", "Yhteensä 10,00"], engine="rapidocr")
    ex = extract_receipt(main, extra_docs=[other], reread=False)
    assert ex.receipt_number is not None and ex.receipt_number.confidence <= DISAGREED_NUMBER_CONF
    agreed = extract_receipt(main, extra_docs=[doc(["Shop", "Laskun nro 5793-8974"], engine="rapidocr")],
                             reread=False)
    assert agreed.receipt_number is not None and agreed.receipt_number.confidence > DISAGREED_NUMBER_CONF


# ---------------------------------------------------------------- VAT numbers

@pytest.mark.parametrize("text, value", [
    ("C.1.F.: R092708425", "RO92708425"),
    ("C.1I.F.: R092708425", "RO92708425"),
    ("ALV-rek. F150090518", "FI50090518"),
])
def test_slipped_country_prefix_with_a_valid_checksum(text: str, value: str) -> None:
    hits = find_vat_numbers(text)
    assert [h.value for h in hits] == [value] and hits[0].valid


def test_slipped_country_prefix_with_a_failing_checksum_is_not_read() -> None:
    assert find_vat_numbers("Ref R092708426") == []
    assert find_vat_numbers("Art R019 x") == []  # a short CUI-like number: too easy to pass


def test_unknown_short_label_and_nr_with_a_valid_checksum() -> None:
    hits = find_vat_numbers("CVA-nr. 12972997")
    assert [(h.value, h.cued) for h in hits] == [("DK12972997", False)]
    assert find_vat_numbers("CVA-nr. 12972998") == []      # checksum fails: nothing
    assert find_vat_numbers("Bon nr. 12972997") == []      # another field's label
    ex = extract_receipt(doc(["Fotohuset ApS", "CVA-nr. 12972997", "I alt 10,00"]))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == "DK12972997"
    assert ex.reseller_vat.confidence < 0.8  # no label read: below the accept threshold


def test_swedish_vat_number_not_ending_in_01_is_invalid_and_wins_over_the_org_number() -> None:
    hits = find_vat_numbers("Org.nr 554529-8415  Moms SE554529841508")
    assert ("SE554529841508", False) in [(h.value, h.valid) for h in hits]
    ex = extract_receipt(doc(["Kameraboden AB", "Org.nr 554529-8415  Moms SE554529841508", "Totalt 10,00"]))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == "SE554529841508"
    assert ex.reseller_vat.meta["checksum"] == "invalid"
    ok = extract_receipt(doc(["Kameraboden AB", "Org.nr 554529-8415  Moms SE554529841501", "Totalt 10,00"]))
    assert ok.reseller_vat is not None and ok.reseller_vat.meta["checksum"] == "valid"


def test_a_repaired_total_stays_below_the_threshold_when_both_engines_agree() -> None:
    lines = ["Kameraboden AB", "TOTALT SEK 14 536,00", "Kort 14 596,00"]
    ex = extract_receipt(doc(lines), extra_docs=[doc(lines, engine="rapidocr")], reread=False)
    assert ex.total is not None and "repaired_from" in ex.total.meta
    assert ex.total.meta.get("readings_agree") == "2/2" and ex.total.confidence < 0.8


def test_an_unlabelled_valid_number_never_beats_a_labelled_one() -> None:
    assert find_vat_numbers("Co. No 12972997") == []
    ex = extract_receipt(doc(["SHOP SDN BHD", "Abc-nr 12972997", "GST REG NO: 001637511168", "TOTAL 10.00"]))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == "001637511168"
