"""Labelled-dataset generator: `n` random but deterministic claims in the sample format.

    generate_dataset(Path("out"), n=300, seed=7)

Each claim folder holds claim.json, expected.json, truth.json, receipt.* and serial.jpg
(see docs/dataset_format.md). Everything is drawn from one seed: a plan is made first
(languages, layouts, scenarios, alterations, and the serials / e-mails / IBANs, which
must be distinct over the set), then every claim is built from its plan with its own
seeded RNG, so the claims can be rendered in parallel and the bytes do not depend on
the number of workers.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from PIL import Image, PngImagePlugin
from stdnum.eu import vat as euvat
from stdnum.no import mva as nomva

from pipeline.campaigns import load_campaigns
from pipeline.samples import alter, photo
from pipeline.samples.fonts import available_handwriting
from pipeline.samples.labels import label_photo
from pipeline.samples.layouts import DATE_STYLES, DocSpec, Shop, format_date, render_image, render_webshop_pdf
from pipeline.samples.receipts import Line
from pipeline.samples.scenarios import dump_json, make_iban

FORMAT_VERSION = 1
SIGMA, SONY_NO, SONY_RO = "sigma-dk-autumn-2022", "sony-no-refusjon-2022", "sony-ro-cashback-2018"
SHORT = {SIGMA: "sigma", SONY_NO: "sony-no", SONY_RO: "sony-ro"}
FIXED_PDF_DATE = time.struct_time((2022, 1, 1, 0, 0, 0, 5, 1, 0))

LANGUAGES = ("da", "no", "sv", "fi", "ro", "en")
RASTER_LAYOUTS = ("till_58mm", "till_80mm", "bon_fiscal", "a4_invoice", "order_confirmation")
LAYOUTS = ("till_58mm", "till_80mm", "bon_fiscal", "a4_invoice", "order_confirmation", "webshop_pdf", "scanned_pdf",
           "photo_on_table")
KIND = {"till_58mm": "till_receipt", "till_80mm": "till_receipt", "bon_fiscal": "till_receipt",
        "a4_invoice": "invoice", "webshop_pdf": "invoice", "scanned_pdf": "invoice",
        "order_confirmation": "order_confirmation", "photo_on_table": "till_receipt"}
ALTERATIONS = ("digit_copy", "line_replaced", "line_erased", "pdf_incremental_edit", "editor_metadata")

# (currency code, printed currency, VAT rate) per shop country
MONEY = {"DK": ("DKK", "DKK", 25), "SE": ("SEK", "SEK", 25), "NO": ("NOK", "NOK", 25), "FI": ("EUR", "EUR", 24),
         "RO": ("RON", "LEI", 19)}
FX = {"DKK": 1.0, "SEK": 1.45, "NOK": 1.4, "EUR": 0.134, "RON": 0.62}
TZ = {SIGMA: "Europe/Copenhagen", SONY_NO: "Europe/Oslo", SONY_RO: "Europe/Bucharest"}

# ---------------------------------------------------------------- shops

# invented addresses / phones / web sites for the (fictional) example resellers
SHOP_DETAILS = {
    "dk-fotohuset": (("Nørrebrogade 112", "2200 København N"), "Tlf. 35 36 12 40", "www.fotohuset-example.dk"),
    "dk-linsekompagniet": (("Vesterbrogade 58", "1620 København V"), "Tlf. 33 21 45 90", "www.linsekompagniet-example.dk"),
    "dk-kamerakaelderen": (("Søndergade 9", "8000 Aarhus C"), "Tlf. 86 12 77 31", "www.kamerakaelderen-example.dk"),
    "se-bildbutiken": (("Södra Förstadsgatan 21", "211 43 Malmö"), "Tel. 040-12 34 56", "www.bildbutiken-example.se"),
    "se-objektivhuset": (("Storgatan 40", "903 26 Umeå"), "Tel. 090-71 22 80", "www.objektivhuset-example.se"),
    "no-fjordfoto": (("Strandkaien 14", "5013 Bergen"), "Tlf. 55 30 21 00", "www.fjordfoto-example.no"),
    "no-linsebua": (("Torgallmenningen 3", "5014 Bergen"), "Tlf. 55 21 64 80", "www.linsebua-example.no"),
    "no-nordlys": (("Kongens gate 30", "7012 Trondheim"), "Tlf. 73 52 90 10", "www.nordlys-example.no"),
    "no-bildeverket": (("Storgata 21", "0184 Oslo"), "Tlf. 22 41 18 60", "www.bildeverket-example.no"),
    "no-trondfoto": (("Olav Tryggvasons gate 5", "7011 Trondheim"), "Tlf. 73 10 44 20", "www.trondfoto-example.no"),
    "fi-kamerakulma": (("Aleksanterinkatu 19", "00100 Helsinki"), "Puh. 09 612 3344", "www.kamerakulma-example.fi"),
    "ro-fotomagazin": (("STR. REPUBLICII NR. 14", "CLUJ-NAPOCA, JUD. CLUJ"), "Tel. 0264 401 220", "www.fotocarpati-example.ro"),
    "ro-digitalcluj": (("BD. 21 DECEMBRIE 1989 NR. 77", "CLUJ-NAPOCA, JUD. CLUJ"), "Tel. 0264 590 118", "www.digitalcluj-example.ro"),
    "ro-electrodunarea": (("STR. PORTULUI NR. 3", "GALATI, JUD. GALATI"), "Tel. 0236 410 555", "www.electrodunarea-example.ro"),
    "ro-obiectiv": (("CALEA VICTORIEI NR. 101", "BUCURESTI, SECTOR 1"), "Tel. 021 310 4477", "www.obiectivplus-example.ro"),
}


def vat_is_valid(value: str) -> bool:
    """The checksum test the dataset's `checksum` label is made with (python-stdnum)."""
    return nomva.is_valid(value) if value.upper().startswith("NO") else euvat.is_valid(value)


