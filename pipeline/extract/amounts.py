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
    r"(?:(?<=RM)|(?<=rm)|(?<=Rm)|(?<=KR)|(?<=kr)|(?<=Kr)|(?<=\$)|(?<=€)|(?<![\w.,/:\-])"
    # an ISO code glued to the amount ("EUR1329,70", "DKK299,00"), as OCR joins them
    r"|(?<=EUR)|(?<=Eur)|(?<=DKK)|(?<=NOK)|(?<=SEK)|(?<=RON)|(?<=LEI)|(?<=Lei)|(?<=MYR)|(?<=USD))"
    r"(-\s?)?"
    r"(\d{1,3}(?:(?P<ts>[ .,\u00a0'])\d{3})(?:(?P=ts)\d{3})*|\d+)"
    r"(?:(?P<ds>[.,])(?:(?<=\d[.,])\x20(?=\d\d(?![\d.,]))|(?<=\d[.,])\x20(?=-))?"
    # (the cents read apart: "42.3 5")
    r"(\d\x20\d(?![\w.,])|\d{1,2}|-{1,2})(?!\d))?"
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
    if frac is not None:
        frac = frac.replace(" ", "")
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


_LOOSE_AMOUNT = re.compile(r"(?<![A-Za-z0-9])([0-9OoSIlBZ]{1,7})([.,]) ?([0-9OoSIlBZ]{2})(?![0-9A-Za-z])")
_AMT_DIGIT = {"O": "0", "o": "0", "I": "1", "l": "1", "S": "5", "B": "8", "Z": "2"}


def _repair_amount_tokens(text: str) -> str:
    """Length-preserving repair of amounts with letter slips that `repair_numeric`
    leaves alone because the separator splits them ("5O. 00" -> "50. 00",
    "1O.5O" -> "10.50"): the token has the shape of a decimal amount and at least
    two real digits, more than look-alike letters."""
    def fix(m: re.Match[str]) -> str:
        tok = m.group(0)
        digits = sum(ch.isdigit() for ch in tok)
        alike = sum(ch in _AMT_DIGIT for ch in tok)
        if alike == 0 or digits < 2 or alike >= digits or not (m.group(1)[0].isdigit() or m.group(3)[0].isdigit()):
            return tok
        return "".join(_AMT_DIGIT.get(ch, ch) for ch in tok)

    return _LOOSE_AMOUNT.sub(fix, text)


