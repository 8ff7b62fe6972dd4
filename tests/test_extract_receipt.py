"""Document kind, receipt number, reseller header, condition flags, product lines, cues."""

from __future__ import annotations

import pytest

from models.fields import DocumentKind
from pipeline.extract import extract_receipt
from pipeline.extract.cues import find_cues
from pipeline.extract.receipt_number import parse_receipt_number
from tests.docbuild import doc


@pytest.mark.parametrize("text, label, cue_id", [
    ("CVR-nr. 12972997", "ID", "cvr"),
    ("Org.nr. 918 057 889", "ID", "orgnr"),
    ("Y-tunnus 5009051-8", "ID", "ytunnus"),
    ("C.I.F. RO64615762", "ID", "cui"),
    ("GST REG NO. :001637511168", "ID", "gst"),
    ("At betale 100,00", "TOTAL", "strong"),
    ("Å betale 100,00", "TOTAL", "strong"),
    ("Att betala 100,00", "TOTAL", "strong"),
    ("Yhteensä 100,00", "TOTAL", "strong"),
    ("TOTAL DE PLATĂ 100,00", "TOTAL", "strong"),
    ("T0TAL INCL. GST 15.90", "TOTAL", "strong"),     # OCR slip 0 for O
    ("Bon nr. 123", "RECEIPT_NO", "strong"),
    ("Kuittinro 123", "RECEIPT_NO", "strong"),
    ("S/N: 54123456", "SERIAL", "serial"),
    ("Ordrebekræftelse", "ORDER_CONF", "order_confirmation"),
    ("Udstillingsmodel", "CONDITION", "demo"),
])
def test_cues(text: str, label: str, cue_id: str) -> None:
    assert any(c.label == label and c.id == cue_id for c in find_cues(text)), find_cues(text)


def test_cue_offsets_point_into_original_text() -> None:
    text = "Kvitteringsnr.: 123"
    c = [c for c in find_cues(text) if c.label == "RECEIPT_NO"][0]
    assert text[c.start:c.end] == "Kvitteringsnr"


@pytest.mark.parametrize("text, expected", [
    ("Kvitteringsnr.: 100234", "100234"),       # da
    ("Bonnr 4711", "4711"),                     # da/nb
    ("Kvittonr: 88-1234", "88-1234"),           # sv
    ("Kuittinro 5567", "5567"),                 # fi
    ("Nr. bon: 0042", "0042"),                  # ro
    ("Faktura nr. 2022-1043", "2022-1043"),     # da/nb
    ("Fakturanummer 77812", "77812"),           # sv
    ("Invoice No: INV-20221014", "INV-20221014"),
    ("Bill No: LCS03908", "LCS03908"),          # MY
    ("Doc No.: CS00012345", "CS00012345"),
    ("Kvitteringsnr.:", None),
])
def test_parse_receipt_number(text: str, expected: str | None) -> None:
    assert parse_receipt_number(text) == expected


def test_receipt_number_on_next_row_and_weak_title_cue() -> None:
    ex = extract_receipt(doc(["Shop", "Receipt #: 4711", "Total 10,00"]))
    assert ex.receipt_number is not None and ex.receipt_number.value == "4711"
    ex2 = extract_receipt(doc(["Shop", "Kvitteringsnr.", "100234", "Total 10,00"]))
    assert ex2.receipt_number is not None and ex2.receipt_number.value == "100234"