def vat_label(country: str, vat: str, lang: str, rng: random.Random) -> str:
    d = "".join(ch for ch in vat if ch.isdigit())
    if lang == "en":
        return f"VAT no. {country}{d}" + (" MVA" if country == "NO" else "")
    if country == "DK":
        return rng.choice([f"CVR-nr. {d}", f"CVR {d}", f"SE/CVR-nr.: {d}"])
    if country == "NO":
        return rng.choice([f"Org.nr. {d[:3]} {d[3:6]} {d[6:]} MVA", f"Foretaksregisteret NO {d} MVA", f"Org nr: {d}MVA"])
    if country == "SE":
        return rng.choice([f"Momsreg.nr SE{d}", f"Org.nr {d[:6]}-{d[6:10]}  Moms SE{d}"])
    if country == "FI":
        return rng.choice([f"Y-tunnus {d[:7]}-{d[7]}", f"ALV-rek. FI{d}"])
    if country == "RO":
        return rng.choice([f"CUI: RO{d}", f"C.I.F.: RO{d}", f"Cod fiscal RO{d}"])
    raise ValueError(country)


def invalidate_vat(value: str, rng: random.Random) -> str:
    """The same number with one digit changed so that its checksum fails."""
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    for _ in range(200):
        i = rng.choice(digits[-3:])
        new = value[:i] + str((int(value[i]) + rng.randrange(1, 10)) % 10) + value[i + 1:]
        if not vat_is_valid(new):
            return new
    raise RuntimeError(value)


# ------------------------------------------------------------- products


@dataclass(frozen=True)
class Product:
    sku: str
    name: str  # the campaign list's name (what the claimant declares)
    brand: str
    aliases: tuple[str, ...] = ()


NOT_ELIGIBLE = {
    SIGMA: [Product("260965", "105MM F/2.8 DG DN MACRO ART SONY E/FE", "SIGMA"),
            Product("353965", "65MM F/2 DG DN CONTEMPORARY SONY E/FE", "SIGMA"),
            Product("261969", "90MM F/2.8 DG DN CONTEMPORARY L-MOUNT", "SIGMA")],
    SONY_NO: [Product("ILCE7M3", "Sony Alpha 7 III ILCE-7M3", "SONY", ("A7 III", "A7M3")),
              Product("SEL85F18", "Sony FE 85mm F1.8 SEL85F18", "SONY", ("FE 85 F1.8",))],
    SONY_RO: [Product("ILCE7M2", "Sony Alpha 7 II ILCE-7M2", "SONY", ("A7 II", "A7M2")),
              Product("SEL50F18F", "Sony FE 50mm F1.8 SEL50F18F", "SONY", ("FE 50 F1.8",))],
}

MOUNTS = {"SONY E/FE": ("Sony-E", "Sony E", "SE", "E-mount", "FE"), "SONY E": ("Sony-E", "Sony E", "SE", "E-mount"),
          "L-MOUNT": ("L-Mount", "L", "L-mount"), "CANON": ("Canon EF", "EF", "Canon"), "NIKON": ("Nikon F", "Nikon", "NF")}
SERIES = {"ART": ("Art", "A"), "CONTEMPORARY": ("Contemporary", "C"), "SPORTS": ("Sports", "S")}
BODY = {"da": "kamerahus", "no": "hus", "sv": "kamerahus", "fi": "runko", "ro": "body", "en": "body"}


def shop_text(p: Product, lang: str, rng: random.Random) -> str:
    """The product written the way a till or web shop shortens it."""
    if p.brand == "SIGMA":
        m = re.match(r"([\d-]+)MM F/([\d.\-]+) (.*?) ?(ART|CONTEMPORARY|SPORTS) (.*)$", p.name)
        if not m:
            return "Sigma " + p.name.title()
        focal, ap, tech, ser, mount = m.groups()
        tech_t = tech.replace("MACRO", "Macro")
        mnt = rng.choice(MOUNTS.get(mount, (mount.title(),)))
        s_long, s_short = SERIES[ser]
        return rng.choice([
            f"Sigma {focal}/{ap} {tech_t} {s_long} {mnt}",
            f"SIGMA {focal}MM F{ap} {tech} {s_short} {mnt.upper()}",
            f"Sigma {focal}mm f/{ap} {tech_t} | {s_short} ({mnt})",
            f"SIG {focal} {ap} {tech.replace(' ', '')} {s_short} {mnt}",
            f"{focal}mm F{ap} {tech_t} {s_long} Sigma {mnt}",
        ])
    code = p.name.split()[-1]
    alias = rng.choice(p.aliases or (code,))
    is_body = code.startswith("ILCE") or code.startswith("ZV") or code.startswith("DSC")
    return rng.choice([
        f"Sony {alias} {code}",
        f"SONY {code}" + (f" {BODY[lang]}" if is_body else ""),
        f"Sony {alias}" + (f" {BODY[lang]}" if is_body else ""),
        f"{code} Sony {alias}",
    ])


def label_model(p: Product) -> tuple[str, str]:
    """(model line, extra) printed on the serial sticker."""
    if p.brand == "SIGMA":
        m = re.match(r"([\d-]+)MM F/([\d.\-]+) (.*?) ?(ART|CONTEMPORARY|SPORTS) (.*)$", p.name)
        if m:
            focal, ap, tech, ser, mount = m.groups()
            return f"{focal}mm F{ap} {tech} | {SERIES[ser][0]}", MOUNTS.get(mount, (mount,))[0]
        return p.name, ""
    code = p.name.split()[-1]
    return code, p.name.replace("Sony ", "").replace(code, "").strip()


EXTRAS = {  # other goods: (text per language, price in DKK)
    "da": [("Hoya UV-filter HD 67mm", 349), ("Peak Design Sling 6L sort", 599), ("SanDisk Extreme Pro SD 128GB", 299),
           ("Linserenseklud mikrofiber", 49), ("Manfrotto Befree stativ", 1299)],
    "no": [("Peak Design Slide Lite reim", 649), ("Sony NP-FZ100 batteri", 899), ("Linseduk mikrofiber", 49),
           ("SanDisk Extreme SD 64GB", 199), ("Hoya UV-filter 72mm", 399)],
    "sv": [("Hoya UV-filter HD 67mm", 349), ("Kameraväska Lowepro", 499), ("SanDisk Extreme Pro SD 128GB", 299),
           ("Rengöringsduk mikrofiber", 49), ("Stativ Manfrotto Befree", 1299)],
    "fi": [("Hoya UV-suodin 67mm", 349), ("Kameralaukku Lowepro", 499), ("SanDisk Extreme Pro SD 128GB", 299),
           ("Puhdistusliina", 49), ("Jalusta Manfrotto Befree", 1299)],
    "ro": [("Geanta foto Lowepro Adventura", 399), ("Card SD SanDisk 64GB", 149), ("Filtru UV Hoya 67mm", 249),
           ("Laveta curatare", 39), ("Trepied Manfrotto Befree", 1299)],
    "en": [("Hoya UV filter HD 67mm", 349), ("Peak Design Sling 6L black", 599), ("SanDisk Extreme Pro SD 128GB", 299),
           ("Microfibre lens cloth", 49), ("Manfrotto Befree tripod", 1299)],
}
REPLACEMENTS = {"da": "Gavekort 500 kr", "no": "Gavekort 500 kr", "sv": "Presentkort 500 kr", "fi": "Lahjakortti 50 EUR",
                "ro": "Voucher cadou 100 lei", "en": "Gift card"}
