"""Receipt layouts for the labelled-dataset generator (pipeline/samples/generator.py).

Language-parameterised (da, no, sv, fi, ro, en) Pillow layouts: 58 mm and 80 mm
thermal till slips, a Romanian bon fiscal, an A4 invoice and an A4 web-shop order
confirmation; plus a reportlab web-shop invoice PDF with a text layer (standard
Helvetica, uncompressed content stream, so a later incremental edit can rewrite a
string). Every field's box is recorded; `Canvas` also remembers how each text piece
was drawn (font, size, origin, anchor) so alter.py can find single glyphs.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from PIL import ImageDraw

from pipeline.samples.fonts import font
from pipeline.samples.receipts import (
    BLACK_PEN,
    BLUE_PEN,
    INK,
    THERMAL_INK,
    Line,
    Page,
    PricedLines,
    _thermal_fade,
    handwrite,
)

# ------------------------------------------------------------------ wording

WORDS: dict[str, dict[str, str]] = {
    "da": dict(receipt_no="Kvitteringsnr.", date="Dato", time="Kl.", total="I ALT", vat="Heraf moms", sub="Subtotal ekskl. moms",
               thanks="Tak for dit køb!", ret="Bytteret 30 dage mod kvittering", invoice="FAKTURA", invoice_no="Fakturanr.",
               invoice_date="Fakturadato", customer="Faktureres til:", desc="Beskrivelse", itemno="Varenr.", qty="Antal",
               price="Stk.pris", amount="Beløb", paid="Betalt med", order="Ordrebekræftelse", order_no="Ordrenummer:",
               order_date="Ordredato:", not_invoice="Dette er ikke en faktura. Faktura sendes ved afsendelse.",
               clerk="Ekspedient", till="Kasse", card="Kort"),
    "no": dict(receipt_no="Kvittering nr.", date="Dato", time="Tid", total="TOTALT", vat="Herav MVA", sub="Sum eks. MVA",
               thanks="Takk for handelen!", ret="Åpent kjøp 30 dager", invoice="FAKTURA", invoice_no="Fakturanr.",
               invoice_date="Fakturadato", customer="Kunde:", desc="Beskrivelse", itemno="Varenr.", qty="Antall",
               price="Pris", amount="Beløp", paid="Betalt med", order="Ordrebekreftelse", order_no="Ordrenummer:",
               order_date="Ordredato:", not_invoice="Dette er ikke en faktura. Faktura sendes når ordren er sendt.",
               clerk="Betjent av", till="Kasse", card="Kort"),
    "sv": dict(receipt_no="Kvitto nr", date="Datum", time="Tid", total="TOTALT", vat="Varav moms", sub="Summa exkl. moms",
               thanks="Tack för ditt köp!", ret="Öppet köp 30 dagar", invoice="FAKTURA", invoice_no="Fakturanr",
               invoice_date="Fakturadatum", customer="Faktureras till:", desc="Beskrivning", itemno="Art.nr", qty="Antal",
               price="À-pris", amount="Belopp", paid="Betalt med", order="Orderbekräftelse", order_no="Ordernummer:",
               order_date="Orderdatum:", not_invoice="Detta är inte en faktura. Faktura skickas när ordern har skickats.",
               clerk="Kassör", till="Kassa", card="Kort"),
    "fi": dict(receipt_no="Kuitti nro", date="Pvm", time="Klo", total="YHTEENSÄ", vat="ALV osuus", sub="Veroton hinta",
               thanks="Kiitos käynnistä!", ret="Vaihto-oikeus 30 päivää", invoice="LASKU", invoice_no="Laskun nro",
               invoice_date="Laskun pvm", customer="Laskutetaan:", desc="Tuote", itemno="Tuotenro", qty="Määrä",
               price="A-hinta", amount="Summa", paid="Maksettu", order="Tilausvahvistus", order_no="Tilausnumero:",
               order_date="Tilauspäivä:", not_invoice="Tämä ei ole lasku. Lasku lähetetään toimituksen yhteydessä.",
               clerk="Myyjä", till="Kassa", card="Kortti"),
    "ro": dict(receipt_no="Bon nr.", date="DATA:", time="ORA:", total="TOTAL", vat="TOTAL TVA", sub="Subtotal fără TVA",
               thanks="VĂ MULȚUMIM!", ret="Păstrați bonul pentru garanție", invoice="FACTURĂ", invoice_no="Factura nr.",
               invoice_date="Data facturii", customer="Cumpărător:", desc="Denumire produs", itemno="Cod", qty="Cant.",
               price="Preț unitar", amount="Valoare", paid="Plătit cu", order="Confirmare comandă", order_no="Număr comandă:",
               order_date="Data comenzii:", not_invoice="Acesta nu este o factură fiscală.",
               clerk="Casier", till="Casa", card="Card"),
    "en": dict(receipt_no="Receipt no.", date="Date", time="Time", total="TOTAL", vat="incl. VAT", sub="Subtotal excl. VAT",
               thanks="Thank you for shopping with us!", ret="30-day returns with receipt", invoice="INVOICE",
               invoice_no="Invoice no.", invoice_date="Invoice date", customer="Bill to:", desc="Description",
               itemno="Item no.", qty="Qty", price="Unit price", amount="Amount", paid="Paid by",
               order="Order confirmation", order_no="Order number:", order_date="Order date:",
               not_invoice="This is not an invoice. Your invoice follows when the order ships.",
               clerk="Served by", till="Till", card="Card"),
}

MONTHS = {
    "da": "jan. feb. mar. apr. maj jun. jul. aug. sep. okt. nov. dec.",
    "no": "jan. feb. mar. apr. mai jun. jul. aug. sep. okt. nov. des.",
    "sv": "jan. feb. mars apr. maj juni juli aug. sep. okt. nov. dec.",
    "fi": "tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta kesäkuuta heinäkuuta elokuuta syyskuuta "
          "lokakuuta marraskuuta joulukuuta",
    "ro": "ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie",
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
}

DATE_STYLES = ("dd.mm.yyyy", "dd-mm-yy", "yyyy-mm-dd", "d_month", "dd/mm/yyyy")


def format_date(d: dt.date, style: str, lang: str) -> str:
    """14.10.2022 | 14-10-22 | 2022-10-14 | 14. okt. 2022 / 14 noiembrie 2018 / 14 Oct 2022 | 14/10/2022"""
    if style == "dd.mm.yyyy":
        return d.strftime("%d.%m.%Y")
    if style == "dd-mm-yy":
        return d.strftime("%d-%m-%y")
    if style == "yyyy-mm-dd":
        return d.isoformat()
    if style == "dd/mm/yyyy":
        return d.strftime("%d/%m/%Y")
    if style == "d_month":
        m = MONTHS[lang].split()[d.month - 1]
        if lang in ("da", "no", "fi"):
            return f"{d.day}. {m} {d.year}"
        return f"{d.day} {m} {d.year}"
    raise ValueError(style)


def money(v: Decimal, lang: str) -> str:
    q = v.quantize(Decimal("0.01"), ROUND_HALF_UP)
    whole, frac = f"{q:.2f}".split(".")
    if lang == "ro":
        return f"{whole}.{frac}"
    sep, dec = {"da": (".", ","), "no": (" ", ","), "sv": (" ", ","), "fi": (" ", ","), "en": (",", ".")}[lang]
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sep.join(groups)}{dec}{frac}"


# ---------------------------------------------------------------- the spec


@dataclass
class Shop:
    name: str
    address: tuple[str, ...]
    vat_label: str | None
    vat_value: str | None
    vat_checksum: str = "valid"  # valid | invalid
    phone: str = ""
    web: str = ""


@dataclass
class DocSpec(PricedLines):
    layout: str
    lang: str
    shop: Shop
    when: dt.datetime
    date_style: str
    number: str | None
    lines: list[Line]
    currency: str
    currency_printed: str
    vat_rate: Decimal
    payment: str
    customer: tuple[str, ...] = ()
    order_number: str | None = None
    handwritten: str | None = None
    handwritten_value: str | None = None
    hand_font: str = "hand-dkg"
    pen: str = "blue"
    hand_place: str = "tail"
    extra: dict = field(default_factory=dict)


    @property
    def date_text(self) -> str:
        return format_date(self.when.date(), self.date_style, self.lang)


# -------------------------------------------------------------------- canvas


class Canvas(Page):
    """A Page that also keeps every drawn text piece (for glyph-level alterations)."""

    def __init__(self, width: int, height: int, paper=(250, 250, 246)):
        super().__init__(width, height, paper)
        self.paper = paper
        self.ops: list[dict] = []

    def t(self, xy, s: str, key: str, size: int, *, fill=INK, anchor="la", name=None, value=None, **meta):
        box = self.text(xy, s, font(key, size), fill=fill, anchor=anchor, name=name, value=value, **meta)
        self.ops.append({"xy": [int(xy[0]), int(xy[1])], "text": s, "font": key, "size": size, "anchor": anchor,
                         "fill": list(fill), "box": list(box)})
        if name:
            self.fields[-1]["_op"] = len(self.ops) - 1
        return box

    def kv(self, xl, xv, y, label, value, key, size, name, norm, *, fill=INK, anchor_v="la", **meta):
        b1 = self.t((xl, y), label, key, size, fill=fill)
        b2 = self.t((xv, y), value, key, size, fill=fill, anchor=anchor_v)
        self.span([b1, b2], name, norm, f"{label} {value}", **meta)
        self.fields[-1]["_op"] = len(self.ops) - 1
        return b1, b2

    def crop_height(self, h: int) -> None:
        super().crop_height(h)


def _vat_meta(spec: DocSpec) -> dict:
    return {"checksum": spec.shop.vat_checksum}


def _hand(page: Canvas, spec: DocSpec, origin, rng: random.Random, size: int, max_width: int | None = None) -> None:
    if not spec.handwritten:
        return
    ink = BLUE_PEN if spec.pen == "blue" else BLACK_PEN
    box = handwrite(page.img, spec.handwritten, origin, rng, font_name=spec.hand_font, size=size, ink=ink,
                    max_width=max_width)
    page.draw = ImageDraw.Draw(page.img)
    page.fields.append({"name": "serial_handwritten", "value": spec.handwritten_value or spec.handwritten,
                        "text": spec.handwritten, "box": list(box), "handwritten": True, "font": spec.hand_font,
                        "ink": spec.pen, "place": spec.hand_place})


# --------------------------------------------------------------- till slips


def render_till(spec: DocSpec, rng: random.Random) -> tuple[Canvas, dict]:
    """Thermal slip: `till_58mm` (440 px), `till_80mm` (640 px) or `bon_fiscal` (RO, 620 px)."""
    width, fs = {"till_58mm": (440, 19), "till_80mm": (640, 23), "bon_fiscal": (620, 23)}[spec.layout]
    w = WORDS[spec.lang]
    lang = spec.lang
    lh = int(fs * 1.32)
    page = Canvas(width, 3000, paper=(250, 250, 246))
    ink = THERMAL_INK
    M, MB = "mono", "mono-bold"
    L, R = 20, width - 20
    cx = width // 2
    y = 36
    if spec.handwritten and spec.hand_place == "top":
        y += 120  # the buyer wrote the serial above the header
    top_y = 20
    ro = spec.layout == "bon_fiscal"
    name = spec.shop.name.upper() if ro else spec.shop.name
    page.t((cx, y), name, MB, fs + (6 if width < 500 else 10), fill=ink, anchor="ma", name="reseller_name",
           value=spec.shop.name)
    y += int(lh * 1.6)
    for a in spec.shop.address:
        page.t((cx, y), a, M, fs, fill=ink, anchor="ma", name="reseller_address")
        y += lh
    if spec.shop.phone and not ro:
        page.t((cx, y), spec.shop.phone, M, fs, fill=ink, anchor="ma")
        y += lh
    if spec.shop.vat_label:
        page.t((cx, y), spec.shop.vat_label, MB if ro else M, fs, fill=ink, anchor="ma", name="reseller_vat",
               value=spec.shop.vat_value, **_vat_meta(spec))
        y += lh
    if ro:
        page.t((cx, y), spec.extra.get("regcom", "J12/2841/2009"), M, fs, fill=ink, anchor="ma")
        y += lh
    y += 10
    page.rule(y, L, R, fill=ink)
    y += 18
    if not ro:
        if spec.number:
            page.kv(L, L + int(page.draw.textlength(w["receipt_no"] + " ", font(M, fs))), y, w["receipt_no"],
                    spec.number, M, fs, "receipt_number", spec.number, fill=ink)
        y += lh
        dl = w["date"]
        page.kv(L, L + int(page.draw.textlength(dl + " ", font(M, fs))), y, dl, spec.date_text, M, fs, "purchase_date",
                spec.when.date().isoformat(), fill=ink, date_style=spec.date_style)
        page.t((R, y), f"{w['time']} {spec.when.strftime('%H:%M')}", M, fs, fill=ink, anchor="ra",
               name="purchase_time", value=spec.when.strftime("%H:%M"))
        y += lh
        page.t((L, y), f"{w['clerk']}: {spec.extra.get('clerk', 'Anna')}", M, fs, fill=ink)
        y += int(lh * 1.2)
        page.rule(y, L, R, fill=ink)
        y += 18
    for ln in spec.lines:
        role = "product_line" if ln.role == "product" else "other_line"
        y0 = y
        if ro:
            page.t((L, y), f"{ln.qty}.000 BUC x {money(ln.price, 'ro')}", M, fs, fill=ink)
            y += lh
        txt = ln.text.upper() if ro else ln.text
        maxw = R - L - page.draw.textlength("  " + money(ln.amount, lang), font(M, fs))
        while page.draw.textlength(txt, font(M, fs)) > maxw and len(txt) > 8:
            txt = txt[:-1]
        txt = txt.rstrip()
        page.t((L, y), txt, M, fs, fill=ink, name=role, value=txt, sku=ln.sku or None)
        fi = len(page.fields) - 1
        page.t((R, y), money(ln.amount, lang) + (" A" if ro else ""), M, fs, fill=ink, anchor="ra",
               name="product_price" if ln.role == "product" else None, value=f"{ln.amount:.2f}")
        page.fields[fi]["_row"] = [L, y0 - 4, R, y + lh - 4]
        y += lh
        if ln.note:
            page.t((L + 20, y), ln.note, M, fs, fill=ink, name="condition_flag" if ln.note_role else None)
            y += lh
    y += 6
    page.rule(y, L, R, fill=ink)
    y += 18
    fb = fs + 6
    b1 = page.t((L, y), w["total"], MB, fb, fill=ink)
    page.t((cx + (10 if width < 500 else 30), y), spec.currency_printed, MB, fb, fill=ink, name="currency",
           value=spec.currency)
    b2 = page.t((R, y), money(spec.total, lang), MB, fb, fill=ink, anchor="ra")
    page.span([b1, b2], "total", f"{spec.total:.2f}", f"{w['total']} {spec.currency_printed} {money(spec.total, lang)}")
    page.fields[-1]["_op"] = len(page.ops) - 1
    y += int(fb * 1.5)
    vl = f"{w['vat']} {spec.vat_rate}%" if not ro else f"TVA A {spec.vat_rate}.00%"
    b1 = page.t((L, y), vl, M, fs, fill=ink)
    b2 = page.t((R, y), money(spec.vat_amount, lang), M, fs, fill=ink, anchor="ra")
    page.span([b1, b2], "vat_amount", f"{spec.vat_amount:.2f}", f"{vl} {money(spec.vat_amount, lang)}")
    y += int(lh * 1.3)
    page.rule(y, L, R, fill=ink)
    y += 18
    page.t((L, y), spec.payment, M, fs, fill=ink, name="payment")
    page.t((R, y), money(spec.total, lang), M, fs, fill=ink, anchor="ra")
    y += lh
    page.t((L, y), f"{w['card']}: **** {spec.extra.get('card4', '4821')}", M, fs, fill=ink)
    y += int(lh * 1.4)
    if ro:
        page.kv(L, L + int(page.draw.textlength("Bon nr. ", font(M, fs))), y, "Bon nr.", spec.number or "", M, fs,
                "receipt_number", spec.number or "", fill=ink)
        y += lh
        page.kv(L, L + int(page.draw.textlength("DATA: ", font(M, fs))), y, "DATA:", spec.date_text, M, fs,
                "purchase_date", spec.when.date().isoformat(), fill=ink, date_style=spec.date_style)
        page.t((R, y), f"ORA: {spec.when.strftime('%H:%M:%S')}", M, fs, fill=ink, anchor="ra", name="purchase_time",
               value=spec.when.strftime("%H:%M"))
        y += int(lh * 1.4)
        page.t((cx, y), "BON FISCAL", MB, fs + 6, fill=ink, anchor="ma", name="document_title")
        y += int(lh * 1.6)
    page.t((cx, y), w["thanks"], MB, fs, fill=ink, anchor="ma")
    y += lh
    page.t((cx, y), w["ret"], M, fs, fill=ink, anchor="ma")
    y += lh
    if spec.shop.web:
        page.t((cx, y), spec.shop.web, M, fs, fill=ink, anchor="ma")
        y += lh
    y += 40
    if spec.handwritten:
        ox = L + rng.randint(0, 40 if spec.hand_place == "top" else 60)
        # the pen stays on the paper: the word is scaled down to the width left of the margin
        if spec.hand_place == "top":
            _hand(page, spec, (ox, top_y), rng, size=rng.randint(42, 52), max_width=width - ox - L)
            y += 30
        else:
            _hand(page, spec, (ox, y), rng, size=rng.randint(42, 54), max_width=width - ox - L)
            y += 140
    else:
        y += 40
    page.crop_height(y + 30)
    _thermal_fade(page, rng)
    return page, {"width_mm": {"till_58mm": 58, "till_80mm": 80, "bon_fiscal": 80}[spec.layout]}


# ----------------------------------------------------------------- A4 pages

A4 = (1654, 2339)  # 200 dpi


def render_a4(spec: DocSpec, rng: random.Random) -> tuple[Canvas, dict]:
    """`a4_invoice` (sans, invoice number) or `order_confirmation` (DejaVu, order number, no receipt number)."""
    order = spec.layout == "order_confirmation"
    w = WORDS[spec.lang]
    lang = spec.lang
    page = Canvas(*A4, paper=(255, 255, 255))
    S, SB = ("dejavu", "dejavu-bold") if order else ("sans", "sans-bold")
    fs = 27
    L, R = 130, A4[0] - 130
    y = 130
    page.t((L, y), spec.shop.name, SB, 46, name="reseller_name")
    title = w["order"] if order else w["invoice"]
    page.t((R, 130), title, SB, 40, anchor="ra", name="document_title")
    y += 66
    for a in spec.shop.address:
        page.t((L, y), a, S, fs, name="reseller_address")
        y += 36
    if spec.shop.phone:
        page.t((L, y), spec.shop.phone, S, fs)
        y += 36
    if spec.shop.vat_label:
        page.t((L, y), spec.shop.vat_label, S, fs, name="reseller_vat", value=spec.shop.vat_value, **_vat_meta(spec))
        y += 36
    if spec.shop.web:
        page.t((L, y), spec.shop.web, S, fs)
        y += 36
    xl, xv = 1000, 1290
    yy = 220
    if order:
        page.kv(xl - 80, xv, yy, w["order_no"], spec.order_number or "", S, fs, "order_number", spec.order_number or "")
    else:
        page.kv(xl, xv, yy, w["invoice_no"], spec.number or "", S, fs, "receipt_number", spec.number or "")
    page.kv(xl - (80 if order else 0), xv, yy + 42, w["order_date"] if order else w["invoice_date"], spec.date_text,
            S, fs, "purchase_date", spec.when.date().isoformat(), date_style=spec.date_style)
    y = max(y, yy + 100) + 50
    hand_top = None
    if spec.handwritten and spec.hand_place == "top":
        hand_top = (1000 + rng.randint(0, 60), y)
        y += 120
    page.t((L, y), w["customer"], SB, fs)
    y += 42
    for c in spec.customer:
        page.t((L, y), c, S, fs, name="customer")
        y += 36
    y += 60
    xs = (L, 360, 1080, 1290, R)
    heads = [(w["itemno"], L, "la"), (w["desc"], 360, "la"), (w["qty"], 1080, "ra"), (w["price"], 1290, "ra"),
             (w["amount"], R, "ra")]
    for h, x, a in heads:
        page.t((x, y), h, SB, fs, anchor=a)
    y += 44
    page.rule(y, L, R, dashed=False, width=2)
    y += 18
    for ln in spec.lines:
        role = "product_line" if ln.role == "product" else "other_line"
        if ln.sku:
            page.t((xs[0], y), ln.sku, S, fs, name="sku" if ln.role == "product" else None)
        page.t((xs[1], y), ln.text, S, fs, name=role, sku=ln.sku or None)
        fi = len(page.fields) - 1
        page.t((xs[2], y), str(ln.qty), S, fs, anchor="ra")
        page.t((xs[3], y), money(ln.price, lang), S, fs, anchor="ra")
        page.t((xs[4], y), money(ln.amount, lang), S, fs, anchor="ra",
               name="product_price" if ln.role == "product" else None, value=f"{ln.amount:.2f}")
        page.fields[fi]["_row"] = [L - 4, y - 4, R + 4, y + 38]
        y += 44
        if ln.note:
            page.t((xs[1], y), ln.note, S, fs, name="condition_flag" if ln.note_role else None)
            y += 44
    page.rule(y, L, R, dashed=False, width=2)
    y += 26
    xl2 = 900
    page.t((xl2, y), w["sub"], S, fs)
    page.t((R, y), money(spec.total - spec.vat_amount, lang), S, fs, anchor="ra")
    y += 42
    vl = f"{w['vat']} {spec.vat_rate}%"
    b1 = page.t((xl2, y), vl, S, fs)
    b2 = page.t((R, y), money(spec.vat_amount, lang), S, fs, anchor="ra")
    page.span([b1, b2], "vat_amount", f"{spec.vat_amount:.2f}", f"{vl} {money(spec.vat_amount, lang)}")
    y += 48
    b1 = page.t((xl2, y), f"{w['total']} {spec.currency_printed}", SB, 30)
    b2 = page.t((R, y), money(spec.total, lang), SB, 30, anchor="ra")
    page.span([b1, b2], "total", f"{spec.total:.2f}", f"{w['total']} {spec.currency_printed} {money(spec.total, lang)}")
    page.fields[-1]["_op"] = len(page.ops) - 1
    y += 90
    page.t((L, y), spec.payment, S, fs, name="payment")
    y += 44
    if order:
        page.t((L, y), w["not_invoice"], S, 24)
        y += 44
    y += 40
    if spec.handwritten:
        if hand_top:
            _hand(page, spec, hand_top, rng, size=rng.randint(56, 66), max_width=R - hand_top[0])
        elif spec.hand_place == "right":
            _hand(page, spec, (R - 560 + rng.randint(0, 60), y + rng.randint(0, 60)), rng, size=rng.randint(56, 66),
                  max_width=540)
        else:
            _hand(page, spec, (L + rng.randint(0, 80), y + rng.randint(10, 60)), rng, size=rng.randint(56, 66))
    foot = A4[1] - 150
    page.rule(foot - 20, L, R, dashed=False, width=1)
    page.t((A4[0] // 2, foot), f"{spec.shop.name} · {' · '.join(spec.shop.address)}", S, 22, anchor="ma")
    return page, {"dpi": 200, "paper": "A4"}


def render_image(spec: DocSpec, rng: random.Random) -> tuple[Canvas, dict]:
    if spec.layout in ("till_58mm", "till_80mm", "bon_fiscal"):
        return render_till(spec, rng)
    return render_a4(spec, rng)


# ------------------------------------------------------ text-layer PDF invoice


def pdf_safe(s: str) -> str:
    """Helvetica (WinAnsi) has no ă ș ț: write them as the base letter, as many Romanian shops do."""
    out = []
    for ch in s:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            out.append(unicodedata.normalize("NFKD", ch)[0])
    return "".join(out)


def render_webshop_pdf(spec: DocSpec, path: Path, *, producer: str = "claimcheck sample generator",
                       creator: str = "claimcheck sample generator") -> tuple[list[dict], tuple[float, float]]:
    """A web-shop invoice PDF with a text layer (Helvetica, uncompressed). Boxes in points, origin top-left."""
    from reportlab.lib.pagesizes import A4 as PA4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    W, H = PA4
    w = {k: pdf_safe(v) for k, v in WORDS[spec.lang].items()}
    lang = spec.lang
    c = canvas.Canvas(str(path), pagesize=PA4, invariant=1, pageCompression=0)
    c.setTitle(pdf_safe(f"{w['invoice']} {spec.number}"))
    c.setAuthor(pdf_safe(spec.shop.name))
    c.setCreator(creator)
    c.setProducer(producer)
    fields: list[dict] = []

    def box(x, y, s, fnt, size, anchor="l"):
        wdt = pdfmetrics.stringWidth(s, fnt, size)
        asc, desc = pdfmetrics.getAscentDescent(fnt, size)
        x0 = x - wdt if anchor == "r" else x
        return [round(x0, 2), round(H - (y + asc), 2), round(x0 + wdt, 2), round(H - (y + desc), 2)]

    def text(x, y, s, fnt="Helvetica", size=10.0, anchor="l", name=None, value=None, **meta):
        s = pdf_safe(s)
        c.setFont(fnt, size)
        (c.drawRightString if anchor == "r" else c.drawString)(x, y, s)
        b = box(x, y, s, fnt, size, anchor)
        if name:
            fields.append({"name": name, "value": value if value is not None else s, "text": s, "box": b, **meta})
        return b

    def span(bs, name, value, s, **meta):
        fields.append({"name": name, "value": value, "text": pdf_safe(s),
                       "box": [min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs),
                               max(b[3] for b in bs)], **meta})

    L, R = 56, W - 56
    y = H - 64
    c.setFillColorRGB(0.12, 0.3, 0.55)
    c.rect(0, H - 30, W, 30, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    text(L, y, spec.shop.name, "Helvetica-Bold", 18, name="reseller_name", value=spec.shop.name)
    text(R, y, w["invoice"], "Helvetica-Bold", 20, "r", name="document_title")
    y -= 18
    for a in spec.shop.address:
        text(L, y, a, size=10, name="reseller_address", value=a)
        y -= 13
    if spec.shop.vat_label:
        text(L, y, spec.shop.vat_label, size=10, name="reseller_vat", value=spec.shop.vat_value,
             checksum=spec.shop.vat_checksum)
        y -= 13
    if spec.shop.web:
        text(L, y, spec.shop.web, size=10)
        y -= 13
    yy = H - 100
    for label, val, name, norm, meta in [
        (w["invoice_no"], spec.number or "", "receipt_number", spec.number or "", {}),
        (w["invoice_date"], spec.date_text, "purchase_date", spec.when.date().isoformat(), {"date_style": spec.date_style}),
        (w["order_no"].rstrip(":"), spec.order_number or "", "order_number", spec.order_number or "", {}),
    ]:
        b1 = text(350, yy, label, size=10)
        b2 = text(R, yy, val, size=10, anchor="r")
        span([b1, b2], name, norm, f"{label} {val}", **meta)
        yy -= 14
    y = min(y, yy) - 30
    text(L, y, w["customer"], "Helvetica-Bold", 10)
    y -= 14
    for cl in spec.customer:
        text(L, y, cl, size=10, name="customer", value=cl)
        y -= 13
    y -= 30
    for h, x, a in [(w["itemno"], L, "l"), (w["desc"], 140, "l"), (w["qty"], 390, "r"), (w["price"], 465, "r"),
                    (w["amount"], R, "r")]:
        text(x, y, h, "Helvetica-Bold", 10, a)
    y -= 6
    c.setLineWidth(0.8)
    c.line(L, y, R, y)
    y -= 16
    for ln in spec.lines:
        if ln.sku:
            text(L, y, ln.sku, size=9, name="sku" if ln.role == "product" else None)
        text(140, y, ln.text, size=9, name="product_line" if ln.role == "product" else "other_line", value=pdf_safe(ln.text))
        text(390, y, str(ln.qty), size=9, anchor="r")
        text(465, y, money(ln.price, lang), size=9, anchor="r")
        text(R, y, money(ln.amount, lang), size=9, anchor="r", name="product_price" if ln.role == "product" else None,
             value=f"{ln.amount:.2f}")
        y -= 16
    c.line(L, y + 6, R, y + 6)
    y -= 14
    text(350, y, w["sub"], size=10)
    text(R, y, money(spec.total - spec.vat_amount, lang), size=10, anchor="r")
    y -= 15
    vl = f"{w['vat']} {spec.vat_rate}%"
    b1 = text(350, y, vl, size=10)
    b2 = text(R, y, money(spec.vat_amount, lang), size=10, anchor="r")
    span([b1, b2], "vat_amount", f"{spec.vat_amount:.2f}", f"{vl} {money(spec.vat_amount, lang)}")
    y -= 18
    tl = f"{w['total']} {spec.currency_printed}"
    b1 = text(350, y, tl, "Helvetica-Bold", 11)
    b2 = text(R, y, money(spec.total, lang), "Helvetica-Bold", 11, anchor="r")
    span([b1, b2], "total", f"{spec.total:.2f}", f"{tl} {money(spec.total, lang)}", amount_text=money(spec.total, lang),
         amount_box=b2)
    y -= 40
    text(L, y, spec.payment, size=10, name="payment")
    c.setFont("Helvetica", 8)
    c.drawCentredString(W / 2, 40, pdf_safe(f"{spec.shop.name} · {' · '.join(spec.shop.address)}"))
    c.showPage()
    c.save()
    return fields, (W, H)