def find_amounts(text: str) -> list[AmountHit]:
    """Amounts in `text`, left to right. Integers without decimals are included
    (has_decimals=False) so that "1.490,-" and "kr 1490" are found. Never raises."""
    if not isinstance(text, str) or not text:
        return []
    out: list[AmountHit] = []
    orig = text
    text = _repair_amount_tokens(repair_numeric(text))
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
    unread_strong: list[int] = []  # rows with a strong total label whose (positive) amount was not read
    credit_note = _negative_sums(rows) >= 2
    for i, row in enumerate(rows):
        cues = find_cues(row.text)
        tcues = [c for c in cues if c.label == "TOTAL"]
        if not tcues:
            rc = _rounded_total_cue(row.text, cues)
            if rc is None:
                continue
            tcues = [rc]
            cues = (*cues, rc)
        if any(c.label in ("SUBTOTAL", "PAYMENT") for c in cues) and not any(c.id == "strong" for c in tcues):
            continue
        if any(c.label == "PAYMENT" for c in cues):
            continue
        if _is_net_row(row.text[tcues[0].start:]):
            continue  # "Total Sales (Excluding GST): 95.17": the amount before tax, whatever the label
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
            all_ncues = find_cues(nxt.text)
            ncues = [c for c in all_ncues if c.label not in ("TAX",)]
            tax_row = "%" in nxt.text and any(c.label == "TAX" for c in all_ncues)  # "ALV osuus 24% 257,36"
            if not ncues and not tax_row:
                amts = _masked_amounts(nxt.text)
                src = nxt
                base -= 0.1
        neg = [a for a in amts if a.value < 0 and a.has_decimals]
        amts = [a for a in amts if a.value > 0]
        if not amts and neg and base >= 1.0 and credit_note:
            # a credit / adjustment note: its total is negative like its other sums
            amts = [neg[-1]]
            base -= 0.2
        if not any(a.has_decimals for a in amts) and src is row:
            lost = _lost_decimal_point(row.text, cue.end)
            if lost is not None:
                amts = [lost]
                base -= 0.1
        if not amts:
            if base >= 1.0 and not taxcue:
                unread_strong.append(i)
            continue
        dec = [a for a in amts if a.has_decimals]
        pick = dec[-1] if dec else amts[-1]
        score = base if pick.has_decimals else base * 0.8
        if len(dec) >= 2 and dec[-1].value < dec[0].value * Decimal("0.5"):
            score -= 0.3  # a tax-summary row: "Total 150.00 9.00" (net, tax)
        cands.append((score, i, pick, src, cue.text))
    total_fv = None
    facts = _payment_facts(rows)
    if cands:
        # among well-labelled candidates the lowest row wins (the final, rounded amount
        # is printed last: "Total incl. GST 65.53 / Rounding 0.02 / Total 65.55");
        # a value that the payment lines confirm (card amount, cash - change, total +
        # rounding) wins over one they do not
        def key(c: tuple[float, int, AmountHit, Row, str]) -> tuple[bool, bool, float]:
            good = c[0] >= 0.75
            return (good, bool(_support(c[2].value, c[1], cands, facts)) if good else False,
                    c[1] if good else c[0])

        cands.sort(key=key)
        rounded = _rounded_below(cands, facts)
        if rounded is not None:
            cands.remove(rounded)
            cands.append(rounded)
        score, i, h, row, cue_text = cands[-1]
        conf = clamp01(0.9 * min(score, 1.0) * ocr_factor(row.conf_of_span(h.start, h.end)))
        support = _support(h.value, i, cands, facts)
        meta = {"cue": cue_text}
        value, raw, ev = h.value, h.raw, row.span_evidence(h.start, h.end)
        fix = None
        contra = _payment_contradiction(h.value, facts) if not support else None
        clean = contra is not None and _read_cleanly(row, h)
        if not support and score >= 0.75 and not clean:
            # the labelled amount is confirmed by nothing: when the payment lines give a
            # value one or two OCR slips away from it ("85.59" for 65.55), take theirs
            fix = _repair_from_facts(h.value, facts) or _repair_from_rounding(h.value, h.raw, i, cands, facts)
        if not support and fix is None and not clean:
            # (not under a bare "TOTAL": "TOTAL RM1.38 / ROUNDING RM0.02 / CASH RM1.40" prints
            # the total itself; the cash paid is what was rounded)
            bare = not any(c.label == "TOTAL" and c.id == "strong" for c in find_cues(rows[i].text))
            fix = (None if bare else _rounded_after_net_tax(h.value, i, rows, facts)) or _sum_and_paid(h.value, facts) \
                or _lost_front_of_sum(h.value, facts)
        if fix is not None:
            value, kind, frow = fix
            meta["repaired_from"] = format_amount(h.value)
            support = [kind]
            ev = frow.evidence()
            raw = format_amount(value)
            conf = min(conf, 0.75)
        conf = _confidence(conf, support, score)
        if contra is not None and fix is None:
            # the payment line pays a different amount, one or two characters from the
            # printed total, which was read cleanly: the print is what it says, but one of
            # the two lines was changed (a digit copied over the total) or misprinted.
            # The printed total is kept, never auto-approved
            conf = min(conf, CONTRADICTED_TOTAL_CONF)
            meta["contradicted_by"] = contra[1]
            meta["payment_amount"] = format_amount(contra[0])
        elif not support and fix is None and score >= 1.0 and (_amount_agreed(row, h) or _text_layer(row)) and \
                not any(c[0] >= 0.75 and c[1] != i and c[2].value != h.value for c in cands):
            # a strong total label, the amount read alike by both engines (or taken from a
            # PDF's text layer, not read at all) and no other labelled amount on the
            # receipt: an independent second reading
            conf = max(conf, AGREED_TOTAL_CONF)
            meta["text_layer" if _text_layer(row) else "engines_agree"] = "yes"
        if "repaired_from" in meta:
            conf = min(conf, 0.78)  # one derived reading against the printed one: never auto-approved
        if fix is None and _split_front(row.text, h) and not {"card", "cash-change"} & set(support):
            # "TOTAL SALES : 14 8.40": digits just before the amount, one space away, may be
            # its own front (148.40) read apart; only a payment line paying the amount as
            # read settles it
            conf = min(conf, 0.79)
            meta["split_front"] = "yes"
        if set(support) == {"repeated"} and not _repeated_under_another_label(h.value, i, row, cands):
            # the same line printed twice (a category total in the items and again in a
            # summary) is one reading, not a confirmation
            conf = min(conf, 0.79)
        if any(j > i for j in unread_strong) and not {"card", "cash-change"} & set(support):
            # a later total line ("Total Payable", "Rounded Total") went unread: the amount
            # chosen may not be the final one, unless the payment confirms it
            conf = min(conf, 0.79)
            meta["unread_total_below"] = "yes"
        if support:
            meta["support"] = ",".join(sorted(set(support)))
        total_fv = FieldValue(name="total", raw=raw, value=format_amount(value), confidence=round(conf, 3),
                              evidence=ev, meta=meta)
    # only weakly labelled amounts ("TOTAL : 95.17 5.71", a tax summary): a payment-derived
    # total below is preferred to them
    weak = total_fv is not None and cands[-1][0] < 0.75 and not total_fv.meta.get("support")
    if (total_fv is None or weak) and (facts.card or facts.cash_change or (facts.tender and not facts.change_rows)):
        # no labelled amount: a card payment is the total; so is cash - change when the
        # difference is itself printed (on an unlabelled or misread total line)
        printed: dict[Decimal, Row] = {}
        for row in rows:
            for h in _row_amounts(row):
                printed.setdefault(h.value, row)
        pay_pick: tuple[Decimal, Row, float, str] | None = None
        cards = {v for v, _ in facts.card}
        if len(cards) == 1:
            v = cards.pop()
            r = next(r for x, r in facts.card if x == v)
            pay_pick = (v, r, 0.45, "card")
        if pay_pick is None:
            cc = {v: r for v, r in facts.cash_change if v in printed}
            if len(cc) == 1:
                v, r = next(iter(cc.items()))
                pay_pick = (v, printed[v], 0.5, "cash-change")
        if pay_pick is None and not facts.change_rows and total_fv is None:
            # no change label read: a tender row and the row next to it, one amount each, whose
            # difference is printed above them ("cast 100.00 / CASH CHAE 71.40" under "TL:RM 28.60")
            pair = _misread_change_pair(rows, facts, printed)
            if pair is not None:
                pay_pick = (pair[0], pair[1], 0.45, "cash-change")
        if pay_pick is None and not facts.change_rows and total_fv is None:
            # one amount tendered and no change given: the exact amount was paid
            paid = {v for v, _ in facts.tender}
            if len(paid) == 1:
                v = paid.pop()
                r = next(r for x, r in facts.tender if x == v)
                items = _items_sum_to(v, rows, r)
                pay_pick = (v, r, 0.55 if items else 0.4, "exact-cash,items" if items else "exact-cash")
        if pay_pick is not None and (total_fv is None or Decimal(total_fv.value) != pay_pick[0]):
            v, r, c, kind = pay_pick
            total_fv = FieldValue(name="total", raw=format_amount(v), value=format_amount(v),
                                  confidence=round(c * ocr_factor(r.conf), 3), evidence=r.evidence(),
                                  meta={"cue": "", "support": kind})
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
    if total_fv is None:
        total_fv = _lone_marked_amount(rows)
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


