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
#: a time glued to the year ("25/01/201812:30": the space was not read)
_DMY_GLUED_TIME = re.compile(rf"(?<![\d])(\d{{1,2}})\s?({_SEP})\s?(\d{{1,2}})\s?\2\s?(\d{{4}}|\d{{2}})"
                             rf"(?=\d{{1,2}}[:.]\d{{2}}(?![\d]))")
#: a four-digit year read with a space in it ("25/01/20 18": not 2020); not before a
#: time ("25/01/20 18:30" is 2020 at 18:30)
_DMY_SPLIT_YEAR = re.compile(rf"(?<![\d])(\d{{1,2}})\s?({_SEP})\s?(\d{{1,2}})\s?\2\s?(20 \d{{2}})(?![\d]|[:.]\d)")
_DMONY = re.compile(rf"(?<![0-9a-z])(\d{{1,2}})(?:st|nd|rd|th)?\s?[.\-/]?\s?(?:of\s)?({_MONTH_ALT})\.?\s?[.\-/,]?\s?(\d{{4}}|\d{{2}})(?![0-9])")
_MONDY = re.compile(rf"(?<![0-9a-z])({_MONTH_ALT})\.?\s?(\d{{1,2}})(?:st|nd|rd|th)?(?:,\s?|\s)(\d{{4}})(?![0-9])")


def find_dates(text: str, *, loose: bool = False) -> list[DateHit]:
    """Every valid date in `text`, in order of appearance. Never raises.

    `loose`: also numeric dates with one separator lost or read as "1" ("06/022018",
    "1804/2018", "20/0512018", "0410412017"); those are marked `repaired` and have
    style "loose" (the caller decides whether the context supports them)."""
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
    for m in [*_DMY_SPLIT_YEAR.finditer(f), *_DMY.finditer(f), *_DMY_GLUED_TIME.finditer(f)]:
        if not free(m.start(), m.end()):
            continue
        d = _mk(_year(m.group(4).replace(" ", "")), int(m.group(3)), int(m.group(1)))
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
    if loose:
        for s0, e0, d in [*_loose_numeric_dates(f), *_spaced_numeric_dates(f)]:
            if free(s0, e0):
                hits.append(DateHit(d, s0, e0, text[s0:e0], "loose", False, True))
                taken.append((s0, e0))
    if slipped:
        hits = [DateHit(h.date, h.start, h.end, h.raw, h.style, h.two_digit_year, True)
                if any(h.start < e and h.end > s0 for s0, e in slipped) else h for h in hits]
    hits.sort(key=lambda h: h.start)
    return hits


#: a run of digits and date separators that no strict pattern read as a date
_LOOSE_TOKEN = re.compile(r"(?<![\w.,/\-:])(\d[\d/.\-]{2,8}\d)(?![\w/\-:]|[.,]\d)")


def _dm(day: str, month: str, year: str) -> dt.date | None:
    if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) not in (2, 4):
        return None
    return _mk(_year(year), int(month), int(day))


def _splits(digits: str, first: tuple[int, ...], second: tuple[int, ...]) -> list[tuple[str, str]]:
    """Ways to cut `digits` into two parts of the given lengths, with or without a
    "1" between them (a separator read as "1")."""
    out = []
    for a in first:
        for gap in (0, 1):
            rest = digits[a + gap:]
            if gap and digits[a:a + 1] != "1":
                continue
            if len(rest) in second and a + gap < len(digits):
                out.append((digits[:a], rest))
    return out


