"""Receipt rendering: thermal till slips, A4 invoices, order confirmations, an
Amazon marketplace invoice, a Romanian bon fiscal (all Pillow) and a
text-layer PDF invoice (reportlab).

Every drawn field is recorded with its box, so truth.json can say where each
value is. Image boxes are (x0, y0, x1, y1) in pixels; PDF boxes are in points
with the origin top-left (as pdfplumber reports them).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from pipeline.samples.fonts import font, font_path

INK = (22, 22, 24)
THERMAL_INK = (38, 36, 40)
PAPER = (253, 252, 248)
BLUE_PEN = (28, 52, 150)
BLACK_PEN = (30, 30, 38)


# --------------------------------------------------------------------- data


@dataclass(frozen=True)
class Shop:
    name: str
    address: tuple[str, ...]
    vat_label: str | None  # e.g. "CVR-nr. 12972997"; None = no VAT number printed
    vat_value: str | None  # normalised, e.g. "DK12972997"
    phone: str = ""
    web: str = ""


@dataclass(frozen=True)
class Line:
    text: str
    price: Decimal  # unit price incl. VAT
    qty: int = 1
    role: str = "item"  # "product" = the claimed product; "item" = other goods
    sku: str = ""
    note: str = ""  # a second printed line, e.g. "Demovare - udstillingsmodel"
    note_role: str = ""  # "condition" when the note flags the product's condition

    @property
    def amount(self) -> Decimal:
        return self.price * self.qty


class PricedLines:
    """The arithmetic of a document's lines, shared by every receipt spec:
    the total and the VAT it includes at the document's rate."""

    lines: list[Line]
    vat_rate: Decimal

    @property
    def total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), Decimal("0"))

    @property
    def vat_amount(self) -> Decimal:
        r = self.vat_rate / Decimal(100)
        return (self.total * r / (1 + r)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class ReceiptSpec(PricedLines):
    layout: str  # till | invoice | order_confirmation | amazon | bon_fiscal | pdf_invoice
    lang: str  # da | no | ro | de
    shop: Shop
    when: dt.datetime
    number: str | None  # receipt / invoice number as printed (without label)
    lines: list[Line]
    currency: str
    vat_rate: Decimal
    payment: str
    handwritten: str | None = None  # what the claimant wrote, e.g. "S/N 54218873"
    handwritten_value: str | None = None  # the serial in it
    pen: str = "blue"
    hand_font: str = "hand-dkg"
    customer: tuple[str, ...] = ()
    order_number: str | None = None
    extra: dict = field(default_factory=dict)



def money(v: Decimal, style: str) -> str:
    """7999 -> '7.999,00' (da/de), '7 999,00' (no), '7999.00' (ro)."""
    q = v.quantize(Decimal("0.01"), ROUND_HALF_UP)
    whole, frac = f"{q:.2f}".split(".")
    if style == "ro":
        return f"{whole}.{frac}"
    sep = " " if style == "no" else "."
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sep.join(groups)},{frac}"


# ------------------------------------------------------------------- canvas


class Page:
    """A Pillow page that records the box of every field it draws."""

    def __init__(self, width: int, height: int, paper=PAPER):
        self.img = Image.new("RGB", (width, height), paper)
        self.draw = ImageDraw.Draw(self.img)
        self.fields: list[dict] = []
        self.width = width

    def text(self, xy, s: str, fnt, *, fill=INK, anchor="la", name: str | None = None,
             value: str | None = None, **meta) -> tuple[int, int, int, int]:
        self.draw.text(xy, s, font=fnt, fill=fill, anchor=anchor)
        box = tuple(int(round(v)) for v in self.draw.textbbox(xy, s, font=fnt, anchor=anchor))
        if name:
            rec = {"name": name, "value": value if value is not None else s, "text": s, "box": list(box)}
            rec.update(meta)
            self.fields.append(rec)
        return box  # type: ignore[return-value]

    def span(self, boxes, name: str, value: str, text: str, **meta) -> None:
        """Record one field that spans several drawn pieces (e.g. label + value)."""
        x0 = min(b[0] for b in boxes)
        y0 = min(b[1] for b in boxes)
        x1 = max(b[2] for b in boxes)
        y1 = max(b[3] for b in boxes)
        rec = {"name": name, "value": value, "text": text, "box": [x0, y0, x1, y1]}
        rec.update(meta)
        self.fields.append(rec)

    def rule(self, y: int, x0: int, x1: int, *, dashed: bool = True, fill=INK, width: int = 2) -> None:
        if dashed:
            for x in range(x0, x1, 14):
                self.draw.line([(x, y), (min(x + 8, x1), y)], fill=fill, width=width)
        else:
            self.draw.line([(x0, y), (x1, y)], fill=fill, width=width)

    def crop_height(self, h: int) -> None:
        self.img = self.img.crop((0, 0, self.img.width, h))
        self.draw = ImageDraw.Draw(self.img)


# -------------------------------------------------------------- handwriting