@pytest.mark.parametrize("lines, kind", [
    (["Fotohuset ApS", "KVITTERING", "I alt 100,00", "Dankort 100,00"], DocumentKind.TILL_RECEIPT),
    (["Bildbutiken AB", "Kvitto", "Att betala 100,00", "Kort 100,00"], DocumentKind.TILL_RECEIPT),
    (["Kamerakulma Oy", "KUITTI", "Yhteensä 100,00"], DocumentKind.TILL_RECEIPT),
    (["Foto Carpati SRL", "BON FISCAL", "TOTAL 100,00"], DocumentKind.TILL_RECEIPT),
    (["Fjordfoto AS", "FAKTURA", "Fakturanr. 1043", "Forfallsdato 28.10.2022"], DocumentKind.INVOICE),
    (["Foto Carpati SRL", "FACTURA FISCALA", "Seria FC nr. 123"], DocumentKind.INVOICE),
    (["Fotohuset ApS", "Ordrebekræftelse", "Tak for din ordre"], DocumentKind.ORDER_CONFIRMATION),
    (["Fjordfoto", "Ordrebekreftelse", "Takk for din ordre"], DocumentKind.ORDER_CONFIRMATION),
    (["Bildbutiken", "Orderbekräftelse"], DocumentKind.ORDER_CONFIRMATION),
    (["Kamerakulma", "Tilausvahvistus"], DocumentKind.ORDER_CONFIRMATION),
    (["Foto Carpati", "Confirmare comandă"], DocumentKind.ORDER_CONFIRMATION),
    (["Shop", "Thank you for your order!", "Order confirmation"], DocumentKind.ORDER_CONFIRMATION),
    (["Hello world"], DocumentKind.UNKNOWN),
])
def test_document_kind(lines: list[str], kind: DocumentKind) -> None:
    ex = extract_receipt(doc(lines))
    assert ex.document_kind == kind
    assert (ex.document_kind_confidence > 0) == (kind != DocumentKind.UNKNOWN)


def test_handwritten_receipt() -> None:
    lines = [("Kvittering", 0.3), ("Sigma objektiv", 0.25), ("7499 kr", 0.3), ("Betalt kontant", 0.2),
             ("14/10 2022", 0.3), ("Hans", 0.2), ("tak", 0.25), ("stempel", 0.3)]
    ex = extract_receipt(doc(lines))
    assert ex.document_kind == DocumentKind.HANDWRITTEN_RECEIPT


@pytest.mark.parametrize("line, flag", [
    ("Brugt vare", "used"), ("Demovare", "demo"), ("Udstillingsmodel", "demo"), ("B-vare", "demo"),
    ("Begagnad", "used"), ("Brukt", "used"), ("Käytetty", "used"), ("Resigilat", "returned"),
    ("Second hand", "used"), ("Refurbished", "refurbished"), ("Returvare", "returned"),
])
def test_condition_flags(line: str, flag: str) -> None:
    ex = extract_receipt(doc(["Shop", f"Sigma 85mm {line} 1.490,00"]))
    assert flag in {f.value for f in ex.condition_flags}


def test_no_condition_flags_on_a_plain_receipt() -> None:
    ex = extract_receipt(doc(["Shop", "Sigma 85mm F1.4 DG DN Art 1.490,00", "I alt 1.490,00"]))
    assert ex.condition_flags == ()


def test_header_skips_address_phone_vat_and_title() -> None:
    ex = extract_receipt(doc(["KVITTERING", "Fotohuset Nørrebro ApS", "Nørrebrogade 12", "2200 København N",
                              "Tlf. 35 35 35 35", "CVR-nr. 12972997", "www.fotohuset.dk", "Dato 14.10.2022"]))
    assert [h.value for h in ex.header_lines] == ["Fotohuset Nørrebro ApS"]
    assert ex.reseller_name is not None and ex.reseller_name.value == "Fotohuset Nørrebro ApS"


def test_header_cuts_registration_number() -> None:
    ex = extract_receipt(doc(["DION REALTIES SDN BHD (CO. NO:20154-T)", "GARDENIA BAKERIES (KL) SDN BHD (139386 X)"]))
    assert [h.value for h in ex.header_lines] == ["DION REALTIES SDN BHD", "GARDENIA BAKERIES (KL) SDN BHD"]


def test_product_lines() -> None:
    ex = extract_receipt(doc(["Fotohuset ApS", "CVR-nr. 12972997", "Dato 14.10.2022",
                              "Sigma 85/1.4 DG DN Art Sony-E 7.499,00", "Taske 299,00", "I alt 7.798,00",
                              "Heraf moms 1.559,60", "Dankort 7.798,00"]))
    assert [p.value for p in ex.product_lines] == ["Sigma 85/1.4 DG DN Art Sony-E 7.499,00", "Taske 299,00"]
    assert ex.product_lines[0].meta["price"] == "7499.00"