PAYMENT = {"da": ("Dankort", "Visa", "MobilePay"), "no": ("BankAxept", "Visa", "Vipps"), "sv": ("Kort", "Swish", "Visa"),
           "fi": ("Pankkikortti", "Visa", "MobilePay"), "ro": ("CARD", "NUMERAR"), "en": ("Visa", "Mastercard")}
NOTE_DEMO = {"da": "Demovare - udstillingsmodel", "no": "Demovare - utstillingsmodell", "sv": "Demoexemplar - begagnad",
             "fi": "Esittelykappale", "ro": "Produs demo - expozitie", "en": "Demo unit - ex-display"}

PEOPLE = {
    "DK": (("Lars", "Mette", "Søren", "Anne", "Jens", "Camilla"), ("Jensen", "Nielsen", "Hansen", "Pedersen", "Madsen")),
    "SE": (("Erik", "Anna", "Johan", "Sara", "Lena", "Oskar"), ("Andersson", "Johansson", "Karlsson", "Nilsson", "Berg")),
    "NO": (("Ola", "Kari", "Sindre", "Ingrid", "Magnus", "Nora"), ("Hansen", "Olsen", "Larsen", "Berg", "Haugen")),
    "FI": (("Mikko", "Aino", "Juha", "Laura", "Antti", "Sanna"), ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Koski")),
    "RO": (("Ion", "Maria", "Andrei", "Elena", "Mihai", "Ioana"), ("Popescu", "Ionescu", "Stan", "Dumitru", "Marin")),
}
STREET = {"DK": "Testvej {n}, 2100 København Ø", "SE": "Testgatan {n}, 211 20 Malmö", "NO": "Testveien {n}, 0150 Oslo",
          "FI": "Testikatu {n}, 00100 Helsinki", "RO": "Str. Test nr. {n}, Cluj-Napoca"}
PHONE = {"DK": "+45 20 00 {a:02d} {b:02d}", "SE": "+46 70 000 {a:02d} {b:02d}", "NO": "+47 400 {a:02d} {b:03d}",
         "FI": "+358 40 000 {a:02d}{b:02d}", "RO": "+40 700 000 {b:03d}"}

# ------------------------------------------------------------- scenarios

RULES = {  # scenario -> (status, codes, campaigns it applies to)
    "approve": ("approve", (), (SIGMA, SONY_NO, SONY_RO)),
    "outside_window": ("reject", ("PURCHASE_OUTSIDE_WINDOW",), (SIGMA, SONY_NO, SONY_RO)),
    "not_eligible": ("reject", ("SKU_NOT_ELIGIBLE",), (SIGMA, SONY_NO, SONY_RO)),
    "missing_vat": ("incomplete", ("RECEIPT_FIELD_MISSING",), (SONY_NO,)),
    "serial_mismatch": ("review", ("SERIAL_MISMATCH",), (SIGMA, SONY_NO, SONY_RO)),
    "order_confirmation": ("incomplete", ("DOCUMENT_KIND_NOT_ACCEPTED",), (SIGMA, SONY_RO)),
    "foreign_iban": ("incomplete", ("PAYOUT_BANK_COUNTRY",), (SIGMA, SONY_RO)),
    "too_early": ("reject", ("CLAIM_TOO_EARLY",), (SONY_NO, SONY_RO)),
    "demo": ("review", ("PRODUCT_NOT_NEW",), (SIGMA,)),
    "invalid_vat": ("review", ("RESELLER_VAT_INVALID",), (SIGMA, SONY_NO, SONY_RO)),
    "no_handwritten_serial": ("incomplete", ("RECEIPT_FIELD_MISSING",), (SIGMA,)),
}
RULE_DECK = ("outside_window", "not_eligible", "missing_vat", "serial_mismatch", "foreign_iban", "too_early", "demo",
             "invalid_vat", "no_handwritten_serial")
WHY = {
    "approve": "A clean claim: authorized reseller, eligible product, dates inside the windows, declared fields as printed, "
               "matching serials and a valid IBAN from an eligible country.",
    "outside_window": "The purchase date {date} is outside the campaign's purchase period.",
    "not_eligible": "The product on the receipt ({product}) is not on the campaign's list.",
    "missing_vat": "The receipt prints no org.nr./MVA number, which the Sony Norway terms require.",
    "serial_mismatch": "The serial handwritten on the receipt ({hand}) differs from the label and the form ({serial}).",
    "serial_mismatch_form": "The serial declared on the form ({declared}) differs from the label photo ({serial}).",
    "order_confirmation": "The document is a web-shop order confirmation, which the terms do not accept.",
    "foreign_iban": "The payout IBAN is from {bank}, a country the campaign does not pay to.",
    "too_early": "The claim was registered {days} days after purchase; the terms require waiting {min_days} days.",
    "demo": "The receipt marks the product as a demo / ex-display unit; only new products qualify.",
    "invalid_vat": "The reseller VAT/organisation number printed on the receipt ({vat}) fails its checksum.",
    "no_handwritten_serial": "The receipt carries no handwritten serial number, which the SIGMA terms require.",
}


@dataclass
class Plan:
    index: int
    folder: str
    campaign_id: str
    lang: str
    layout: str
    scenario: str
    alteration: str | None
    reseller_id: str
    serial: str
    email: str
    iban: str
    bank_country: str
    claimant_country: str
    claimant_name: str


def _deck(items, rng):
    while True:
        block = list(items)
        rng.shuffle(block)
        yield from block


def _skip_every_other(it, value):
    seen = 0
    for x in it:
        if x == value:
            seen += 1
            if seen % 2 == 0:
                continue
        yield x


def _campaign_for(lang: str, layout: str, rng: random.Random) -> tuple[str, str]:
    """(campaign, shop country) for a language; SIGMA takes shops from DK/SE/NO/FI."""
    if lang == "ro":
        return SONY_RO, "RO"
    if lang == "da":
        return SIGMA, "DK"
    if lang == "sv":
        return SIGMA, "SE"
    if lang == "fi":
        return SIGMA, "FI"
    if lang == "no":
        return (SONY_NO, "NO") if layout == "webshop_pdf" or rng.random() < 0.6 else (SIGMA, "NO")
    # English wording: a Nordic shop's English receipt / web invoice
    if layout == "webshop_pdf" or rng.random() < 0.4:
        return SONY_NO, "NO"
    return SIGMA, rng.choice(["DK", "SE"])


def make_plan(n: int, seed: int, campaigns) -> list[Plan]:
    rng = random.Random(f"claimcheck-dataset:{seed}:plan")
    langs = _deck(LANGUAGES, rng)
    # order confirmations are mostly a rule case: every layout twice per block, order confirmations once
    layouts = _deck([lay for lay in LAYOUTS if lay != "bon_fiscal"] * 2, rng)
    layouts = (lay for lay in _skip_every_other(layouts, "order_confirmation"))
    scen = _deck(["approve"] * 16 + list(RULE_DECK), rng)
    rows = []
    ro_count = 0
    for _ in range(n):
        lang = next(langs)
        if lang == "ro":
            layout = "bon_fiscal" if ro_count % 2 == 0 else next(layouts)
            ro_count += 1
        else:
            layout = next(layouts)
        cid, country = _campaign_for(lang, layout, rng)
        sc = next(scen)
        if cid not in RULES[sc][2]:
            sc = "approve"
        if layout == "order_confirmation" and cid in (SIGMA, SONY_RO):
            sc = "order_confirmation"
        if layout == "webshop_pdf" and cid == SIGMA:
            sc = "no_handwritten_serial"  # a web-shop PDF carries no pen: SIGMA asks for a handwritten serial
        if sc == "missing_vat" and layout == "webshop_pdf":
            sc = "approve"
        rows.append([lang, layout, cid, country, sc])
    # alterations: ~15 % of the claims, on clean approvals, cycling through the types
    n_alt = max(1, round(n * 0.15)) if n >= 5 else 0
    approve_idx = [i for i, r in enumerate(rows) if r[4] == "approve"]
    rng.shuffle(approve_idx)
    alts: dict[int, str] = {}
    types = _deck(ALTERATIONS, rng)
    for _ in range(n_alt):
        t = next(types)
        pdf = t == "pdf_incremental_edit"
        cand = [i for i in approve_idx if i not in alts and
                ((rows[i][1] == "webshop_pdf") if pdf else (rows[i][1] != "webshop_pdf" or t == "editor_metadata"))]
        if not cand and pdf:  # make one: a Norwegian web-shop PDF for Sony NO
            cand = [i for i in approve_idx if i not in alts and rows[i][1] in ("till_80mm", "a4_invoice")
                    and rows[i][0] in ("no", "en")]
            for i in cand[:1]:
                rows[i][1:4] = ["webshop_pdf", SONY_NO, "NO"]
        if cand:
            alts[cand[0]] = t
    # identities, distinct over the set
    serials: set[str] = set()
    ibans: set[str] = set()
    plans = []
    for i, (lang, layout, cid, country, sc) in enumerate(rows):
        camp = campaigns[cid]
        resellers = [r for r in camp.resellers if r.country == country]
        reseller = rng.choice(resellers).id
        while True:
            nd = 8 if cid == SIGMA else 7
            s = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(nd - 1))
            if s not in serials:
                serials.add(s)
                break
        claimant_country = country if cid == SIGMA else camp.country
        bank_country = "DE" if sc == "foreign_iban" else claimant_country
        while True:
            iban = make_iban(bank_country, rng)
            if iban not in ibans:
                ibans.add(iban)
                break
        first, last = PEOPLE[claimant_country][0], PEOPLE[claimant_country][1]
        fn, ln = rng.choice(first), rng.choice(last)
        email = f"{_ascii(fn)}.{_ascii(ln)}.{seed}-{i + 1:04d}@example.com".lower()
        status = "review" if i in alts else RULES[sc][0]
        what = f"tamper-{alts[i]}" if i in alts else "clean" if sc == "approve" else sc
        folder = f"{i + 1:04d}-{SHORT[cid]}-{status}-{what.replace('_', '-')}"
        plans.append(Plan(i, folder, cid, lang, layout, sc, alts.get(i), reseller, s, email, iban, bank_country,
                          claimant_country, f"{fn} {ln}"))
    return plans


