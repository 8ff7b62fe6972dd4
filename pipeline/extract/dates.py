"""Dates (day-first) and weekdays in da/nb/sv/fi/ro/en.

Numeric styles: 14.10.2022, 14-10-22, 14/10/2022, 2022-10-14, 14.10.22,
20221014 is NOT accepted (too many false positives). Month names: "14. okt.
2022", "14 noiembrie 2018", "30 DEC 17", "14. lokakuuta 2022", "Oct 14, 2022".
Month names come from an in-module table (deterministic and fast); dateparser
is not needed for these forms.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from pipeline.extract.text import fold_text, repair_numeric

log = logging.getLogger(__name__)

_MONTHS: dict[int, list[str]] = {
    1: ["jan", "januar", "januari", "january", "ianuarie", "ian", "tammikuuta", "tammikuu", "tammi"],
    2: ["feb", "febr", "februar", "februari", "february", "februarie", "helmikuuta", "helmikuu", "helmi"],
    3: ["mar", "mars", "marts", "march", "martie", "maaliskuuta", "maaliskuu", "maalis", "maart", "mac"],
    4: ["apr", "april", "aprilie", "huhtikuuta", "huhtikuu", "huhti"],
    5: ["maj", "mai", "may", "toukokuuta", "toukokuu", "touko", "mei"],
    6: ["jun", "juni", "june", "iunie", "iun", "kesakuuta", "kesakuu", "kesa"],
    7: ["jul", "juli", "july", "iulie", "iul", "heinakuuta", "heinakuu", "heina", "julai"],
    8: ["aug", "august", "augusti", "elokuuta", "elokuu", "elo", "ogos", "ogo"],
    9: ["sep", "sept", "september", "septembrie", "syyskuuta", "syyskuu", "syys"],
    10: ["okt", "oct", "oktober", "october", "octombrie", "lokakuuta", "lokakuu", "loka"],
    11: ["nov", "november", "noiembrie", "marraskuuta", "marraskuu", "marras"],
    12: ["dec", "des", "desember", "december", "decembrie", "joulukuuta", "joulukuu", "joulu", "dis", "disember"],
}
# (Malay: Mac, Mei, Julai, Ogos, Disember, Dis; Januari/Februari/Oktober as in da/sv/nb)
MONTH_NAMES: dict[str, int] = {name: m for m, names in _MONTHS.items() for name in names}
_MONTH_ALT = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))

WEEKDAYS: dict[str, int] = {}
for _i, _names in enumerate([
    ["mandag", "maandag", "mandagen", "maanantai", "luni", "monday", "mon", "man"],
    ["tirsdag", "tisdag", "tiistai", "marti", "tuesday", "tue", "tues", "tir", "tis"],
    ["onsdag", "keskiviikko", "miercuri", "wednesday", "wed", "ons"],
    ["torsdag", "torstai", "joi", "thursday", "thu", "thur", "thurs", "tor"],
    ["fredag", "perjantai", "vineri", "friday", "fri", "fre"],
    ["lordag", "laurdag", "lauantai", "sambata", "saturday", "sat", "lor", "lau"],
    ["sondag", "sunnuntai", "duminica", "sunday", "sun", "son"],
]):
    for _n in _names:
        WEEKDAYS[_n] = _i
WEEKDAY_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_SHORT_WEEKDAYS = {n for n in WEEKDAYS if len(n) <= 4}

MIN_YEAR, MAX_YEAR = 2000, 2035


@dataclass(frozen=True)
class DateHit:
    date: dt.date
    start: int
    end: int
    raw: str
    style: str  # "dmy", "ymd", "month_name", "mdy" (month first: the day-first reading is no date)
    two_digit_year: bool = False
    repaired: bool = False  # the year was read with one OCR digit slip ("2078" -> 2018)


def _year(y: str) -> int | None:
    if not y.isdigit():
        return None
    n = int(y)
    if len(y) == 2:
        n += 2000
    elif len(y) != 4:
        return None
    return n if MIN_YEAR <= n <= MAX_YEAR else None


#: digits an OCR engine reads for another (thermal-print fonts): 1 <-> 7, 0/3/6/8, 5 <-> 6, 0 <-> 9
_DIGIT_SLIPS = {"7": "1", "1": "7", "8": "036", "0": "869", "3": "8", "6": "058", "5": "6", "9": "0"}


def _repaired_year(y: str) -> int | None:
    """A 4-digit year outside the plausible range that one digit slip in its last
    three digits brings into it, when exactly one such slip does ("2078" -> 2018,
    "2617" -> 2017)."""
    if len(y) != 4 or not y.isdigit() or _year(y) is not None or not y.startswith("2"):
        return None
    found = set()
    for pos in (1, 2, 3):
        for alt in _DIGIT_SLIPS.get(y[pos], ""):
            cand = y[:pos] + alt + y[pos + 1:]
            n = _year(cand)
            if n is not None:
                found.add(n)
    return found.pop() if len(found) == 1 else None


def _mk(y: int | None, m: int, d: int) -> dt.date | None:
    if y is None:
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


_SEP = r"[.\-/]"
_DMY = re.compile(rf"(?<![\d])(\d{{1,2}})\s?({_SEP})\s?(\d{{1,2}})\s?\2\s?(\d{{4}}|\d{{2}})(?![\d])")
_YMD = re.compile(rf"(?<![\d])(\d{{4}})\s?({_SEP})\s?(\d{{1,2}})\s?\2\s?(\d{{1,2}})(?![\d])")
_DMONY = re.compile(rf"(?<![0-9a-z])(\d{{1,2}})(?:st|nd|rd|th)?\s?[.\-/]?\s?(?:of\s)?({_MONTH_ALT})\.?\s?[.\-/,]?\s?(\d{{4}}|\d{{2}})(?![0-9])")
_MONDY = re.compile(rf"(?<![0-9a-z])({_MONTH_ALT})\.?\s?(\d{{1,2}})(?:st|nd|rd|th)?(?:,\s?|\s)(\d{{4}})(?![0-9])")


def find_dates(text: str) -> list[DateHit]:
    """Every valid date in `text`, in order of appearance. Never raises."""
    if not isinstance(text, str) or not text:
        return []
    hits: list[DateHit] = []
    rep = _repair_date_tokens(repair_numeric(text))
    slipped = [(m.start(), m.end()) for m in _DATE_SHAPED.finditer(text) if rep[m.start():m.end()] != text[m.start():m.end()]
               and repair_numeric(text)[m.start():m.end()] == text[m.start():m.end()]]
    rep, month_slips = _repair_month_dates(rep)
    slipped += month_slips
    f = fold_text(rep)
    # a tilde read for a dash between digits ("05~05-17"); length-preserving
    f = re.sub(r"(?<=\d)~(?=\d)", "-", f)
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for m in _YMD.finditer(f):
        d = _mk(_year(m.group(1)), int(m.group(3)), int(m.group(4)))
        if d and free(m.start(), m.end()):
            hits.append(DateHit(d, m.start(), m.end(), text[m.start():m.end()], "ymd"))
            taken.append((m.start(), m.end()))
    for m in _DMY.finditer(f):
        if not free(m.start(), m.end()):
            continue
        d = _mk(_year(m.group(4)), int(m.group(3)), int(m.group(1)))
        repaired = False
        style = "dmy"
        if d is None and int(m.group(3)) > 12:
            # "01/25/2018": no day-first date, a month-first one
            d = _mk(_year(m.group(4)), int(m.group(1)), int(m.group(3)))
            style = "mdy"
        if d is None:
            d = _mk(_repaired_year(m.group(4)), int(m.group(3)), int(m.group(1)))
            repaired = d is not None
        if d:
            hits.append(DateHit(d, m.start(), m.end(), text[m.start():m.end()], style, len(m.group(4)) == 2,
                                repaired))
            taken.append((m.start(), m.end()))
    for rx, order in ((_DMONY, "dmy"), (_MONDY, "mdy")):
        for m in rx.finditer(f):
            if not free(m.start(), m.end()):
                continue
            if order == "dmy":
                day, mon, yr = m.group(1), m.group(2), m.group(3)
            else:
                mon, day, yr = m.group(1), m.group(2), m.group(3)
            d = _mk(_year(yr), MONTH_NAMES[mon], int(day))
            if d:
                hits.append(DateHit(d, m.start(), m.end(), text[m.start():m.end()], "month_name", len(yr) == 2))
                taken.append((m.start(), m.end()))
    if slipped:
        hits = [DateHit(h.date, h.start, h.end, h.raw, h.style, h.two_digit_year, True)
                if any(h.start < e and h.end > s0 for s0, e in slipped) else h for h in hits]
    hits.sort(key=lambda h: h.start)
    return hits


#: a numeric date with letter look-alikes in it ("O7/O7/I7", "2I-O3-2O18")
_DATE_SHAPED = re.compile(r"(?<![A-Za-z0-9])([0-9OoIlSBZG]{1,2})([.\-/])([0-9OoIlSBZG]{1,2})\2([0-9OoIlSBZG]{4}|[0-9OoIlSBZG]{2})"
                          r"(?![A-Za-z0-9])")
_DATE_DIGIT = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "S": "5", "B": "8", "Z": "2", "G": "6"})


def _repair_date_tokens(text: str) -> str:
    """Length-preserving repair of tokens shaped like a numeric date (d/m/y with one
    separator used twice) whose look-alike letters `repair_numeric` left alone
    because they are as many as the digits: at least three real digits. The dates
    found in them are marked `repaired` (they score lower)."""
    def fix(m: re.Match[str]) -> str:
        tok = m.group(0)
        if sum(ch.isdigit() for ch in tok) < 3:
            return tok
        return tok.translate(_DATE_DIGIT)

    return _DATE_SHAPED.sub(fix, text)


#: a date with a month name whose day, month or year OCR read with look-alikes
#: ("I6 JUN 20I8", "10 0CT 2017", "0CT 3, 20IG"): day/year may hold letters, the
#: month word digits
_LA = "0-9OoIl|SBZG"
_MON_TOKEN = r"[A-Za-z0-9]{3,9}"
_DMONY_SHAPED = re.compile(rf"(?<![A-Za-z0-9])([{_LA}]{{1,2}})(\s?[.\-/]?\s?)({_MON_TOKEN})(\.?\s?[.\-/,]?\s?)"
                           rf"([{_LA}]{{4}}|[{_LA}]{{2}})(?![A-Za-z0-9])")
_MONDY_SHAPED = re.compile(rf"(?<![A-Za-z0-9])({_MON_TOKEN})(\.?\s?)([{_LA}]{{1,2}})(,\s?|\s)([{_LA}]{{4}})(?![A-Za-z0-9])")
_NUM_DIGIT = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8", "Z": "2", "G": "6"})
_LETTER_FOR = {"0": "o", "1": "li", "5": "s", "8": "b", "6": "g"}


def _month_word(tok: str) -> str | None:
    """`tok` as a month name, with digits read for letters put back ("0CT" -> "oct",
    "JU1" -> "jul"); None when no such reading is a month name. Needs two real letters."""
    if sum(ch.isalpha() for ch in tok) < 2:
        return None
    options = [""]
    for ch in tok.lower():
        alts = _LETTER_FOR.get(ch, ch) if ch.isdigit() else ch
        options = [o + a for o in options for a in alts]
        if len(options) > 16:
            return None
    for o in options:
        f = fold_text(o)
        if f in MONTH_NAMES:
            return o
    return None


def _repair_month_dates(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Length-preserving repair of month-name dates read with look-alikes, and the
    spans whose day or year had to be repaired (those dates score lower). Needs at
    least three real digits in the day and year together, two in the year."""
    out = list(text)
    slips: list[tuple[int, int]] = []
    for rx, day_g, mon_g, year_g in ((_DMONY_SHAPED, 1, 3, 5), (_MONDY_SHAPED, 3, 1, 5)):
        for m in rx.finditer(text):
            day, mon, year = m.group(day_g), m.group(mon_g), m.group(year_g)
            real = sum(ch.isdigit() for ch in day + year)
            if real < 3 or sum(ch.isdigit() for ch in year) < 2:
                continue
            word = _month_word(mon)
            if word is None:
                continue
            changed = False
            for g, new in ((day_g, day.translate(_NUM_DIGIT)), (year_g, year.translate(_NUM_DIGIT)), (mon_g, word)):
                old = m.group(g)
                if new == old or (g == mon_g and new == old.lower()):
                    continue
                out[m.start(g):m.end(g)] = list(new)
                changed = changed or g != mon_g
            if changed:
                slips.append((m.start(), m.end()))
    return "".join(out), slips


