"""VAT and organisation numbers, checksum-validated with python-stdnum.

Normalised `value` (always compact, with a country prefix):

* DK CVR            -> "DK12972997"                      kind "cvr"
* SE org.nr         -> "SE556123456701" (VAT form, +"01") kind "orgnr"; SE VAT kind "vat"
* NO org.nr         -> "NO918057889", with "MVA" appended when printed ("NO918057889MVA", kind "mva")
* FI Y-tunnus / ALV -> "FI50090518"                      kind "ytunnus" / "alv"
* RO CUI/CIF        -> "RO64615762"                      kind "cui"
* MY GST (SROIE)    -> the 12 digits as printed, no prefix, kind "gst", checksum "unchecked"

`vat_key()` reduces any of these forms (and a reseller list's) to one
comparable key: "NO918057889MVA" and "NO 918 057 889" give the same key.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from stdnum.dk import cvr as dk_cvr
from stdnum.fi import ytunnus as fi_ytunnus
from stdnum.no import orgnr as no_orgnr
from stdnum.ro import cui as ro_cui
from stdnum.se import orgnr as se_orgnr

from pipeline.extract.cues import Cue, find_cues
from pipeline.extract.text import to_digits

log = logging.getLogger(__name__)

COUNTRIES = ("DK", "SE", "NO", "FI", "RO")


@dataclass(frozen=True)
class VatHit:
    value: str
    raw: str
    country: str
    kind: str
    valid: bool | None  # None: no checksum exists (MY GST)
    start: int
    end: int
    cued: bool  # a VAT/org-number label or a country prefix was printed with it
    prefixed: bool = False
    #: read through a repair (a garbled label, letters or separators inside the number):
    #: never confident enough to be auto-accepted on its own
    repaired: bool = False

    @property
    def checksum(self) -> str:
        return "unchecked" if self.valid is None else ("valid" if self.valid else "invalid")


def _safe(fn, s: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(fn(s))
    except Exception:  # noqa: BLE001
        return False


def _classify(digits: str, country: str | None, mva: bool, printed_prefix: bool) -> list[tuple[str, str, str, bool]]:
    """Possible (value, country, kind, valid) readings of a digit string."""
    out: list[tuple[str, str, str, bool]] = []
    n = len(digits)
    if n == 8 and country in (None, "DK"):
        out.append((f"DK{digits}", "DK", "cvr", _safe(dk_cvr.is_valid, digits)))
    if n == 8 and country in (None, "FI"):
        out.append((f"FI{digits}", "FI", "ytunnus", _safe(fi_ytunnus.is_valid, digits)))
    if n == 9 and country in (None, "NO"):
        out.append((f"NO{digits}{'MVA' if mva else ''}", "NO", "mva" if mva else "orgnr",
                    _safe(no_orgnr.is_valid, digits)))
    if n == 10 and country in (None, "SE"):
        out.append((f"SE{digits}01", "SE", "orgnr", _safe(se_orgnr.is_valid, digits)))
    if n == 12 and country in (None, "SE") and digits.endswith("01"):
        out.append((f"SE{digits}", "SE", "vat", _safe(se_orgnr.is_valid, digits[:10])))
    elif n == 12 and country == "SE" and printed_prefix:
        # "SE5545298415 08": a Swedish VAT number always ends in 01; printed otherwise it is invalid
        out.append((f"SE{digits}", "SE", "vat", False))
    if 2 <= n <= 10 and country == "RO":
        out.append((f"RO{digits}", "RO", "cui", _safe(ro_cui.is_valid, digits)))
    return out


_PREFIXED = re.compile(
    r"(?<![A-Za-z0-9])(DK|SE|NO|FI|RO)[\s\-:]?(\d(?:[\d\s\-.]{0,16}\d)?)(\s?M\s?V\s?A)?(?![0-9])",
    re.IGNORECASE,
)
# a country prefix read with a digit for a letter ("R092708425"): trusted only with a valid checksum
_SLIP_PREFIXED = re.compile(r"(?<![A-Za-z0-9])(R0|N0|5E|F1|0K)[\s\-:]?(\d(?:[\d\s\-.]{0,16}\d)?)(?![0-9])")
# "CVA-nr. 12972997": a short label (read with a slip) + nr/no + a number: trusted only with a valid checksum
_LABELLED_NR = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})[\s.\-]{0,2}n[ro]\.?\s?:?\s*(\d{8,10})(?![\d.,\-/])",
                          re.IGNORECASE)
_SE_ORG = re.compile(r"(?<![\d\-])(\d{6})-(\d{4})(?![\d\-])")
_FI_YT = re.compile(r"(?<![\d\-])(\d{7})-(\d)(?![\d\-])")
_NO_MVA = re.compile(r"(?<![\d])(\d{3})\s?(\d{3})\s?(\d{3})\s?MVA(?![A-Za-z])", re.IGNORECASE)
_NUMBER_AFTER_CUE = re.compile(
    r"[A-Za-z]{0,2}[\s\-:]?[0-9OoIlSB](?:[0-9OoIlSB\s\-.]{0,16}[0-9OoIlSB])?(\s?M\s?V\s?A)?(?![A-Za-z])")

_PREFIX_SLIPS = {"R0": "RO", "N0": "NO", "5E": "SE", "F1": "FI", "0K": "DK"}
_SLIP_IDS = {"RO": ("cui",), "NO": ("orgnr", "vat"), "SE": ("orgnr", "vat", "cvr"), "FI": ("ytunnus", "vat"),
             "DK": ("cvr", "vat")}
_ID_COUNTRY = {"cvr": "DK", "ytunnus": "FI", "cui": "RO", "gst": "MY"}


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _best_reading(body: str, country: str | None, mva: bool,
                  prefixed: bool) -> tuple[tuple[str, str, str, bool], int] | None:
    """Try the digit groups of `body` cumulatively ("12 97 29 97 14.10" -> "12", "1297", ...);
    return the best classifiable reading (valid checksum first, then longest) and
    how many characters of `body` it used."""
    best: tuple[tuple[bool, int], tuple[str, str, str, bool], int] | None = None
    for gm in re.finditer(r"\d+", body):
        digits = _digits(body[: gm.end()])
        if len(digits) > 14:
            break
        for o in _classify(digits, country, mva, prefixed):
            key = (o[3], len(digits))
            if best is None or key > best[0]:
                best = (key, o, gm.end())
    if best is None:
        return None
    return best[1], best[2]


_GST_LOOSE = re.compile(r"(?i)(?<![a-z])(?:gst|g5t|6st|gs)(?![a-z]{2})[^0-9\n]{0,14}?((?:\d ?){11}\d)(?![\d.,]\d|\d)")
#: the GST label read with slips ("G.S.T.", "6ST", "BST HO", "GET Reg", "GSTID") before
#: twelve characters that are digits or their look-alikes, at least nine real digits
_GST_SLIPPED = re.compile(
    r"(?i)(?<![a-z0-9])(?:g\.?\s?s\.?\s?t\.?|[gbcu6e][s5$][t7i1]|gs)(?:id|reg|no)?(?![a-z]{4})[^0-9\n]{0,16}?"
    r"(?<![a-z0-9])((?:[\dOoIlSBZG] ?){11}[\dOoIlSBZG])(?![\d.,]\d|\d|[OoIlSBZG])")
#: digits read in the words of a GST label ("6ST REG N0:", "GST RE6 NO", "6ST 1D NO"): put
#: back as letters (length-preserving) before the label patterns look for the number
_GST_LABEL_SLIPS = ((re.compile(r"(?i)(?<![a-z0-9])(n)0(?=\s?[.:#])"), r"\1O"),
                    (re.compile(r"(?i)(?<![a-z0-9])(re)6(?![a-z0-9])"), r"\1G"),
                    (re.compile(r"(?i)(?<![a-z0-9])1(d)(?![a-z0-9])"), r"I\1"))


#: a label of three characters, one of them misread ("GET", "UST", "8ST", "G,ST", "GS7"),
#: or "GST" with a letter dropped ("GT", "ST") followed by a sub-label ("ID", "NO", "REG"),
#: then a short gap without digits and twelve digit-like characters (at least ten real
#: digits, at most two separators): "GT No, : 000689913856", "- G,ST ID No: 0020...",
#: "GST REGISTRATION NO : 0002126233G0"
_GST_FUZZY = re.compile(
    r"(?<![A-Za-z0-9])(?:(?P<l3>[A-Za-z0-9$][.,'`]?[A-Za-z0-9$][.,'`]?[A-Za-z0-9$])"
    r"|(?P<l2>[GgSs][.,'`]?[STst]))\.?(?![A-Za-z0-9])"
    r"(?P<gap>[^0-9\n]{0,24}?)"
    r"(?<![A-Za-z0-9])(?P<num>(?:[\dOoIlSBZG][ ,.'\-]?){11}[\dOoIlSBZG])"
    r"(?![\dOoIlSBZG]|[.,'\-][\dOoIlSBZG])")
_SUB_LABEL = re.compile(r"(?i)^[\s.,:;(\[#'`-]*(?:id|ld|1d|no|n0|reg|re6|rec|registration|regn)(?![a-z])")
_TO_LETTER = str.maketrans({"6": "G", "5": "S", "$": "S", "7": "T", "8": "B"})


def _gst_like(tok: str) -> bool:
    """Three characters at most one away from "GST" (digits read back as the letters they
    resemble; B and 8 count for G, the commonest misreading of the bold G)."""
    t = re.sub(r"[.,'`]", "", tok).upper().translate(_TO_LETTER)
    if len(t) != 3:
        return False
    t = ("G" if t[0] == "B" else t[0]) + t[1:]
    return sum(a != b for a, b in zip(t, "GST", strict=True)) <= 1


def _fuzzy_gst(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, raw, digits) of GST numbers behind a garbled label (`_GST_FUZZY`)."""
    out = []
    for m in _GST_FUZZY.finditer(text):
        gap, raw = m.group("gap"), m.group("num")
        if m.group("l3") is not None:
            if not _gst_like(m.group("l3")):
                continue
            exact = re.sub(r"[.,'`]", "", m.group("l3")).upper() == "GST"
            if not exact and not _SUB_LABEL.match(gap):
                continue  # a misread label needs its sub-label ("ID", "NO", "REG"): "OST 200012345678" is no GST
        elif not _SUB_LABEL.match(gap):
            continue
        if any(len(w) >= 3 and not w.lower().startswith(("re", "no", "num", "id")) for w in re.findall(r"[A-Za-z]+", gap)):
            continue  # a word between the label and the number that is no sub-label: another field
        if sum(ch.isdigit() for ch in raw) < 10 or sum(not ch.isalnum() for ch in raw) > 2:
            continue
        digits = _digits(to_digits(raw))
        if len(digits) == 12:
            out.append((m.start("num"), m.end("num"), raw, digits))
    return out


