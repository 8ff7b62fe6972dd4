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

from pipeline.extract.text import fold_text

log = logging.getLogger(__name__)

_MONTHS: dict[int, list[str]] = {
    1: ["jan", "januar", "januari", "january", "ianuarie", "ian", "tammikuuta", "tammikuu", "tammi"],
    2: ["feb", "febr", "februar", "februari", "february", "februarie", "helmikuuta", "helmikuu", "helmi"],
    3: ["mar", "mars", "marts", "march", "martie", "maaliskuuta", "maaliskuu", "maalis", "maart"],
    4: ["apr", "april", "aprilie", "huhtikuuta", "huhtikuu", "huhti"],
    5: ["maj", "mai", "may", "toukokuuta", "toukokuu", "touko"],
    6: ["jun", "juni", "june", "iunie", "iun", "kesakuuta", "kesakuu", "kesa"],
    7: ["jul", "juli", "july", "iulie", "iul", "heinakuuta", "heinakuu", "heina"],
    8: ["aug", "august", "augusti", "elokuuta", "elokuu", "elo"],
    9: ["sep", "sept", "september", "septembrie", "syyskuuta", "syyskuu", "syys"],
    10: ["okt", "oct", "oktober", "october", "octombrie", "lokakuuta", "lokakuu", "loka"],
    11: ["nov", "november", "noiembrie", "marraskuuta", "marraskuu", "marras"],
    12: ["dec", "des", "desember", "december", "decembrie", "joulukuuta", "joulukuu", "joulu"],
}
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
    style: str  # "dmy", "ymd", "month_name"
    two_digit_year: bool = False


def _year(y: str) -> int | None:
    if not y.isdigit():
        return None
    n = int(y)
    if len(y) == 2:
        n += 2000
    elif len(y) != 4:
        return None
    return n if MIN_YEAR <= n <= MAX_YEAR else None


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
_DMONY = re.compile(rf"(?<![0-9a-z])(\d{{1,2}})\s?[.\-/]?\s?({_MONTH_ALT})\.?\s?[.\-/,]?\s?(\d{{4}}|\d{{2}})(?![0-9])")
_MONDY = re.compile(rf"(?<![0-9a-z])({_MONTH_ALT})\.?\s?(\d{{1,2}})(?:st|nd|rd|th)?,?\s(\d{{4}})(?![0-9])")


def find_dates(text: str) -> list[DateHit]:
    """Every valid date in `text`, in order of appearance. Never raises."""
    if not isinstance(text, str) or not text:
        return []
    hits: list[DateHit] = []
    f = fold_text(text)
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
        if d:
            hits.append(DateHit(d, m.start(), m.end(), text[m.start():m.end()], "dmy", len(m.group(4)) == 2))
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
    hits.sort(key=lambda h: h.start)
    return hits


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