def _ascii(s: str) -> str:
    return s.translate(str.maketrans({"ø": "o", "æ": "ae", "å": "a", "ä": "a", "ö": "o", "Ø": "O", "Æ": "AE", "Å": "A",
                                      "Ä": "A", "Ö": "O"}))


# ---------------------------------------------------------------- build


def _price(base_dkk: float, currency: str) -> Decimal:
    v = base_dkk * FX[currency]
    if currency == "EUR":
        return Decimal(str(round(v / 10) * 10)) - Decimal("0.10")
    if currency == "RON":
        return Decimal(str(round(v / 10) * 10)) - Decimal("0.01")
    return Decimal(str(round(v / 100) * 100 - 1))


def _dates(plan: Plan, camp, rng: random.Random) -> tuple[dt.datetime, dt.datetime]:
    start, end = camp.purchase_start, camp.purchase_end
    span = (end - start).days
    if plan.scenario == "outside_window":
        d = end + dt.timedelta(days=rng.randint(1, 12)) if rng.random() < 0.7 else start - dt.timedelta(days=rng.randint(1, 12))
    else:
        d = start + dt.timedelta(days=rng.randint(0, span))
    purchase = dt.datetime.combine(d, dt.time(rng.randint(9, 19), rng.randint(0, 59), rng.randint(0, 59)))
    min_days = camp.claim_min_days_after_purchase
    if plan.scenario == "too_early":
        days = rng.randint(1, max(1, min_days - 1))
    else:
        last = (camp.claim_end - d).days if camp.claim_end else min_days + 40
        days = rng.randint(min_days + (1 if min_days else 0), max(min_days + 1, min(last, min_days + 40)))
    sub = dt.datetime.combine(d + dt.timedelta(days=days), dt.time(rng.randint(7, 22), rng.randint(0, 59)))
    return purchase, sub