#: twelve characters after a GST label, digits or the letters OCR puts for them (O/D/Q for 0,
#: I/l for 1, S for 5, B for 8, G for 6, Z for 2; one space allowed between any two): a
#: bold or faint number whose digits were confused ("GST ID : 00IS70349OSG")
_GST_CONFUSED = re.compile(r"((?:[\dOoDQIlSBZG] ?){11}[\dOoDQIlSBZG])(?![A-Za-z0-9])")
#: at least this many of the twelve are real digits (fewer: too little of the number was read)
GST_CONFUSED_MIN_DIGITS = 6


def _confused_gst(text: str, start: int) -> tuple[int, int, str, str] | None:
    """(start, end, raw, digits) of a GST number read with letter look-alikes for digits at
    `start` of `text` (just after its label), when the number read back starts "00" like
    every Malaysian GST number; None otherwise. A repaired reading: never auto-accepted."""
    m = _GST_CONFUSED.match(text, start)
    if m is None or sum(ch.isdigit() for ch in m.group(1)) < GST_CONFUSED_MIN_DIGITS:
        return None
    digits = _digits(to_digits(m.group(1)))
    if len(digits) != 12 or not digits.startswith(GST_PREFIX):
        return None
    return m.start(1), m.end(1), m.group(1).strip(), digits


