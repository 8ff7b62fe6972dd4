"""VAT / organisation numbers: forms per country, checksums, seller vs buyer."""

from __future__ import annotations

import pytest

from pipeline.extract import extract_receipt
from pipeline.extract.vat import find_vat_numbers, vat_key
from tests.docbuild import doc


@pytest.mark.parametrize("text, value, country, kind", [
    ("CVR-nr. 12972997", "DK12972997", "DK", "cvr"),
    ("CVR: 12 97 29 97", "DK12972997", "DK", "cvr"),
    ("SE-nr. 12972997", "DK12972997", "DK", "cvr"),
    ("DK12972997", "DK12972997", "DK", "vat"),
    ("Moms nr. DK 12972997", "DK12972997", "DK", "vat"),
    ("Org.nr. 556123-4567", "SE556123456701", "SE", "orgnr"),
    ("Organisationsnummer 556123-4567", "SE556123456701", "SE", "orgnr"),
    ("Momsreg.nr SE556123456701", "SE556123456701", "SE", "vat"),
    ("Org.nr. 918 057 889 MVA", "NO918057889MVA", "NO", "mva"),
    ("NO918057889MVA", "NO918057889MVA", "NO", "mva"),
    ("Foretaksregisteret NO 918 057 889 MVA", "NO918057889MVA", "NO", "mva"),
    ("Org.nr 918057889", "NO918057889", "NO", "orgnr"),
    ("Y-tunnus 5009051-8", "FI50090518", "FI", "ytunnus"),
    ("ALV-nro FI50090518", "FI50090518", "FI", "alv"),
    ("CUI: RO64615762", "RO64615762", "RO", "cui"),
    ("C.I.F. RO64615762", "RO64615762", "RO", "cui"),
    ("Cod fiscal: 64615762", "RO64615762", "RO", "cui"),
    ("VAT No: DK12972997", "DK12972997", "DK", "vat"),
    ("GST REG NO. :001637511168", "001637511168", "MY", "gst"),
    ("GST ID: 000381399040", "000381399040", "MY", "gst"),
])
def test_valid_numbers(text: str, value: str, country: str, kind: str) -> None:
    hits = find_vat_numbers(text)
    assert hits, text
    h = hits[0]
    assert (h.value, h.country, h.kind) == (value, country, kind)
    assert h.checksum == ("unchecked" if kind == "gst" else "valid")


@pytest.mark.parametrize("text, value", [
    ("CVR-nr. 12972998", "DK12972998"),
    ("DK12972998", "DK12972998"),
    ("Org.nr. 918 057 888 MVA", "NO918057888MVA"),
    ("CUI: RO64615763", "RO64615763"),
    ("Y-tunnus 5009051-7", "FI50090517"),
])
def test_invalid_checksum_is_returned_as_invalid(text: str, value: str) -> None:
    hits = find_vat_numbers(text)
    assert hits and hits[0].value == value
    assert hits[0].checksum == "invalid"


@pytest.mark.parametrize("text", [
    "Tlf. 12972997",              # a phone number, no VAT label
    "Receipt NO: 123456789",      # "NO" is not Norway here
    "Kvitteringsnr. 556123",
    "Beløb 12972997",
])
def test_not_a_vat_number(text: str) -> None:
    assert find_vat_numbers(text) == []


def test_invalid_checksum_gives_low_confidence() -> None:
    good = extract_receipt(doc(["Fotohuset ApS", "CVR-nr. 12972997"])).reseller_vat
    bad = extract_receipt(doc(["Fotohuset ApS", "CVR-nr. 12972998"])).reseller_vat
    assert good is not None and bad is not None
    assert good.meta["checksum"] == "valid" and bad.meta["checksum"] == "invalid"
    assert bad.confidence < 0.4 < good.confidence


@pytest.mark.parametrize("lines, seller, buyer", [
    (["Fotohuset ApS", "CVR-nr. 12972997", "Faktura", "Kunde:", "Firma X ApS", "CVR: 44125242"],
     "DK12972997", "DK44125242"),                                                               # da
    (["Fjordfoto AS", "Org.nr. 918 057 889 MVA", "Kunde", "Bedrift AS", "Org.nr. 985 027 390"],
     "NO918057889MVA", "NO985027390"),                                                          # nb
    (["Bildbutiken AB", "Org.nr 556123-4567", "Kund: Företag AB", "Org.nr 557413-7484"],
     "SE556123456701", "SE557413748401"),                                                        # sv
    (["Kamerakulma Oy", "Y-tunnus 5009051-8", "Asiakas", "Yritys Oy", "Y-tunnus 0112038-9"],
     "FI50090518", "FI01120389"),                                                                # fi
    (["Furnizor: Foto Carpati SRL", "CUI: RO64615762", "Cumpărător: Firma SRL", "CIF: RO25771280"],
     "RO64615762", "RO25771280"),                                                                # ro
    (["Seller: Fotohuset ApS VAT DK12972997", "Buyer VAT: DK44125242"], "DK12972997", "DK44125242"),  # en
])
def test_seller_and_buyer_vat(lines: list[str], seller: str, buyer: str) -> None:
    ex = extract_receipt(doc(lines))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == seller
    assert ex.buyer_vat is not None and ex.buyer_vat.value == buyer


def test_consumer_receipt_has_no_buyer_vat() -> None:
    ex = extract_receipt(doc(["Fotohuset ApS", "CVR-nr. 12972997", "Kunde: Jens Jensen", "I alt 100,00"]))
    assert ex.buyer_vat is None


@pytest.mark.parametrize("a, b", [
    ("NO918057889MVA", "NO 918 057 889"),
    ("SE556123456701", "556123-4567"),
    ("DK12972997", "DK 12 97 29 97"),
])
def test_vat_key_equates_printed_forms(a: str, b: str) -> None:
    assert vat_key(a) == vat_key(b)


@pytest.mark.parametrize("text, value", [
    ("CUI: R064615762", "RO64615762"),       # O read as 0 in the prefix
    ("Org.nr. N0918057889", "NO918057889"),
])
def test_country_prefix_with_ocr_slip(text: str, value: str) -> None:
    hits = find_vat_numbers(text)
    assert hits and hits[0].value == value and hits[0].checksum == "valid"


@pytest.mark.parametrize("text", [
    "GST REG NO:O0O123456789",        # leading O read for 0: no country prefix exists for a GST number
    "GST ID :OO0123456789",
    "G.S.T. REG NO: 000123456789",    # dotted label
    "GSTID:000123456789",             # label glued
    "BST HO: 000123456789",           # label read with slips
])
def test_gst_number_after_a_slipped_label(text: str) -> None:
    hits = find_vat_numbers(text)
    assert [(h.value, h.kind) for h in hits] == [("000123456789", "gst")]


@pytest.mark.parametrize("text", [
    "CO REG NO 000123456789", "INVOICE 000123456789", "GST REG NO: 00012345678", "GET 10% OFF 000123456789",
    "GST 6% 12.00", "COST CENTRE 000123456789",
])
def test_no_gst_number_without_its_label_or_twelve_digits(text: str) -> None:
    assert [h for h in find_vat_numbers(text) if h.kind == "gst"] == []


def test_gst_number_behind_a_slipped_label_is_not_auto_accepted() -> None:
    ex = extract_receipt(doc(["KEDAI A SDN BHD", "BST HO: 000123456789", "TOTAL 5.00"]))
    assert ex.reseller_vat is not None and ex.reseller_vat.value == "000123456789"
    assert ex.reseller_vat.confidence < 0.8