def test_extraction_has_evidence_with_boxes() -> None:
    ex = extract_receipt(doc(["Fotohuset ApS", "CVR-nr. 12972997", "Dato 14.10.2022", "I alt 100,00"]))
    for name, fv in ex.fields().items():
        assert fv.evidence is not None and fv.evidence.box is not None, name
        assert fv.evidence.document == "receipt"
        assert 0.0 <= fv.confidence <= 1.0


FULL = {
    "da": (["Fotohuset Nørrebro ApS", "Nørrebrogade 12, 2200 København N", "CVR-nr. 12972997", "KVITTERING",
            "Dato: 14.10.2022 kl. 14:03", "Kvitteringsnr.: 100234", "Sigma 85/1.4 DG DN Art Sony-E 7.499,00",
            "I alt DKK 7.499,00", "Heraf moms 1.499,80", "Dankort 7.499,00", ("SN 54123456", 0.4)],
           {"reseller_name": "Fotohuset Nørrebro ApS", "reseller_vat": "DK12972997", "purchase_date": "2022-10-14",
            "receipt_number": "100234", "total": "7499.00", "currency": "DKK", "serial_handwritten": "54123456"}),
    "nb": (["Fjordfoto AS", "Storgata 1, 0155 Oslo", "Foretaksregisteret NO 918 057 889 MVA", "KVITTERING",
            "Kvitteringsnr: 88812", "03.12.2022 12:01", "SONY A7 IV HUS 24 990,00", "Totalt NOK 24 990,00",
            "Herav mva 25% 4 998,00", "Bankkort 24 990,00"],
           {"reseller_name": "Fjordfoto AS", "reseller_vat": "NO918057889MVA", "purchase_date": "2022-12-03",
            "receipt_number": "88812", "total": "24990.00", "currency": "NOK"}),
    "sv": (["Bildbutiken i Malmö AB", "Södergatan 3, 211 34 Malmö", "Org.nr 557413-7484", "KVITTO", "Kvittonr: 3311",
            "Datum 2022-10-20 15:40", "Sigma 35mm F1.4 DG DN Art L-mount 7 990,00", "Att betala 7 990,00 SEK",
            "Varav moms 25% 1 598,00"],
           {"reseller_name": "Bildbutiken i Malmö AB", "reseller_vat": "SE557413748401", "purchase_date": "2022-10-20",
            "receipt_number": "3311", "total": "7990.00", "currency": "SEK"}),
    "fi": (["Kamerakulma Oy", "Y-tunnus 5009051-8", "KUITTI", "Kuittinro 5567", "Pvm 14.10.2022",
            "SIGMA 24-70/2.8 DG DN ART L 1299,00", "YHTEENSÄ 1299,00 EUR", "ALV 24% 251,42"],
           {"reseller_name": "Kamerakulma Oy", "reseller_vat": "FI50090518", "purchase_date": "2022-10-14",
            "receipt_number": "5567", "total": "1299.00", "currency": "EUR"}),
    "ro": (["S.C. FOTO MAGAZIN CARPATI S.R.L.", "Str. Republicii nr. 12, Brasov", "C.I.F.: RO64615762",
            "BON FISCAL", "Sony Alpha 7 III ILCE-7M3K 1 buc x 8.999,99", "TOTAL 8.999,99 LEI", "TVA B 19% 1.436,97",
            "Data: 14/11/2018 Ora: 14:22", "Nr. bon: 0042"],
           {"reseller_name": "S.C. FOTO MAGAZIN CARPATI S.R.L.", "reseller_vat": "RO64615762",
            "purchase_date": "2018-11-14", "receipt_number": "0042", "total": "8999.99", "currency": "RON"}),
    "en": (["Linsekompagniet A/S", "VAT No: DK93478878", "INVOICE", "Invoice No: INV-2022-0815",
            "Invoice date: 1 November 2022", "Bill to: Firma X ApS, VAT DK44125242",
            "SIGMA 14-24MM F/2.8 DG DN ART SONY E/FE 1 x 11,999.00", "Total DKK 11,999.00"],
           {"reseller_name": "Linsekompagniet A/S", "reseller_vat": "DK93478878", "buyer_vat": "DK44125242",
            "purchase_date": "2022-11-01", "receipt_number": "INV-2022-0815", "total": "11999.00", "currency": "DKK"}),
    "my": (["HOME MASTER HARDWARE &", "ELECTRICAL", "NO.113G & 115G, JALAN SETIA GEMBILANG",
            "COMPANY REG NO. :SA03711551-P", "GST REG NO. :001637511168", "TAX INVOICE", "INVOICE NO.: 4711",
            "DATE : 22/12/2017 14:03", "24MMX7Y M.ONE TAPE 1.00 X 15.90 15.90 SR", "SUBTOTAL : 15.90",
            "TOTAL INCL. OF GST 15.90", "TOTAL AMT ROUNDED 15.90", "PAYMENT : 50.00", "CHANGE DUE : 34.10"],
           {"reseller_vat": "001637511168", "purchase_date": "2017-12-22", "receipt_number": "4711",
            "total": "15.90"}),
}


