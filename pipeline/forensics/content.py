"""Content-level forensic signals (family CONTENT): what the receipt says does not add up.

- ``content.weekday_mismatch``: a printed weekday that is not the weekday of the
  printed date (da/nb/sv/fi/ro/en names and abbreviations).
- ``content.totals_mismatch``: the total disagrees with the item lines, the
  subtotal + VAT and the payment line, which agree among themselves (a changed
  total); or the items are short of a total that the subtotal + VAT confirm and
  there is a blank band between the item lines (an erased line).
- ``content.vat_rate``: the printed VAT amount (or rate) is not the country's
  rate on the purchase date applied to the printed total (vat = total*r/(1+r)).
- ``content.impossible_date``: a printed date that does not exist (31.11.2022,
  30.02.2023). The date extractor skips such dates, so nothing else sees them.

Only confidently read numbers count: OCR words below `MIN_CONF` never make a
signal, and each arithmetic signal needs two independent sums that agree with
each other and not with the total. Not duplicated here: VAT-number checksum,
VAT number of another reseller, purchase after submission (pipeline/rules.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass
from decimal import Decimal

from models.documents import Box
from models.forensics import Region, Signal, SignalFamily
from pipeline.extract.amounts import AmountHit, _masked_amounts
from pipeline.extract.cues import find_cues
from pipeline.extract.dates import _DMONY, _DMY, _YMD, MONTH_NAMES, WEEKDAY_EN, find_dates, find_weekdays
from pipeline.extract.layout import Row, build_rows, page_rotation, rotate_box
from pipeline.extract.text import fold_text, repair_numeric
from pipeline.forensics import ForensicInput, register

log = logging.getLogger(__name__)

FAMILY = SignalFamily.CONTENT
#: OCR word confidence below which a number is not trusted for a content signal
MIN_CONF = 0.80
#: the total itself must be read at least this well
TOTAL_CONF = 0.85
#: ... or, for the total to be the odd one out, at least this well when the item lines AND the net
#: subtotal + VAT both come to another sum: a pasted digit is the glyph an OCR engine trusts least,
#: so an altered total is often a poorly read one, and two independent sums agreeing with each
#: other to the cent make the total as read the thing to check, whether edited or misread
TOTAL_CONF_CORROBORATED = 0.5
CENT = Decimal("0.01")

# ------------------------------------------------------------------ helpers


def _rows(inp: ForensicInput) -> list[Row]:
    cache = inp.extra.get("_content_rows")
    if isinstance(cache, list):
        return cache
    rows = build_rows(inp.doc) if inp.doc is not None else []
    try:
        inp.extra["_content_rows"] = rows
    except TypeError:  # pragma: no cover
        pass
    return rows


_CURRENCY_COUNTRY = {"DKK": "DK", "NOK": "NO", "SEK": "SE", "EUR": "FI", "RON": "RO"}


def _country(inp: ForensicInput) -> str | None:
    """The shop's country: from its VAT number, else from the currency (a campaign may span
    several countries, so the campaign's own country is not used). None when they disagree."""
    ex = inp.extraction
    if ex is None:
        return None
    by_vat = ex.reseller_vat.meta.get("country", "").upper() if ex.reseller_vat is not None else ""
    by_cur = _CURRENCY_COUNTRY.get(ex.currency.value, "") if ex.currency is not None else ""
    if by_vat and by_cur and by_vat != by_cur:
        return None
    return by_vat or by_cur or None


def _span_box(row: Row, start: int, end: int) -> Box:
    return row.box_of_span(start, end)


def _conf(row: Row, start: int, end: int) -> float:
    return row.conf_of_span(start, end)


# ------------------------------------------------------------------ weekday

_ADJ_SHORT = 4  # a short weekday must touch the date: "Fre 14.10.2022", "14-01-2018 (SUN)"


