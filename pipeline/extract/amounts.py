"""Money amounts and currencies.

Formats: 1.234,50 / 1 234,50 / 1,234.50 / 1234.50 / 1234,50 / 1.490,- /
kr 1.490,00 / RM 15.90 / 1'234.50. A lone separator followed by exactly
three digits is a thousands separator ("1.490" -> 1490); followed by one or
two digits it is the decimal mark. `value` is a plain decimal string with a
dot and two decimals.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pipeline.extract.text import fold_text, repair_numeric

log = logging.getLogger(__name__)

_AMOUNT_RE = re.compile(
    r"(?:(?<=RM)|(?<=rm)|(?<=Rm)|(?<=KR)|(?<=kr)|(?<=Kr)|(?<=\$)|(?<=€)|(?<![\w.,/:\-]))"
    r"(-\s?)?"
    r"(\d{1,3}(?:(?P<ts>[ .,\u00a0'])\d{3})(?:(?P=ts)\d{3})*|\d+)"
    r"(?:(?P<ds>[.,])(\d{1,2}|-{1,2})(?!\d))?"
    r"(?![\w.,/:]\d|\d|%)"
)


@dataclass(frozen=True)
class AmountHit:
    value: Decimal
    start: int
    end: int
    raw: str
    has_decimals: bool


def _parse_match(m: re.Match[str]) -> Decimal | None:
    neg, intpart, ts, ds, frac = m.group(1), m.group(2), m.group("ts"), m.group("ds"), m.group(5)
    if ts and ds and ts == ds:
        return None
    digits = intpart.replace(ts, "") if ts else intpart
    if ts is None and len(digits) > 9:
        return None
    if frac is None or frac.startswith("-"):
        s = digits
    else:
        s = f"{digits}.{frac}"
    try:
        v = Decimal(s)
    except InvalidOperation:
        return None
    if neg:
        v = -v
    return v.quantize(Decimal("0.01"))


def find_amounts(text: str) -> list[AmountHit]:
    """Amounts in `text`, left to right. Integers without decimals are included
    (has_decimals=False) so that "1.490,-" and "kr 1490" are found. Never raises."""
    if not isinstance(text, str) or not text:
        return []
    out: list[AmountHit] = []
    orig = text
    text = repair_numeric(text)
    for m in _AMOUNT_RE.finditer(text):
        try:
            v = _parse_match(m)
        except Exception:  # noqa: BLE001
            v = None
        if v is None:
            continue
        frac = m.group(5)
        has_dec = bool(frac and frac[0].isdigit()) or bool(frac and frac.startswith("-"))
        raw = orig[m.start():m.end()].strip()
        out.append(AmountHit(v, m.start(), m.end(), raw, has_dec))
    return out


def parse_amount(text: str) -> Decimal | None:
    """The last decimal amount in `text` (the value column is at the right), else
    the last integer amount; None when there is none. Never raises."""
    try:
        hits = find_amounts(text)
    except Exception:  # noqa: BLE001
        log.debug("amount parser failed", exc_info=True)
        return None
    dec = [h for h in hits if h.has_decimals]
    if dec:
        return dec[-1].value
    return hits[-1].value if hits else None


def format_amount(v: Decimal) -> str:
    return f"{v.quantize(Decimal('0.01')):f}"


_CURRENCY_RE = re.compile(
    r"(?<![a-z])(dkk|nok|sek|eur|euro|ron|lei|myr|rm|usd|kr|kr\.|€|\$)(?![a-z])"
)
_CODE = {"dkk": "DKK", "nok": "NOK", "sek": "SEK", "eur": "EUR", "euro": "EUR", "€": "EUR", "ron": "RON",
         "lei": "RON", "myr": "MYR", "rm": "MYR", "usd": "USD", "$": "USD"}
KRONE_BY_COUNTRY = {"DK": "DKK", "NO": "NOK", "SE": "SEK"}
CURRENCY_BY_COUNTRY = {"DK": "DKK", "NO": "NOK", "SE": "SEK", "FI": "EUR", "RO": "RON", "MY": "MYR"}


def find_currencies(text: str, country: str | None = None) -> list[tuple[str, int, int, str]]:
    """(ISO code, start, end, raw) for every currency mark; "kr" resolves by country
    (None when the country is unknown)."""
    if not isinstance(text, str):
        return []
    f = fold_text(text)
    out = []
    for m in _CURRENCY_RE.finditer(f):
        tok = m.group(1).rstrip(".")
        if tok == "kr":
            code = KRONE_BY_COUNTRY.get((country or "").upper(), "")
            code = code or "KR"
        else:
            code = _CODE[tok]
        out.append((code, m.start(), m.end(), text[m.start():m.end()]))
    return out


# ---------------------------------------------------------------- row level

def _masked_amounts(text: str) -> list[AmountHit]:
    from pipeline.extract.dates import find_dates

    spans = [(d.start, d.end) for d in find_dates(text)]
    out = []
    for h in find_amounts(text):
        if any(h.start < e and h.end > s for s, e in spans):
            continue
        # times such as 14:03 are excluded by the regex; percentages too
        out.append(h)
    return out


def extract_total(rows: list[Row], country: str | None = None) -> tuple[FieldValue | None, FieldValue | None]:
    """(total, currency). The total is the amount after a total label (TOTAL, I alt,
    At betale, Att betala, Yhteensä, Total de plată, Total incl. GST, Rounded...),
    not a subtotal, tax, payment or change line."""
    from models.fields import FieldValue
    from pipeline.extract.cues import find_cues
    from pipeline.extract.layout import clamp01, ocr_factor

    cands: list[tuple[float, int, AmountHit, Row, str]] = []
    for i, row in enumerate(rows):
        cues = find_cues(row.text)
        tcues = [c for c in cues if c.label == "TOTAL"]
        if not tcues:
            continue
        if any(c.label in ("SUBTOTAL", "PAYMENT") for c in cues) and not any(c.id == "strong" for c in tcues):
            continue
        if any(c.label == "PAYMENT" for c in cues):
            continue
        cue = tcues[0]
        base = 1.0 if any(c.id == "strong" for c in tcues) else 0.9
        ftext = cue.text.lower()
        if "round" in ftext or "betale" in ftext or "betala" in ftext or "plata" in ftext or "plată" in ftext:
            base += 0.08
        taxcue = [c for c in cues if c.label == "TAX"]
        if taxcue and taxcue[0].start < cue.start:
            base -= 0.4  # "GST @6% included in total 2.43", "Moms af total"
        if taxcue and not any(k in row.text.lower() for k in ("incl", "inkl", "inclusive", "including")):
            base -= 0.3
        amts = [h for h in _masked_amounts(row.text) if h.start >= cue.end]
        src = row
        if not amts and i + 1 < len(rows):
            nxt = rows[i + 1]
            ncues = [c for c in find_cues(nxt.text) if c.label not in ("TAX",)]
            if not ncues:
                amts = _masked_amounts(nxt.text)
                src = nxt
                base -= 0.1
        amts = [a for a in amts if a.value > 0]
        if not amts:
            continue
        dec = [a for a in amts if a.has_decimals]
        pick = dec[-1] if dec else amts[-1]
        score = base if pick.has_decimals else base * 0.8
        if len(dec) >= 2 and dec[-1].value < dec[0].value * Decimal("0.5"):
            score -= 0.3  # a tax-summary row: "Total 150.00 9.00" (net, tax)
        cands.append((score, i, pick, src, cue.text))
    total_fv = None
    if cands:
        # among well-labelled candidates the lowest row wins (the final, rounded amount
        # is printed last: "Total incl. GST 65.53 / Rounding 0.02 / Total 65.55")
        cands.sort(key=lambda c: (c[0] >= 0.75, c[1] if c[0] >= 0.75 else c[0]))
        score, i, h, row, cue_text = cands[-1]
        conf = clamp01(0.9 * min(score, 1.0) * ocr_factor(row.conf_of_span(h.start, h.end)))
        agree = sum(1 for c in cands if c[2].value == h.value)
        if agree > 1:
            conf = clamp01(conf + 0.05)
        total_fv = FieldValue(name="total", raw=h.raw, value=format_amount(h.value), confidence=round(conf, 3),
                              evidence=row.span_evidence(h.start, h.end), meta={"cue": cue_text})
    if total_fv is None:
        # no total label. (a) a subtotal is the amount due when nothing is added or
        # taken off; (b) the largest decimal amount printed at least twice in the lower
        # part (total, then card/cash line). (b) wins when it is larger and printed below (a).
        sub_fv, sub_row = None, -1
        for row in reversed(rows):
            cues = find_cues(row.text)
            sub = [c for c in cues if c.label == "SUBTOTAL" and c.id == "subtotal"]
            if not sub or any(c.label in ("PAYMENT",) for c in cues):
                continue
            amts = [h for h in _masked_amounts(row.text) if h.start >= sub[0].end and h.has_decimals and h.value > 0]
            if amts:
                h = amts[-1]
                sub_fv = FieldValue(name="total", raw=h.raw, value=format_amount(h.value),
                                    confidence=round(0.45 * ocr_factor(row.conf_of_span(h.start, h.end)), 3),
                                    evidence=row.span_evidence(h.start, h.end), meta={"cue": sub[0].text})
                sub_row = row.index
                break
        seen: dict[Decimal, list[tuple[AmountHit, Row]]] = {}
        for row in rows:
            if row.rel_y() < 0.25:
                continue
            if any(c.label in ("PAYMENT", "TAX", "SUBTOTAL") for c in find_cues(row.text)):
                continue
            for h in _masked_amounts(row.text):
                if h.has_decimals and h.value > 0:
                    seen.setdefault(h.value, []).append((h, row))
        rep = [v for v, lst in seen.items() if len(lst) >= 2]
        rep_fv, rep_row = None, -1
        if rep:
            v = max(rep)
            h, row = seen[v][-1]
            rep_fv = FieldValue(name="total", raw=h.raw, value=format_amount(v), confidence=0.3,
                                evidence=row.span_evidence(h.start, h.end), meta={"cue": ""})
            rep_row = seen[v][0][1].index
        if sub_fv is not None and (rep_fv is None or not (Decimal(rep_fv.value) > Decimal(sub_fv.value)
                                                          and rep_row > sub_row)):
            total_fv = sub_fv
        else:
            total_fv = rep_fv
    # currency: on the total row first, else the most frequent mark
    cur_fv = None
    rows_order = []
    if total_fv is not None and cands:
        rows_order.append(cands[-1][3])
    rows_order += rows
    counts: dict[str, int] = {}
    first: dict[str, tuple[str, Row, int, int]] = {}
    for k, row in enumerate(rows_order):
        for code, s, e, raw in find_currencies(row.text, country):
            if k == 0 and rows_order is not rows and total_fv is not None and cands:
                counts[code] = counts.get(code, 0) + 5
            counts[code] = counts.get(code, 0) + 1
            first.setdefault(code, (raw, row, s, e))
    if counts:
        code = max(counts, key=lambda c: (counts[c], c != "KR"))
        raw, row, s, e = first[code]
        conf = 0.85 if code != "KR" else 0.4
        cur_fv = FieldValue(name="currency", raw=raw, value=code if code != "KR" else "KR",
                            confidence=round(conf * ocr_factor(row.conf_of_span(s, e)), 3),
                            evidence=row.span_evidence(s, e), meta={} if code != "KR" else {"ambiguous": "krone"})
    return total_fv, cur_fv


from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from models.fields import FieldValue
    from pipeline.extract.layout import Row