def _unslip_gst_label(text: str) -> str:
    if not re.search(r"(?i)[gbcu6e8][.,'`]?[s5$]|[gs][.,'`]?t", text):
        return text
    for rx, sub in _GST_LABEL_SLIPS:
        text = rx.sub(sub, text)
    return text


def find_vat_numbers(text: str, country: str | None = None) -> list[VatHit]:
    """VAT/org numbers in one line of text. Checksum-invalid numbers are kept only
    when a label cue or a country prefix says a VAT number is meant. Never raises."""
    try:
        return _find(text, country)
    except Exception:  # noqa: BLE001
        log.debug("vat parser failed", exc_info=True)
        return []


def _find(text: str, country: str | None) -> list[VatHit]:
    if not isinstance(text, str) or not text:
        return []
    country = country.upper() if country else None
    hits: list[VatHit] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def add(h: VatHit) -> None:
        hits.append(h)
        taken.append((h.start, h.end))

    # 1. country-prefixed forms
    for m in _PREFIXED.finditer(text):
        cc = m.group(1).upper()
        sep = text[m.end(1):m.start(2)]
        mva = bool(m.group(3))
        r = _best_reading(m.group(2), cc, mva, True)
        if r is None:
            continue
        (value, rc, kind, valid), used = r
        if not valid and (sep.strip(" ") == ":" or sep == " ") and cc == "NO" and not mva:
            continue  # "Receipt NO: 123456789" is not a Norwegian org.nr
        kind = {"DK": "vat", "FI": "alv"}.get(cc, kind)
        end = m.start(2) + used
        if mva:
            end = m.end()
        if not free(m.start(), end):
            continue
        add(VatHit(value, text[m.start():end].strip(), rc, kind, valid, m.start(), end, True, True))

    # 1b. a prefix read with a slip ("R0", "N0", "5E", "F1", "0K"), valid checksums only
    for m in _SLIP_PREFIXED.finditer(text):
        cc = _PREFIX_SLIPS[m.group(1).upper()]
        r = _best_reading(m.group(2), cc, False, True)
        if r is None or not r[0][3] or len(_digits(r[0][0])) < 6:
            continue  # (a short Romanian CUI passes its checksum too easily)
        (value, rc, kind, valid), used = r
        end = m.start(2) + used
        if free(m.start(), end):
            add(VatHit(value, text[m.start():end].strip(), rc, {"DK": "vat", "FI": "alv"}.get(cc, kind), True,
                       m.start(), end, True, True))

    # 2. numbers after an ID cue (or a VAT-word such as "MVA", "moms" used as a label)
    cues = [c for c in find_cues(text)
            if c.label == "ID" or (c.label == "TAX" and c.text.lower() in ("mva", "moms", "vat", "tva", "alv"))]
    for c in cues:
        rest = text[c.end:]
        first = re.search(r"[^\s:.#=\-,;+]", rest)
        if not first:
            continue
        seg_start = c.end + first.start()
        seg = text[seg_start:seg_start + 32]
        mm = _NUMBER_AFTER_CUE.match(seg)
        if not mm:
            continue
        s0, e0 = seg_start + mm.start(), seg_start + mm.end()
        if not free(s0, e0):
            continue
        token = mm.group(0)
        mva = bool(mm.group(1)) or "mva" in text[c.start:c.end].lower()
        lead = re.match(r"[A-Za-z]{0,2}(?=[\s\-:]?[0-9])", token)
        prefix = lead.group(0).upper() if lead else ""
        # a country prefix read with a digit slip: "R064615762" is "RO64615762"
        slip = _PREFIX_SLIPS.get(token[:2].upper()) if len(prefix) < 2 else None
        if slip and (c.id in _SLIP_IDS.get(slip, ()) or (country or "").upper() == slip):
            prefix = slip
            token_body_start = 2
        else:
            token_body_start = len(prefix)
        body = token[token_body_start:]
        if mm.group(1):
            body = body[: body.upper().rfind("M")]
        if c.id == "gst":
            # no country prefix exists: a leading "O"/"I" is a misread digit ("GST ID :OO0123...")
            digits = _digits(to_digits(token if mm.group(1) is None else body))
            if len(digits) == 12:
                add(VatHit(digits, token.strip(), "MY", "gst", None, s0, e0, True))
            else:
                confused = _confused_gst(text, seg_start)
                if confused is not None and free(confused[0], confused[1]):
                    add(VatHit(confused[3], confused[2], "MY", "gst", None, confused[0], confused[1], True,
                               repaired=True))
            continue
        if c.id == "company_reg":
            continue
        cand_country: str | None = country
        if prefix in COUNTRIES:
            cand_country = prefix
        elif c.id in _ID_COUNTRY and cand_country is None:
            cand_country = _ID_COUNTRY[c.id]
        elif cand_country is None and mva:
            cand_country = "NO"
        r = _best_reading(to_digits(body), cand_country, mva, bool(prefix))
        if r is None and cand_country is not None and country is None:
            r = _best_reading(to_digits(body), None, mva, bool(prefix))
        if r is None:
            continue
        (value, rc, kind, valid), used = r
        end = e0 if mm.group(1) else seg_start + token_body_start + used
        add(VatHit(value, text[s0:end].strip(), rc, kind, valid, s0, end, True, bool(prefix)))

    # 2b. a Malaysian GST number after a "GST ..." label read with a slip ("GST LD:",
    #     "GST Reg Na:", "GS iD :"): twelve digits, possibly split by a space
    gtext = _unslip_gst_label(text)
    for m in _GST_LOOSE.finditer(gtext):
        s0, e0 = m.start(1), m.end(1)
        digits = _digits(m.group(1))
        if len(digits) == 12 and free(s0, e0):
            add(VatHit(digits, m.group(1).strip(), "MY", "gst", None, s0, e0, True))

    for m in _GST_SLIPPED.finditer(gtext):
        s0, e0 = m.start(1), m.end(1)
        raw = m.group(1)
        if sum(ch.isdigit() for ch in raw) < 9 or not free(s0, e0):
            continue
        digits = _digits(to_digits(raw))
        if len(digits) == 12:
            add(VatHit(digits, raw.strip(), "MY", "gst", None, s0, e0, True))

    # 2c. behind a label garbled further ("GT No,", "G,ST ID", "8ST", "REGISTRATIO'N"): repaired
    for s0, e0, raw, digits in _fuzzy_gst(gtext):
        if free(s0, e0):
            add(VatHit(digits, raw.strip(), "MY", "gst", None, s0, e0, True, repaired=True))

    # 3. unlabelled but self-describing forms (valid checksums only)
    for rx, cc in ((_NO_MVA, "NO"), (_SE_ORG, "SE"), (_FI_YT, "FI")):
        if country and country != cc and cc != "NO":
            continue
        for m in rx.finditer(text):
            if not free(m.start(), m.end()):
                continue
            digits = _digits(m.group(0))
            opts = _classify(digits, cc, cc == "NO", False)
            if opts and opts[0][3]:
                o = opts[0]
                add(VatHit(o[0], m.group(0), o[1], o[2], True, m.start(), m.end(), cc == "NO"))
    # 4. "Xyz-nr. 12345678" whose label is no known cue (an ID label read with a slip): valid checksums
    #    of the ID forms only, and never as a labelled number
    for m in _LABELLED_NR.finditer(text):
        s0, e0 = m.start(2), m.end(2)
        if not free(s0, e0) or find_cues(m.group(1)):
            continue
        if find_cues(text[:m.start(2)]):
            continue  # "Tel. nr 12345678", "Bon nr. ...", "Co. No ...": a known label says what it is
        opts = [o for o in _classify(m.group(2), country, False, False) if o[3]]
        if len(opts) == 1 or (opts and len({o[1] for o in opts}) == 1):
            o = opts[0]
            add(VatHit(o[0], m.group(2), o[1], o[2], True, s0, e0, False))
    hits.sort(key=lambda h: h.start)
    return hits