@register("weekday_mismatch", FAMILY)
def weekday_mismatch(inp: ForensicInput) -> list[Signal]:
    rows = _rows(inp)
    for i, row in enumerate(rows):
        for d in find_dates(row.text):
            if not (dt.date(2000, 1, 1) <= d.date <= dt.date(2035, 12, 31)):
                continue
            cands = []
            if len({w.weekday for w in find_weekdays(row.text) if len(w.raw) >= 3}) >= 2:
                continue  # opening hours ("Mandag-Fredag 10-18"), not a dated weekday
            for w in find_weekdays(row.text):
                if w.short:
                    gap = (d.start - w.end) if w.end <= d.start else (w.start - d.end)
                    if len(w.raw) < 3 or gap > _ADJ_SHORT or gap < 0:
                        continue
                    between = row.text[min(w.end, d.end):max(w.start, d.start)]
                    if re.search(r"[a-zA-Z0-9]", between):
                        continue
                cands.append((row, w))
            for j in (i - 1, i + 1):  # a full weekday name on the line just above/below the date
                if 0 <= j < len(rows) and not find_dates(rows[j].text) and not re.search(r"\d", rows[j].text):
                    ws = [w for w in find_weekdays(rows[j].text) if not w.short]
                    if len(ws) == 1 and len(fold_text(rows[j].text).split()) <= 3:
                        cands.append((rows[j], ws[0]))
            for _wrow, w in cands:
                if w.weekday == d.date.weekday():
                    return []  # a matching weekday: the date and the weekday agree
            for wrow, w in cands:
                cw, cd = _conf(wrow, w.start, w.end), _conf(row, d.start, d.end)
                if min(cw, cd) < MIN_CONF:
                    continue
                score = 0.8 if min(cw, cd) >= 0.9 else 0.65
                regions = (Region(page=row.page.page_no, box=_span_box(row, d.start, d.end), note="printed date"),
                           Region(page=wrow.page.page_no, box=_span_box(wrow, w.start, w.end), note="printed weekday"))
                return [Signal(
                    detector="content.weekday_mismatch", family=FAMILY, score=score, threshold=0.6,
                    message=(f"The receipt prints the weekday {WEEKDAY_EN[w.weekday].capitalize()} next to the date "
                             f"{d.date.isoformat()}, which was a {WEEKDAY_EN[d.date.weekday()].capitalize()}: "
                             "the date may have been changed."),
                    field="purchase_date", regions=regions,
                    detail={"date": d.date.isoformat(), "printed_weekday": WEEKDAY_EN[w.weekday],
                            "date_weekday": WEEKDAY_EN[d.date.weekday()], "conf": round(min(cw, cd), 3)},
                )]
    return []


# ------------------------------------------------------------------ impossible dates

def _impossible(y: int, m: int, d: int) -> bool:
    """A day that does not exist in that month (but a plausible day number: 29..31)."""
    if not (1 <= m <= 12) or not (29 <= d <= 31):
        return False
    try:
        dt.date(y, m, d)
    except ValueError:
        return True
    return False


def _year(s: str) -> int | None:
    if not s.isdigit() or len(s) not in (2, 4):
        return None
    y = int(s) + (2000 if len(s) == 2 else 0)
    return y if 2000 <= y <= 2035 else None


@register("impossible_date", FAMILY)
def impossible_date(inp: ForensicInput) -> list[Signal]:
    for row in _rows(inp):
        f = fold_text(repair_numeric(row.text))
        found: list[tuple[int, int, str]] = []
        for m in _YMD.finditer(f):
            y = _year(m.group(1))
            if y and _impossible(y, int(m.group(3)), int(m.group(4))):
                found.append((m.start(), m.end(), f"{y}-{int(m.group(3)):02d}-{int(m.group(4)):02d}"))
        for m in _DMY.finditer(f):
            y = _year(m.group(4))
            if y and _impossible(y, int(m.group(3)), int(m.group(1))) and not any(s < m.end() and e > m.start() for s, e, _ in found):
                found.append((m.start(), m.end(), f"{y}-{int(m.group(3)):02d}-{int(m.group(1)):02d}"))
        for m in _DMONY.finditer(f):
            y = _year(m.group(3))
            if y and _impossible(y, MONTH_NAMES[m.group(2)], int(m.group(1))):
                found.append((m.start(), m.end(), f"{y}-{MONTH_NAMES[m.group(2)]:02d}-{int(m.group(1)):02d}"))
        for s, e, iso in found:
            c = _conf(row, s, e)
            if c < MIN_CONF:
                continue
            cued = any(cu.label == "DATE" and cu.end <= s for cu in find_cues(row.text))
            score = 0.8 if cued else 0.65
            return [Signal(
                detector="content.impossible_date", family=FAMILY, score=score, threshold=0.6,
                message=(f"The receipt prints the date {row.text[s:e].strip()}, which does not exist "
                         f"(day {iso[-2:]} of month {iso[5:7]}): a date was likely changed by hand."),
                field="purchase_date",
                regions=(Region(page=row.page.page_no, box=_span_box(row, s, e), note="date that does not exist"),),
                detail={"printed": row.text[s:e].strip()[:20], "as_read": iso, "date_label": cued, "conf": round(c, 3)},
            )]
    return []