def _loose_readings(tok: str) -> set[dt.date]:
    """The dates `tok` can be with one of its two separators lost or read as "1"
    ("06/022018", "1804/2018", "20/0512018", "5/312018"), or both read as "1"
    ("0410412017")."""
    seps = [i for i, ch in enumerate(tok) if not ch.isdigit()]
    out: set[dt.date | None] = set()
    if len(seps) == 1:
        k = seps[0]
        left, right = tok[:k], tok[k + 1:]
        # (a two-digit year only when a month of two digits or a "1" stands before it:
        # "25/12" is no date)
        if 1 <= len(left) <= 2:  # the first separator was read: d / m?y
            out |= {_dm(left, m, y) for m, y in _splits(right, (1, 2), (2, 4)) if len(y) == 4 or len(right) >= 4}
        if len(right) == 4 or (len(right) == 2 and tok[k] not in ".," and len(left) >= 3):
            # d?m / y ("1205.18" is an amount)
            out |= {_dm(d, m, right) for d, m in _splits(left, (1, 2), (1, 2))}
    elif not seps:  # d1m1yyyy
        for d, rest in _splits(tok, (1, 2), (6, 7, 8)):
            if tok[len(d)] == "1":
                out |= {_dm(d, m, y) for m, y in _splits(rest[1:], (1, 2), (4,)) if rest[1 + len(m)] == "1"}
    out.discard(None)
    return out  # type: ignore[return-value]


_SPACED_RUN = re.compile(r"(?<![\w.,/\-:])\d(?:[\d./\-]| (?=\d))*\d(?![\w/\-:]|[.,]\d)")


def _spaced_numeric_dates(f: str) -> list[tuple[int, int, dt.date]]:
    """(start, end, date) of runs of digits and separators with spaces read inside
    their digit groups ("24/0 5/2018", "24/05/201 8"): the run without its spaces is
    one numeric date."""
    out = []
    for m in _SPACED_RUN.finditer(f):
        run = m.group(0)
        if " " not in run or run.count(" ") > 2:
            continue
        compact = run.replace(" ", "")
        for rx, order in ((_DMY, "dmy"), (_YMD, "ymd")):
            mm = rx.fullmatch(compact)
            if mm is None:
                continue
            if order == "dmy":
                d = _mk(_year(mm.group(4)), int(mm.group(3)), int(mm.group(1)))
            else:
                d = _mk(_year(mm.group(1)), int(mm.group(3)), int(mm.group(4)))
            if d is not None:
                out.append((m.start(), m.end(), d))
                break
    return out


def _loose_numeric_dates(f: str) -> list[tuple[int, int, dt.date]]:
    """(start, end, date) of tokens read as a date in exactly one loose way."""
    out = []
    for m in _LOOSE_TOKEN.finditer(f):
        tok = m.group(1)
        if len({ch for ch in tok if not ch.isdigit()}) > 1:
            continue
        found = _loose_readings(tok)
        if len(found) == 1:
            out.append((m.start(1), m.end(1), found.pop()))
    return out


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
#: (a day glued to the month word must start with a real digit: "JANUARI 2018" is no
#: "JANUAR" + day "I")
_MONDY_SHAPED = re.compile(rf"(?<![A-Za-z0-9])({_MON_TOKEN})(\.?\s|\.|(?=\d))([{_LA}]{{1,2}})(,\s?|\s)([{_LA}]{{4}})"
                           rf"(?![A-Za-z0-9])")
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
_TIME_AFTER = re.compile(r"\s{1,3}(?:kl\.?\s?)?\d{1,2}(?:[:.]|\s:\s?)\d{2}(?![\d])")

#: score added when every date on the receipt is this one
ONLY_DATE_BONUS = 0.1
#: confidence added when both OCR engines read the date's digits alike
AGREED_BONUS = 0.08
#: confidence of the receipt's only date, labelled or followed by a time, when both engines read it alike
AGREED_ONLY_CONF = 0.85
#: a month-first date ("01/25/2018", no day-first reading) is never auto-approved: on
#: day-first receipts it may be a misread day or month
MDY_CAP = 0.79


#: confidence cap of a purchase date whose year other evidence on the receipt contradicts
YEAR_CONFLICT_CAP = 0.6
#: confidence of a date that an independent reading confirms (a number embedding it, its weekday)
CONFIRMED_DATE_CONF = 0.85
WEEKDAYS_BY_EN = {name: i for i, name in enumerate(WEEKDAY_EN)}
_DIGIT_RUN = re.compile(r"\d{6,}")