# ------------------------------------------------------- arithmetic consistency

_CHANGE_WORDS = ("change", "baki", "veksel", "byttepenge", "tilbake", "vaxel", "vaihtoraha", "rest", "retur")
_TENDER_WORDS = ("cash", "kontant", "tender", "payment", "paid", "betalt", "card", "kort", "visa", "master", "bayaran",
                 "dankort", "credit", "debit", "mobilepay", "vipps", "swish", "amex", "tunai", "received",
                 "kateinen", "numerar", "maksukortti", "eftpos", "nets", "bankkort", "accepted")
_CARD_WORDS = ("card", "kort", "visa", "master", "dankort", "credit", "debit", "mobilepay", "vipps", "swish", "amex",
               "eftpos", "maksukortti", "bankkort")
_ROUND_WORDS = ("round", "afrund", "avrund", "oresavrund", "pyoristys", "rotunj", "adj")
_WORD_RE = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class _Facts:
    card: tuple[tuple[Decimal, Row], ...]      # amounts on card/electronic payment rows (equal the total)
    cash_change: tuple[tuple[Decimal, Row], ...]  # cash tendered - change given
    rounding: tuple[Decimal, ...]              # rounding adjustments (signed as printed)
    tender: tuple[tuple[Decimal, Row], ...]    # every amount on a non-change payment row
    sums: tuple[tuple[Decimal, Row], ...] = ()  # net + tax: subtotal + tax lines, tax-summary rows
    change_rows: int = 0                       # rows naming change given (read or not)


def _words_of(text: str) -> list[str]:
    return _WORD_RE.findall(fold_text(text))


#: real words one letter from a payment stem: "Service charge" is no change line,
#: "At betale" (to pay) no payment
_REAL_NEAR_WORDS = frozenset({"charge", "charged", "charges", "betale", "betaler", "kontakt", "kontakta", "kontakte",
                              "muster", "debut", "sender", "tenner", "receiver", "receives", "pavement", "rounds"})


def _near(word: str, stem: str) -> bool:
    """`word` starts with `stem` read with at most one wrong letter, for stems of
    five letters or more ("chanqe", "recieved" are not "change", "received" to a
    plain prefix test; short stems such as "cash" or "rest" stay exact)."""
    if len(stem) < 5 or len(word) < len(stem) or len(word) > len(stem) + 3 or word in _REAL_NEAR_WORDS:
        return False
    return sum(a != b for a, b in zip(word, stem, strict=False)) <= 1 and word[0] == stem[0]


def _has_word(words: list[str], stems: tuple[str, ...]) -> bool:
    return any(w.startswith(s) or _near(w, s) for w in words for s in stems)


#: words that may stand beside an amount on the row under its label ("CASH" / "RM 170.00")
_CURRENCY_WORDS = {"rm", "myr", "kr", "dkk", "nok", "sek", "eur", "ron", "lei", "usd"}


def _row_amounts(row: Row) -> list[AmountHit]:
    return [h for h in _masked_amounts(row.text) if h.has_decimals]


_ROUNDED_TOTAL = re.compile(r"(?<![a-z])round(?:ing|ed)?(?![a-z])")
#: "64 13" (the point read as a space) or "4759 .96" (a space before the point)
_LOST_POINT = re.compile(r"(?<![\d.,\-])(\d{1,5})(?: {1,2}| [.,] ?)(\d{2})\s*$")