def _doc_spec(plan: Plan, camp, rng: random.Random, product: Product, purchase: dt.datetime) -> tuple[DocSpec, dict]:
    lang = plan.lang
    r = next(r for r in camp.resellers if r.id == plan.reseller_id)
    addr, phone, web = SHOP_DETAILS[r.id]
    currency, cur_printed, rate = MONEY[r.country]
    if lang != "ro" and rng.random() < 0.3 and r.country != "FI":
        cur_printed = "kr."
    vat_value = r.vat if r.vat.startswith(r.country) else r.country + r.vat
    checksum = "valid"
    if plan.scenario == "invalid_vat":
        vat_value = invalidate_vat(vat_value, rng)
        checksum = "invalid"
    with_vat = plan.scenario != "missing_vat"
    shop = Shop(name=r.name, address=addr, vat_label=vat_label(r.country, vat_value, lang, rng) if with_vat else None,
                vat_value=vat_value if with_vat else None, vat_checksum=checksum, phone=phone, web=web)
    text = shop_text(product, lang, rng)
    note, note_role = "", ""
    if plan.scenario == "demo":
        text = text + " DEMO"
        note, note_role = NOTE_DEMO[lang], "condition"
    if product.brand == "SIGMA":
        base = rng.choice([3999, 4999, 5999, 6999, 7999, 8499, 8999, 9999, 11999])
    elif product.name.split()[-1].startswith("SEL"):  # a Sony lens
        base = rng.choice([3999, 5999, 7999, 9999, 12999])
    else:
        base = rng.choice([6999, 9999, 14999, 17999, 21999, 24999])
    layout_base = {"photo_on_table": "till_80mm", "scanned_pdf": "a4_invoice"}.get(plan.layout, plan.layout)
    with_sku = layout_base in ("a4_invoice", "order_confirmation", "webshop_pdf")
    lines = [Line(text, _price(base, currency), role="product", sku=product.sku if with_sku else "", note=note,
                  note_role=note_role)]
    k = rng.choice([1, 1, 2, 2, 3])
    for t, p in rng.sample(EXTRAS[lang], k):
        lines.append(Line(t, _price(p, currency), qty=1, sku=f"{rng.randrange(100000, 999999)}" if with_sku else ""))
    rng.shuffle(lines)
    style = rng.choice(DATE_STYLES)
    if layout_base == "bon_fiscal":
        style = rng.choice(["dd.mm.yyyy", "dd/mm/yyyy", "d_month", "dd-mm-yy"])
    pay = rng.choice(PAYMENT[lang])
    if layout_base in ("a4_invoice", "webshop_pdf", "order_confirmation"):
        pay = f"{ {'da': 'Betalt med', 'no': 'Betalt med', 'sv': 'Betalt med', 'fi': 'Maksettu', 'ro': 'Platit cu', 'en': 'Paid by'}[lang]} {pay}"
    number = None
    if layout_base != "order_confirmation":
        number = rng.choice([f"{rng.randrange(10000, 99999)}", f"{purchase.year}-{rng.randrange(1000, 99999)}",
                             f"{rng.randrange(1, 9)}{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"])
        if layout_base == "bon_fiscal":
            number = f"{rng.randrange(1, 9999):04d}"
    order_number = None
    if layout_base in ("order_confirmation", "webshop_pdf"):
        order_number = f"{rng.choice(['', 'W', 'ORD-'])}{rng.randrange(1000000, 9999999)}"
    spec = DocSpec(layout=layout_base, lang=lang, shop=shop, when=purchase, date_style=style, number=number,
                   lines=lines, currency=currency, currency_printed=cur_printed, vat_rate=Decimal(rate), payment=pay,
                   order_number=order_number,
                   extra={"clerk": rng.choice(["Anna", "Mette", "Sindre", "Ioana", "Mikko", "Erik"]),
                          "card4": f"{rng.randrange(10000):04d}"})
    return spec, {"layout_base": layout_base}


def _vfield(fields, name):
    return next((f for f in fields if f["name"] == name), None)


def _amount_parser(lang: str):
    def parse(text: str) -> str | None:
        # the layout, not the language, decides the decimal mark (a Romanian bon fiscal prints
        # "15749.98", an invoice "15.749,98"): a mark followed by exactly two digits at the end is
        # the decimal one, every other mark groups thousands
        t = text.replace(" ", "")
        m = re.search(r"[.,](\d{2})$", t)
        if m:
            t = re.sub(r"[.,]", "", t[: m.start()]) + "." + m.group(1)
        elif lang == "en":
            t = t.replace(",", "")
        else:
            t = t.replace(".", "").replace(",", ".")
        try:
            return f"{Decimal(t):.2f}"
        except Exception:
            return None
    return parse


def _date_parser(spec: DocSpec, camp, submitted: dt.datetime):
    def parse(text: str) -> str | None:
        for day in range(1, 32):
            for mon in range(1, 13):
                try:
                    d = dt.date(spec.when.year, mon, day)
                except ValueError:
                    continue
                for yr in (spec.when.year - 1, spec.when.year, spec.when.year + 1):
                    try:
                        dd = d.replace(year=yr)
                    except ValueError:
                        continue
                    if format_date(dd, spec.date_style, spec.lang) == text:
                        ok = (camp.purchase_start <= dd <= camp.purchase_end and dd != spec.when.date()
                              and (submitted.date() - dd).days >= max(1, camp.claim_min_days_after_purchase))
                        return dd.isoformat() if ok else None
        return None
    return parse