def plausible_window() -> tuple[dt.date | None, dt.date | None]:
    """The purchase dates to expect, from CLAIMCHECK_DATE_WINDOW ("2016-01-01..2018-12-31",
    either end may be left empty); by default only a date after tomorrow (a receipt
    from the future) is implausible."""
    import os

    raw = os.environ.get("CLAIMCHECK_DATE_WINDOW", "").strip()
    lo: dt.date | None = None
    hi: dt.date | None = dt.date.today() + dt.timedelta(days=1)
    if raw:
        a, _, b = raw.partition("..")
        try:
            lo = dt.date.fromisoformat(a.strip()) if a.strip() else None
            hi = dt.date.fromisoformat(b.strip()) if b.strip() else hi
        except ValueError:
            log.warning("CLAIMCHECK_DATE_WINDOW=%r is not 'YYYY-MM-DD..YYYY-MM-DD': ignored", raw)
    return lo, hi


def in_plausible_window(d: dt.date) -> bool:
    lo, hi = plausible_window()
    return (lo is None or d >= lo) and (hi is None or d <= hi)


def _compact_forms(d: dt.date) -> tuple[str, ...]:
    """The date written without separators, as receipt and invoice numbers embed it."""
    return (f"{d.year:04d}{d.month:02d}{d.day:02d}", f"{d.day:02d}{d.month:02d}{d.year:04d}",
            f"{d.year % 100:02d}{d.month:02d}{d.day:02d}", f"{d.day:02d}{d.month:02d}{d.year % 100:02d}")


def _other_rows_text(rows: list[Row], row: Row, h: DateHit) -> list[str]:
    """The receipt's text without the chosen date itself."""
    return [r.text[:h.start] + " " + r.text[h.end:] if r is row else r.text for r in rows]


def _year_conflict(rows: list[Row], h: DateHit, row: Row) -> str | None:
    """How the receipt contradicts the year of `h`: "other_date" when the same day and
    month are printed with another year (not a period's other end), "embedded" when a
    long number holds the date as yyyymmdd with another year."""
    from pipeline.extract.cues import find_cues

    d = h.date
    for text in _other_rows_text(rows, row, h):
        for o in find_dates(text):
            if (o.date.month, o.date.day) == (d.month, d.day) and o.date.year != d.year and o.style != "mdy" \
                    and not any(c.label == "OTHER_DATE" and c.end <= o.start for c in find_cues(text)):
                # (a warranty or voucher end "valid until 25/01/2020" falls on the same day)
                return "other_date"
        for m in _DIGIT_RUN.finditer(text):
            run = m.group(0)
            for k in range(len(run) - 7):
                y, mm, dd = run[k:k + 4], run[k + 4:k + 6], run[k + 6:k + 8]
                if (mm, dd) == (f"{d.month:02d}", f"{d.day:02d}") and y != f"{d.year:04d}" and _year(y) is not None \
                        and abs(int(y) - d.year) <= 9 and len(run) >= 12:
                    return "embedded"
    return None


def _year_confirmed(rows: list[Row], h: DateHit, row: Row) -> str:
    """Independent readings of the same date: "repeated" (printed again), "embedded"
    (a long number holds it without separators); "" when none."""
    d = h.date
    found = []
    for text in _other_rows_text(rows, row, h):
        if any(o.date == d for o in find_dates(text)):
            found.append("repeated")
        if any(f in m.group(0) for m in _DIGIT_RUN.finditer(text) for f in _compact_forms(d)[:2]):
            found.append("embedded")
    return ",".join(sorted(set(found)))


def _weekday_fits_other_year(d: dt.date, weekday: int) -> bool:
    """A year one digit slip away (within nine years) gives the printed weekday."""
    for dy in range(-9, 10):
        if dy == 0:
            continue
        try:
            if d.replace(year=d.year + dy).weekday() == weekday:
                return True
        except ValueError:
            continue
    return False


_LONE_DIGIT_BEFORE = re.compile(r"(?<![\d.,:/\-])(\d) ?$")


def _split_day(text: str, h: DateHit) -> bool:
    """A one-digit day with a lone digit one space before it whose joined reading is
    also a date ("2 8/12/2017": the 28th read apart?)."""
    day = re.match(r"\d+", fold_text(repair_numeric(h.raw)))
    if day is None or len(day.group(0)) != 1 or not text[:h.start].endswith(" "):
        return False
    m = _LONE_DIGIT_BEFORE.search(text[:h.start].rstrip(" ") + " ")
    if m is None or text[:h.start].rstrip(" ") != text[:h.start][:-1]:
        return False
    joined = m.group(1) + text[h.start:h.end]
    return any(o.start == 0 for o in find_dates(joined))