@pytest.mark.parametrize("lang", list(FULL))
def test_full_receipt(lang: str) -> None:
    lines, expected = FULL[lang]
    ex = extract_receipt(doc(lines), serial_pattern="[A-Z0-9]{6,12}")
    got = {k: v.value for k, v in ex.fields().items() if k in expected}
    assert got == expected
    for k in expected:
        assert ex.fields()[k].confidence >= 0.5, k
    if "buyer_vat" not in expected:
        assert ex.buyer_vat is None


def test_blurred_printed_receipt_is_not_handwritten() -> None:
    lines = [("Fotohuset ApS", 0.4), ("CVR-nr. 12972997", 0.4), ("KVITTERING", 0.4), ("Kvitteringsnr. 100234", 0.4),
             ("Dato 14.10.2022", 0.4), ("Sigma 85mm 7.499,00", 0.4), ("I alt 7.499,00", 0.4),
             ("Heraf moms 1.499,80", 0.4), ("Dankort 7.499,00", 0.4)]
    ex = extract_receipt(doc(lines))
    assert ex.document_kind == DocumentKind.TILL_RECEIPT
    assert ex.document_kind_confidence <= 0.5


def test_demo_in_buyer_name_is_not_a_condition() -> None:
    ex = extract_receipt(doc(["Linsekompagniet A/S", "FAKTURA", "Faktureres til:", "Demo Hansen", "Fiktivvej 3",
                              "5000 Odense C", "303965 Sigma 35/1.4 DG DN Art Sony-E 1 6.999,00", "I alt 6.999,00"]))
    assert ex.condition_flags == ()


def test_demo_on_product_line_is_flagged_surely() -> None:
    ex = extract_receipt(doc(["Shop", "Sigma 35/1.4 DG DN Art Sony-E DEMO 5.999,00", "I alt 5.999,00"]))
    assert [f.value for f in ex.condition_flags] == ["demo"]
    assert ex.condition_flags[0].confidence >= 0.8


def test_empty_document() -> None:
    ex = extract_receipt(doc([]), serial_pattern="[A-Z0-9]{6,12}", extra_docs=[doc([])])
    assert ex.fields() == {} and ex.document_kind == DocumentKind.UNKNOWN and ex.product_lines == ()


def test_multi_page_rows_keep_page_numbers() -> None:
    from models.documents import DocumentText

    p1, p2 = doc(["Fotohuset ApS", "CVR-nr. 12972997"]), doc(["I alt 1.490,00"])
    page2 = p2.pages[0].model_copy(update={"page_no": 2})
    two = DocumentText(file=p1.file, pages=(p1.pages[0], page2))
    ex = extract_receipt(two)
    assert ex.total is not None and ex.total.evidence is not None and ex.total.evidence.page == 2
    assert ex.reseller_vat is not None and ex.reseller_vat.evidence is not None and ex.reseller_vat.evidence.page == 1


def test_header_cuts_an_unbracketed_registration_number_and_keeps_dropped_rows_as_top_lines() -> None:
    ex = extract_receipt(doc(["99 SPEED MART S/B 519537-X)", "LOT P.T. 2811, JALAN ANGSA", "41150 KLANG, SELANGOR",
                              *[""] * 8, "TOTAL 12.00"]))
    assert [h.value for h in ex.header_lines] == ["99 SPEED MART S/B"]
    assert [t.value for t in ex.top_lines] == ["LOT P.T. 2811, JALAN ANGSA", "41150 KLANG, SELANGOR"]