def parse_vat(text: str, country: str | None = None) -> str | None:
    """The first VAT/org number's normalised value, or None. Never raises."""
    hits = find_vat_numbers(text, country)
    return hits[0].value if hits else None


def vat_key(s: str | None) -> str:
    """Comparable key for a VAT/org number in any of its printed forms."""
    if not s:
        return ""
    t = re.sub(r"[^0-9A-Za-z]", "", s).upper()
    if t.endswith("MVA"):
        t = t[:-3]
    m = re.match(r"^([A-Z]{2})?(\d+)$", t)
    if not m:
        return t
    cc, digits = m.group(1) or "", m.group(2)
    if cc == "SE" and len(digits) == 10:
        digits += "01"
    if not cc:
        if len(digits) == 10:
            cc, digits = "SE", digits + "01"
    return cc + digits


def vat_digits_key(s: str | None) -> str:
    """Only the identifying digits (country prefix and SE '01' dropped): a fallback key."""
    k = vat_key(s)
    d = re.sub(r"\D", "", k)
    if k.startswith("SE") and len(d) == 12:
        d = d[:10]
    return d


# ---------------------------------------------------------------- row level

def _is_buyer_label(text: str, c: Cue) -> bool:
    """A buyer label heads its row or is followed by a colon ("Kunde:", "Bill to"),
    not a word inside other text ("Tel 1300 (customer service)")."""
    if c.label != "BUYER":
        return False
    before = text[:c.start].strip(" ([-*:")
    after = text[c.end:c.end + 3]
    return len(before) <= 3 or ":" in after