def handwrite(img: Image.Image, text: str, origin: tuple[int, int], rng: random.Random, *,
              font_name: str = "hand-dkg", size: int = 50, ink=BLUE_PEN,
              max_width: int | None = None) -> tuple[int, int, int, int]:
    """Write `text` in pen on `img` (in place), per-character jitter and rotation, the
    whole word slightly tilted; `size` is the digit height in pixels. Returns the ink's bounding box in `img` pixels."""
    # `size` is the wanted digit height in pixels; scale the font to it
    ref = font(font_name, 100).getbbox("8", anchor="ls")
    size = max(12, int(round(size * 100 / max(1, ref[3] - ref[1]))))
    fnt = font(font_name, size)
    pad = size
    est = int(sum(fnt.getlength(c) for c in text) * 1.15) + 2 * pad
    layer = Image.new("L", (est, size * 3), 0)
    x = pad
    base = int(size * 1.6)
    stroke = 1 if size >= 50 else 0
    for ch in text:
        adv = fnt.getlength(ch)
        if ch == " ":
            x += adv * rng.uniform(0.9, 1.2)
            continue
        g = Image.new("L", (int(size * 2), int(size * 2.4)), 0)
        ImageDraw.Draw(g).text((size * 0.5, size * 1.6), ch, font=fnt, fill=255, anchor="ls",
                               stroke_width=stroke, stroke_fill=255)
        g = g.rotate(rng.uniform(-7, 7), resample=Image.BICUBIC, center=(size * 0.5 + adv / 2, size * 1.3))
        gx = int(x - size * 0.5 + rng.uniform(-2, 2))
        gy = int(base - size * 1.6 + rng.uniform(-size * 0.06, size * 0.06))
        tile = Image.new("L", layer.size, 0)
        tile.paste(g, (gx, gy))
        layer = ImageChops.lighter(layer, tile)
        x += adv * rng.uniform(1.03, 1.15)
    layer = layer.crop(layer.getbbox())
    layer = layer.rotate(rng.uniform(-4, 4), resample=Image.BICUBIC, expand=True)
    if max_width and layer.width > max_width:
        r = max_width / layer.width
        layer = layer.resize((max_width, max(1, int(layer.height * r))), Image.LANCZOS)
    # pen pressure: the ink is a little uneven
    a = np.asarray(layer, dtype=np.float32) / 255.0
    nrng = np.random.default_rng(rng.randrange(2**32))
    a *= np.clip(0.93 + nrng.normal(0, 0.05, a.shape), 0.75, 1.0)
    ox, oy = origin
    W, H = img.size
    x1 = min(W, ox + layer.width)
    y1 = min(H, oy + layer.height)
    a = a[: y1 - oy, : x1 - ox]
    region = np.asarray(img.crop((ox, oy, x1, y1)), dtype=np.float32)
    out = region * (1 - a[..., None]) + np.float32(ink) * a[..., None]
    img.paste(Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)), (ox, oy))
    ys, xs = np.nonzero(a > 0.25)
    return (int(ox + xs.min()), int(oy + ys.min()), int(ox + xs.max() + 1), int(oy + ys.max() + 1))


def _pen(spec: ReceiptSpec):
    return BLUE_PEN if spec.pen == "blue" else BLACK_PEN


def _write_serial(page: Page, spec: ReceiptSpec, origin, rng, size: int, max_width: int | None = None) -> None:
    if not spec.handwritten:
        return
    box = handwrite(page.img, spec.handwritten, origin, rng, font_name=spec.hand_font, size=size,
                    ink=_pen(spec), max_width=max_width)
    page.fields.append({"name": "serial_handwritten", "value": spec.handwritten_value or spec.handwritten,
                        "text": spec.handwritten, "box": list(box), "handwritten": True,
                        "font": spec.hand_font, "ink": spec.pen})


# --------------------------------------------------------------- wording

WORDS = {
    "da": dict(receipt_no="Kvitteringsnr.", date="Dato", time="Kl.", total="I ALT", vat="Heraf moms",
               till="Kasse", clerk="Ekspedient", thanks="Tak for dit køb!", ret="Bytteret 30 dage mod kvittering",
               card="Kort", qty="stk"),
    "no": dict(receipt_no="Kvittering nr.", date="Dato", time="Tid", total="Totalt", vat="Herav MVA",
               till="Kasse", clerk="Betjent av", thanks="Takk for handelen!", ret="Åpent kjøp 30 dager",
               card="Kort", qty="stk"),
}


def _money_style(spec: ReceiptSpec) -> str:
    return {"da": "da", "de": "da", "no": "no", "ro": "ro"}[spec.lang]


# ----------------------------------------------------------------- till slip