def _rounded_total_cue(text: str, cues: tuple[Cue, ...]) -> Cue | None:
    """A "Rounding 42.35" row that prints the rounded total itself (its amount is
    not a small adjustment) counts as a total label."""
    from pipeline.extract.cues import Cue

    if any(c.label in ("PAYMENT", "SUBTOTAL", "TAX") for c in cues):
        return None
    folded = fold_text(text)
    m = _ROUNDED_TOTAL.search(folded)
    if not m or re.search(r"(?<![a-z])adj", folded):
        return None  # "Rounding Adj(ustment) 0.02" is the adjustment, however it is misread
    amts = [h for h in _masked_amounts(text) if h.start >= m.end() and h.has_decimals]
    if not amts or amts[-1].value < 1 or text[amts[-1].end:].lstrip().startswith("-"):
        return None
    return Cue(label="TOTAL", id="rounded", start=m.start(), end=m.end(), text=text[m.start():m.end()])


def _unlabelled_tender(row: Row) -> Decimal | None:
    """The amount on the row just above a change line when that row is no total,
    subtotal, tax or rounding line: the cash tendered, its label misread ("GASH 20.00")."""
    from pipeline.extract.cues import find_cues

    amts = _row_amounts(row)
    if not amts:
        # "Recewed 150 00" above "Change 14.00": the tendered amount with its point lost
        lost = _lost_decimal_point(row.text, 0)
        amts = [lost] if lost is not None else []
    if not amts or amts[-1].value <= 0 or _has_word(_words_of(row.text), _ROUND_WORDS):
        return None
    if any(c.label in ("TOTAL", "SUBTOTAL", "TAX") for c in find_cues(row.text)):
        return None
    return amts[-1].value


#: confidence of the last resort: the largest currency-marked amount low on the page
LONE_MARKED_CONF = 0.25