#: Malaysian GST registration numbers were issued from 000000000000 upwards (SROIE-era
#: receipts print 000..., 001..., 002...): a twelve-digit reading that starts otherwise
#: is a misread (a digit dropped or a label letter taken in) and is never auto-accepted
GST_PREFIX, IMPLAUSIBLE_GST_CONF = "00", 0.5

#: base confidence of a labelled number with no checksum (MY GST) when both OCR
#: engines read the same digits; times ocr_factor it reaches the accept threshold
#: (0.80) only for confidently read words
AGREED_UNCHECKED_CONF = 0.88


def _engines_agree(row: Row, h: VatHit) -> bool:
    """All the words carrying the digits of `h` were read the same by both engines,
    and they hold no other digits (a crop that split the number is not agreement)."""
    from pipeline.ocr import words_agreed

    ws = [w for w, s, e in row.word_spans() if s < h.end and e > h.start and any(ch.isdigit() for ch in w.text)]
    if not words_agreed(ws):
        return False
    digits = "".join(ch for w in ws for ch in w.text if ch.isdigit())
    return digits == _digits(h.raw)


#: an unlabelled GST number on a header row is looked for this far down the first page
BARE_GST_REL_Y, BARE_GST_MAX_ROWS = 0.45, 20
_BARE_GST = re.compile(r"(?<![\d.,])(0 ?0(?: ?\d){10})(?![\d.,]?\d)")
#: cues of rows whose long number is another field's (a phone, a receipt or invoice number, a date)
_NOT_GST_ROW = frozenset({"PHONE", "DATE", "OTHER_DATE", "RECEIPT_NO", "INVOICE", "RECEIPT", "ORDER_CONF", "BUYER",
                          "TOTAL", "SUBTOTAL", "PAYMENT", "SERIAL"})