def render_till(spec: ReceiptSpec, rng: random.Random, width: int = 640) -> tuple[Image.Image, list[dict]]:
    """A narrow thermal till receipt (DK / NO)."""
    w = WORDS[spec.lang]
    ms = _money_style(spec)
    page = Page(width, 2600, paper=(250, 250, 246))
    f = font("mono", 23)
    fb = font("mono-bold", 23)
    fh = font("mono-bold", 34)
    fbig = font("mono-bold", 29)
    L, R = 26, width - 26
    cx = width // 2
    ink = THERMAL_INK
    y = 40
    page.text((cx, y), spec.shop.name, fh, fill=ink, anchor="ma", name="reseller_name")
    y += 50
    for a in spec.shop.address:
        page.text((cx, y), a, f, fill=ink, anchor="ma", name="reseller_address")
        y += 30
    if spec.shop.phone:
        page.text((cx, y), spec.shop.phone, f, fill=ink, anchor="ma")
        y += 30
    if spec.shop.vat_label:
        page.text((cx, y), spec.shop.vat_label, f, fill=ink, anchor="ma", name="reseller_vat",
                  value=spec.shop.vat_value)
        y += 30
    y += 10
    page.rule(y, L, R, fill=ink)
    y += 18
    if spec.number:
        b1 = page.text((L, y), w["receipt_no"], f, fill=ink)
        b2 = page.text((b1[2] + 14, y), spec.number, f, fill=ink)
        page.span([b1, b2], "receipt_number", spec.number, f"{w['receipt_no']} {spec.number}")
    page.text((R, y), f"{w['till']} {spec.extra.get('till', 2)}", f, fill=ink, anchor="ra")
    y += 32
    d = spec.when.strftime("%d.%m.%Y")
    b1 = page.text((L, y), w["date"], f, fill=ink)
    b2 = page.text((b1[2] + 14, y), d, f, fill=ink)
    page.span([b1, b2], "purchase_date", spec.when.date().isoformat(), f"{w['date']} {d}")
    page.text((R, y), f"{w['time']} {spec.when.strftime('%H:%M')}", f, fill=ink, anchor="ra",
              name="purchase_time", value=spec.when.strftime("%H:%M"))
    y += 32
    page.text((L, y), f"{w['clerk']}: {spec.extra.get('clerk', 'Mette')}", f, fill=ink)
    y += 36
    page.rule(y, L, R, fill=ink)
    y += 18
    for ln in spec.lines:
        name = "product_line" if ln.role == "product" else "other_line"
        if ln.sku:
            page.text((L, y), ln.sku, f, fill=ink, name="sku" if ln.role == "product" else None)
            y += 30
        page.text((L, y), ln.text, f, fill=ink, name=name, value=ln.text)
        if ln.qty == 1 and f.getlength(ln.text + "  " + money(ln.amount, ms)) > R - L - 24:
            y += 30
            page.text((R, y), money(ln.amount, ms), f, fill=ink, anchor="ra",
                      name="product_price" if ln.role == "product" else None)
        elif ln.qty == 1:
            page.text((R, y), money(ln.amount, ms), f, fill=ink, anchor="ra",
                      name="product_price" if ln.role == "product" else None)
        else:
            y += 30
            page.text((L + 28, y), f"{ln.qty} {w['qty']} x {money(ln.price, ms)}", f, fill=ink)
            page.text((R, y), money(ln.amount, ms), f, fill=ink, anchor="ra")
        y += 30
        if ln.note:
            page.text((L + 28, y), ln.note, f, fill=ink, name="condition_flag" if ln.note_role else None,
                      value=ln.note)
            y += 30
    y += 6
    page.rule(y, L, R, fill=ink)
    y += 18
    b1 = page.text((L, y), w["total"], fbig, fill=ink)
    page.text((cx + 20, y), spec.currency, fbig, fill=ink, name="currency")
    b2 = page.text((R, y), money(spec.total, ms), fbig, fill=ink, anchor="ra")
    page.span([b1, b2], "total", f"{spec.total:.2f}", f"{w['total']} {spec.currency} {money(spec.total, ms)}")
    y += 44
    b1 = page.text((L, y), f"{w['vat']} {spec.vat_rate}%", f, fill=ink)
    b2 = page.text((R, y), money(spec.vat_amount, ms), f, fill=ink, anchor="ra")
    page.span([b1, b2], "vat_amount", f"{spec.vat_amount:.2f}", f"{w['vat']} {spec.vat_rate}% {money(spec.vat_amount, ms)}")
    y += 34
    page.rule(y, L, R, fill=ink)
    y += 18
    page.text((L, y), spec.payment, f, fill=ink, name="payment")
    page.text((R, y), money(spec.total, ms), f, fill=ink, anchor="ra")
    y += 30
    page.text((L, y), f"{w['card']}: XXXX XXXX XXXX {spec.extra.get('card4', '4821')}", f, fill=ink)
    y += 30
    page.text((L, y), f"Aut.kode: {spec.extra.get('auth', '038412')}   Term: 00{spec.extra.get('till', 2)}1847", f, fill=ink)
    y += 40
    page.rule(y, L, R, fill=ink)
    y += 22
    page.text((cx, y), w["thanks"], fb, fill=ink, anchor="ma")
    y += 32
    page.text((cx, y), w["ret"], f, fill=ink, anchor="ma")
    y += 30
    if spec.shop.web:
        page.text((cx, y), spec.shop.web, f, fill=ink, anchor="ma")
        y += 30
    y += 40
    # the blank tail of the slip, where the buyer writes the serial in pen
    if spec.handwritten:
        _write_serial(page, spec, (L + rng.randint(10, 90), y), rng, size=rng.randint(46, 56),
                      max_width=width - 2 * L - 40)
        y += 140
    else:
        y += 60
    page.crop_height(y + 30)
    _thermal_fade(page, rng)
    return page.img, page.fields