def _lone_marked_amount(rows: list[Row]) -> FieldValue | None:
    """Nothing labelled, paid or repeated: the largest amount written right after a currency mark
    ("RM 170.00") in the lower half of the text, on a row that is no payment, tax or subtotal
    line. A guess, far below any acceptance threshold."""
    from models.fields import FieldValue
    from pipeline.extract.cues import find_cues

    best: tuple[Decimal, AmountHit, Row] | None = None
    for row in rows[len(rows) // 2:]:  # (by rows: a scan may leave the page's lower part blank)
        if any(c.label in ("PAYMENT", "TAX", "SUBTOTAL") for c in find_cues(row.text)):
            continue
        marks = [e for _, _, e, _ in find_currencies(row.text)]
        for h in _masked_amounts(row.text):
            if h.has_decimals and h.value > 0 and any(0 <= h.start - e <= 2 for e in marks) \
                    and (best is None or h.value > best[0]):
                best = (h.value, h, row)
    if best is None:
        return None
    v, h, row = best
    return FieldValue(name="total", raw=h.raw, value=format_amount(v), confidence=LONE_MARKED_CONF,
                      evidence=row.span_evidence(h.start, h.end), meta={"cue": "", "support": "currency-mark"})


def _misread_change_pair(rows: list[Row], facts: _Facts, printed: dict[Decimal, Row]) -> tuple[Decimal, Row] | None:
    """Cash tendered minus change when the change label was misread: a tender row and the row
    just above or below it (no total, subtotal, tax or rounding line) hold one amount each; the
    larger is the cash paid, the smaller the change, and their difference is printed on a row
    above both (the total, its label misread). Exactly one such difference, or none."""
    index = {id(r): k for k, r in enumerate(rows)}
    found: dict[Decimal, Row] = {}
    for t, trow in facts.tender:
        k = index.get(id(trow))
        if k is None or len(_row_amounts(trow)) != 1:
            continue
        for j in (k - 1, k + 1):
            if not 0 <= j < len(rows) or len(_row_amounts(rows[j])) != 1:
                continue
            other = _unlabelled_tender(rows[j])
            if other is None or other == t:
                continue
            v = abs(t - other)
            row = printed.get(v)
            if row is not None and index.get(id(row), len(rows)) < min(j, k):
                found.setdefault(v, row)
    if len(found) != 1:
        return None
    return next(iter(found.items()))


def _items_sum_to(value: Decimal, rows: list[Row], pay_row: Row) -> bool:
    """The amounts at the end of the consecutive amount rows just above the payment
    row add up to `value` (the item lines of a receipt that prints no total)."""
    total = Decimal(0)
    n = 0
    for row in reversed([r for r in rows if r.index < pay_row.index]):
        amts = _row_amounts(row)
        if not amts:
            if n:
                break
            continue
        total += amts[-1].value
        n += 1
        if total == value and n >= 2:
            return True
        if total > value:
            return False
    return False


def _label_words(row: Row, hit: AmountHit) -> str:
    return "".join(_words_of(row.text[:hit.start]))


def _is_net_row(text: str) -> bool:
    folded = fold_text(text)
    words = _words_of(text)
    return any(w in folded for w in _NET_WORDS) or any(_near(w, st) for w in words for st in ("excluding", "exclusive"))


def _repeated_under_another_label(value: Decimal, row_idx: int, row: Row,
                                  cands: list[tuple[float, int, AmountHit, Row, str]]) -> bool:
    """Another total row with the same amount and other words before it (not the
    same label read twice, nor a net amount: "Total excl. GST")."""
    from rapidfuzz import fuzz

    mine = next((_label_words(c[3], c[2]) for c in cands if c[1] == row_idx), "")
    return any(c[2].value == value and c[1] != row_idx and c[0] >= 0.5
               and fuzz.ratio(_label_words(c[3], c[2]), mine) < 80
               and not _is_net_row(c[3].text)
               for c in cands)


_SLIPPED_CENTS = re.compile(r"(?<=\d )([0-9OoIlSBZ]{2})(?=\s*$)")


def _repair_cents(text: str) -> str:
    """"RM 64 I3": the two digits after a lost point read with one look-alike letter
    (length-preserving; one real digit needed)."""
    def fix(m: re.Match[str]) -> str:
        tok = m.group(1)
        if sum(ch.isdigit() for ch in tok) != 1:
            return tok
        return "".join(_AMT_DIGIT.get(ch, ch) for ch in tok)

    return _SLIPPED_CENTS.sub(fix, text)


_ZERO_CENTS = re.compile(r"(?<![\d.,\-])0(\d{2})\s*$")


def _lost_point_after_zero(text: str) -> AmountHit | None:
    """"Change 005": a row ending in a zero and two digits, "0.05" without its point."""
    m = _ZERO_CENTS.search(text)
    if not m:
        return None
    return AmountHit(Decimal(f"0.{m.group(1)}"), m.start(), m.end(), m.group(0), True)


def _lost_decimal_point(text: str, start: int) -> AmountHit | None:
    """"Total Sales RM 64 13": an amount at the end of a total row whose decimal
    point the OCR lost (read as a space)."""
    m = _LOST_POINT.search(text, start) or _LOST_POINT.search(_repair_cents(text), start)
    if not m:
        return None
    v = Decimal(f"{m.group(1)}.{m.group(2)}")
    return AmountHit(v, m.start(), m.end(), text[m.start():m.end()], True)


def _payment_facts(rows: list[Row]) -> _Facts:
    """What the payment block says about the total: card payments equal it, cash
    tendered minus change equals it, and a rounding line adjusts it."""
    card: list[tuple[Decimal, Row]] = []
    tender: list[tuple[Decimal, Row]] = []
    change: list[Decimal] = []
    rounding: list[Decimal] = []
    change_rows = 0
    for k, row in enumerate(rows):
        words = _words_of(row.text)
        if not words:
            continue
        if any(w == st or (len(st) >= 5 and (w.startswith(st) or _near(w, st))) for w in words for st in _CHANGE_WORDS):
            change_rows += 1  # (whole words: "RESTORAN" is not "rest")
        amts = _row_amounts(row)
        if not amts and k + 1 < len(rows) and set(_words_of(rows[k + 1].text)) <= _CURRENCY_WORDS:
            amts = _row_amounts(rows[k + 1])  # label and amount on consecutive rows
        if not amts and _has_word(words, _ROUND_WORDS):
            lost = _lost_decimal_point(row.text, 0)  # "Rounding Adjustment RM 0 02"
            if lost is not None and lost.value < 1:
                amts = [lost]
        if not amts and _has_word(words, _CHANGE_WORDS):
            # "Change 005", "Change RM 0 10": change of less than one unit whose point was lost
            lost = _lost_decimal_point(row.text, 0) or _lost_point_after_zero(row.text)
            if lost is not None and lost.value < 1:
                amts = [lost]
        elif not amts and _has_word(words, _TENDER_WORDS) and not _has_word(words, _CARD_WORDS):
            lost = _lost_decimal_point(row.text, 0)  # "Cash Received 30 . 50"
            if lost is not None:
                amts = [lost]
        if not amts:
            continue
        last = amts[-1].value
        if _has_word(words, _CHANGE_WORDS):
            if last >= 0:
                change.append(last)
                if k and not any(r is rows[k - 1] for _, r in tender):
                    above = _unlabelled_tender(rows[k - 1])
                    if above is not None:
                        tender.append((above, rows[k - 1]))
            continue
        if _has_word(words, _ROUND_WORDS) and abs(last) < 1:
            rounding.append(last)
            continue
        if _has_word(words, _TENDER_WORDS) and last > 0:
            tender.append((last, row))
            if _has_word(words, _CARD_WORDS):
                card.append((last, row))
    cash_change = [(t - c, r) for t, r in tender for c in change if c > 0 and t - c > 0]
    return _Facts(tuple(card), tuple(cash_change), tuple(rounding), tuple(tender), tuple(_net_plus_tax(rows)),
                  change_rows)


#: a tax line that is part of the amount above it, not added to it
_TAX_INCLUDED = ("incl", "inkl", "inclusive", "included", "includes", "udgor", "utgjor", "heraf", "herav",
                 "varav", "din care", "josta", "of which")
#: a label of the amount before tax ("Total excl. GST", "Netto")
_NET_WORDS = ("excl", "exkl", "ekskl", "exclusive", "excluding", "netto", "fara tva", "before tax", "before gst",
              "before vat", "veroton", "uden moms", "utan moms", "uten mva", "without vat", "without gst")
_TAX_WORDS = ("gst", "vat", "tax", "moms", "mva", "tva", "alv", "sst")
#: "Total GST", "TOTAL TVA 19%", "Total moms": the tax sum, not a total
_TOTAL_TAX = re.compile(r"(?<![a-z])total (?:gst|tax|vat|tva|moms|mva|alv|sst)(?![a-z])")
_PERCENT = re.compile(r"(\d{1,2}(?:[.,]\d{1,2})?)\s?%")


def _net_plus_tax(rows: list[Row]) -> list[tuple[Decimal, Row]]:
    """Totals implied by the tax arithmetic, an independent confirmation of the
    total: (a) a net amount (subtotal or "total excl. tax") plus an added tax
    amount printed below it; (b) tax-summary rows "SR @ 6%  61.70  3.70" whose
    tax is the printed rate of the net: net + tax of one row, and of all such rows
    together. Rows of the payment block are ignored."""
    from pipeline.extract.cues import find_cues

    nets: list[tuple[int, Decimal, Row]] = []
    explicit_nets: list[tuple[int, Decimal, Row]] = []  # labelled excl. tax, not a plain subtotal
    share_of: list[tuple[int, Decimal, Decimal]] = []  # "of which VAT 25%": (row, tax, rate)
    taxes: list[tuple[int, Decimal]] = []
    summary: list[tuple[Decimal, Row]] = []
    for k, row in enumerate(rows):
        cues = find_cues(row.text)
        labels = {c.label for c in cues}
        folded = fold_text(row.text)
        if "PAYMENT" in labels and not any(w in folded for w in _NET_WORDS):
            continue  # "Amt paid excl. GST" is a net amount, other payment rows are not
        amts = [h for h in _row_amounts(row) if h.value >= 0]
        if not amts:
            continue
        pm = _PERCENT.search(row.text)
        if pm and len(amts) >= 2:
            try:
                rate = Decimal(pm.group(1).replace(",", ".")) / 100
            except InvalidOperation:
                rate = None
            after = [h for h in amts if h.start >= pm.end()]
            if rate is not None and len(after) >= 2:
                net, tax = after[-2].value, after[-1].value
                if net > 0 and abs(net * rate - tax) <= Decimal("0.011"):
                    summary.append((net + tax, row))
                    continue
        last = amts[-1].value
        has_tax = any(re.search(rf"(?<![a-z]){w}(?![a-z])", folded) for w in _TAX_WORDS)
        included = any(w in folded for w in _TAX_INCLUDED)
        sub = any(c.label == "SUBTOTAL" and c.id == "subtotal" for c in cues)
        is_net = any(w in folded for w in _NET_WORDS) and not included
        if (sub and not has_tax) or is_net:
            if last > 0:
                nets.append((k, last, row))
                if is_net:
                    explicit_nets.append((k, last, row))
        elif not included and last >= 0 and ((has_tax and "TOTAL" not in labels)
                                              or _TOTAL_TAX.search(folded)):
            taxes.append((k, last))
        elif included and has_tax and pm and last > 0 and "TOTAL" not in labels:
            try:
                share_of.append((k, last, Decimal(pm.group(1).replace(",", ".")) / 100))
            except InvalidOperation:
                pass
    out: list[tuple[Decimal, Row]] = []
    for k, net, row in nets:
        for j, tax in taxes:
            if j > k and Decimal(0) < tax < net:
                out.append((net + tax, row))
    # "Subtotal excl. VAT 28,717.60 / incl. VAT 25% 7,179.40": the VAT the total includes is
    # the printed rate of the net amount above it, and net + VAT is the total
    for k, net, row in explicit_nets:
        for j, tax, rate in share_of:
            if j > k and Decimal(0) < tax < net and abs(net * rate - tax) <= Decimal("0.011"):
                out.append((net + tax, row))
    out += summary
    if len(summary) >= 2:
        out.append((sum((v for v, _ in summary), Decimal(0)), summary[0][1]))
    return out


def _support(value: Decimal, row_idx: int, cands: list[tuple[float, int, AmountHit, Row, str]],
             facts: _Facts) -> list[str]:
    """The independent readings that confirm `value` as the total."""
    out: list[str] = []
    if any(v == value for v, _ in facts.card):
        out.append("card")
    if any(v == value for v, _ in facts.cash_change):
        out.append("cash-change")
    if any(c[2].value == value and c[1] != row_idx and c[0] >= 0.5 for c in cands):
        out.append("repeated")
    if facts.rounding and any(c[2].value + r == value or c[2].value - r == value
                              for c in cands if c[1] != row_idx for r in facts.rounding if r != 0):
        out.append("rounding")
    # with a rounding line, net + tax is the amount before rounding: only the
    # rounded amount is the total
    rounds = [r for r in facts.rounding if r != 0]
    if any((v == value and not rounds) or any(v + r == value or v - r == value for r in rounds)
           for v, _ in facts.sums):
        out.append("net+tax")
    return out


def _slips(a: Decimal, b: Decimal) -> int:
    """How many character edits turn the printed form of `a` into that of `b`."""
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(format_amount(a), format_amount(b)))