def _bare_header_gst(rows: list[Row]) -> tuple[VatHit, Row] | None:
    """A GST number whose label OCR garbled beyond recognition ("6ST Wk: 000517095424",
    "(UST Ree Now 001492992000)"): twelve digits starting "00" (how every Malaysian GST
    number starts) on one of the first page's header rows, that row naming no other
    field and holding no date, and some text before the number (a label, however
    misread). Only the first such row; a repaired reading, never auto-accepted."""
    from pipeline.extract.dates import find_dates

    if not rows:
        return None
    first_page = rows[0].page.page_no
    for k, row in enumerate(rows[:BARE_GST_MAX_ROWS]):
        if row.page.page_no != first_page or (k >= 4 and row.rel_y() > BARE_GST_REL_Y):
            break
        cues = find_cues(row.text)
        if any(c.label in ("TOTAL", "SUBTOTAL", "PAYMENT") for c in cues):
            break  # the amounts have started
        m = _BARE_GST.search(row.text)
        if m is None:
            continue
        if any(c.label in _NOT_GST_ROW for c in cues) or find_dates(row.text):
            continue
        before = row.text[:m.start(1)]
        if sum(ch.isalpha() for ch in before) < 2:
            continue  # a bare number (on a row of its own, or under a label on the row above)
        digits = _digits(m.group(1))
        return VatHit(digits, m.group(1).strip(), "MY", "gst", None, m.start(1), m.end(1), True,
                      repaired=True), row
    return None