def _thermal_fade(page: Page, rng: random.Random) -> None:
    """Thermal print is a little uneven: fade the print slightly along the slip."""
    a = np.asarray(page.img, dtype=np.float32)
    h = a.shape[0]
    ramp = np.linspace(0, rng.uniform(0.08, 0.16), h, dtype=np.float32)[:, None, None]
    a = a + (255 - a) * ramp * (a[..., 2:3] < 200)  # only lift the printed (dark) pixels
    page.img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    page.draw = ImageDraw.Draw(page.img)


# ------------------------------------------------------------ bon fiscal (RO)


def render_bon_fiscal(spec: ReceiptSpec, rng: random.Random, width: int = 620) -> tuple[Image.Image, list[dict]]:
    page = Page(width, 2600, paper=(251, 250, 247))
    f = font("mono", 23)
    fb = font("mono-bold", 24)
    fh = font("mono-bold", 30)
    ink = THERMAL_INK
    L, R = 24, width - 24
    cx = width // 2
    y = 36
    page.text((cx, y), spec.shop.name.upper(), fh, fill=ink, anchor="ma", name="reseller_name", value=spec.shop.name)
    y += 46
    for a in spec.shop.address:
        page.text((cx, y), a, f, fill=ink, anchor="ma", name="reseller_address")
        y += 30
    if spec.shop.vat_label:
        page.text((cx, y), spec.shop.vat_label, fb, fill=ink, anchor="ma", name="reseller_vat", value=spec.shop.vat_value)
        y += 32
    page.text((cx, y), spec.extra.get("regcom", "J12/2841/2009"), f, fill=ink, anchor="ma")
    y += 40
    page.rule(y, L, R, fill=ink)
    y += 18
    for ln in spec.lines:
        page.text((L, y), f"{ln.qty}.000 BUC x {money(ln.price, 'ro')}", f, fill=ink)
        y += 30
        page.text((L, y), ln.text.upper(), f, fill=ink, name="product_line" if ln.role == "product" else "other_line",
                  value=ln.text)
        page.text((R, y), f"{money(ln.amount, 'ro')} A", f, fill=ink, anchor="ra")
        y += 34
    page.rule(y, L, R, fill=ink)
    y += 18
    page.text((L, y), "SUBTOTAL", f, fill=ink)
    page.text((R, y), money(spec.total, "ro"), f, fill=ink, anchor="ra")
    y += 34
    b1 = page.text((L, y), "TOTAL", fh, fill=ink)
    page.text((cx + 30, y), "LEI", fh, fill=ink, name="currency", value="RON")
    b2 = page.text((R, y), money(spec.total, "ro"), fh, fill=ink, anchor="ra")
    page.span([b1, b2], "total", f"{spec.total:.2f}", f"TOTAL LEI {money(spec.total, 'ro')}")
    y += 46
    page.text((L, y), spec.payment, f, fill=ink, name="payment")
    page.text((R, y), money(spec.total, "ro"), f, fill=ink, anchor="ra")
    y += 34
    page.text((L, y), "TOTAL TVA", f, fill=ink)
    page.text((R, y), money(spec.vat_amount, "ro"), f, fill=ink, anchor="ra")
    y += 30
    b1 = page.text((L, y), f"TVA A {spec.vat_rate}.00%", f, fill=ink)
    b2 = page.text((R, y), money(spec.vat_amount, "ro"), f, fill=ink, anchor="ra")
    page.span([b1, b2], "vat_amount", f"{spec.vat_amount:.2f}", f"TVA A {spec.vat_rate}.00% {money(spec.vat_amount, 'ro')}")
    y += 38
    page.rule(y, L, R, fill=ink)
    y += 18
    b1 = page.text((L, y), "Bon nr.", f, fill=ink)
    b2 = page.text((b1[2] + 12, y), spec.number or "", f, fill=ink)
    page.span([b1, b2], "receipt_number", spec.number or "", f"Bon nr. {spec.number}")
    page.text((R, y), f"Z: {spec.extra.get('z', '0318')}", f, fill=ink, anchor="ra")
    y += 30
    d = spec.when.strftime("%d/%m/%Y")
    b1 = page.text((L, y), "DATA:", f, fill=ink)
    b2 = page.text((b1[2] + 12, y), d, f, fill=ink)
    page.span([b1, b2], "purchase_date", spec.when.date().isoformat(), f"DATA: {d}")
    page.text((R, y), f"ORA: {spec.when.strftime('%H:%M:%S')}", f, fill=ink, anchor="ra",
              name="purchase_time", value=spec.when.strftime("%H:%M"))
    y += 40
    page.text((cx, y), "BON FISCAL", fh, fill=ink, anchor="ma", name="document_title")
    y += 44
    page.text((cx, y), f"ID UNIC: {spec.extra.get('idunic', '4204117283')}", f, fill=ink, anchor="ma")
    y += 30
    page.text((cx, y), "VA MULTUMIM!", fb, fill=ink, anchor="ma")
    y += 60
    page.crop_height(y + 20)
    _thermal_fade(page, rng)
    return page.img, page.fields