def _slips_raw(a: Decimal, raw: str) -> int:
    """Edits between the printed form of `a` and the characters as read ("(08.70)")."""
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(format_amount(a), re.sub(r"[^0-9.]", "", raw.replace(",", "."))))


def _repair_from_facts(value: Decimal, facts: _Facts) -> tuple[Decimal, str, Row] | None:
    """A payment-derived value one or two OCR slips from `value` (the labelled amount
    misread), when exactly one such value exists."""
    found: dict[Decimal, tuple[str, Row]] = {}
    for kind, items in (("card", facts.card), ("cash-change", facts.cash_change)):
        for v, r in items:
            if v == value or v in found:
                continue
            if abs(v - value) < Decimal("0.10"):
                continue  # a rounding difference, not a misreading: which one is "the total" is ambiguous
            # one or two slipped characters, or a decimal point lost ("3045" for 30.45), or
            # the front of the amount with its point lost ("~~ 45" for 30.45)
            if _slips(v, value) <= 2 or (value == value.to_integral_value() and v * 100 == value) \
                    or _lost_front(value, v):
                found[v] = (kind, r)
    if len(found) != 1:
        return None
    v, (kind, r) = next(iter(found.items()))
    return v, kind, r


_FRONT = re.compile(r"(?<![\d.,])\d{1,3} $")