# ------------------------------------------------------------------ amounts on the receipt

_QTY_ROW = re.compile(r"\d\s*(?:[x×*@]|buc\b|stk\b|st\b|pcs\b)\s*\d|\bbuc\b", re.I)
_ROUNDING = re.compile(r"round|afrund|avrund|oresavrund|pyoristys|rotunjire|adjust", re.I)
_DISCOUNT = re.compile(r"rabat|discount|\bdisc\b|alennus|reducere|savings?\b|you save|sparet|besparelse", re.I)
#: labels that make a row above the total a non-item (a payment word in an item name is
#: common: "Card memorie SD", "Voucher cadou", "Kortlaeser")
_NOT_ITEM = {"TOTAL", "SUBTOTAL", "TAX", "DATE", "ID", "PHONE", "RECEIPT_NO", "OTHER_DATE", "BUYER",
             "SELLER", "SERIAL"}
_NET = re.compile(r"\b(eks|ekskl|exkl|excl|ex|netto|veroton|fara|excluding|exclusive)\b")
_PCT = re.compile(r"(\d{1,2}(?:[.,]\d{1,2})?)\s?%")


#: the cents of an amount that OCR split off it ("4759 .96")
_SPLIT_CENTS = re.compile(r"\s*[.,]\s?\d{2}(?!\d)")


@dataclass
class Amt:
    value: Decimal
    row: Row
    hit: AmountHit
    conf: float

    @property
    def box(self) -> Box:
        return self.row.box_of_span(self.hit.start, self.hit.end)


def _last_amount(row: Row, after: int = 0) -> Amt | None:
    hits = [h for h in _masked_amounts(row.text) if h.has_decimals and h.start >= after]
    if not hits:
        return None
    h = hits[-1]
    tail = row.text[h.end:].strip()
    if len(tail) > 4:  # the amount is not in the value column
        return None
    return Amt(h.value, row, h, _conf(row, h.start, h.end))


@dataclass
class Summary:
    total: Amt | None
    total_row: int
    items: list[Amt]
    subtotal: Amt | None  # excl. VAT
    vat: list[tuple[Amt, Decimal | None]]  # amount, printed rate
    payments: list[Amt]
    rounding: Decimal


def _tol(n: int = 1) -> Decimal:
    return Decimal("0.02") + CENT * n