# ---------------------------------------------------- A4 documents (Pillow)

A4_200DPI = (1654, 2339)


def _a4_header(page: Page, spec: ReceiptSpec, title: str) -> int:
    fh = font("sans-bold", 46)
    f = font("sans", 27)
    ft = font("sans-bold", 40)
    L = 130
    y = 130
    page.text((L, y), spec.shop.name, fh, name="reseller_name")
    y += 66
    for a in spec.shop.address:
        page.text((L, y), a, f, name="reseller_address")
        y += 36
    if spec.shop.phone:
        page.text((L, y), spec.shop.phone, f)
        y += 36
    if spec.shop.vat_label:
        page.text((L, y), spec.shop.vat_label, f, name="reseller_vat", value=spec.shop.vat_value)
        y += 36
    if spec.shop.web:
        page.text((L, y), spec.shop.web, f)
        y += 36
    page.text((page.width - 130, 130), title, ft, anchor="ra", name="document_title")
    return y


def _kv(page: Page, x_label: int, x_value: int, y: int, label: str, value: str, fnt, name: str | None = None,
        norm: str | None = None) -> None:
    b1 = page.text((x_label, y), label, fnt)
    b2 = page.text((x_value, y), value, fnt)
    if name:
        page.span([b1, b2], name, norm if norm is not None else value, f"{label} {value}")


def _items_table(page: Page, spec: ReceiptSpec, y: int, cols: dict, ms: str) -> int:
    f = font("sans", 27)
    fb = font("sans-bold", 27)
    L, R = 130, page.width - 130
    for key, (x, anchor) in cols["head"].items():
        page.text((x, y), key, fb, anchor=anchor)
    y += 44
    page.rule(y, L, R, dashed=False, width=2)
    y += 18
    for ln in spec.lines:
        x_sku, x_desc, x_qty, x_price, x_amt = cols["x"]
        if ln.sku:
            page.text((x_sku, y), ln.sku, f, name="sku" if ln.role == "product" else None)
        page.text((x_desc, y), ln.text, f, name="product_line" if ln.role == "product" else "other_line")
        page.text((x_qty, y), str(ln.qty), f, anchor="ra")
        page.text((x_price, y), money(ln.price, ms), f, anchor="ra")
        page.text((x_amt, y), money(ln.amount, ms), f, anchor="ra",
                  name="product_price" if ln.role == "product" else None)
        y += 42
        if ln.note:
            page.text((x_desc, y), ln.note, f, name="condition_flag" if ln.note_role else None)
            y += 42
    page.rule(y, L, R, dashed=False, width=2)
    return y + 24