def _time_after(text: str, end: int) -> bool:
    """A time follows the date at `end` ("12:01", " (SUN) 16:02", or glued: "201812:30")."""
    return bool(_TIME_AFTER.match(text, end) or _WEEKDAY_TIME_AFTER.match(fold_text(text), end)
                or _GLUED_TIME.match(text, end))


#: a time earlier on the row ("09:06PM 569547 19-0318")
_ROW_TIME = re.compile(r"(?<![\d.,])\d{1,2}\s?:\s?\d{2}(?![\d.,])")
_GLUED_TIME = re.compile(r"\d{1,2}[:.]\d{2}(?![\d])")


def _date_words(row: Row, h: DateHit) -> list[Word]:
    return [w for w, s, e in row.word_spans() if s < h.end and e > h.start and any(ch.isdigit() for ch in w.text)]


def _engines_agree(row: Row, h: DateHit) -> bool:
    """Every word holding digits of the date was read the same by both engines."""
    from pipeline.ocr import words_agreed

    return words_agreed(_date_words(row, h))


#: engines of a text layer: their words are the printed text itself, not a reading of pixels
_TEXT_LAYER_ENGINES = ("pdfplumber",)
#: confidence caps of an OCR-read date by what its other readings said (see `_readings_cap`)
DIGITS_CONTRADICTED_CAP = 0.6
ONE_READING_CAP = 0.79
TWO_READINGS_CAP = 0.9
UNCHECKED_CAP = 0.9


def _readings(ws: list[Word]) -> tuple[str, str]:
    """What the other readings said of the date's digit words: (second engine, digits-only reading).
    Second engine: "agreed" (same characters, or it replaced the page's words and the page had read
    the same digits), "differed" (it read other characters, or replaced the page's), "none" (not
    re-read: a page read by one engine only). Digits reading: "confirmed", "contradicted", "unsure"
    (no majority), "none"."""
    from pipeline.ocr import (
        AGREED_SUFFIX,
        DIGITS_CONFIRMED,
        DIGITS_CONTRADICTED,
        DIGITS_UNSURE,
        PAGE_DIGITS_AGREE,
        RAPID_DIFFERED,
        RAPID_REPLACED,
        marks_of,
    )

    if not ws:
        return "none", "none"
    marks = [marks_of(w.engine) for w in ws]
    if all(w.engine.endswith(AGREED_SUFFIX) or PAGE_DIGITS_AGREE in m for w, m in zip(ws, marks, strict=True)):
        second = "agreed"
    elif any(RAPID_DIFFERED in m or RAPID_REPLACED in m for m in marks):
        second = "differed"
    else:
        second = "none"
    if any(DIGITS_CONTRADICTED in m for m in marks):
        digits = "contradicted"
    elif all(DIGITS_CONFIRMED in m for m in marks):
        digits = "confirmed"
    elif any(DIGITS_UNSURE in m or DIGITS_CONFIRMED in m for m in marks):
        digits = "unsure"
    else:
        digits = "none"
    return second, digits


def _readings_cap(ws: list[Word], second: str, digits: str) -> float:
    """The highest confidence the date's readings allow: a date whose digits no independent reading
    confirmed never reaches the top band, one that a reading contradicts (or that rests on one reading
    where another read otherwise) is never auto-approved. Dates of a text layer are not capped."""
    if not ws or all(w.engine.split("+")[0] in _TEXT_LAYER_ENGINES for w in ws):
        return 1.0
    if digits == "contradicted":
        return DIGITS_CONTRADICTED_CAP
    if second == "agreed":
        return 1.0 if digits == "confirmed" else TWO_READINGS_CAP
    if digits == "confirmed":
        return TWO_READINGS_CAP
    if second == "differed" or digits == "unsure":
        return ONE_READING_CAP
    # read once and nothing else ran (a page the re-reading did not reach): never the top band
    return UNCHECKED_CAP