def parse_date(text: str) -> dt.date | None:
    """The first date in `text`, or None. Never raises."""
    try:
        hits = find_dates(text)
    except Exception:  # noqa: BLE001 - contract: a parser never raises
        log.debug("date parser failed", exc_info=True)
        return None
    return hits[0].date if hits else None


@dataclass(frozen=True)
class WeekdayHit:
    weekday: int  # 0 = Monday
    start: int
    end: int
    raw: str
    short: bool


_WD_RE = re.compile(r"[a-z]+")


def find_weekdays(text: str) -> list[WeekdayHit]:
    if not isinstance(text, str):
        return []
    f = fold_text(text)
    out = []
    for m in _WD_RE.finditer(f):
        w = m.group(0)
        if w in WEEKDAYS:
            out.append(WeekdayHit(WEEKDAYS[w], m.start(), m.end(), text[m.start():m.end()], w in _SHORT_WEEKDAYS))
    return out


# ---------------------------------------------------------------- row level

_RANGE_SEP = re.compile(r"\s*(?:-|–|—|til|till|to|until|pana la|pâna la|asti)\s*", re.IGNORECASE)
_WEEKDAY_TIME_AFTER = re.compile(r"\s{0,3}\(?[a-z]{2,9}\.?\)?\s{1,3}\d{1,2}[:.]\d{2}(?![\d])")
_TIME_AFTER = re.compile(r"\s{1,3}(?:kl\.?\s?)?\d{1,2}[:.]\d{2}(?![\d])")

