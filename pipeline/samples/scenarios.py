"""The sample claims: one scenario per folder, each testing one rule (or none).

Everything a scenario does not test is kept clean: authorized reseller, eligible
SKU, dates inside the windows, declared fields equal to the receipt, matching
serials, a valid IBAN from an eligible country.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image
from stdnum import iban as stdiban

from pipeline.campaigns import load_campaigns
from pipeline.samples import photo
from pipeline.samples.labels import label_photo
from pipeline.samples.receipts import Line, ReceiptSpec, Shop, render_image, render_pdf_invoice

SIGMA = "sigma-dk-autumn-2022"
SONY_NO = "sony-no-refusjon-2022"
SONY_RO = "sony-ro-cashback-2018"

TZ = {SIGMA: "Europe/Copenhagen", SONY_NO: "Europe/Oslo", SONY_RO: "Europe/Bucharest"}
FIXED_PDF_DATE = time.struct_time((2022, 1, 1, 0, 0, 0, 5, 1, 0))

# ------------------------------------------------------------------ shops

# addresses, phone numbers and web sites are invented; names and VAT numbers come
# from the (example) reseller lists in reference_data/resellers/.
SHOP_DETAILS = {
    "dk-fotohuset": (("Nørrebrogade 112", "2200 København N"), "Tlf. 35 36 12 40", "www.fotohuset-example.dk"),
    "dk-linsekompagniet": (("Vesterbrogade 58", "1620 København V"), "Tlf. 33 21 45 90", "www.linsekompagniet-example.dk"),
    "dk-kamerakaelderen": (("Søndergade 9", "8000 Aarhus C"), "Tlf. 86 12 77 31", "www.kamerakaelderen-example.dk"),
    "no-fjordfoto": (("Strandkaien 14", "5013 Bergen"), "Tlf. 55 30 21 00", "www.fjordfoto-example.no"),
    "no-bildeverket": (("Storgata 21", "0184 Oslo"), "Tlf. 22 41 18 60", "www.bildeverket-example.no"),
    "no-nordlys": (("Kongens gate 30", "7012 Trondheim"), "Tlf. 73 52 90 10", "www.nordlys-example.no"),
    "no-linsebua": (("Torgallmenningen 3", "5014 Bergen"), "Tlf. 55 21 64 80", "www.linsebua-example.no"),
    "ro-fotomagazin": (("STR. REPUBLICII NR. 14", "CLUJ-NAPOCA, JUD. CLUJ"), "", ""),
    "ro-digitalcluj": (("BD. 21 DECEMBRIE 1989 NR. 77", "CLUJ-NAPOCA, JUD. CLUJ"), "", ""),
}


def vat_label(country: str, vat: str) -> str:
    digits = "".join(ch for ch in vat if ch.isdigit())
    if country == "DK":
        return f"CVR-nr. {digits}"
    if country == "NO":
        return f"Org.nr. {digits[:3]} {digits[3:6]} {digits[6:]} MVA"
    if country == "RO":
        return f"CUI: RO{digits}"
    return vat


def make_shop(campaign, reseller_id: str, *, with_vat: bool = True) -> Shop:
    r = next(r for r in campaign.resellers if r.id == reseller_id)
    addr, phone, web = SHOP_DETAILS[reseller_id]
    return Shop(name=r.name, address=addr, vat_label=vat_label(r.country, r.vat) if with_vat else None,
                vat_value=r.vat if with_vat else None, phone=phone, web=web)


# --------------------------------------------------------------- products


@dataclass(frozen=True)
class Product:
    sku: str
    receipt_text: str  # how the shop's till prints it
    declared: str  # what the claimant types in the form
    label_model: str  # what the serial label says
    price: Decimal
    brand: str = "SIGMA"
    label_extra: str = ""


P = {
    "85": Product("322965", "Sigma 85/1.4 DG DN Art Sony-E", "85MM F/1.4 DG DN ART SONY E/FE",
                  "85mm F1.4 DG DN | Art", Decimal("8499"), label_extra="Sony E"),
    "2470": Product("578969", "Sigma 24-70/2.8 DG DN Art L-Mount", "24-70MM F/2.8 DG DN ART L-MOUNT",
                    "24-70mm F2.8 DG DN | Art", Decimal("8999"), label_extra="L-Mount"),
    "35": Product("303965", "Sigma 35/1.4 DG DN Art Sony-E", "35MM F/1.4 DG DN ART SONY E/FE",
                  "35mm F1.4 DG DN | Art", Decimal("6999"), label_extra="Sony E"),
    "150600": Product("747965", "Sigma 150-600/5-6.3 DG DN OS Sports Sony-E",
                      "150-600MM F/5-6.3 DG DN OS SPORTS SONY E/FE", "150-600mm F5-6.3 DG DN OS | Sports",
                      Decimal("11999"), label_extra="Sony E"),
    "1424": Product("213965", "Sigma 14-24/2.8 DG DN Art Sony-E", "14-24MM F/2.8 DG DN ART SONY E/FE",
                    "14-24mm F2.8 DG DN | Art", Decimal("10499"), label_extra="Sony E"),
    "1850": Product("585965", "Sigma 18-50/2.8 DC DN Contemporary Sony-E", "18-50MM F/2.8 DC DN CONTEMPORARY SONY E",
                    "18-50mm F2.8 DC DN | Contemporary", Decimal("4299"), label_extra="Sony E"),
    "40": Product("332954", "Sigma 40/1.4 DG HSM Art Canon EF", "40MM F/1.4 DG HSM ART CANON",
                  "40mm F1.4 DG HSM | Art", Decimal("9299"), label_extra="Canon EF"),
    "2870": Product("592965", "Sigma 28-70/2.8 DG DN C Sony-E", "28-70MM F/2.8 DG DN CONTEMPORARY SONY E/FE",
                    "28-70mm F2.8 DG DN | Contemporary", Decimal("5999"), label_extra="Sony E"),
    "105": Product("260965", "Sigma 105/2.8 DG DN Macro Art Sony-E", "105MM F/2.8 DG DN MACRO ART SONY E/FE",
                   "105mm F2.8 DG DN MACRO | Art", Decimal("5499"), label_extra="Sony E"),
    "a7iv": Product("ILCE7M4", "Sony A7 IV ILCE-7M4 body", "Sony Alpha 7 IV ILCE-7M4", "ILCE-7M4",
                    Decimal("27990"), brand="SONY", label_extra="Alpha 7 IV"),
    "a7rv": Product("ILCE7RM5", "Sony A7R V ILCE-7RM5 hus", "Sony Alpha 7R V ILCE-7RM5", "ILCE-7RM5",
                    Decimal("44990"), brand="SONY", label_extra="Alpha 7R V"),
    "zve10": Product("ZVE10", "Sony ZV-E10 kamerahus svart", "Sony ZV-E10", "ZV-E10",
                     Decimal("7490"), brand="SONY", label_extra="Digital Camera"),
    "a7iii": Product("ILCE7M3", "Sony A7 III ILCE-7M3 body", "Sony Alpha 7 III ILCE-7M3", "ILCE-7M3",
                     Decimal("8999"), brand="SONY", label_extra="Alpha 7 III"),
}

EXTRAS = {
    "da": [Line("Hoya UV-filter HD 67mm", Decimal("349")), Line("Peak Design Sling 6L sort", Decimal("599")),
           Line("SanDisk Extreme Pro SD 128GB", Decimal("299"))],
    "no": [Line("Peak Design Slide Lite reim", Decimal("649")), Line("Sony NP-FZ100 batteri", Decimal("899"))],
    "ro": [Line("Geanta foto Lowepro Adventura", Decimal("249")), Line("Card SD SanDisk 64GB", Decimal("89"))],
}

# ---------------------------------------------------------------- claimant


def make_iban(country: str, rng: random.Random) -> str:
    lengths = {"DK": 14, "NO": 11, "DE": 18, "SE": 20, "FI": 14}
    for _ in range(500):
        if country == "RO":
            bban = "INGB" + "".join(str(rng.randrange(10)) for _ in range(16))
        else:
            bban = "".join(str(rng.randrange(10)) for _ in range(lengths[country]))
        number = country + stdiban.calc_check_digits(country + "00" + bban) + bban
        if stdiban.is_valid(number):
            return stdiban.format(number)
    raise RuntimeError(f"no valid IBAN for {country}")


PEOPLE = {
    "DK": [("Test Person", "Testvej 1, 2100 København Ø", "+45 20 00 00 01"),
           ("Eksempel Jensen", "Prøvegade 7, 8000 Aarhus C", "+45 20 00 00 02"),
           ("Demo Hansen", "Fiktivvej 3, 5000 Odense C", "+45 20 00 00 03")],
    "NO": [("Ola Eksempel", "Testveien 4, 0150 Oslo", "+47 400 00 001"),
           ("Kari Prøve", "Eksempelgata 9, 5003 Bergen", "+47 400 00 002")],
    "RO": [("Ion Exemplu", "Str. Test nr. 5, Cluj-Napoca", "+40 700 000 001"),
           ("Maria Testescu", "Bd. Fictiv nr. 12, Bucuresti", "+40 700 000 002")],
}

# --------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    folder: str
    campaign_id: str
    status: str
    codes: tuple[str, ...]
    why: str
    layout: str = "till"  # till | invoice | order_confirmation | amazon | bon_fiscal | pdf_invoice
    output: str = "png"  # png | phone_jpg | pdf_text | pdf_scan | empty | gif
    reseller: str = "dk-fotohuset"
    product: str = "85"
    purchase: dt.datetime = dt.datetime(2022, 10, 14, 15, 42)
    submitted: dt.datetime = dt.datetime(2022, 11, 2, 19, 5)
    handwritten: bool = True
    handwritten_serial: str | None = None  # when it differs from the label (scenario 9)
    bank_country: str | None = None  # default: the campaign's country
    demo: bool = False
    with_vat: bool = True
    number: str = "10234"
    serial_photo: bool = True
    extras: tuple[int, ...] = (0,)
    pen: str = "blue"
    hand_font: str = "hand-dkg"
    person: int = 0
    # memory across claims: the same claimant (e-mail) in several claims, a serial reused from another claim
    email: str | None = None
    serial_from: str | None = None


def _d(*a):
    return dt.datetime(*a)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("01-sigma-approve-till", SIGMA, "approve", (),
             "A clean Danish till receipt from an authorized reseller for an eligible lens, bought and claimed in "
             "time, with the handwritten serial matching the label and the form.",
             extras=(0, 1), email="lars.repeat@example.com"),
    Scenario("02-sigma-approve-phone-photo", SIGMA, "approve", (),
             "The same kind of clean SIGMA claim, but the till receipt is a JPEG phone photo on a table.",
             output="phone_jpg", reseller="dk-kamerakaelderen", product="2470",
             purchase=_d(2022, 11, 5, 11, 18), submitted=_d(2022, 11, 9, 20, 41), number="48817",
             pen="black", hand_font="hand-dancing", person=1, extras=(2,), email="lars.repeat@example.com"),
    Scenario("03-sony-no-approve-pdf-invoice", SONY_NO, "approve", (),
             "A Norwegian text-layer PDF invoice with the reseller's org.nr./MVA, an eligible camera, purchase "
             "2022-11-20 and a claim 46 days later.",
             layout="pdf_invoice", output="pdf_text", reseller="no-fjordfoto", product="a7iv",
             purchase=_d(2022, 11, 20, 12, 30), submitted=_d(2023, 1, 5, 18, 12), number="2022-11873",
             handwritten=False, extras=(0,)),
    Scenario("04-sigma-approve-scanned-pdf", SIGMA, "approve", (),
             "A clean SIGMA invoice with the serial handwritten on it, scanned into an image-only PDF.",
             layout="invoice", output="pdf_scan", reseller="dk-linsekompagniet", product="35",
             purchase=_d(2022, 11, 7, 14, 2), submitted=_d(2022, 11, 21, 9, 30), number="2022-10873",
             hand_font="hand-breip", person=2, extras=(0,), email="lars.repeat@example.com"),
    Scenario("05-sigma-reject-model-not-in-campaign", SIGMA, "reject", ("SKU_NOT_ELIGIBLE",),
             "The receipt is for the SIGMA 105mm F2.8 DG DN Macro Art Sony-E, which is not on the campaign's list.",
             product="105", purchase=_d(2022, 10, 22, 10, 51), submitted=_d(2022, 11, 1, 21, 3), number="10561"),
    Scenario("06-sigma-reject-outside-window", SIGMA, "reject", ("PURCHASE_OUTSIDE_WINDOW",),
             "The receipt is dated 03.12.2022, after the purchase period ended on 30 November 2022.",
             product="150600", reseller="dk-linsekompagniet", purchase=_d(2022, 12, 3, 13, 27),
             submitted=_d(2022, 12, 10, 16, 45), number="11207", hand_font="hand-dancing"),
    Scenario("07-sigma-reject-amazon", SIGMA, "reject", ("EXCLUDED_CHANNEL",),
             "The lens was bought from a third-party seller on Amazon.de Marketplace, a channel the terms exclude.",
             layout="amazon", reseller="amazon", purchase=_d(2022, 10, 12, 8, 14), submitted=_d(2022, 10, 20, 19, 0),
             number="DE22BKL8R4TQA", extras=(0,), person=1),
    Scenario("08-sony-no-incomplete-no-vat", SONY_NO, "incomplete", ("RECEIPT_FIELD_MISSING",),
             "The Norwegian receipt prints no org.nr./MVA number, which the terms require on the proof of purchase.",
             reseller="no-bildeverket", product="a7rv", with_vat=False, purchase=_d(2022, 11, 12, 14, 5),
             submitted=_d(2022, 12, 20, 10, 22), number="58213", handwritten=False, extras=(1,)),
    Scenario("09-sigma-review-serial-mismatch", SIGMA, "review", ("SERIAL_MISMATCH",),
             "The serial handwritten on the receipt differs from the label photo (and the form) in two digits.",
             product="1424", reseller="dk-kamerakaelderen", purchase=_d(2022, 10, 28, 16, 33),
             submitted=_d(2022, 11, 4, 22, 10), number="47702", handwritten_serial="mismatch", person=2,
             hand_font="hand-dkg", pen="black", email="lars.repeat@example.com"),
    Scenario("10-sigma-incomplete-order-confirmation", SIGMA, "incomplete", ("DOCUMENT_KIND_NOT_ACCEPTED",),
             "The document is a web-shop order confirmation (Ordrebekræftelse), which the SIGMA terms do not accept.",
             layout="order_confirmation", reseller="dk-linsekompagniet", product="1850",
             purchase=_d(2022, 10, 18, 21, 14), submitted=_d(2022, 10, 30, 12, 0), number="",
             extras=(2,), hand_font="hand-dancing"),
    Scenario("11-sony-ro-approve-bon-fiscal", SONY_RO, "approve", (),
             "A Romanian BON FISCAL with CUI, TVA 19% and lei from an authorized reseller, purchase 2018-11-20 and a "
             "claim 38 days later with a Romanian IBAN.",
             layout="bon_fiscal", reseller="ro-fotomagazin", product="a7iii", purchase=_d(2018, 11, 20, 14, 32, 5),
             submitted=_d(2018, 12, 28, 11, 40), number="0042", handwritten=False, extras=(0,)),
    Scenario("12-sony-ro-incomplete-foreign-iban", SONY_RO, "incomplete", ("PAYOUT_BANK_COUNTRY",),
             "As scenario 11, but the payout IBAN is German; the campaign pays only to banks in Romania.",
             layout="bon_fiscal", reseller="ro-fotomagazin", product="a7iii", purchase=_d(2018, 11, 20, 16, 3, 41),
             submitted=_d(2018, 12, 28, 12, 15), number="0057", handwritten=False, bank_country="DE", person=1,
             extras=(1,)),
    Scenario("13-sony-no-reject-too-early", SONY_NO, "reject", ("CLAIM_TOO_EARLY",),
             "The claim was registered 10 days after the 2022-12-01 purchase; the terms require waiting 30 days.",
             reseller="no-nordlys", product="zve10", purchase=_d(2022, 12, 1, 17, 48),
             submitted=_d(2022, 12, 11, 9, 15), number="30419", handwritten=False, person=1, extras=(0,)),
    Scenario("14-sigma-incomplete-no-handwritten-serial", SIGMA, "incomplete", ("RECEIPT_FIELD_MISSING",),
             "The receipt carries no handwritten serial number, which the SIGMA terms require.",
             product="40", purchase=_d(2022, 11, 19, 12, 9), submitted=_d(2022, 11, 25, 20, 30), number="10988",
             handwritten=False, person=1),
    Scenario("15-sigma-review-demo-product", SIGMA, "review", ("PRODUCT_NOT_NEW",),
             "The receipt line marks the lens as DEMO / Demovare, and only new products qualify.",
             product="2870", reseller="dk-kamerakaelderen", purchase=_d(2022, 11, 11, 15, 1),
             submitted=_d(2022, 11, 16, 18, 44), number="48102", demo=True, hand_font="hand-breip", email="lars.repeat@example.com"),
    Scenario("16-bad-zero-byte-receipt", SIGMA, "incomplete", ("FILE_EMPTY",),
             "The uploaded receipt.jpg is empty (0 bytes).",
             output="empty", purchase=_d(2022, 10, 9, 11, 2), submitted=_d(2022, 10, 15, 10, 0), number="10071",
             handwritten=False),
    Scenario("17-bad-renamed-gif", SONY_NO, "incomplete", ("FILE_TYPE_MISMATCH",),
             "The receipt is a GIF image saved under the name receipt.jpg.",
             output="gif", reseller="no-fjordfoto", product="a7iv", purchase=_d(2022, 11, 3, 13, 20),
             submitted=_d(2022, 12, 14, 21, 2), number="71530", handwritten=False),
    Scenario("18-sony-no-review-serial-claimed-in-2018", SONY_NO, "review", ("SERIAL_ALREADY_CLAIMED",),
             "A clean Norwegian claim whose camera serial was already claimed in Sony's Romanian campaign of 2018 "
             "(scenario 11): one claim per serial across the organizer's campaigns.",
             layout="pdf_invoice", output="pdf_text", reseller="no-linsebua", product="a7iv",
             purchase=_d(2022, 11, 26, 10, 5), submitted=_d(2023, 1, 9, 19, 30), number="2022-12011",
             handwritten=False, person=1, serial_from="11-sony-ro-approve-bon-fiscal"),
    Scenario("19-sigma-reject-sixth-claim", SIGMA, "reject", ("CLAIMANT_LIMIT_REACHED",),
             "A clean claim, but the same person (same e-mail) already made five SIGMA claims in this campaign "
             "(scenarios 01, 02, 04, 09, 15); the terms allow five per end-user.",
             reseller="dk-fotohuset", product="1850", purchase=_d(2022, 11, 24, 16, 20),
             submitted=_d(2022, 11, 28, 20, 15), number="11342", hand_font="hand-breip", email="lars.repeat@example.com"),
)


# ------------------------------------------------------------------ build

KIND = {"till": "till_receipt", "bon_fiscal": "till_receipt", "invoice": "invoice", "pdf_invoice": "invoice",
        "amazon": "invoice", "order_confirmation": "order_confirmation"}
LANG = {SIGMA: "da", SONY_NO: "no", SONY_RO: "ro"}
CURRENCY = {SIGMA: "DKK", SONY_NO: "NOK", SONY_RO: "LEI"}
VAT = {SIGMA: Decimal(25), SONY_NO: Decimal(25), SONY_RO: Decimal(19)}
PAYMENT = {SIGMA: "Dankort/Visa", SONY_NO: "BankAxept", SONY_RO: "CARD"}

AMAZON_SELLER = Shop(name="FotoWelt Handels GmbH", address=("Hafenstraße 12", "20457 Hamburg, Deutschland"),
                     vat_label="USt-IdNr. DE136695976", vat_value="DE136695976")


def _serial(campaign_id: str, rng: random.Random) -> str:
    n = 8 if campaign_id == SIGMA else 7
    return str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(n - 1))


def _two_digits_off(serial: str, rng: random.Random) -> str:
    pos = sorted(rng.sample(range(1, len(serial)), 2))
    s = list(serial)
    for p in pos:
        s[p] = str((int(s[p]) + rng.randrange(1, 9)) % 10)
    return "".join(s)


def _spec(sc: Scenario, campaign, rng: random.Random, serial_written: str | None) -> ReceiptSpec:
    lang = LANG[sc.campaign_id]
    prod = P[sc.product]
    if sc.reseller == "amazon":
        shop = AMAZON_SELLER
        lang_items = "da"
    else:
        shop = make_shop(campaign, sc.reseller, with_vat=sc.with_vat)
        lang_items = lang
    text = prod.receipt_text
    note, note_role = "", ""
    if sc.demo:
        text = f"{text} DEMO"
        note, note_role = "Demovare - udstillingsmodel", "condition"
    sku = prod.sku if sc.layout in ("invoice", "pdf_invoice", "order_confirmation") else ""
    if sc.layout == "amazon":
        sku = "B09QRT7L2M"
        text = "Sigma 85mm F1,4 DG DN Art für Sony E-Mount"
    price = prod.price
    lines = [Line(text, price, role="product", sku=sku, note=note, note_role=note_role)]
    for i in sc.extras:
        lines.append(EXTRAS[lang_items][i % len(EXTRAS[lang_items])])
    currency = CURRENCY[sc.campaign_id]
    vat_rate = VAT[sc.campaign_id]
    payment = PAYMENT[sc.campaign_id]
    if sc.layout == "amazon":
        lines = [Line(text, Decimal("1129.00"), role="product", sku=sku),
                 Line("Hoya UV-Filter HD 67 mm", Decimal("39.90"), sku="B004Q3R7UE")]
        currency, vat_rate, payment = "EUR", Decimal(19), "Bezahlt mit Visa / Paid by Visa"
    elif sc.layout in ("invoice", "pdf_invoice"):
        payment = {"da": "Betalt med Visa/Dankort", "no": "Betalt med Visa"}[lang] + " " + sc.purchase.strftime("%d.%m.%Y")
    elif sc.layout == "order_confirmation":
        payment = "MobilePay"
    person = PEOPLE[campaign.country][sc.person % len(PEOPLE[campaign.country])]
    hand_text = None
    if serial_written:
        hand_text = rng.choice(["S/N " + serial_written, "SN: " + serial_written, "S/N: " + serial_written])
    return ReceiptSpec(
        layout=sc.layout, lang=lang, shop=shop, when=sc.purchase, number=sc.number or None, lines=lines,
        currency=currency, vat_rate=vat_rate, payment=payment, handwritten=hand_text,
        handwritten_value=serial_written, pen=sc.pen, hand_font=sc.hand_font,
        customer=(person[0], *person[1].split(", ")),
        order_number=("302-4417285-1934756" if sc.layout == "amazon" else
                      "500" + "".join(str(rng.randrange(10)) for _ in range(6)) if sc.layout == "order_confirmation"
                      else None),
        extra={"clerk": {"da": "Mette", "no": "Sindre", "ro": ""}[lang], "till": 1 + rng.randrange(4),
               "card4": f"{rng.randrange(10000):04d}", "auth": f"{rng.randrange(1000000):06d}"},
    )


def _save_jpeg(img: Image.Image, path: Path, quality: int = 85) -> None:
    img.convert("RGB").save(path, "JPEG", quality=quality, optimize=True, subsampling=2)


def build(sc: Scenario, out_dir: Path, *, seed: int = 2022) -> Path:
    campaigns = load_campaigns()
    campaign = campaigns[sc.campaign_id] if isinstance(campaigns, dict) else next(
        c for c in campaigns if c.id == sc.campaign_id)
    rng = random.Random(f"{seed}:{sc.folder}")
    folder = out_dir / sc.folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file() and old.name != "README.md":
            old.unlink()

    serial = _serial(sc.campaign_id, rng)
    if sc.serial_from:  # the serial another scenario's claim used (its first draw from its own seeded rng)
        other = next(o for o in SCENARIOS if o.folder == sc.serial_from)
        serial = _serial(other.campaign_id, random.Random(f"{seed}:{other.folder}"))
    written = None
    if sc.handwritten:
        written = _two_digits_off(serial, rng) if sc.handwritten_serial == "mismatch" else serial
    spec = _spec(sc, campaign, rng, written)
    prod = P[sc.product]

    truth_receipt: dict = {"layout": sc.layout, "document_kind": KIND[sc.layout], "language": spec.lang}
    out = sc.output
    if out == "pdf_text":
        receipt_name = "receipt.pdf"
        fields, (pw, ph) = render_pdf_invoice(spec, folder / receipt_name)
        truth_receipt.update(format="pdf", text_layer=True, pages=1, coordinate_space="pdf_points_top_left",
                             size=[round(pw, 2), round(ph, 2)], fields=fields, degradations=[])
    elif out in ("empty",):
        receipt_name = "receipt.jpg"
        (folder / receipt_name).write_bytes(b"")
        truth_receipt.update(format="empty", size=None, fields=[], degradations=["zero_bytes"], bytes=0)
    else:
        img, fields = render_image(spec, rng)
        degr: list[str] = []
        if out == "png":
            receipt_name = "receipt.png"
            img.save(folder / receipt_name, "PNG", optimize=True)
            truth_receipt.update(format="png", coordinate_space="pixels")
        elif out == "phone_jpg":
            receipt_name = "receipt.jpg"
            img, Hm, degr = photo.phone_photo(img, rng)
            fields = [dict(f, box=list(photo.transform_box(tuple(f["box"]), Hm, img.size))) for f in fields]
            _save_jpeg(img, folder / receipt_name)
            truth_receipt.update(format="jpeg", coordinate_space="pixels")
        elif out == "pdf_scan":
            receipt_name = "receipt.pdf"
            img, Hm, degr = photo.scan(img, rng)
            fields = [dict(f, box=list(photo.transform_box(tuple(f["box"]), Hm, img.size))) for f in fields]
            img.save(folder / receipt_name, "PDF", resolution=200.0, quality=88, title="Scanned receipt",
                     author="", creationDate=FIXED_PDF_DATE, modDate=FIXED_PDF_DATE)
            degr = degr + ["image_only_pdf_200dpi", "jpeg_q88_in_pdf"]
            truth_receipt.update(format="pdf", text_layer=False, pages=1, dpi=200,
                                 coordinate_space="pixels_of_embedded_page_image",
                                 page_size_points=[round(img.width * 72 / 200, 2), round(img.height * 72 / 200, 2)])
        elif out == "gif":
            receipt_name = "receipt.jpg"
            buf = io.BytesIO()
            img.convert("P", palette=Image.ADAPTIVE, colors=32).save(buf, "GIF")
            (folder / receipt_name).write_bytes(buf.getvalue())
            degr = ["gif_saved_as_jpg"]
            truth_receipt.update(format="gif", named_as="jpeg", coordinate_space="pixels")
        else:
            raise ValueError(out)
        truth_receipt.update(size=[img.width, img.height], fields=fields, degradations=degr)
    truth_receipt["file"] = receipt_name
    truth_receipt["handwritten_serial"] = written

    # serial label photo
    serial_name = None
    truth_label = None
    if sc.serial_photo:
        serial_name = "serial.jpg"
        prefix = "S/N" if prod.brand == "SIGMA" else "Serial No."
        limg, lboxes, ldegr = label_photo(prod.brand, prod.label_model, serial, rng, serial_prefix=prefix,
                                          extra=prod.label_extra,
                                          background=rng.choice([(60, 64, 70), (48, 70, 96), (92, 60, 52), (70, 80, 62)]))
        _save_jpeg(limg, folder / serial_name)
        truth_label = {"file": serial_name, "format": "jpeg", "coordinate_space": "pixels",
                       "size": [limg.width, limg.height], "brand": prod.brand, "model": prod.label_model,
                       "serial": serial, "serial_text": f"{prefix} {serial}", "barcode": "code128",
                       "boxes": lboxes, "degradations": ldegr}

    tz = ZoneInfo(TZ[sc.campaign_id])
    country = campaign.country
    person = PEOPLE[country][sc.person % len(PEOPLE[country])]
    bank_country = sc.bank_country or country
    first = person[0].split()[0].lower()
    claim = {
        "claim_id": sc.folder,
        "campaign_id": sc.campaign_id,
        "submitted_at": sc.submitted.replace(tzinfo=tz).isoformat(),
        "declared": {
            "product_model": prod.declared,
            "serial_number": serial,
            "purchase_date": sc.purchase.date().isoformat(),
            "reseller": spec.shop.name,
            "receipt_number": sc.number or None,
        },
        "claimant": {
            "name": person[0],
            "email": sc.email or f"{first}.{sc.folder[:2]}@example.com",
            "country": country,
            "phone": person[2],
            "address": person[1],
            "bank": {"iban": make_iban(bank_country, rng), "bank_country": bank_country},
        },
        "files": {"receipt": receipt_name, "serial_photo": serial_name},
    }
    expected = {"status": sc.status, "codes": list(sc.codes), "why": sc.why}
    truth = {
        "claim_id": sc.folder,
        "campaign_id": sc.campaign_id,
        "reseller_id": sc.reseller,
        "sku": prod.sku,
        "eligible_sku": any(s.sku == prod.sku for s in campaign.skus),
        "serial": {"label": serial, "declared": serial, "handwritten": written},
        "purchase_datetime": sc.purchase.isoformat(),
        "receipt": truth_receipt,
        "serial_photo": truth_label,
    }
    dump_json(folder / "claim.json", claim)
    dump_json(folder / "expected.json", expected)
    dump_json(folder / "truth.json", truth)
    return folder


def dump_json(path: Path, data) -> None:
    """Label files: UTF-8, indented, one trailing newline (dates and decimals as strings)."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def generate(out_dir: Path, *, seed: int = 2022, only: tuple[str, ...] | None = None) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [build(sc, out_dir, seed=seed) for sc in SCENARIOS if only is None or sc.folder in only]