def _deg_list_from_strings(items: list[str]) -> list[dict]:
    out = []
    for s in items:
        m = re.match(r"scan_skew_(-?[\d.]+)deg", s)
        if m:
            out.append({"type": "rotation", "kind": "small", "angle": float(m.group(1)), "source": "scanner"})
        elif s == "perspective_warp":
            out.append({"type": "perspective", "source": "phone_photo"})
        elif s.startswith("gaussian_blur_"):
            out.append({"type": "blur", "sigma": float(s.rsplit("_", 1)[1])})
        elif s == "shadow_gradient":
            out.append({"type": "shadow", "kind": "gradient"})
        elif s.startswith("jpeg_q"):
            continue  # recorded by the saver with the real quality
        else:
            out.append({"type": s})
    return out


def _degrade(img: Image.Image, rng: random.Random, layout: str) -> tuple[Image.Image, list[np.ndarray], list[dict]]:
    """Random degradations of a flat raster receipt; returns the homographies to apply to boxes, in order."""
    Hs, degr = [], []
    tall = img.height > img.width * 1.6
    if rng.random() < 0.35:
        pos = rng.uniform(0.3, 0.7)
        horizontal = True if tall else rng.random() < 0.7
        img = photo.fold(img, rng, horizontal=horizontal, pos=pos)
        degr.append({"type": "fold", "position": round(pos, 3), "orientation": "horizontal" if horizontal else "vertical"})
    if rng.random() < 0.35:
        st = round(rng.uniform(0.25, 0.5), 3)
        img = photo.hard_shadow(img, rng, st)
        degr.append({"type": "shadow", "kind": "cast", "strength": st})
    if rng.random() < 0.3:
        st = round(rng.uniform(0.015, 0.05), 3)
        img, H = photo.keystone(img, rng, st)
        Hs.append(H)
        degr.append({"type": "perspective", "strength": st})
    if rng.random() < 0.45:
        ang = round(rng.choice([-1, 1]) * rng.uniform(0.5, 4.0), 2)
        img, H = photo.rotate_small(img, ang)
        Hs.append(H)
        degr.append({"type": "rotation", "kind": "small", "angle": ang})
    if rng.random() < 0.4:
        sig = round(rng.uniform(0.6, 1.8), 2)
        img = photo.mild_blur(img, sig)
        degr.append({"type": "blur", "sigma": sig})
    if rng.random() < 0.3 or not degr:
        sc = round(rng.uniform(0.4, 0.7), 2)
        img, H = photo.low_resolution(img, sc)
        Hs.append(H)
        degr.append({"type": "low_resolution", "scale": sc})
    if rng.random() < 0.3:
        q = rng.choice([90, 180])
        img, H = photo.rotate_quarter(img, q)
        Hs.append(H)
        degr.append({"type": "rotation", "kind": "quarter", "angle": q})
    return img, Hs, degr


def _map_boxes(items: list[dict], Hs: list[np.ndarray], size: tuple[int, int]) -> None:
    for it in items:
        if it.get("box") is None:
            continue
        b = tuple(it["box"])
        for H in Hs:
            b = photo.transform_box(b, H, (10**9, 10**9))
        it["box"] = alter.clip_box(list(b), size)
        if "detail" in it and isinstance(it["detail"], dict) and "from_box" in it["detail"]:
            fb = tuple(it["detail"]["from_box"])
            for H in Hs:
                fb = photo.transform_box(fb, H, (10**9, 10**9))
            it["detail"]["from_box"] = alter.clip_box(list(fb), size)


def _save_image(img: Image.Image, path: Path, fmt: str, quality: int | None, editor: str | None) -> None:
    kw: dict = {}
    if editor:
        kw["exif"] = alter.editor_exif(editor).tobytes()
    if fmt == "png":
        if editor:
            info = PngImagePlugin.PngInfo()
            info.add_itxt("XML:com.adobe.xmp", alter.xmp_packet(editor).decode("utf-8"))
            kw["pnginfo"] = info
        img.save(path, "PNG", compress_level=6, **kw)
    else:
        if editor:
            kw["xmp"] = alter.xmp_packet(editor)
        img.convert("RGB").save(path, "JPEG", quality=quality, subsampling=2, **kw)


def _two_digits_changed(serial: str, rng: random.Random) -> str:
    """The serial with two of its digits after the first changed (never to themselves)."""
    s = list(serial)
    for p in sorted(rng.sample(range(1, len(serial)), 2)):
        s[p] = str((int(s[p]) + rng.randrange(1, 9)) % 10)
    return "".join(s)