def _split_front(text: str, h: AmountHit) -> bool:
    """A short digit group one space before the amount ("14 8.40"), not a currency or label."""
    return bool(_FRONT.search(text[:h.start]))


_NICKEL = Decimal("0.05")


def _rounded_below(cands: list[tuple[float, int, AmountHit, Row, str]],
                   facts: _Facts) -> tuple[float, int, AmountHit, Row, str] | None:
    """"Total (incl. GST) 15.39 / [rounding line unread] / Grand Total 15.40": a labelled
    amount below the chosen one that is it rounded to 0.05 (less than 0.50 from it, the
    chosen one not itself rounded) is the final total. The chosen one's confirmation by
    net + tax does not outrank it: net + tax is the amount before rounding, and the
    rounding line that would say so was not read. Not when a payment line pays the
    chosen amount."""
    top = cands[-1]
    if top[0] < 0.75 or top[2].value % _NICKEL == 0:
        return None
    sup = set(_support(top[2].value, top[1], cands, facts))
    if {"card", "cash-change"} & sup:
        return None
    below = [c for c in cands if c[0] >= 0.75 and c[1] > top[1] and c[2].value % _NICKEL == 0
             and Decimal(0) < abs(c[2].value - top[2].value) < Decimal("0.50")]
    return max(below, key=lambda c: c[1]) if below else None


def _lost_front(read: Decimal, v: Decimal) -> bool:
    """`read` (an integer of two digits or more, no decimals read) is the tail of the
    digits of `v`: OCR lost the characters before it and the decimal point."""
    if read != read.to_integral_value() or read < 10:
        return False
    tail, digits = str(int(read)), format_amount(v).replace(".", "")
    return len(digits) > len(tail) and digits.endswith(tail)


#: confidence of a cleanly read total that the payment line contradicts
CONTRADICTED_TOTAL_CONF = 0.5
#: OCR confidence of the total's characters above which one engine's reading counts as clean
CLEAN_READ_CONF = 0.97


def _negative_sums(rows: list[Row]) -> int:
    """Rows with a total, subtotal or tax label whose last amount is negative (a credit
    or adjustment note prints every sum negative: "Total (excl. GST): -13.87",
    "GST: -0.84", "Total Payable: -1.73"). Payment rows (discounts) are not counted."""
    from pipeline.extract.cues import find_cues

    n = 0
    for row in rows:
        labels = {c.label for c in find_cues(row.text)}
        if "PAYMENT" in labels or not labels & {"TOTAL", "SUBTOTAL", "TAX"}:
            continue
        amts = [h for h in _masked_amounts(row.text) if h.has_decimals]
        if amts and amts[-1].value < 0:
            n += 1
    return n


def _payment_contradiction(value: Decimal, facts: _Facts) -> tuple[Decimal, str] | None:
    """A card payment (or cash - change, off by 0.10 or more: cash is rounded) one or two
    characters from the total but not equal to it, when exactly one such amount exists
    and nothing on the payment lines pays the total itself."""
    if any(v == value for v, _ in facts.card) or any(v == value for v, _ in facts.cash_change):
        return None
    found: dict[Decimal, str] = {}
    for kind, items in (("card", facts.card), ("cash-change", facts.cash_change)):
        for v, _ in items:
            if v in found or (kind == "cash-change" and abs(v - value) < Decimal("0.10")):
                continue
            if _slips(v, value) <= 2:
                found[v] = kind
    if len(found) != 1:
        return None
    v, kind = next(iter(found.items()))
    return v, kind


def _read_cleanly(row: Row, h: AmountHit) -> bool:
    """The amount's characters were read alike by both engines, or by one with a high
    confidence: an OCR slip is unlikely."""
    return _amount_agreed(row, h) or _text_layer(row) or row.conf_of_span(h.start, h.end) >= CLEAN_READ_CONF