def summarise(inp: ForensicInput) -> Summary | None:
    """The receipt's money structure, from the rows; None without a confidently found total."""
    cache = inp.extra.get("_content_summary")
    if isinstance(cache, Summary):
        return cache
    ex = inp.extraction
    rows = _rows(inp)
    if ex is None or ex.total is None or ex.total.evidence is None or not rows:
        return None
    try:
        # the printed total: the extractor may have replaced it with the value the payment
        # lines give ("repaired_from" keeps what was printed)
        tval = Decimal(ex.total.meta.get("repaired_from") or ex.total.value)
    except Exception:  # noqa: BLE001
        return None
    ev = ex.total.evidence
    trow = None
    if "repaired_from" not in ex.total.meta:
        for r in rows:
            if r.page.page_no == ev.page and ev.box is not None and r.box.y0 - 1 <= ev.box.cy <= r.box.y1 + 1 \
                    and any(h.value == tval for h in _masked_amounts(r.text)):
                trow = r
                break
    if trow is None:  # the lowest total-labelled row printing that amount
        for r in reversed(rows):
            if any(c.label == "TOTAL" for c in find_cues(r.text)) and any(h.value == tval for h in _masked_amounts(r.text)):
                trow = r
                break
    if trow is None:
        return None
    # a page read after a quarter/half turn is fine: rows are built and ordered in its upright frame
    tcues = find_cues(trow.text)
    if not any(c.label == "TOTAL" for c in tcues) or (any(c.label == "TAX" for c in tcues)
                                                      and not any(c.id == "strong" for c in tcues)):
        return None  # the total was not read from a total line: nothing to check against
    th = [h for h in _masked_amounts(trow.text) if h.value == tval][-1]
    if _SPLIT_CENTS.match(trow.text, th.end):
        return None  # "4759 .96": OCR split the cents off the total, so the total as read is not the printed one
    total = Amt(tval, trow, th, _conf(trow, th.start, th.end))
    items: list[Amt] = []
    sub = None
    vat: list[tuple[Amt, Decimal | None]] = []
    pays: list[Amt] = []
    rounding = Decimal(0)
    for r in rows:
        if r is trow:
            continue
        cues = find_cues(r.text)
        labels = {c.label for c in cues}
        ft = fold_text(r.text)
        if _ROUNDING.search(ft):
            a = _last_amount(r)
            if a is not None:
                rounding += abs(a.value)
            continue
        if r.index < trow.index:
            if _NET.search(ft) and not _PCT.search(r.text):
                a = _last_amount(r)
                if a is not None and sub is None:
                    sub = a
                continue
            if "TAX" in labels and not ({"ID"} & labels):
                a = _last_amount(r)
                if a is not None:
                    pm = _PCT.search(r.text)
                    vat.append((a, Decimal(pm.group(1).replace(",", ".")) if pm else None))
                continue
            if "SUBTOTAL" in labels:
                a = _last_amount(r)
                if a is not None and sub is None:
                    sub = a
                continue
            if labels & _NOT_ITEM or _QTY_ROW.search(r.text):
                continue
            if sum(ch.isalpha() for ch in r.text) < 3:
                # an amount alone under a wrapped item name ("Sigma 105/2.8 DG DN Macro Art" / "5.499,00")
                prev = rows[r.index - 1] if r.index > 0 else None
                a = _last_amount(r)
                if (a is None or prev is None or prev.page is not r.page or _last_amount(prev) is not None
                        or sum(ch.isalpha() for ch in prev.text) < 3
                        or {c.label for c in find_cues(prev.text)} & _NOT_ITEM or a.hit.start > 3):
                    continue
                if a.value > 0:
                    items.append(a)
                continue
            a = _last_amount(r)
            if a is not None and a.value != 0:
                if _DISCOUNT.search(ft) and a.value > 0:
                    a = Amt(-a.value, a.row, a.hit, a.conf)
                items.append(a)
        else:
            if "TAX" in labels and not ({"ID"} & labels) and not vat:
                a = _last_amount(r)
                if a is not None:
                    pm = _PCT.search(r.text)
                    vat.append((a, Decimal(pm.group(1).replace(",", ".")) if pm else None))
                continue
            if "PAYMENT" in labels and not any(c.text.lower().startswith(("change", "bytte", "veksel", "vaxel", "rest",
                                                                          "tilbake", "retur", "baki", "disc", "rabat"))
                                               for c in cues):
                a = _last_amount(r)
                if a is not None:
                    pays.append(a)
    s = Summary(total, trow.index, items, sub, vat, pays, rounding)
    try:
        inp.extra["_content_summary"] = s
    except TypeError:  # pragma: no cover
        pass
    return s


def _close(a: Decimal, b: Decimal, tol: Decimal) -> bool:
    return abs(a - b) <= tol


def _ink_runs(col_ink, need: float) -> tuple[int, int]:
    """(length, start) of the longest run of pixel rows without ink."""
    best, run, start, best_start = 0, 0, 0, 0
    for i, v in enumerate(col_ink):
        if v:
            run = 0
            continue
        if run == 0:
            start = i
        run += 1
        if run > best:
            best, best_start = run, start
    return best, best_start


def _floating_ink(rows_inked, margin: int, tall: int) -> bool:
    """A run of at least `tall` inked pixel rows that keeps `margin` rows away from both ends:
    text that is not part of the rows above and below (a thinner run is a rule or a speck)."""
    n = len(rows_inked)
    i = 0
    while i < n:
        if not rows_inked[i]:
            i += 1
            continue
        j = i
        while j < n and rows_inked[j]:
            j += 1
        if i > margin and j < n - margin and j - i >= tall:
            return True
        i = j
    return False