def render_invoice(spec: ReceiptSpec, rng: random.Random) -> tuple[Image.Image, list[dict]]:
    """A Danish A4 invoice ("Faktura"), 200 dpi."""
    page = Page(*A4_200DPI, paper=(255, 255, 255))
    f = font("sans", 27)
    fb = font("sans-bold", 30)
    ms = _money_style(spec)
    L, R = 130, page.width - 130
    y = _a4_header(page, spec, "FAKTURA")
    xl, xv = 1000, 1260
    yy = 210
    _kv(page, xl, xv, yy, "Fakturanr.", spec.number or "", f, "receipt_number")
    _kv(page, xl, xv, yy + 40, "Fakturadato", spec.when.strftime("%d.%m.%Y"), f, "purchase_date",
        spec.when.date().isoformat())
    _kv(page, xl, xv, yy + 80, "Kundenr.", spec.extra.get("customer_no", "40718"), f)
    _kv(page, xl, xv, yy + 120, "Betalt", spec.when.strftime("%d.%m.%Y"), f)
    y = max(y, yy + 160) + 60
    page.text((L, y), "Faktureres til:", fb)
    y += 44
    for c in spec.customer:
        page.text((L, y), c, f, name="customer")
        y += 36
    y += 60
    ms_cols = {
        "head": {"Varenr.": (L, "la"), "Beskrivelse": (330, "la"), "Antal": (1080, "ra"),
                 "Stk.pris": (1280, "ra"), "Beløb": (R, "ra")},
        "x": (L, 330, 1080, 1280, R),
    }
    y = _items_table(page, spec, y, ms_cols, ms)
    net = spec.total - spec.vat_amount
    xl2 = 950
    b1 = page.text((xl2, y), "Subtotal ekskl. moms", f)
    page.text((R, y), money(net, ms), f, anchor="ra")
    y += 42
    b1 = page.text((xl2, y), f"Moms {spec.vat_rate}%", f)
    b2 = page.text((R, y), money(spec.vat_amount, ms), f, anchor="ra")
    page.span([b1, b2], "vat_amount", f"{spec.vat_amount:.2f}", f"Moms {spec.vat_rate}% {money(spec.vat_amount, ms)}")
    y += 48
    b1 = page.text((xl2, y), f"I alt {spec.currency}", fb)
    b2 = page.text((R, y), money(spec.total, ms), fb, anchor="ra")
    page.span([b1, b2], "total", f"{spec.total:.2f}", f"I alt {spec.currency} {money(spec.total, ms)}")
    y += 80
    page.text((L, y), spec.payment, f, name="payment")
    y += 40
    page.text((L, y), "Betalingsbetingelser: Netto kontant. Fakturaen er betalt.", f)
    y += 60
    # the handwritten serial, in the free space left of the totals / under the payment line
    _write_serial(page, spec, (L + rng.randint(0, 80), y + rng.randint(10, 60)), rng, size=rng.randint(56, 66))
    foot = A4_200DPI[1] - 150
    page.rule(foot - 20, L, R, dashed=False, width=1)
    page.text((page.width // 2, foot), f"{spec.shop.name} · {' · '.join(spec.shop.address)} · "
              f"{spec.shop.vat_label or ''}", font("sans", 22), anchor="ma")
    return page.img, page.fields


def render_order_confirmation(spec: ReceiptSpec, rng: random.Random) -> tuple[Image.Image, list[dict]]:
    """A printed web-shop order confirmation (DK): order number, no receipt number."""
    page = Page(*A4_200DPI, paper=(255, 255, 255))
    f = font("dejavu", 26)
    fb = font("dejavu-bold", 28)
    fh = font("dejavu-bold", 50)
    ms = _money_style(spec)
    L, R = 130, page.width - 130
    y = 110
    page.text((L, y), spec.shop.name, fh, name="reseller_name")
    page.text((R, y + 12), spec.shop.web, f, anchor="ra")
    y += 90
    page.rule(y, L, R, dashed=False, width=3)
    y += 50
    page.text((L, y), "Ordrebekræftelse", font("dejavu-bold", 44), name="document_title")
    y += 80
    page.text((L, y), f"Tak for din ordre, {spec.customer[0] if spec.customer else 'kunde'}!", fb,
              name="order_confirmation_phrase", value="Tak for din ordre")
    y += 50
    page.text((L, y), "Vi har modtaget din bestilling og sender en mail, når pakken er afsendt.", f)
    y += 70
    _kv(page, L, L + 300, y, "Ordrenummer:", spec.order_number or "", fb, "order_number")
    y += 44
    _kv(page, L, L + 300, y, "Ordredato:", f"{spec.when.strftime('%d.%m.%Y')} kl. {spec.when.strftime('%H:%M')}", f,
        "purchase_date", spec.when.date().isoformat())
    y += 44
    _kv(page, L, L + 300, y, "Betaling:", spec.payment, f, "payment")
    y += 44
    _kv(page, L, L + 300, y, "Levering:", spec.extra.get("delivery", "GLS Pakkeshop - Netto Jagtvej"), f)
    y += 90
    cols = {"head": {"Varenr.": (L, "la"), "Produkt": (330, "la"), "Antal": (1080, "ra"),
                     "Pris": (1280, "ra"), "I alt": (R, "ra")},
            "x": (L, 330, 1080, 1280, R)}
    y = _items_table(page, spec, y, cols, ms)
    xl2 = 950
    page.text((xl2, y), "Fragt", f)
    page.text((R, y), money(Decimal("0"), ms), f, anchor="ra")
    y += 42
    b1 = page.text((xl2, y), "I alt inkl. moms", fb)
    b2 = page.text((R, y), f"{money(spec.total, ms)} kr.", fb, anchor="ra")
    page.span([b1, b2], "total", f"{spec.total:.2f}", f"I alt inkl. moms {money(spec.total, ms)} kr.")
    y += 44
    page.text((xl2, y), "Heraf moms", f)
    page.text((R, y), f"{money(spec.vat_amount, ms)} kr.", f, anchor="ra")
    y += 80
    page.text((L, y), "Dette er ikke en faktura. Faktura fremsendes, når ordren er afsendt.", font("dejavu", 24))
    y += 80
    _write_serial(page, spec, (L + rng.randint(0, 100), y + rng.randint(0, 40)), rng, size=rng.randint(56, 66))
    foot = A4_200DPI[1] - 150
    page.text((page.width // 2, foot), f"{spec.shop.name} · {' · '.join(spec.shop.address)} · "
              f"{spec.shop.vat_label or ''}", font("dejavu", 22), anchor="ma",
              name="reseller_vat" if spec.shop.vat_label else None, value=spec.shop.vat_value)
    return page.img, page.fields


def render_amazon_invoice(spec: ReceiptSpec, rng: random.Random) -> tuple[Image.Image, list[dict]]:
    """An Amazon.de marketplace invoice (German/English), sold by a third-party seller."""
    page = Page(*A4_200DPI, paper=(255, 255, 255))
    f = font("sans", 26)
    fb = font("sans-bold", 27)
    ms = "da"
    L, R = 130, page.width - 130
    y = 120
    page.text((L, y), "amazon.de", font("sans-bold", 60), name="channel", value="Amazon.de")
    page.text((R, y + 8), "Rechnung / Invoice", font("sans-bold", 40), anchor="ra", name="document_title")
    y += 110
    seller = spec.shop.name
    txt = f"Verkauf durch {seller} / Sold by {seller}"
    page.text((L, y), txt, fb, name="reseller_name", value=seller)
    y += 40
    for a in spec.shop.address:
        page.text((L, y), a, f, name="reseller_address")
        y += 36
    if spec.shop.vat_label:
        page.text((L, y), spec.shop.vat_label, f, name="reseller_vat", value=spec.shop.vat_value)
        y += 36
    y += 30
    xl, xv = 130, 700
    _kv(page, xl, xv, y, "Rechnungsdatum / Invoice date", spec.when.strftime("%d.%m.%Y"), f, "purchase_date",
        spec.when.date().isoformat())
    y += 40
    _kv(page, xl, xv, y, "Rechnungsnummer / Invoice #", spec.number or "", f, "receipt_number")
    y += 40
    _kv(page, xl, xv, y, "Bestellnummer / Order #", spec.order_number or "", f, "order_number")
    y += 40
    _kv(page, xl, xv, y, "Zahlungsreferenz / Payment ref.", spec.extra.get("payref", "1pXq7KzTRb4wLm2Ge9Jf"), f)
    y += 70
    page.text((L, y), "Rechnungsadresse / Billing address", fb)
    y += 40
    for c in spec.customer:
        page.text((L, y), c, f, name="customer")
        y += 36
    y += 50
    cols = {"head": {"ASIN": (L, "la"), "Beschreibung / Description": (400, "la"), "Menge / Qty": (1100, "ra"),
                     "Stückpreis": (1290, "ra"), "Gesamt": (R, "ra")},
            "x": (L, 400, 1100, 1290, R)}
    y = _items_table(page, spec, y, cols, ms)
    xl2 = 900
    page.text((xl2, y), "Zwischensumme (ohne USt.)", f)
    page.text((R, y), f"{money(spec.total - spec.vat_amount, ms)} €", f, anchor="ra")
    y += 40
    b1 = page.text((xl2, y), f"USt. {spec.vat_rate} %", f)
    b2 = page.text((R, y), f"{money(spec.vat_amount, ms)} €", f, anchor="ra")
    page.span([b1, b2], "vat_amount", f"{spec.vat_amount:.2f}", "")
    y += 44
    b1 = page.text((xl2, y), "Gesamtpreis / Total", fb)
    b2 = page.text((R, y), f"{money(spec.total, ms)} €", fb, anchor="ra")
    page.span([b1, b2], "total", f"{spec.total:.2f}", f"Gesamtpreis / Total {money(spec.total, ms)} €")
    y += 90
    note = f"Verkauf durch {seller} über Amazon Marketplace."
    page.text((L, y), note, f, name="channel", value="Amazon Marketplace")
    y += 38
    page.text((L, y), f"Sold by {seller} on Amazon Marketplace.", f, name="channel", value="Amazon Marketplace")
    y += 38
    page.text((L, y), "Versand durch Amazon / Fulfilled by Amazon", f)
    y += 70
    _write_serial(page, spec, (L + 600 + rng.randint(0, 120), y + rng.randint(0, 30)), rng, size=rng.randint(56, 66))
    foot = A4_200DPI[1] - 170
    small = font("sans", 20)
    page.text((page.width // 2, foot), "Amazon EU S.à r.l., 38 avenue John F. Kennedy, L-1855 Luxembourg",
              small, anchor="ma")
    page.text((page.width // 2, foot + 30), "Diese Rechnung wurde im Namen des Verkäufers erstellt. / "
              "This invoice was issued on behalf of the seller.", small, anchor="ma")
    return page.img, page.fields


RENDERERS = {
    "till": render_till,
    "bon_fiscal": render_bon_fiscal,
    "invoice": render_invoice,
    "order_confirmation": render_order_confirmation,
    "amazon": render_amazon_invoice,
}


def render_image(spec: ReceiptSpec, rng: random.Random) -> tuple[Image.Image, list[dict]]:
    return RENDERERS[spec.layout](spec, rng)


# ------------------------------------------------ text-layer PDF (reportlab)

_PDF_FONTS_DONE = False


def _pdf_fonts() -> None:
    global _PDF_FONTS_DONE
    if _PDF_FONTS_DONE:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("CC-Sans", str(font_path("dejavu"))))
    pdfmetrics.registerFont(TTFont("CC-Sans-Bold", str(font_path("dejavu-bold"))))
    _PDF_FONTS_DONE = True


def render_pdf_invoice(spec: ReceiptSpec, path: Path) -> tuple[list[dict], tuple[float, float]]:
    """A Norwegian invoice as a PDF with a text layer. Boxes in points, origin top-left."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    _pdf_fonts()
    W, H = A4
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(f"Faktura {spec.number}")
    c.setAuthor(spec.shop.name)
    c.setCreator("claimcheck sample generator")
    c.setProducer("claimcheck sample generator")
    fields: list[dict] = []
    ms = _money_style(spec)

    def box(x, y, s, fnt, size, anchor="l"):
        wdt = pdfmetrics.stringWidth(s, fnt, size)
        asc, desc = pdfmetrics.getAscentDescent(fnt, size)
        x0 = x - wdt if anchor == "r" else x
        return [round(x0, 2), round(H - (y + asc), 2), round(x0 + wdt, 2), round(H - (y + desc), 2)]

    def text(x, y, s, fnt="CC-Sans", size=10.0, anchor="l", name=None, value=None):
        c.setFont(fnt, size)
        if anchor == "r":
            c.drawRightString(x, y, s)
        else:
            c.drawString(x, y, s)
        b = box(x, y, s, fnt, size, anchor)
        if name:
            fields.append({"name": name, "value": value if value is not None else s, "text": s, "box": b})
        return b

    def span(bs, name, value, s):
        fields.append({"name": name, "value": value, "text": s,
                       "box": [min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs),
                               max(b[3] for b in bs)]})

    L, R = 56, W - 56
    y = H - 70
    text(L, y, spec.shop.name, "CC-Sans-Bold", 18, name="reseller_name")
    text(R, y, "FAKTURA", "CC-Sans-Bold", 20, "r", name="document_title")
    y -= 18
    for a in spec.shop.address:
        text(L, y, a, size=10, name="reseller_address")
        y -= 13
    if spec.shop.phone:
        text(L, y, spec.shop.phone, size=10)
        y -= 13
    if spec.shop.vat_label:
        text(L, y, spec.shop.vat_label, size=10, name="reseller_vat", value=spec.shop.vat_value)
        y -= 13
    if spec.shop.web:
        text(L, y, spec.shop.web, size=10)
        y -= 13
    yy = H - 100
    for label, val, name, norm in [
        ("Fakturanr.", spec.number or "", "receipt_number", spec.number or ""),
        ("Fakturadato", spec.when.strftime("%d.%m.%Y"), "purchase_date", spec.when.date().isoformat()),
        ("Forfallsdato", spec.when.strftime("%d.%m.%Y"), None, None),
        ("Kundenr.", spec.extra.get("customer_no", "118204"), None, None),
    ]:
        b1 = text(360, yy, label, size=10)
        b2 = text(R, yy, val, size=10, anchor="r")
        if name:
            span([b1, b2], name, norm, f"{label} {val}")
        yy -= 14
    y = min(y, yy) - 30
    text(L, y, "Kunde:", "CC-Sans-Bold", 10)
    y -= 14
    for cl in spec.customer:
        text(L, y, cl, size=10, name="customer")
        y -= 13
    y -= 30
    c.setFont("CC-Sans-Bold", 10)
    heads = [("Varenr.", L, "l"), ("Beskrivelse", 150, "l"), ("Antall", 390, "r"), ("Pris", 465, "r"), ("Beløp", R, "r")]
    for h, x, a in heads:
        text(x, y, h, "CC-Sans-Bold", 10, a)
    y -= 6
    c.setLineWidth(0.8)
    c.line(L, y, R, y)
    y -= 16
    for ln in spec.lines:
        if ln.sku:
            text(L, y, ln.sku, size=10, name="sku" if ln.role == "product" else None)
        text(150, y, ln.text, size=10, name="product_line" if ln.role == "product" else "other_line")
        text(390, y, str(ln.qty), size=10, anchor="r")
        text(465, y, money(ln.price, ms), size=10, anchor="r")
        text(R, y, money(ln.amount, ms), size=10, anchor="r", name="product_price" if ln.role == "product" else None)
        y -= 16
    c.line(L, y + 6, R, y + 6)
    y -= 14
    net = spec.total - spec.vat_amount
    text(360, y, "Sum eks. MVA", size=10)
    text(R, y, money(net, ms), size=10, anchor="r")
    y -= 15
    b1 = text(360, y, f"MVA {spec.vat_rate}%", size=10)
    b2 = text(R, y, money(spec.vat_amount, ms), size=10, anchor="r")
    span([b1, b2], "vat_amount", f"{spec.vat_amount:.2f}", f"MVA {spec.vat_rate}% {money(spec.vat_amount, ms)}")
    y -= 18
    b1 = text(360, y, f"Totalt {spec.currency}", "CC-Sans-Bold", 11)
    b2 = text(R, y, money(spec.total, ms), "CC-Sans-Bold", 11, anchor="r")
    span([b1, b2], "total", f"{spec.total:.2f}", f"Totalt {spec.currency} {money(spec.total, ms)}")
    y -= 40
    text(L, y, spec.payment, size=10, name="payment")
    y -= 14
    text(L, y, "Fakturaen er betalt. Takk for handelen!", size=10)
    c.setFont("CC-Sans", 8)
    foot = f"{spec.shop.name} · {' · '.join(spec.shop.address)}" + (f" · {spec.shop.vat_label}" if spec.shop.vat_label else "")
    c.drawCentredString(W / 2, 40, foot)
    c.showPage()
    c.save()
    return fields, (W, H)