#: score added when every date on the receipt is this one
ONLY_DATE_BONUS = 0.1
#: confidence added when both OCR engines read the date's digits alike
AGREED_BONUS = 0.08
#: confidence of the receipt's only date, labelled or followed by a time, when both engines read it alike
AGREED_ONLY_CONF = 0.85
#: a month-first date ("01/25/2018", no day-first reading) is never auto-approved: on
#: day-first receipts it may be a misread day or month
MDY_CAP = 0.79


def _engines_agree(row: Row, h: DateHit) -> bool:
    """Every word holding digits of the date was read the same by both engines."""
    from pipeline.ocr import words_agreed

    ws = [w for w, s, e in row.word_spans() if s < h.end and e > h.start and any(ch.isdigit() for ch in w.text)]
    return words_agreed(ws)


def extract_purchase_date(rows: list[Row]) -> tuple[FieldValue | None, FieldValue | None]:
    """The purchase date (a date near a date label; not a due/expiry date) and,
    when printed, the weekday. Returns (purchase_date, weekday)."""
    from models.fields import FieldValue
    from pipeline.extract.cues import find_cues
    from pipeline.extract.layout import clamp01, ocr_factor

    best: tuple[float, int, DateHit, Row, bool] | None = None
    for i, row in enumerate(rows):
        text = row.text
        hits = find_dates(text)
        if not hits:
            continue
        cues = find_cues(text)
        prev_cues = find_cues(rows[i - 1].text) if i > 0 else ()
        for h in hits:
            cue = any(c.label == "DATE" and c.end <= h.start for c in cues)
            prev_label_only = (i > 0 and any(c.label == "DATE" for c in prev_cues) and not find_dates(rows[i - 1].text))
            other = any(c.label == "OTHER_DATE" and c.end <= h.start for c in cues)
            score = 0.45
            if cue or prev_label_only:
                score += 0.35
            if other:
                score -= 0.4
            if not h.two_digit_year:
                score += 0.05
            if h.repaired:
                score -= 0.3
            if h.style == "month_name":
                score += 0.03
            if h.style == "mdy":
                score -= 0.1  # month first: unusual where dates are day-first, maybe a misread
            if _TIME_AFTER.match(text, h.end) or _WEEKDAY_TIME_AFTER.match(fold_text(text), h.end):
                score += 0.1  # "03.12.2022 12:01", "14-01-2018 (SUN) 16:02": a transaction stamp
            if any(o is not h and (_RANGE_SEP.fullmatch(text[h.end:o.start]) or _RANGE_SEP.fullmatch(text[o.end:h.start]))
                   for o in hits):
                score -= 0.2  # "24 November 2017 - 4 March 2018": a period (offer, warranty), not a purchase
            key = score
            if best is None or key > best[0] + 1e-9:
                best = (key, i, h, row, cue or prev_label_only)
    if best is None:
        return None, None
    score, i, h, row, cued = best
    # the receipt prints no other date: nothing to confuse the purchase date with
    only = not h.repaired and all(o.date == h.date for r in rows for o in find_dates(r.text))
    if only:
        score += ONLY_DATE_BONUS
    conf = clamp01(score * ocr_factor(row.conf_of_span(h.start, h.end)) + (0.1 if cued else 0.0))
    agreed = not h.repaired and _engines_agree(row, h)
    if agreed:
        conf = clamp01(conf + AGREED_BONUS)
        stamp = bool(_TIME_AFTER.match(row.text, h.end) or _WEEKDAY_TIME_AFTER.match(fold_text(row.text), h.end))
        if only and (cued or stamp):
            # the receipt's one date, labelled or stamped with a time, read alike by both engines
            conf = max(conf, AGREED_ONLY_CONF)
    if h.style == "mdy":
        conf = min(conf, MDY_CAP)
    date_fv = FieldValue(name="purchase_date", raw=h.raw, value=h.date.isoformat(), confidence=round(min(conf, 0.97), 3),
                         evidence=row.span_evidence(h.start, h.end),
                         meta={"style": h.style, "cue": "yes" if cued else "no", "only_date": "yes" if only else "no",
                               "engines_agree": "yes" if agreed else "no"})
    # weekday: a full name anywhere near the top or the date row; short forms only on the date row
    wd_fv = None
    near = [rows[j] for j in range(max(0, i - 2), min(len(rows), i + 3))]
    for r in near:
        for w in find_weekdays(r.text):
            if w.short and r is not row:
                continue
            if w.short and len(w.raw) < 3:
                continue
            matches = w.weekday == h.date.weekday()
            wd_fv = FieldValue(name="weekday", raw=w.raw, value=WEEKDAY_EN[w.weekday],
                               confidence=round(clamp01(0.8 * ocr_factor(r.conf_of_span(w.start, w.end))), 3),
                               evidence=r.span_evidence(w.start, w.end),
                               meta={"matches_date": "yes" if matches else "no"})
            break
        if wd_fv:
            break
    return date_fv, wd_fv


from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from models.fields import FieldValue
    from pipeline.extract.layout import Row