def build_claim(plan: Plan, out_dir: Path, seed: int, alter_stage: str = "render") -> Path:
    campaigns = load_campaigns()
    camp = campaigns[plan.campaign_id]
    rng = random.Random(f"claimcheck-dataset:{seed}:{plan.index}")
    folder = out_dir / plan.folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()

    eligible = [Product(s.sku, s.name, "SIGMA" if plan.campaign_id == SIGMA else "SONY", tuple(s.aliases))
                for s in camp.skus]
    product = rng.choice(NOT_ELIGIBLE[plan.campaign_id] if plan.scenario == "not_eligible" else eligible)
    purchase, submitted = _dates(plan, camp, rng)
    cc = plan.claimant_country
    address = STREET[cc].format(n=rng.randrange(1, 120))
    spec, meta = _doc_spec(plan, camp, rng, product, purchase)
    spec.customer = (plan.claimant_name, *address.split(", "))
    layout_base = meta["layout_base"]

    # the handwritten serial
    written = None
    raster = plan.layout != "webshop_pdf"
    if raster and plan.scenario != "no_handwritten_serial":
        if plan.campaign_id == SIGMA or plan.scenario == "serial_mismatch" or rng.random() < 0.3:
            written = plan.serial
            if plan.scenario == "serial_mismatch":
                written = _two_digits_changed(plan.serial, rng)
    # A web-shop PDF carries no pen, so its serial mismatch is on the claim form: the declared serial differs from
    # the label. Its own generator keeps every other draw of this claim (and so the rest of the set) unchanged.
    declared_serial = plan.serial
    if plan.scenario == "serial_mismatch" and written is None:
        declared_serial = _two_digits_changed(plan.serial, random.Random(f"claimcheck-dataset:{seed}:{plan.index}:form"))
    if written:
        spec.handwritten = rng.choice(["S/N " + written, "SN: " + written, "S/N: " + written, written, "Serienr. " + written])
        spec.handwritten_value = written
        hands = available_handwriting()
        spec.hand_font = rng.choice(hands)
        spec.pen = rng.choice(["blue", "blue", "black"])
        spec.hand_place = rng.choice(["tail", "tail", "top"] if layout_base.startswith("till") or layout_base == "bon_fiscal"
                                     else ["bottom", "right", "top"])

    truth_receipt: dict = {"layout": plan.layout, "base_layout": layout_base, "document_kind": KIND[plan.layout],
                           "language": plan.lang, "country": next(r for r in camp.resellers if r.id == plan.reseller_id).country,
                           "currency": spec.currency, "date_style": spec.date_style}
    alterations: list[dict] = []
    editor = None
    if plan.alteration == "editor_metadata":
        editor = rng.choice(alter.EDITORS_PDF if plan.layout in ("webshop_pdf", "scanned_pdf") else alter.EDITORS_IMAGE)

    if plan.layout == "webshop_pdf":
        name = "receipt.pdf"
        kw = {"producer": editor, "creator": editor} if editor else {}
        fields, (pw, ph) = render_webshop_pdf(spec, folder / name, **kw)
        if editor:
            alterations.append({"type": "editor_metadata", "field": None, "box": None,
                                "detail": {"where": "pdf_info", "Producer": editor, "Creator": editor}})
        if plan.alteration == "pdf_incremental_edit":
            tot = _vfield(fields, "total")
            old = tot["amount_text"]
            digits = [i for i, ch in enumerate(old) if ch.isdigit()]
            i = digits[0] if rng.random() < 0.5 else digits[1] if len(digits) > 3 else digits[0]
            new = old[:i] + str((int(old[i]) + rng.randrange(1, 9)) % 10 or 1) + old[i + 1:]
            if new == old:
                new = old[:i] + ("2" if old[i] != "2" else "3") + old[i + 1:]
            info = alter.pdf_incremental_edit(folder / name, old, new)
            parse = _amount_parser(spec.lang)
            tot["original_value"] = tot["value"]
            tot["value"] = parse(new)
            tot["text"] = tot["text"].replace(old, new)
            alterations.append({"type": "pdf_incremental_edit", "field": "total", "box": list(tot["amount_box"]),
                                "detail": info})
        for f in fields:
            f.pop("amount_text", None)
            f.pop("amount_box", None)
        truth_receipt.update(file=name, format="pdf", text_layer=True, pages=1, coordinate_space="pdf_points_top_left",
                             size=[round(pw, 2), round(ph, 2)], fields=fields, degradations=[])
    else:
        page, rmeta = render_image(spec, rng)
        truth_receipt.update(rmeta)
        fields = page.fields
        paper = page.img.getpixel((2, page.img.height - 3))
        after = alter_stage == "final" and plan.alteration in ("digit_copy", "line_replaced", "line_erased")
        clean = page.img.copy() if after else None
        replay: dict = {}  # what replay_on_final needs besides the render-coordinate record
        if plan.alteration == "digit_copy":
            tgt = rng.choice(["purchase_date", "total"])
            order = [tgt, "total" if tgt == "purchase_date" else "purchase_date"]
            for fname in order:
                f = _vfield(fields, fname)
                acc = _amount_parser(spec.lang) if fname == "total" else _date_parser(spec, camp, submitted)
                a = alter.digit_copy(page, f, rng, acc)
                if a:
                    alterations.append(a)
                    break
        elif plan.alteration in ("line_replaced", "line_erased"):
            others = [f for f in fields if f["name"] == "other_line"]
            f = rng.choice(others)
            if plan.alteration == "line_replaced":
                replay = {"old_box": list(f["box"]), "op": dict(page.ops[f["_op"]])}
                alterations.append(alter.line_replaced(page, f, REPLACEMENTS[spec.lang], paper))
            else:
                alterations.append(alter.line_erased(page, f, paper))
                fields.remove(f)
        rendered_edits = [copy.deepcopy(a) for a in alterations] if after else []
        img = clean if after else page.img  # "final": the unedited print is photographed / scanned
        degr: list[dict] = []
        Hs: list[np.ndarray] = []
        if plan.layout == "photo_on_table":
            img, H, d = photo.phone_photo(img, rng)
            Hs.append(H)
            degr = _deg_list_from_strings(d)
            degr[0:0] = [{"type": "phone_photo", "homography": [[round(v, 6) for v in row] for row in H.tolist()]}]
            if rng.random() < 0.3:
                q = rng.choice([90, 180])
                img, H2 = photo.rotate_quarter(img, q)
                Hs.append(H2)
                degr.append({"type": "rotation", "kind": "quarter", "angle": q})
        elif plan.layout == "scanned_pdf":
            img, H, d = photo.scan(img, rng)
            Hs.append(H)
            degr = _deg_list_from_strings(d)
        elif rng.random() < 0.55:
            img, Hs, degr = _degrade(img, rng, plan.layout)
        _map_boxes(fields, Hs, img.size)
        _map_boxes(alterations, Hs, img.size)
        # "final" stage: the editor opens the camera's/scanner's JPEG, edits it and re-saves it
        edit_rng = random.Random(f"claimcheck-dataset:{seed}:{plan.index}:after")

        def edited(img: Image.Image, q: int | None) -> tuple[Image.Image, int | None]:
            if not rendered_edits:
                return img, q
            if q is not None:
                img = alter.jpeg_roundtrip(img, q)
            for rec in rendered_edits:
                img = alter.replay_on_final(img, rec, Hs, old_box=replay.get("old_box"), op=replay.get("op"))
            q2 = edit_rng.choice([80, 85, 90, 95]) if q is not None else None
            for a in alterations:
                a["detail"].update(stage="after_degradation", capture_quality=q, resave_quality=q2)
            return img, q2

        if plan.layout == "scanned_pdf":
            name = "receipt.pdf"
            q = rng.choice([80, 85, 88, 92])
            img, q_file = edited(img, q)
            pdfkw = {"producer": editor, "creator": editor} if editor else {}
            img.save(folder / name, "PDF", resolution=200.0, quality=q_file, title="Scanned document", author="",
                     creationDate=FIXED_PDF_DATE, modDate=FIXED_PDF_DATE, **pdfkw)
            degr += [{"type": "image_only_pdf", "dpi": 200}, {"type": "jpeg", "quality": q}]
            truth_receipt.update(file=name, format="pdf", text_layer=False, pages=1, dpi=200,
                                 coordinate_space="pixels_of_embedded_page_image",
                                 page_size_points=[round(img.width * 72 / 200, 2), round(img.height * 72 / 200, 2)])
            if editor:
                alterations.append({"type": "editor_metadata", "field": None, "box": None,
                                    "detail": {"where": "pdf_info", "Producer": editor, "Creator": editor}})
        else:
            if degr:
                name, fmt, q = "receipt.jpg", "jpeg", rng.choice([35, 50, 65, 75, 85, 92])
                degr.append({"type": "jpeg", "quality": q})
            else:
                name, fmt, q = "receipt.png", "png", None
            img, q = edited(img, q)
            _save_image(img, folder / name, fmt, q, editor)
            truth_receipt.update(file=name, format=fmt, coordinate_space="pixels")
            if editor:
                alterations.append({"type": "editor_metadata", "field": None, "box": None,
                                    "detail": {"where": "exif_software+xmp_creatortool", "Software": editor}})
        for f in fields:
            f.pop("_op", None)
            f.pop("_row", None)
        truth_receipt.update(size=[img.width, img.height], fields=fields, degradations=degr)
    for f in truth_receipt["fields"]:
        if f.get("sku") is None:
            f.pop("sku", None)
    truth_receipt["handwritten_serial"] = written

    # serial label photo
    brand = product.brand
    model, extra = label_model(product)
    prefix = "S/N" if brand == "SIGMA" else "Serial No."
    limg, lboxes, ldegr = label_photo(brand, model, plan.serial, rng, serial_prefix=prefix, extra=extra,
                                      background=rng.choice([(60, 64, 70), (48, 70, 96), (92, 60, 52), (70, 80, 62)]))
    limg.convert("RGB").save(folder / "serial.jpg", "JPEG", quality=85, subsampling=2)
    truth_label = {"file": "serial.jpg", "format": "jpeg", "coordinate_space": "pixels", "size": [limg.width, limg.height],
                   "brand": brand, "model": model, "serial": plan.serial, "serial_text": f"{prefix} {plan.serial}",
                   "barcode": "code128", "boxes": lboxes, "degradations": ldegr}

    # the claim
    tz = ZoneInfo(TZ[plan.campaign_id])
    name_c = plan.claimant_name
    date_printed = _vfield(truth_receipt["fields"], "purchase_date")
    declared_date = date_printed["value"] if date_printed else purchase.date().isoformat()
    claim = {
        "claim_id": plan.folder,
        "campaign_id": plan.campaign_id,
        "submitted_at": submitted.replace(tzinfo=tz).isoformat(),
        "declared": {"product_model": product.name, "serial_number": declared_serial, "purchase_date": declared_date,
                     "reseller": spec.shop.name, "receipt_number": spec.number},
        "claimant": {"name": name_c, "email": plan.email, "country": cc,
                     "phone": PHONE[cc].format(a=rng.randrange(100), b=rng.randrange(1000) if cc in ("NO", "RO") else rng.randrange(100)),
                     "address": address,
                     "bank": {"iban": plan.iban, "bank_country": plan.bank_country}},
        "files": {"receipt": truth_receipt["file"], "serial_photo": "serial.jpg"},
    }
    status, codes = RULES[plan.scenario][0], list(RULES[plan.scenario][1])
    why_key = "serial_mismatch_form" if declared_serial != plan.serial else plan.scenario
    why = WHY[why_key].format(date=purchase.date().isoformat(), product=product.name, hand=written,
                                    declared=declared_serial, serial=plan.serial, bank=plan.bank_country,
                                    days=(submitted.date() - purchase.date()).days,
                                    min_days=camp.claim_min_days_after_purchase, vat=spec.shop.vat_value)
    expected: dict = {"status": status, "codes": codes, "why": why}
    if alterations:
        kinds = ", ".join(sorted({a["type"] for a in alterations}))
        expected = {"status": "review", "codes": [], "tamper": True,
                    "why": f"Otherwise clean, but the receipt was altered ({kinds}): a handler must check the original "
                           f"document before paying."}
    truth = {
        "format_version": FORMAT_VERSION,
        "generator": {"seed": seed, "index": plan.index},
        "claim_id": plan.folder,
        "campaign_id": plan.campaign_id,
        "scenario": plan.scenario,
        "reseller_id": plan.reseller_id,
        "sku": product.sku,
        "eligible_sku": any(s.sku == product.sku for s in camp.skus),
        "serial": {"label": plan.serial, "declared": declared_serial, "handwritten": written},
        "purchase_datetime": purchase.isoformat(),
        "submitted_at": claim["submitted_at"],
        "tamper": bool(alterations),
        "alterations": alterations,
        "receipt": truth_receipt,
        "serial_photo": truth_label,
    }
    dump_json(folder / "claim.json", claim)
    dump_json(folder / "expected.json", expected)
    dump_json(folder / "truth.json", truth)
    return folder