RULE_THICK = 0.25  # line heights: an inked band of at most this thickness is a printed rule
# line heights of blank between an item line and a rule, and at least one line pitch: a line is gone
# (as between two item lines; the usual spacing at a rule is less than a pitch)
RULE_NEED = 1.2


def _run_to_rule(rows_inked, item_side: int, thick: int) -> tuple[int, int] | None:
    """(length, start) of the blank run between the item line's ink (at the top of the strip when
    `item_side` is 0, at the bottom when 1) and the first ink after it, when that ink is a thin band
    (a printed rule) with blank on its other side too; None otherwise."""
    seq = list(rows_inked) if item_side == 0 else list(rows_inked)[::-1]
    n = len(seq)
    i = 0
    while i < n and seq[i]:
        i += 1  # the item line's own ink
    j = i
    while j < n and not seq[j]:
        j += 1  # the blank run
    k = j
    while k < n and seq[k]:
        k += 1  # the next ink
    if j >= n or k - j > thick or k >= n or seq[k]:
        return None
    run = j - i
    start = i if item_side == 0 else n - j
    return run, start


#: strips of this many line heights are measured separately, so that a slightly tilted page
#: (a scan a degree off, a photo) does not fill a blank band with the slant of the lines
_STRIP_HEIGHTS = 3.0