def extract_vats(rows: list[Row], country: str | None = None
                 ) -> tuple[FieldValue | None, FieldValue | None, list[tuple[VatHit, Row]]]:
    """(reseller_vat, buyer_vat, all hits). A number is the buyer's when a buyer
    label (Kunde, Customer, Køber, Kund, Asiakas, Client, Cumpărător, Buyer...)
    is on its row before it, or on one of the 4 rows above with no seller label
    in between; otherwise it is the seller's."""
    from models.fields import FieldValue
    from pipeline.extract.layout import clamp01, ocr_factor

    found: list[tuple[VatHit, Row, bool]] = []
    for i, row in enumerate(rows):
        hits = find_vat_numbers(row.text, None)
        if not hits:
            continue
        cues = find_cues(row.text)
        for h in hits:
            buyer = any(_is_buyer_label(row.text, c) and c.end <= h.start for c in cues)
            seller_here = any(c.label == "SELLER" and c.end <= h.start for c in cues)
            if not buyer and not seller_here:
                for j in range(i - 1, max(-1, i - 5), -1):
                    pc = find_cues(rows[j].text)
                    if any(c.label == "SELLER" for c in pc):
                        break
                    if any(_is_buyer_label(rows[j].text, c) for c in pc):
                        buyer = True
                        break
                    if find_vat_numbers(rows[j].text, None):
                        break  # another company's number block starts above
            found.append((h, row, buyer))

    def score(h: VatHit, row: Row) -> float:
        s = 0.5
        if h.valid:
            s += 0.4
        elif h.valid is None:
            s += 0.25
        if h.cued:
            s += 0.1
        elif not h.prefixed:
            s -= 0.2  # no label, no prefix: any labelled number is surer
        if country and h.country == country.upper():
            s += 0.02
        if h.kind == "gst" and not h.value.startswith(GST_PREFIX):
            s -= 0.05  # a plausible reading of another GST line is surer
        return s

    def to_fv(name: str, h: VatHit, row: Row) -> FieldValue:
        if h.valid:
            c = 0.9 if h.cued else 0.8
        elif h.valid is None:
            c = 0.75 if h.cued else 0.5
            if h.repaired:
                c = min(c, 0.7)
            elif h.cued and _engines_agree(row, h):
                # no checksum, but two engines (tesseract on the page, RapidOCR on the
                # number's crop) read exactly the same digits
                c = AGREED_UNCHECKED_CONF
        else:
            c = 0.25 if h.cued else 0.1
        if h.kind == "gst" and not h.value.startswith(GST_PREFIX):
            c = min(c, IMPLAUSIBLE_GST_CONF)  # misread: every Malaysian GST number starts "00"
        c *= ocr_factor(row.conf_of_span(h.start, h.end))
        return FieldValue(name=name, raw=h.raw, value=h.value, confidence=round(clamp01(c), 3),
                          evidence=row.span_evidence(h.start, h.end),
                          meta={"country": h.country, "kind": h.kind, "checksum": h.checksum})

    if not any(not b for _, _, b in found) and (country or "MY").upper() == "MY":
        bare = _bare_header_gst(rows)
        if bare is not None:
            found.append((*bare, False))
    sellers = [(h, r) for h, r, b in found if not b]
    # the same company's org.nr and its country-prefixed VAT number printed side by side
    # ("Org.nr 554529-8415  Moms SE554529841508") but different: the VAT number is the one
    # asked for, even when its checksum fails (the org.nr alone would hide the error)
    prefixed_keys = {vat_digits_key(h.value): h.value for h, _ in sellers if h.prefixed}
    sellers = [(h, r) for h, r in sellers
               if h.prefixed or prefixed_keys.get(vat_digits_key(h.value), h.value) == h.value]
    buyers = [(h, r) for h, r, b in found if b]
    seller_fv = None
    if sellers:
        h, r = max(sellers, key=lambda hr: (score(*hr), -hr[1].index))
        seller_fv = to_fv("reseller_vat", h, r)
    buyer_fv = None
    seller_key = vat_key(seller_fv.value) if seller_fv else ""
    buyers = [(h, r) for h, r in buyers if vat_key(h.value) != seller_key and h.kind != "gst"]
    if buyers:
        h, r = max(buyers, key=lambda hr: (score(*hr), -hr[1].index))
        buyer_fv = to_fv("buyer_vat", h, r)
    return seller_fv, buyer_fv, [(h, r) for h, r, _ in found]


from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from models.fields import FieldValue
    from pipeline.extract.layout import Row