def extract_purchase_date(rows: list[Row]) -> tuple[FieldValue | None, FieldValue | None]:
    """The purchase date (a date near a date label; not a due/expiry date) and,
    when printed, the weekday. Returns (purchase_date, weekday)."""
    from models.fields import FieldValue
    from pipeline.extract.cues import find_cues
    from pipeline.extract.layout import clamp01, ocr_factor

    best: tuple[float, int, DateHit, Row, bool] | None = None
    for i, row in enumerate(rows):
        text = row.text
        hits = find_dates(text, loose=True)
        if not hits:
            continue
        cues = find_cues(text)
        prev_cues = find_cues(rows[i - 1].text) if i > 0 else ()
        for h in hits:
            cue = any(c.label == "DATE" and c.end <= h.start for c in cues)
            prev_label_only = (i > 0 and any(c.label == "DATE" for c in prev_cues) and not find_dates(rows[i - 1].text))
            if h.style == "loose" and not (cue or prev_label_only or _time_after(text, h.end)
                                           or _ROW_TIME.search(text[:h.start])):
                continue  # a separator lost or read as "1": a date only where a label or a time says so
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
            if _time_after(text, h.end):
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
        stamp = _time_after(row.text, h.end)
        if only and (cued or stamp):
            # the receipt's one date, labelled or stamped with a time, read alike by both engines
            conf = max(conf, AGREED_ONLY_CONF)
    if h.style == "mdy":
        conf = min(conf, MDY_CAP)
    split = _split_day(row.text, h)
    if split:
        conf = min(conf, MDY_CAP)  # "2 8/12/2017": 28 December read apart, or the 8th?
    meta = {"style": h.style, "cue": "yes" if cued else "no", "only_date": "yes" if only else "no",
            "engines_agree": "yes" if agreed else "no"}
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
    # the year against the receipt's other evidence: the same day and month printed
    # elsewhere with another year (a second date, a number that embeds the date), a
    # printed weekday that another year would give, or a year outside the configured
    # plausible window. Both engines can misread a year alike ("2016" as "2015" in a
    # faint font): such a date is kept but never auto-approved
    conflict = _year_conflict(rows, h, row)
    if conflict is None and wd_fv is not None and wd_fv.meta.get("matches_date") == "no" \
            and wd_fv.confidence >= 0.6 and _weekday_fits_other_year(h.date, WEEKDAYS_BY_EN[wd_fv.value]):
        conflict = "weekday"
    if conflict is None and not in_plausible_window(h.date):
        conflict = "outside_window"
    if conflict is not None:
        conf = min(conf, YEAR_CONFLICT_CAP)
        meta["year_conflict"] = conflict
    else:
        confirmed = _year_confirmed(rows, h, row)
        if wd_fv is not None and wd_fv.meta.get("matches_date") == "yes":
            confirmed = ",".join(sorted({*filter(None, confirmed.split(",")), "weekday"}))
        if confirmed:
            meta["year_confirmed"] = confirmed
        if ({"embedded", "weekday"} & set(confirmed.split(","))) and not h.repaired and h.style != "mdy" \
                and (cued or only or _time_after(row.text, h.end)):
            # a number holding the date, or the weekday it falls on, is an independent
            # reading of its year, month and day
            conf = max(conf, CONFIRMED_DATE_CONF)
    # what the other readings of the date's digits said (the second engine, the digits-only reading)
    ws = _date_words(row, h)
    second, digits = _readings(ws)
    meta["second_reading"], meta["digits_reading"] = second, digits
    cap = _readings_cap(ws, second, digits)
    if cap == ONE_READING_CAP and "year_conflict" not in meta and not h.repaired \
            and {"embedded", "weekday"} & set(meta.get("year_confirmed", "").split(",")):
        cap = CONFIRMED_DATE_CONF  # the weekday or a number holding the date is the confirming reading
    conf = min(conf, cap)
    date_fv = FieldValue(name="purchase_date", raw=h.raw, value=h.date.isoformat(), confidence=round(min(conf, 0.97), 3),
                         evidence=row.span_evidence(h.start, h.end), meta=meta)
    return date_fv, wd_fv


from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from models.documents import Word
    from models.fields import FieldValue
    from pipeline.extract.layout import Row