def _blank_gap(inp: ForensicInput, items: list[Amt], all_rows: list[Row]) -> Box | None:
    """A strip at least one text line high, next to an item line, where no text was read
    and the image has no ink: where a line was removed. None when there is no image.

    Measured in the page's upright frame (a page read after a quarter/half turn), in
    vertical strips a few line heights wide (a tilted line fills a whole-width band with
    its slant), over the columns that carry text (a paper edge or a table border running
    down the page is not a line)."""
    import numpy as np

    if not items:
        return None
    page = items[0].row.page
    page_no = page.page_no
    prow = sorted((r for r in all_rows if r.page.page_no == page_no), key=lambda r: r.upright_box.cy)
    # a row's box on a page the OCR deskewed encloses the slanted line: take the slant off its height
    slant = abs(math.tan(math.radians(float(page.skew or 0.0))))
    heights = sorted(max(0.4 * r.upright_box.height, r.upright_box.height - slant * r.upright_box.width)
                     for r in prow if r.upright_box.height > 0)
    if not heights:
        return None
    h = heights[len(heights) // 2]
    # the line pitch: the usual distance between the centres of neighbouring rows
    steps = sorted(b.upright_box.cy - a.upright_box.cy for a, b in zip(prow, prow[1:], strict=False)
                   if b.upright_box.cy - a.upright_box.cy > 0.5 * h)
    pitch = steps[len(steps) // 2] if steps else 1.5 * h
    item_rows = {id(a.row) for a in items}
    imgs = inp.images
    img = imgs[page_no - 1] if len(imgs) >= page_no else None
    if img is None:
        return None
    g = img if img.ndim == 2 else img.mean(axis=2)
    rot = page_rotation(page)
    if rot:
        g = np.rot90(g, k=-(rot // 90))  # clockwise, as rotate_box turns the boxes
    H, W = g.shape[:2]
    x0 = int(max(0, min(a.row.upright_box.x0 for a in items)))
    x1 = int(min(W, max(a.row.upright_box.x1 for a in items)))
    if x1 - x0 < 20:
        return None
    sw = max(8, int(_STRIP_HEIGHTS * h))
    for k in range(len(prow) - 1):
        a, b = prow[k], prow[k + 1]
        if id(a) not in item_rows and id(b) not in item_rows:
            continue
        ua, ub = a.upright_box, b.upright_box
        # between two item lines the normal gap is (pitch - line height): a blank strip of one
        # line height means a line is gone; next to a heading/total a section gap is normal, so
        # more than a whole pitch must be blank
        need = 1.2 * h if (id(a) in item_rows and id(b) in item_rows) else pitch + 0.2 * h
        ys0, ys1 = int(max(0, ua.cy)), int(min(H, ub.cy))
        if ys1 - ys0 < need + 0.5 * h:
            continue
        patch = g[ys0:ys1, x0:x1].astype(np.float32)
        paper = float(np.percentile(patch, 90))
        ink = patch < paper - 60
        # a column inked almost all the way down is a border or the paper's edge, not text
        ink[:, ink.mean(axis=0) > 0.7] = False
        q = max(1, int(0.3 * h))
        margin = int(0.8 * h)
        found: list[tuple[int, int]] = []
        to_rule: list[tuple[int, int] | None] = []
        floating = False
        # an item line next to a printed rule (the rule that closes or opens the item list): the
        # section spacing lies on the rule's other side, so the blank between the item line and the
        # rule is judged as between two item lines
        item_side = 0 if id(a) in item_rows and id(b) not in item_rows else \
            1 if id(b) in item_rows and id(a) not in item_rows else None
        for sx in range(0, ink.shape[1] - sw // 2, sw):
            strip = ink[:, sx:sx + sw]
            rows_inked = strip.sum(axis=1) >= 2
            # only strips where both lines left ink (near their centres) measure the gap between them
            if rows_inked[:q].any() and rows_inked[-q:].any():
                found.append(_ink_runs(rows_inked, need))
                if item_side is not None:
                    to_rule.append(_run_to_rule(rows_inked, item_side, max(2, int(RULE_THICK * h))))
            elif _floating_ink(rows_inked, margin, max(2, int(0.4 * h))):
                floating = True  # ink in the gap that belongs to neither line: something unread is printed there
        if not found or floating:
            continue
        best, best_start = min(found)
        if best < need and to_rule and all(r is not None for r in to_rule):
            # every strip has the rule: the item line's blank up to it must hold a whole line
            rb, rs = min(r for r in to_rule if r is not None)
            if rb >= max(RULE_NEED * h, pitch):
                best, best_start, need = rb, rs, max(RULE_NEED * h, pitch)
        if best >= need:
            up = Box(x0=x0, y0=ys0 + best_start, x1=x1, y1=ys0 + best_start + best)
            if not rot:
                return up
            return rotate_box(up, 360 - rot, W, H)
    return None


@register("totals_mismatch", FAMILY)
def totals_mismatch(inp: ForensicInput) -> list[Signal]:
    s = summarise(inp)
    if s is None or s.total is None:
        return []
    T = s.total.value
    low_total = s.total.conf < TOTAL_CONF
    if s.total.conf < (TOTAL_CONF_CORROBORATED if low_total else TOTAL_CONF):
        return []
    # an item amount read badly ("8.499, 00": tesseract split it and gave both halves a low
    # confidence): the item sum alone proves nothing, so it may only back an erased-line
    # finding that the image confirms (a blank band between the item lines), never (a)
    low_items = sum(a.conf < MIN_CONF for a in s.items)
    S = sum((a.value for a in s.items), Decimal(0)) if s.items else None
    N = s.subtotal.value if s.subtotal is not None and s.subtotal.conf >= MIN_CONF else None
    V = None
    if len(s.vat) == 1 and s.vat[0][0].conf >= MIN_CONF:
        V = s.vat[0][0].value
    # printed sums are exact to the cent; a rounding line widens the tolerance
    tol = Decimal("0.011") + s.rounding
    # independent readings of the amount due
    alts: list[tuple[str, Decimal, list[Amt]]] = []
    if S is not None:
        if N is not None and V is not None and _close(S, N, tol) and not _close(S, T, tol):
            alts.append(("items + VAT", S + V, s.items))  # net item prices
        else:
            alts.append(("items", S, s.items))
    if N is not None and V is not None:
        alts.append(("subtotal + VAT", N + V, [a for a in (s.subtotal, s.vat[0][0]) if a is not None]))
    for p in s.payments:
        if p.conf >= MIN_CONF:
            alts.append(("payment", p.value, [p]))
            break
    if not alts:
        return []
    agree_t = [a for a in alts if _close(a[1], T, tol)]
    differ = [a for a in alts if not _close(a[1], T, tol)]
    # the printed item lines and a payment line come to the total to the cent (only a sum worked
    # out from a net subtotal and the VAT may be a cent off): for (a), a cent's difference counts
    exact = Decimal("0.001") + s.rounding
    agree_exact = [a for a in alts if _close(a[1], T, exact if a[0] in ("items", "payment") else tol)]
    out: list[Signal] = []
    # (a) the total is the odd one out: two other sums agree with each other, none with the total
    if not agree_exact and len(alts) >= 2 and not low_items:
        ref = alts[0][1]
        agreeing = [a for a in alts if _close(a[1], ref, tol)]
        cash_rounded = (T % Decimal("0.05") == 0 and ref % Decimal("0.05") != 0 and abs(T - ref) < Decimal("0.05"))
        names = {n for n, _, _ in agreeing}
        independent = "subtotal + VAT" in names and bool(names & {"items", "items + VAT"})
        if len(agreeing) >= 2 and not cash_rounded and (independent or not low_total):
            regions = [Region(page=s.total.row.page.page_no, box=s.total.box, note="total")]
            for name, _, amts in agreeing:
                for a in amts[:6]:
                    regions.append(Region(page=a.row.page.page_no, box=a.box, note=name))
            out.append(Signal(
                detector="content.totals_mismatch", family=FAMILY, score=0.75 if low_total else 0.9, threshold=0.6,
                message=(f"The printed total {T:f} does not match the rest of the receipt: "
                         f"{' and '.join(n for n, _, _ in agreeing)} both come to {ref:f}. The total may have been changed"
                         + (" (or misread: its digits were read with low confidence)." if low_total else ".")),
                field="total", regions=tuple(regions),
                detail={"total": str(T), "expected": str(ref), "agreeing": ", ".join(n for n, _, _ in agreeing),
                        "items_sum": str(S) if S is not None else "", "item_rows": len(s.items),
                        "item_lines": ", ".join(str(a.row.index + 1) for a in s.items)[:80],
                        "subtotal": str(N) if N is not None else "", "vat": str(V) if V is not None else "",
                        "kind": "total_odd", "total_confidence": round(s.total.conf, 3)},
            ))
            return out
    # (b) the items are short of a total the other sums confirm: a line may have been removed
    if low_total:
        return out
    if S is not None and s.items and len(agree_t) >= 1 and any(a[0] == "items" for a in differ) and S < T:
        missing = T - S
        band = _blank_gap(inp, s.items, _rows(inp))
        if low_items and band is None:
            return out
        score = (0.7 if low_items else 0.8) if band is not None else 0.35
        regions = [Region(page=a.row.page.page_no, box=a.row.box, note="item line") for a in s.items[:8]]
        if band is not None:
            regions.insert(0, Region(page=s.items[0].row.page.page_no, box=band, note="blank gap between item lines"))
        out.append(Signal(
            detector="content.totals_mismatch", family=FAMILY, score=score, threshold=0.6,
            message=(f"The item lines add up to {S:f}, {missing:f} less than the total {T:f} "
                     f"(which {' and '.join(a[0] for a in agree_t)} confirm)"
                     + ("; there is a blank gap between the item lines where a line may have been erased."
                        if band is not None else "; an item line may be unread or missing.")),
            field="total", regions=tuple(regions),
            detail={"total": str(T), "items_sum": str(S), "missing": str(missing), "item_rows": len(s.items),
                    "item_lines": ", ".join(str(a.row.index + 1) for a in s.items)[:80],
                    "blank_gap": band is not None, "low_conf_items": low_items, "kind": "items_short"},
        ))
    return out


# ------------------------------------------------------------------ VAT rate

#: standard VAT rates (percent) by country, with the first day they apply; reduced rates in REDUCED
STANDARD: dict[str, list[tuple[dt.date, Decimal]]] = {
    "DK": [(dt.date(1992, 1, 1), Decimal(25))],
    "NO": [(dt.date(2005, 1, 1), Decimal(25))],
    "SE": [(dt.date(1990, 7, 1), Decimal(25))],
    "FI": [(dt.date(2013, 1, 1), Decimal(24)), (dt.date(2024, 9, 1), Decimal("25.5"))],
    "RO": [(dt.date(2010, 7, 1), Decimal(24)), (dt.date(2016, 1, 1), Decimal(20)), (dt.date(2017, 1, 1), Decimal(19)),
           (dt.date(2025, 8, 1), Decimal(21))],
}
REDUCED: dict[str, tuple[Decimal, ...]] = {
    "DK": (), "NO": (Decimal(15), Decimal(12)), "SE": (Decimal(12), Decimal(6)),
    "FI": (Decimal(14), Decimal(10), Decimal("13.5")), "RO": (Decimal(9), Decimal(5), Decimal(11)),
}


def standard_rate(country: str, day: dt.date) -> Decimal | None:
    rates = STANDARD.get(country.upper())
    if not rates:
        return None
    cur = None
    for since, r in rates:
        if day >= since:
            cur = r
    return cur


def vat_of(total: Decimal, rate: Decimal) -> Decimal:
    return (total * rate / (Decimal(100) + rate)).quantize(CENT)


@register("vat_rate", FAMILY)
def vat_rate(inp: ForensicInput) -> list[Signal]:
    ex = inp.extraction
    country = _country(inp)
    if ex is None or country not in STANDARD or ex.purchase_date is None:
        return []
    try:
        day = dt.date.fromisoformat(ex.purchase_date.value)
    except ValueError:
        return []
    std = standard_rate(country, day)
    s = summarise(inp)
    if std is None or s is None or s.total is None or len(s.vat) != 1:
        return []
    va, printed = s.vat[0]
    T, V = s.total.value, va.value
    if s.total.conf < TOTAL_CONF or va.conf < MIN_CONF or V <= 0 or T <= 0:
        return []
    allowed = (std, *REDUCED.get(country, ()))
    tol = _tol(max(1, len(s.items))) + s.rounding * std / 100
    regions = (Region(page=va.row.page.page_no, box=va.box, note="VAT amount"),
               Region(page=s.total.row.page.page_no, box=s.total.box, note="total"))
    if printed is not None and printed not in allowed:
        # a printed rate the country does not have on that date (also catches an OCR slip: keep it moderate)
        return [Signal(
            detector="content.vat_rate", family=FAMILY, score=0.65, threshold=0.6,
            message=(f"The receipt prints a VAT rate of {printed:f}%, which is not a {country} VAT rate on "
                     f"{day.isoformat()} (standard {std:f}%)."),
            field="total", regions=regions,
            detail={"country": country, "printed_rate": str(printed), "standard_rate": str(std), "vat": str(V),
                    "total": str(T), "kind": "rate_unknown"},
        )]
    rate = printed if printed is not None else std
    expected = vat_of(T, rate)
    if _close(V, expected, tol):
        return []
    if printed is None and any(_close(V, vat_of(T, r), tol) for r in allowed):
        return []  # a reduced rate, not printed
    # the VAT fits the items/subtotal instead: the total was changed (a strong sign)
    implied = (V * (Decimal(100) + rate) / rate).quantize(CENT)
    S = sum((a.value for a in s.items), Decimal(0)) if s.items else None
    N = s.subtotal.value if s.subtotal is not None else None
    fits_other = (S is not None and _close(vat_of(S, rate), V, tol)) or (N is not None and _close(N + V, implied, tol * 2))
    score = 0.85 if fits_other else 0.7
    a_s, e_s = f"{V:.2f}", f"{expected:.2f}"
    if not fits_other and len(a_s) == len(e_s) and sum(x != y for x, y in zip(a_s, e_s, strict=True)) == 1:
        score = 0.4  # one digit off and nothing else disagrees: more likely an OCR slip than an edit
    low = min(allowed)
    if printed is None and not fits_other and vat_of(T, low) < V < expected:
        score = 0.45  # no rate printed and between the reduced and the standard VAT: a mixed basket
    return [Signal(
        detector="content.vat_rate", family=FAMILY, score=score, threshold=0.6,
        message=(f"The printed VAT {V:f} is not {rate:f}% of the total {T:f} (that would be {expected:f}); "
                 f"it corresponds to a total of about {implied:f}"
                 + (", which the item lines confirm." if fits_other else ".")),
        field="total", regions=regions,
        detail={"country": country, "rate": str(rate), "rate_printed": printed is not None, "vat": str(V), "total": str(T),
                "expected_vat": str(expected), "implied_total": str(implied), "fits_items": bool(fits_other),
                "kind": "vat_amount"},
    )]


__all__ = ["impossible_date", "standard_rate", "summarise", "totals_mismatch", "vat_of", "vat_rate", "weekday_mismatch"]