def _build_star(args) -> str:
    plan_d, out_dir, seed, stage = args
    return str(build_claim(Plan(**plan_d), Path(out_dir), seed, stage))


ALTER_STAGES = ("render", "final")


def generate_dataset(out_dir: Path, *, n: int, seed: int, alter_stage: str = "render") -> list[Path]:
    """Write `n` claim folders under `out_dir` and return them in order.

    `alter_stage`: "render" edits the flat page before the photo/scan degradations (the
    tampered print is photographed); "final" replays the same edits on the finished,
    compressed image and re-saves it (an image-editor forgery). Claims without a pixel
    alteration are byte-identical in both.

    Deterministic per seed: the same (n, seed) gives byte-identical files, whatever the number of
    worker processes (env CLAIMCHECK_GEN_WORKERS, default min(cpu count, 8); 1 = in-process)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plans = make_plan(n, seed, load_campaigns())
    if alter_stage not in ALTER_STAGES:
        raise ValueError(f"alter_stage must be one of {ALTER_STAGES}, not {alter_stage!r}")
    jobs = [(asdict(p), str(out_dir), seed, alter_stage) for p in plans]
    workers = int(os.environ.get("CLAIMCHECK_GEN_WORKERS") or min(os.cpu_count() or 1, 8))
    if workers <= 1 or n <= 2:
        return [Path(_build_star(j)) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        return [Path(p) for p in ex.map(_build_star, jobs, chunksize=1)]