def _repair_from_rounding(value: Decimal, raw: str, row_idx: int, cands: list[tuple[float, int, AmountHit, Row, str]],
                          facts: _Facts) -> tuple[Decimal, str, Row] | None:
    """"Total incl. GST 109.70 / Rounding adjustment 0.00 / Rounded total (08.70)":
    the rounded total must be the earlier total plus the adjustment; when the one
    read is one or two slips from that sum, the sum is the total."""
    found: dict[Decimal, Row] = {}
    for c in cands:
        if c[1] >= row_idx or c[0] < 0.75:
            continue
        for r in facts.rounding:
            for v in {c[2].value + r, c[2].value - r}:
                if v > 0 and v != value and abs(v - value) >= Decimal("0.10") and \
                        min(_slips(v, value), _slips_raw(v, raw)) <= 2:
                    found.setdefault(v, c[3])
    if len(found) != 1:
        return None
    v, row = next(iter(found.items()))
    return v, "rounding", row


def _rounded_after_net_tax(value: Decimal, row_idx: int, rows: list[Row],
                           facts: _Facts) -> tuple[Decimal, str, Row] | None:
    """"Total Sales (incl. GST) 64.13 / Rounding Adjustment 0.02 / TOTAL (unread)":
    the labelled amount equals net + tax, a non-zero rounding line is printed below
    it and no total after rounding was read: the total is the amount adjusted by the
    rounding, when exactly one sign gives a multiple of 0.05 (cash rounding). Also
    without the net + tax equality ("Total (incl. GST) 15.39 / Rounding 0.01 /
    Grand Total (unreadable)"), as a repair (the caller caps its confidence)."""
    rounds = {r for r in facts.rounding if r != 0}
    if len(rounds) != 1:
        return None
    r = abs(next(iter(rounds)))
    below = []
    for row in rows[row_idx + 1:row_idx + 4]:
        words = _words_of(row.text)
        if _has_word(words, _ROUND_WORDS):
            below.append(row)
            break
        if _has_word(words, _TENDER_WORDS) or _has_word(words, _CHANGE_WORDS):
            break  # rounding printed after the payment: the cash paid was rounded, not the total
    if not below:
        return None
    nickel = Decimal("0.05")
    opts = [v for v in (value + r, value - r) if v > 0 and v % nickel == 0]
    if len(opts) != 1:
        return None
    kind = "net+tax,rounding" if any(v == value for v, _ in facts.sums) else "rounding"
    return opts[0], kind, below[0]


def _sum_and_paid(value: Decimal, facts: _Facts) -> tuple[Decimal, str, Row] | None:
    """Net + tax equals an amount on a payment row ("Amt paid incl. GST 78.30") while
    the labelled amount ("TOTAL 73.87", the net of a tax summary) is confirmed by
    nothing: two independent readings agree on the total."""
    paid = {v for v, _ in facts.tender}
    found = {v: r for v, r in facts.sums if v in paid and v != value and v > value}
    if len(found) != 1:
        return None
    v, r = next(iter(found.items()))
    return v, "net+tax,paid", r


def _lost_front_of_sum(value: Decimal, facts: _Facts) -> tuple[Decimal, str, Row] | None:
    """"TOTAL JAX ye 7.55" under "SUB-TOTAL 26.00 / TOTAL TAX 1.56 / ROUNDING -0.01": the amount
    read is the tail of net + tax (adjusted by the rounding line when one is printed), its first
    digits lost to the OCR; exactly one such sum. A repair (the caller caps its confidence)."""
    if value <= 0 or not facts.sums:
        return None
    rounds = [r for r in facts.rounding if r != 0]
    tail = format_amount(value)
    found: dict[Decimal, Row] = {}
    for v, r in facts.sums:
        for w in ([v + x for x in rounds] + [v - x for x in rounds]) if rounds else [v]:
            if w > value and format_amount(w).endswith(tail) and len(format_amount(w)) > len(tail):
                found.setdefault(w, r)
    if len(found) != 1:
        return None
    w, r = next(iter(found.items()))
    return w, "net+tax", r


#: confidence of an unconfirmed total under a strong label that both engines read alike
AGREED_TOTAL_CONF = 0.82


def _text_layer(row: Row) -> bool:
    """The row comes from a PDF's text layer: its characters are exact, not OCR readings."""
    return getattr(getattr(row, "page", None), "source", None) == "pdf-text"


def _amount_agreed(row: Row, h: AmountHit) -> bool:
    from pipeline.ocr import words_agreed

    ws = [w for w, s, e in row.word_spans() if s < h.end and e > h.start and any(ch.isdigit() for ch in w.text)]
    return words_agreed(ws)


def _confidence(conf: float, support: list[str], score: float) -> float:
    """A labelled total confirmed by the payment lines (or by another total line) is
    trusted; one confirmed by nothing stays below the auto-approve threshold (0.8)."""
    from pipeline.extract.layout import clamp01

    if support:
        return clamp01(max(conf, 0.82) + 0.04 * (len(set(support)) - 1) + 0.06)
    # (on the SROIE tune half, letting cleanly read unconfirmed totals through at 0.85
    # took the accepted precision from 26/27 to 37/39: OCR confidence alone is not enough)
    return min(conf, 0.79)


from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from models.fields import FieldValue
    from pipeline.extract.cues import Cue
    from pipeline.extract.layout import Row
