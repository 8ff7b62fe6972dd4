"""Serial numbers: handwritten on the receipt, and on the product's label.

A candidate is a token that fully matches the campaign's serial pattern and
carries at least two digits. Tokens that belong to printed fields (dates,
amounts, VAT/org numbers, receipt numbers, phone numbers, EAN codes, product
rows, labelled rows) are excluded. Candidates score higher after a serial cue
("S/N", "Serienr", "Sarjanumero", "Seria"...), on sparse rows (a pen-written
number stands alone), when the OCR read them with low confidence or with the
handwriting-capable engine, and when several readings agree (compared after
OCR-confusion folding).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stdnum import ean

from models.fields import FieldValue
from pipeline.extract.amounts import find_amounts
from pipeline.extract.cues import find_cues
from pipeline.extract.dates import find_dates
from pipeline.extract.layout import clamp01, ocr_factor
from pipeline.extract.text import fold_confusions
from pipeline.extract.vat import find_vat_numbers

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from models.documents import Box, DocumentText, FileInfo, Word
    from models.fields import ReceiptExtraction
    from pipeline.extract.layout import Row

log = logging.getLogger(__name__)

DEFAULT_PATTERN = r"[A-Z0-9]{5,14}"
_STRIP = ".,:;'\"()[]{}*#=_|"


def _compile(pattern: str | None) -> re.Pattern[str]:
    try:
        return re.compile(pattern or DEFAULT_PATTERN)
    except re.error:
        return re.compile(DEFAULT_PATTERN)


def parse_serial(text: str, pattern: str | None = None) -> str | None:
    """The first token of `text` matching the serial pattern (2+ digits), after a
    serial cue when there is one. Never raises."""
    try:
        if not isinstance(text, str):
            return None
        rx = _compile(pattern)
        cues = [c for c in find_cues(text) if c.label == "SERIAL"]
        start = cues[0].end if cues else 0
        for m in re.finditer(r"\S+", text[start:]):
            tok = m.group(0).strip(_STRIP).upper()
            if sum(ch.isdigit() for ch in tok) >= 2 and rx.fullmatch(tok):
                return tok
    except Exception:  # noqa: BLE001
        log.debug("serial parser failed", exc_info=True)
    return None


@dataclass
class SerialCand:
    value: str
    raw: str
    score: float
    conf: float
    row: Row
    start: int
    end: int
    doc_no: int
    engine: str


def _excluded_spans(text: str) -> list[tuple[int, int]]:
    spans = [(d.start, d.end) for d in find_dates(text)]
    spans += [(a.start, a.end) for a in find_amounts(text) if a.has_decimals]
    spans += [(v.start, v.end) for v in find_vat_numbers(text)]
    return spans


_INTL_PHONE = re.compile(r"(?<![\w+])\+\s?\d{1,3}[\s\-]?\(?\d")
_BLOCK_LABELS = ("PHONE", "ID", "RECEIPT_NO", "DATE", "TOTAL", "SUBTOTAL", "PAYMENT", "TAX", "OTHER_DATE")


def _after_other_label(text: str, pos: int) -> bool:
    """True when the word before `pos` is a label ending with ':' ("Term:", "Ref.:")."""
    before = text[:pos].rstrip()
    if before.endswith(":"):
        return True
    m = re.search(r"(\S+)$", text[:pos])
    return bool(m and ":" in m.group(1))


_INTERIOR_ALIKE = re.compile(r"(?<=[0-9])[OoDQIl|SBZUC](?=[0-9])")
_ALIKE_DIGIT = {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8", "Z": "2", "U": "0", "C": "0"}


def normalise_serial_token(tok: str, rx: re.Pattern[str]) -> str | None:
    """The token as a serial, repairing OCR letter/digit slips where the context says a
    digit: letters between two digits ("54I23456" -> "54123456"), and any look-alike
    letter when the pattern only accepts the repaired form (a digits-only pattern).
    None when no form of it matches the pattern."""
    t = tok.upper() if tok.isascii() else tok
    letters = sum(ch.isalpha() for ch in t)
    # only a number with a stray letter or two: "A7B8C9D0" is a serial with letters
    fixed = _INTERIOR_ALIKE.sub(lambda m: _ALIKE_DIGIT.get(m.group(0), m.group(0)), t) \
        if letters <= max(1, len(t) // 4) else t
    if rx.fullmatch(fixed):
        return fixed
    digits = sum(ch.isdigit() for ch in t)
    if digits >= 0.6 * len(t):
        alld = "".join(_ALIKE_DIGIT.get(ch, ch) for ch in t)
        if alld != fixed and rx.fullmatch(alld):
            return alld
    return None


def _in_printed_line(row: Row, word: Word) -> bool:
    """`word` shares its OCR line with two or more words of four or more letters, or with a
    product description: a printed line (an item row, a sentence), where a pen-written
    serial does not stand."""
    from pipeline.extract.products import parse_product

    for ln in row.lines:
        if any(w is word for w in ln.words):
            if sum(1 for w in ln.words if sum(ch.isalpha() for ch in w.text) >= 4) >= 2:
                return True
            spec = parse_product(" ".join(w.text for w in ln.words if w is not word))
            return spec.is_lens or bool(spec.codes)  # a product line ("Sigma 100-400mm f/5-6.3 DG DN OS")
    return False


def _cue_before(words: list[tuple[Word, int, int]], k: int) -> bool:
    """A (fuzzy) serial cue among the two words before word k."""
    return any(is_fuzzy_serial_cue(words[j][0].text) for j in range(max(0, k - 2), k))


def serial_candidates(rows: list[Row], pattern: str | None, doc_no: int = 0,
                      exclude_values: set[str] | None = None) -> list[SerialCand]:
    rx = _compile(pattern)
    excl = {fold_confusions(v) for v in (exclude_values or set()) if v}
    out: list[SerialCand] = []
    for i, row in enumerate(rows):
        text = row.text
        cues = find_cues(text)
        serial_cues = [c for c in cues if c.label == "SERIAL"]
        words = row.word_spans()
        fuzzy_cue = any(is_fuzzy_serial_cue(w.text) or is_fuzzy_serial_cue(w.text.split(".")[0] + ".")
                        for w, _, _ in words[:3])
        prev_serial = i > 0 and any(is_fuzzy_serial_cue(w.text) for w, _, _ in rows[i - 1].word_spans()[:2]) \
            and parse_serial(rows[i - 1].text, pattern) is None and rows[i - 1].n_words <= 2
        blocked = (any(c.label in _BLOCK_LABELS for c in cues) or bool(_INTL_PHONE.search(text))) \
            and not serial_cues and not fuzzy_cue
        if blocked:
            continue
        spans = _excluded_spans(text)
        priced = any(a.has_decimals for a in find_amounts(text))
        n_words = len(words)
        # single words, and two adjacent words joined (handwriting split by the OCR)
        pieces: list[tuple[str, int, int, list[Word], int]] = []
        for k, (w, s, e) in enumerate(words):
            pieces.append((w.text, s, e, [w], k))
            # "S/N:85258362", "Serienr.43933637" read as one word: the parts after ':' '=' '#' '.'
            for pm in re.finditer(r"[^:;=#.,]+", w.text):
                if pm.group(0) != w.text:
                    pieces.append((pm.group(0), s + pm.start(), s + pm.end(), [w], k))
            if k + 1 < len(words):
                w2, s2, e2 = words[k + 1]
                a, b = w.text.strip(_STRIP), w2.text.strip(_STRIP)
                # handwriting split in two ("AB12 3456"); both halves carry digits
                # (not "5000 ODENSE", a postcode and a town)
                if len(a) <= 6 and len(b) <= 6 and any(ch.isdigit() for ch in a) and any(ch.isdigit() for ch in b):
                    pieces.append((w.text + w2.text, s, e2, [w, w2], k))
        for raw, s, e, ws, k in pieces:
            tok0 = raw.strip(_STRIP)
            nd = sum(ch.isdigit() for ch in tok0)
            if nd < 2 or nd < 0.5 * len(tok0):
                continue  # serials are digit-heavy; "MIKROFIBER99" is a word
            tok = normalise_serial_token(tok0, rx)
            if tok is None:
                continue
            repaired = tok != tok0.upper()
            if any(s < b and e > a for a, b in spans):
                continue
            if re.search(r"X{3,}|\*", tok) or raw.lstrip().startswith("+"):
                continue  # a masked card number, a phone number
            if tok.isdigit() and len(tok) in (12, 13, 14) and ean.is_valid(tok):
                continue
            if fold_confusions(tok) in excl:
                continue
            after_cue = any(c.end <= s for c in serial_cues) or prev_serial or _cue_before(words, k) \
                or (ws[0].text != raw and is_fuzzy_serial_cue(ws[0].text[:ws[0].text.find(raw)] if raw in ws[0].text
                                                              else ""))
            if not after_cue and _after_other_label(text, s):
                continue  # "Xyz: 878623": a printed, labelled field
            if not after_cue and _in_printed_line(row, ws[0]):
                continue  # "746889 Rengöringsduk mikrofiber ...": an item number on a printed line
            if priced and not after_cue:
                continue
            score = 0.35
            if after_cue:
                score += 0.4
            if n_words <= 3:
                score += 0.12
            wconf = sum(w.conf for w in ws) / len(ws)
            engine = ws[0].engine
            if engine.lower() != "tesseract" or wconf < 0.6:
                score += 0.05
            if len(ws) > 1:
                score -= 0.05
            if repaired:
                wconf *= 0.9
            if any(ch.isalpha() for ch in tok) and any(ch.isdigit() for ch in tok):
                score -= 0.03  # letters inside a number: an OCR slip as often as a real letter
            out.append(SerialCand(tok, raw, score, wconf, row, s, e, doc_no, engine))
    return out


def _family(engine: str) -> str:
    e = engine.lower().split("+")[0]  # "tesseract+rapidocr": a page word both engines agreed on
    if e.startswith("rapidocr-line"):
        return "line"
    if e.startswith("rapidocr"):
        return "rapid"
    return e


def _vote_chars(members: list[SerialCand]) -> str:
    """Character-wise vote (weighted by reading confidence) among readings of one length."""
    by_len: dict[int, list[SerialCand]] = {}
    for c in members:
        by_len.setdefault(len(c.value), []).append(c)
    lst = max(by_len.values(), key=lambda L: sum(c.conf for c in L))
    out = []
    weights: list[dict[str, float]] = []
    for i in range(len(lst[0].value)):
        w: dict[str, float] = {}
        for c in lst:
            ch = c.value[i]
            w[ch] = w.get(ch, 0.0) + c.conf + (0.01 if ch.isdigit() else 0.0)
        weights.append(w)
        out.append(max(w.items(), key=lambda t: t[1])[0])
    # a lone letter among digits that some reading read as a digit ("48V66013" / "48266013"):
    # the digit, since a letter in a run of digits is an OCR slip more often than not
    letters = [i for i, ch in enumerate(out) if ch.isalpha()]
    if len(letters) == 1 and len(out) >= 6:
        i = letters[0]
        digits = {ch: v for ch, v in weights[i].items() if ch.isdigit()}
        if digits:
            out[i] = max(digits.items(), key=lambda t: t[1])[0]
    return "".join(out)


def _near(a: str, b: str) -> bool:
    """Same length and at most a quarter of the characters (at least one) different."""
    if len(a) != len(b):
        return False
    diff = sum(x != y for x, y in zip(a, b, strict=True))
    return diff <= max(1, len(a) // 4)


#: confidence cap of a serial when another reading is the same characters plus one
#: (the winner may have lost a pen-written digit; below the accept threshold)
DROPPED_CHAR_CONF = 0.72


def _is_one_insertion(short: str, long: str) -> bool:
    """`long` is `short` with exactly one character inserted somewhere."""
    if len(long) != len(short) + 1:
        return False
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1:]



#: share of the shorter winner's weight a reading one character longer needs to win instead
LONGER_READING_SHARE = 0.5


def _cue_remnant(v: str, folded_short: str) -> bool:
    """`v` is the shorter reading with a letter before or after it ("S45980652" of "45980652"):
    a remnant of the cue, not a lost character."""
    return (v[:1].isalpha() and fold_confusions(v[1:]) == folded_short) or \
        (v[-1:].isalpha() and fold_confusions(v[:-1]) == folded_short)


def _dropped_char_suspected(folded_value: str, cands: list[SerialCand]) -> bool:
    """Some reading is the picked value with one more character: views that agree
    on the shorter value may all have lost the same faint or joined digit, so
    agreement does not prove it."""
    for c in cands:
        # a letter before or after the number ("S45980652") is a remnant of the cue, not a lost character
        if _cue_remnant(c.value, folded_value):
            continue
        if _is_one_insertion(folded_value, fold_confusions(c.value)):
            return True
    return False


def pick_serial(cands: list[SerialCand], n_docs: int) -> FieldValue | None:
    """Vote over readings. Candidates are clustered by their OCR-confusion fold (equal,
    or the same length with a quarter of the characters different: one reading's slip);
    a cluster's weight is its best candidate's score (cue, sparse row) plus reading
    confidence, plus a bonus per other engine family that read it (tesseract, the
    whole-page RapidOCR, the RapidOCR line re-reads). The value is a character-wise
    vote inside the cluster. The confidence is high only when two engine families
    agree on every character and no other candidate comes close."""
    if not cands:
        return None
    order = sorted(cands, key=lambda c: -(c.score + 0.5 * c.conf))
    clusters: list[tuple[str, list[SerialCand]]] = []
    for c in order:
        f = fold_confusions(c.value)
        for key, lst in clusters:
            if f == key or _near(f, key):
                lst.append(c)
                break
        else:
            clusters.append((f, [c]))

    def weight(lst: list[SerialCand]) -> float:
        fams: dict[str, float] = {}
        views: dict[str, set[int]] = {}
        for c in lst:
            fam = _family(c.engine)
            fams[fam] = max(fams.get(fam, 0.0), c.score + 0.5 * c.conf)
            views.setdefault(fam, set()).add(c.doc_no)
        for fam in fams:
            fams[fam] += 0.15 * (len(views[fam]) - 1)  # several views of one engine agree
        ranked = sorted(fams.values(), reverse=True)
        return ranked[0] + sum(0.35 * v for v in ranked[1:])

    weights = [weight(lst) for _, lst in clusters]
    bi = max(range(len(clusters)), key=lambda i: weights[i])
    # the winner one character short of another reading ("5409262" / "54092626") and read so by one
    # engine's views only (of one crop, they share its faint or joined stroke): the OCR loses a
    # pen-written digit far more often than it invents one, so the longer reading wins when it
    # carries a fair share of the winner's weight (its confidence stays capped below)
    win_key = clusters[bi][0]
    one_engine = len({_family(c.engine) for c in clusters[bi][1]}) == 1
    longer = [i for i, (key, lst) in enumerate(clusters)
              if one_engine and i != bi and len(win_key) >= 5 and _is_one_insertion(win_key, key)
              and weights[i] >= LONGER_READING_SHARE * weights[bi] and not _cue_remnant(lst[0].value, win_key)]
    lost_char = bool(longer)
    if longer:
        bi = max(longer, key=lambda i: weights[i])
        win_key = clusters[bi][0]
    # a reading that is part of the winner ("935270" of "93527906") is the same ink read short: no rival
    for i, (key, _) in enumerate(clusters):
        if i != bi and len(key) >= 4 and (key in win_key or _is_one_insertion(key, win_key)):
            weights[i] = 0.0  # ("8752868" of "82752868": one character lost, not another number)
    members = clusters[bi][1]
    best_rep = members[0]
    value = _vote_chars(members)
    fv = fold_confusions(value)
    # agreement: the share of the cluster's reading weight that supports every character
    same_len = [c for c in members if len(c.value) == len(value)]
    tot = sum(c.conf for c in same_len) or 1.0
    agree = min((sum(c.conf for c in same_len if fold_confusions(c.value)[i] == fv[i]) / tot
                 for i in range(len(fv))), default=1.0)
    fams = {_family(c.engine) for c in members if fold_confusions(c.value) == fv}
    docs = {c.doc_no for c in members}
    cued = any(c.score >= 0.7 for c in members)
    others = [w for i, w in enumerate(weights) if i != bi]
    margin = weights[bi] - max(others) if others else 0.6
    top_conf = max(c.conf for c in members)
    conf = (0.45 + 0.1 * cued + 0.2 * min(len(fams) - 1, 2)) * ocr_factor(top_conf) + min(margin, 0.6) * 0.25
    conf *= 0.4 + 0.6 * agree
    line_views = {c.doc_no for c in members if _family(c.engine) == "line" and fold_confusions(c.value) == fv}
    if len(fams) < 2:
        if fams == {"line"} and len(line_views) >= 3 and cued and value.isdigit() and top_conf >= 0.9:
            conf = min(conf + 0.15, 0.85)  # three views of the line agree on a cued all-digit serial
        else:
            conf = min(conf, 0.7)  # one engine's reading: plausible, not proven
    if any(max(c.score for c in clusters[i][1]) >= 0.7 and weights[i] >= 0.7 * weights[bi]
           for i in range(len(clusters)) if i != bi):
        conf = min(conf, 0.7)  # another reading of the cued serial says something else
    if margin < 0.15:
        conf = min(conf, 0.6)  # a rival reading nearly as strong
    if any(ch.isalpha() for ch in value) and sum(ch.isdigit() for ch in value) >= len(value) - 2:
        conf = min(conf, 0.75)  # a letter or two among digits: often a slip
    if lost_char or _dropped_char_suspected(fv, cands):
        conf = min(conf, DROPPED_CHAR_CONF)
    alternatives = [clusters[i][1][0].value for i in sorted((i for i in range(len(clusters)) if i != bi),
                                                             key=lambda i: -weights[i])[:3]]
    return FieldValue(name="serial_handwritten", raw=best_rep.raw, value=value,
                      confidence=round(clamp01(min(conf, 0.97)), 3),
                      evidence=best_rep.row.span_evidence(best_rep.start, best_rep.end),
                      meta={"readings": str(len(docs)), "of_readings": str(n_docs), "engine": best_rep.engine,
                            "engines": ",".join(sorted(fams)), "agreement": f"{agree:.2f}",
                            "candidates": str(len(clusters)), "cue": "yes" if cued else "no",
                            "alternatives": ",".join(alternatives),
                            **({"restored_char": "yes"} if lost_char else {})})


# ------------------------------------------------------------------ region re-reads
#
# A pen-written serial is what tesseract reads worst, and a whole-page RapidOCR
# reading costs seconds. Instead, the places where handwriting probably is are
# re-read one text line at a time with RapidOCR's recogniser alone (no text
# detection: ~0.05-0.2 s a line): rows that carry a serial cue or a serial-like
# token in any reading, rows tesseract read as low-confidence debris, and ink
# that no confidently read word explains. Each line is read in three views (two
# scales, one binarised); the
# readings join the vote in `pick_serial`.

_FUZZY_CUE = re.compile(r"^(?:s\s?/\s?n|s\.?n\.?|ser[il1][a-z.]{0,9}|se[a-z]{1,3}nr\.?|sarja[a-z.]*|snr)\W*$",
                        re.IGNORECASE)


def is_fuzzy_serial_cue(word: str) -> bool:
    """A word that looks like a serial cue read with OCR slips ("Serien.", "Semenr.", "S/N:")."""
    w = word.strip(" :;.,")
    if not w:
        return False
    if any(c.label == "SERIAL" for c in find_cues(w)):
        return True
    return bool(_FUZZY_CUE.match(w)) and len(w) <= 12


def _page_rows(rows: list[Row], page_no: int) -> list[Row]:
    return [r for r in rows if r.page.page_no == page_no]


_RNO_SHAPE = re.compile(r"^(?:\d{4,12}|\d{2,6}[\-/]\d{2,8})$")


def receipt_number_regions(rows: list[Row], page_no: int, limit: int = 2) -> list[Box]:
    """Boxes of lone receipt-number-shaped words ("6933-6410", "70268") in the upper half of
    one page that no other field explains: not a date, amount, VAT/org number or phone, not
    after another field's label, not in a row of priced items."""
    from models.documents import Box

    found: list[Box] = []
    for r in _page_rows(rows, page_no):
        if r.rel_y() > 0.5 or _INTL_PHONE.search(r.text) or any(a.has_decimals for a in find_amounts(r.text)):
            continue
        spans = _excluded_spans(r.text)
        cues = find_cues(r.text)
        line_ends = {id(ln.words[-1]): ln for ln in r.lines if ln.words}
        for w, s, e in r.word_spans():
            tok = w.text.strip(_STRIP)
            # the last word of its line ("2200 København": a postcode is followed by the town)
            if id(w) not in line_ends or len(tok) < 5:
                continue
            if not _RNO_SHAPE.match(tok) or any(s < b and e > a for a, b in spans):
                continue
            if any(c.end <= s and c.label in _BLOCK_LABELS for c in cues):
                continue
            # with the two words before it on its line: where the (garbled) label is
            ws = line_ends[id(w)].words[-3:]
            found.append(Box.enclosing([x.box for x in ws]) or w.box)
            break
    return found[:limit]


def _median_text_height(rows: list[Row]) -> float:
    hs = sorted(w.box.height for r in rows for ln in r.lines for w in ln.words
                if w.conf >= 0.6 and sum(ch.isalnum() for ch in w.text) >= 2 and w.box.height > 0)
    return hs[len(hs) // 2] if hs else 20.0


def serial_regions(rows_by_reading: list[list[Row]], pattern: str | None, page_no: int) -> list[tuple[float, Box]]:
    """(priority, box) of the rows of one page where a handwritten serial may be, in the
    page's input pixels: rows with a (fuzzy) serial cue or a lone serial-like token, and
    rows read as low-confidence debris."""
    from models.documents import Box

    rx = _compile(pattern)
    found: list[tuple[float, Box]] = []
    all_rows = [r for rows in rows_by_reading for r in _page_rows(rows, page_no)]
    for r in all_rows:
        words = [w for ln in r.lines for w in ln.words]
        line_of = [li for li, ln in enumerate(r.lines) for _ in ln.words]
        if not words:
            continue
        # word boxes, not the row's: on a turned page a "row" can span the whole page
        cue_at = [k for k, w in enumerate(words) if is_fuzzy_serial_cue(w.text)
                  or is_fuzzy_serial_cue(re.split(r"[.:]", w.text)[0])]
        tok_at = [k for k, w in enumerate(words) if sum(ch.isdigit() for ch in w.text) >= 2
                  and rx.fullmatch(w.text.strip(_STRIP).upper())]
        if not tok_at:
            # a number split in two by the OCR ("9 425330"): both parts digits, joined a serial
            for k in range(len(words) - 1):
                a, b = words[k].text.strip(_STRIP), words[k + 1].text.strip(_STRIP)
                if a.isdigit() and b.isdigit() and line_of[k] == line_of[k + 1] and rx.fullmatch(a + b):
                    tok_at = [k, k + 1]
                    break
        blocked = any(c.label in _BLOCK_LABELS for c in find_cues(r.text))
        priced = any(a.has_decimals for a in find_amounts(r.text))
        if cue_at:
            for k in cue_at[:2]:
                for j in range(k, min(k + 2, len(words))):
                    if line_of[j] == line_of[k]:
                        found.append((3.0, words[j].box))
        elif tok_at and not priced and not blocked and len(words) <= 3:
            found.append((2.0 - r.conf, Box.enclosing([words[k].box for k in tok_at]) or r.box))
        elif len(words) <= 2 and not blocked and not priced and sum(ch.isdigit() for ch in r.text) >= 3 \
                and all(sum(ch.isalpha() for ch in w.text) <= 3 for w in words):
            # a short scrap with digits ("b198"): a pen-written number read in part
            found.append((1.6 - r.conf, Box.enclosing([w.box for w in words]) or r.box))
        elif r.conf < 0.5 and len(words) <= 4 and not blocked and not priced:
            found.append((1.0 - r.conf, Box.enclosing([w.box for w in words]) or r.box))
    return found


def _unexplained_ink(gray: Any, covered: list[Box], h: float) -> list[Box]:
    """Blobs of ink, text-line shaped, that no confidently read word covers."""
    import cv2
    import numpy as np

    from models.documents import Box

    H, W = gray.shape[:2]
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                max(15, int(h * 2) | 1), 15)
    pad = max(2, int(0.25 * h))
    for b in covered:
        ink[max(0, int(b.y0) - pad):min(H, int(b.y1) + pad), max(0, int(b.x0) - pad):min(W, int(b.x1) + pad)] = 0
    kw, kh = max(3, int(1.2 * h)), max(1, int(0.3 * h))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((kh, kw), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, hh, area = stats[i]
        if hh < 0.9 * h or hh > 5 * h or w < 3 * h or w > 0.95 * W:
            continue
        if x <= 2 or y <= 2 or x + w >= W - 2 or y + hh >= H - 2:
            continue  # touches the image border: background, a table edge
        dens = float(ink[y:y + hh, x:x + w].mean()) / 255.0
        if not 0.04 <= dens <= 0.5:
            continue
        blob = ink[y:y + hh, x:x + w] > 0
        if w > 0.6 * W or float(blob.any(axis=1).mean()) < 0.35:
            continue  # a table rule or a wide printed line: ink in a few rows or across the page
        out.append((w * hh, Box(x0=float(x), y0=float(y), x1=float(x + w), y1=float(y + hh))))
    out.sort(key=lambda t: -t[0])
    return [b for _, b in out[:3]]


def _line_crop(gray: Any, box: Box, h: float) -> tuple[Any, tuple[int, int, int, int]] | None:
    """The text line around `box`: the band of rows with ink that holds the box's centre,
    across the ink's horizontal extent (handwriting runs past the word boxes)."""
    import numpy as np

    H, W = gray.shape[:2]
    y0, y1 = max(0, int(box.y0 - 0.8 * h)), min(H, int(box.y1 + 0.8 * h))
    if y1 - y0 < 4:
        return None
    band = gray[y0:y1]
    thr = float(np.percentile(band, 50)) - 40
    ink = band < thr
    x0, x1 = max(0, int(box.x0 - 2 * h)), min(W, int(box.x1 + 2 * h))
    prof = ink[:, x0:x1].mean(axis=1)
    cy = int((box.y0 + box.y1) / 2) - y0
    cy = min(max(cy, 0), len(prof) - 1)
    top, bot = cy, cy
    lim = 0.004
    while top > 0 and prof[top - 1] > lim:
        top -= 1
    while bot < len(prof) - 1 and prof[bot + 1] > lim:
        bot += 1
    if bot - top < 0.6 * h:
        top, bot = int(box.y0) - y0, int(box.y1) - y0
    pad = int(0.25 * h) + 2
    top, bot = max(0, top - pad), min(len(prof), bot + pad + 1)
    # the text segment: from the box outwards while the gaps between inked columns
    # stay narrower than ~1.5 character heights (a word space, not a column gap)
    colink = ink[top:bot, :].any(axis=0)
    gap = max(3, int(1.5 * h))
    bx0, bx1 = max(0, int(box.x0)), min(W - 1, int(box.x1))
    cx0 = _last_inked(colink, range(bx0 - 1, -1, -1), gap, bx0)
    cx1 = _last_inked(colink, range(bx1 + 1, W), gap, bx1)
    if not colink[bx0:bx1 + 1].any() and cx0 == bx0 and cx1 == bx1:
        return None
    cx0, cx1 = max(0, cx0 - pad), min(W, cx1 + pad + 1)
    return gray[y0 + top:y0 + bot, cx0:cx1], (cx0, y0 + top, cx1, y0 + bot)


def _last_inked(colink: Any, xs: range, gap: int, start: int) -> int:
    """Walking `xs` outwards from `start`: the last inked column before a gap wider than `gap`."""
    last, run = start, 0
    for x in xs:
        if colink[x]:
            last, run = x, 0
        else:
            run += 1
            if run > gap:
                break
    return last


#: recent line re-reads by crop content: `extract_receipt` runs a second time when the
#: second engine's reading arrives, and re-reads the same crops
_LINE_CACHE: dict[bytes, tuple[str, float] | None] = {}
_LINE_CACHE_MAX = 512
_LINE_LOCK = threading.Lock()


def _recognise_line(crop: Any) -> tuple[str, float] | None:
    import hashlib

    key = hashlib.sha1(f"{crop.shape}".encode() + crop.tobytes()).digest()
    with _LINE_LOCK:
        if key in _LINE_CACHE:
            return _LINE_CACHE[key]
    got = _recognise_line_uncached(crop)
    with _LINE_LOCK:
        if len(_LINE_CACHE) >= _LINE_CACHE_MAX:
            _LINE_CACHE.pop(next(iter(_LINE_CACHE)))
        _LINE_CACHE[key] = got
    return got


def _recognise_line_uncached(crop: Any) -> tuple[str, float] | None:
    """RapidOCR's recogniser alone on one text-line image."""
    import numpy as np

    from pipeline.ocr.rapid import recognize_crops

    if crop.size == 0 or min(crop.shape[:2]) < 4:
        return None
    # recognition alone, through rapid.recognize_crops: calling the shared RapidOCR
    # instance with use_det=False would switch detection off for every later call
    try:
        (text, score), = recognize_crops([np.ascontiguousarray(crop.astype(np.uint8))])
    except Exception:  # noqa: BLE001 - a failed re-read is no reading
        log.debug("line re-read failed", exc_info=True)
        return None
    return (text, score) if text else None


def reread_lines(gray: Any, regions: list[tuple[float, Box]], h: float) -> dict[float, list[tuple[str, float, Box]]]:
    """Each region's text line recognised by RapidOCR at two scales: scale -> [(text, score, line box)]."""
    import cv2

    from models.documents import Box

    per_scale: dict[float, list[tuple[str, float, Box]]] = {}
    for _, box in regions:
        got = _line_crop(gray, box, h)
        if got is None:
            continue
        crop, (x0, y0, x1, y1) = got
        line_h = max(1, crop.shape[0])
        for target in (48.0, 72.0, 60.0):
            f = target / line_h
            img = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)
            if target == 60.0:  # a third, binarised view: its slips differ from the grey ones'
                img = cv2.threshold(cv2.GaussianBlur(img, (3, 3), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
            rr = _recognise_line(img)
            if rr is None or not rr[0].strip():
                continue
            per_scale.setdefault(target, []).append((rr[0], max(0.0, min(1.0, rr[1])),
                                                     Box(x0=x0, y0=y0, x1=x1, y1=y1)))
    return per_scale


def _rot_box(b: Box, rot: int, w: float, h: float, inverse: bool = False) -> Box:
    """A box under a clockwise quarter turn of a w x h image (or back with `inverse`)."""
    from models.documents import Box

    rot = rot % 360
    if inverse:
        # the rotated image is h x w for 90/270; undoing a turn is the opposite turn
        if rot in (90, 270):
            w, h = h, w
        rot = (360 - rot) % 360
    pts = [(b.x0, b.y0), (b.x1, b.y1)]
    if rot == 90:
        pts = [(h - y, x) for x, y in pts]
    elif rot == 180:
        pts = [(w - x, h - y) for x, y in pts]
    elif rot == 270:
        pts = [(y, w - x) for x, y in pts]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return Box(x0=min(xs), y0=min(ys), x1=max(xs), y1=max(ys))


def reread_serial_regions(info: FileInfo | None, doc: DocumentText, ex: ReceiptExtraction,
                          serial_pattern: str | None, *, required: bool = True,
                          alt_docs: Sequence[DocumentText] = (), accept: float = 0.9,
                          max_regions: int = 5) -> ReceiptExtraction:
    """Re-read the probable handwriting of a receipt line by line with RapidOCR's
    recogniser and vote again on the serial. Returns `ex` unchanged when the serial is
    already sure (confidence >= `accept`), the file is a text PDF, or nothing
    looks like handwriting. Never raises; costs ~0.1-0.2 s per line on one core.

    `required`: the campaign asks for a handwritten serial, so the unexplained ink of
    the page is searched too (not only rows that show a serial cue or token)."""
    try:
        cur = ex.serial_handwritten
        serial_sure = cur is not None and cur.confidence >= accept
        rno = ex.receipt_number
        rno_sure = rno is not None and rno.confidence >= accept
        if info is None or (serial_sure and rno_sure):
            return ex
        if not any(p.source != "pdf-text" for p in doc.pages):
            return ex
        from models.documents import DocumentText, Line, Page
        from pipeline.extract.layout import build_rows
        from pipeline.ocr.base import split_line_into_words
        from pipeline.preprocess import to_gray
        from pipeline.render import render_file

        main_rows = build_rows(doc)
        alt_rows = [build_rows(d) for d in alt_docs]
        readings = [main_rows, *alt_rows]
        rendered = {rp.page_no: rp for rp in render_file(info.path, info.detected_type, dpi=300)}
        synth: list[DocumentText] = []
        for page in doc.pages:
            rp = rendered.get(page.page_no)
            if page.source == "pdf-text" or rp is None or rp.image is None:
                continue
            gray0 = to_gray(rp.image)
            H0, W0 = gray0.shape[:2]
            rot = int(page.rotation) % 360
            gray = _rotate_gray(gray0, rot)
            page_rows = [_page_rows(rs, page.page_no) for rs in readings]
            # word boxes of confident words, in the upright image
            # (the page reading's words only: a second engine's reading of the handwriting, upside
            # down or garbled, must not hide its ink from the line re-reads)
            good = [_rot_box(w.box, rot, W0, H0) for r in page_rows[0] for ln in r.lines
                    for w in ln.words if w.conf >= 0.6 and sum(ch.isalnum() for ch in w.text) >= 2]
            hs = sorted(b.height for b in good if b.height > 0)
            h = hs[len(hs) // 2] if hs else 20.0
            regions = serial_regions(readings, serial_pattern, page.page_no)
            if serial_sure:
                regions = []
            if rno is not None and not rno_sure and rno.evidence is not None and rno.evidence.box is not None \
                    and rno.evidence.page == page.page_no:
                regions.append((2.5, rno.evidence.box))  # a shaky receipt number: read its line again
            elif rno is None:
                # no receipt number read: the lines of the upper half that hold a number of its
                # shape nothing else explains (the label was probably garbled)
                regions += [(2.4, b) for b in receipt_number_regions(main_rows, page.page_no)]
            regions = [(p, _rot_box(b, rot, W0, H0)) for p, b in regions]
            if required and not serial_sure:
                regions += [(0.5, b) for b in _unexplained_ink(gray, good, h)]
            regions = _merge_regions(regions, h)[:max_regions]
            if not regions:
                continue
            for _scale, items in sorted(reread_lines(gray, regions, h).items()):
                lines = []
                for text, score, box in items:
                    b = _rot_box(box, rot, W0, H0, inverse=True)
                    words = split_line_into_words(text, b, score, "rapidocr-line")
                    if words:
                        lines.append(Line(words=tuple(words)))
                if lines:
                    synth.append(DocumentText(file=doc.file, pages=(Page(
                        page_no=page.page_no, width=page.width, height=page.height, lines=tuple(lines),
                        engine="rapidocr-line", rotation=rot),)))
        if not synth:
            return ex
        ex = _vote_receipt_number(ex, synth)
        if serial_sure:
            return ex
        excl = {f.value for f in (ex.reseller_vat, ex.buyer_vat, ex.receipt_number) if f is not None}
        excl |= {f.raw for f in (ex.reseller_vat, ex.buyer_vat, ex.receipt_number) if f is not None}
        all_rows = readings + [build_rows(d) for d in synth]
        cands: list[SerialCand] = []
        for k, rs in enumerate(all_rows):
            cands += serial_candidates(rs, serial_pattern, k, excl)
        serial = pick_serial(cands, len(all_rows))
        if serial is None:
            return ex
        serial = serial.model_copy(update={"meta": {**serial.meta, "line_rereads": str(len(synth))}})
        return ex.model_copy(update={"serial_handwritten": serial})
    except Exception:  # noqa: BLE001 - a failed re-read leaves the extraction as it was
        log.warning("serial line re-read failed", exc_info=True)
        return ex


#: receipt-number confidence kept, at most, when most line re-reads (two or more, more than
#: disagree) read what the page reading read and one read something else
MAJORITY_RNO_CONF = 0.88


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _another_reading(view: str, page: str) -> bool:
    """`view` differs from `page` in one character only (one substituted, dropped or added), and
    not by a repeated character merged or doubled ("2999" for "29999", a recogniser's slip)."""
    if _edit_distance(view, page) != 1:
        return False
    if abs(len(view) - len(page)) == 1:
        long, short = (view, page) if len(view) > len(page) else (page, view)
        for i in range(len(long)):
            if long[:i] + long[i + 1:] == short and ((i > 0 and long[i - 1] == long[i])
                                                     or (i + 1 < len(long) and long[i + 1] == long[i])):
                return False
    return True


def _vote_receipt_number(ex: ReceiptExtraction, synth: list[DocumentText]) -> ReceiptExtraction:
    """The receipt number checked against the line re-reads: filled in when the page
    reading garbled it, more confident when the re-reads agree, less when they don't."""
    from pipeline.extract.layout import build_rows
    from pipeline.extract.receipt_number import extract_receipt_number

    def key(v: str) -> str:
        return re.sub(r"[^0-9A-Z]", "", v.upper())

    found = [f for f in (extract_receipt_number(build_rows(d)) for d in synth) if f is not None]
    cur = ex.receipt_number
    if not found:
        return ex
    if cur is None:
        rn = max(found, key=lambda f: f.confidence)
        agree = sum(key(f.value) == key(rn.value) for f in found)
        c = rn.confidence * (0.85 if agree >= 2 else 0.7)
        return ex.model_copy(update={"receipt_number": rn.model_copy(update={
            "confidence": round(min(c, 0.85), 3), "meta": {**rn.meta, "source": "line re-read",
                                                          "readings_agree": f"{agree}/{len(found)}"}})})
    same = [f for f in found if key(f.value) == key(cur.value)]
    other = [f for f in found if key(f.value) != key(cur.value)]
    if same and not other:
        c = min(0.97, cur.confidence + 0.12)
    elif len(other) >= 2 and len({key(f.value) for f in other}) == 1 and not same and cur.confidence < 0.8:
        # the re-reads agree with each other, not with the page reading: take theirs, unsure
        best = max(other, key=lambda f: f.confidence)
        return ex.model_copy(update={"receipt_number": best.model_copy(update={
            "confidence": round(min(0.7, best.confidence), 3),
            "meta": {**best.meta, "source": "line re-read", "page_reading": cur.value}})})
    elif len(same) >= 2 and len(same) > len(other) \
            and not any(_another_reading(key(f.value), key(cur.value)) for f in other):
        # most views of the line agree with the page reading, one slipped: wholesale ("20000" for
        # "29999") or a repeated character merged ("2999"): no gain, no loss. A view one other
        # character off is another reading of an unclear character (maybe the right one): that
        # lowers it (below)
        c = min(cur.confidence, MAJORITY_RNO_CONF)
    else:
        c = min(cur.confidence, 0.6)
    return ex.model_copy(update={"receipt_number": cur.model_copy(update={
        "confidence": round(c, 3), "meta": {**cur.meta, "line_rereads_agree": f"{len(same)}/{len(found)}"}})})


def _rotate_gray(gray: Any, rot: int) -> Any:
    import cv2

    if rot == 90:
        return cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE)
    if rot == 180:
        return cv2.rotate(gray, cv2.ROTATE_180)
    if rot == 270:
        return cv2.rotate(gray, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return gray


def _merge_regions(found: list[tuple[float, Box]], h: float) -> list[tuple[float, Box]]:
    merged: list[tuple[float, Box]] = []
    for pr, b in sorted(found, key=lambda x: -x[0]):
        for k, (pr2, b2) in enumerate(merged):
            ov = min(b.y1, b2.y1) - max(b.y0, b2.y0)
            if ov > 0.5 * min(b.height, b2.height):
                u = b2.union(b)
                if u.height < MAX_REGION_HEIGHT * h:
                    merged[k] = (max(pr, pr2), u)
                # else: one line's loose box and another's ink: the surer region stays alone
                break
        else:
            merged.append((pr, b))
    return [(p, b) for p, b in merged if b.height < MAX_REGION_HEIGHT * h]


#: tallest region re-read, in printed-text heights (pen-written numbers are often 4-6 times
#: the height of the print; a taller "line" is a page turned sideways or a block of text)
MAX_REGION_HEIGHT = 7.0


# ------------------------------------------------------------------ claim cross-check

#: confidence cap of a handwritten serial whose length differs from every other serial
#: the claim carries (the form's declared serial, the label photo's reading): a pen-written
#: digit lost or added by the OCR is the usual cause; below the accept threshold
LENGTH_DIFFERS_CONF = 0.7


def _compact(v: str) -> str:
    return "".join(ch for ch in v.upper() if ch.isalnum())


def cross_check_serial_length(hand: FieldValue | None, references: Sequence[tuple[str, str]]) -> FieldValue | None:
    """The handwritten serial with its confidence capped when it is shorter or longer
    than each of the claim's other serials (`references`: (source, value) pairs such as
    ("declared", ...), ("label", ...)). Serials of one product have one length, so a
    reading one character short of both is far more often a lost faint digit than the
    number the customer wrote. Never raises the confidence and never changes the value:
    the comparison of the values themselves is `pipeline.rules.rule_serial`'s."""
    if hand is None:
        return None
    try:
        v = _compact(hand.value)
        refs = [(src, _compact(r)) for src, r in references if r and len(_compact(r)) >= 4]
        if not v or not refs or any(len(r) == len(v) for _, r in refs):
            return hand
        if hand.confidence <= LENGTH_DIFFERS_CONF:
            return hand
        lens = ",".join(f"{src} {len(r)}" for src, r in refs)
        return hand.model_copy(update={"confidence": LENGTH_DIFFERS_CONF,
                                       "meta": {**hand.meta, "length_differs": f"read {len(v)}; {lens}"}})
    except Exception:  # noqa: BLE001 - a failed check leaves the field as it was
        log.debug("serial length cross-check failed", exc_info=True)
        return hand


#: confidence of a handwritten serial read exactly as an independent source of the claim
#: gives it (the form's declared serial, the label photo's confident reading): the OCR never
#: sees those values, so a wrong reading would have to slip into exactly that number
CONFIRMED_CONF = 0.92
#: below this a reading is no reading (Settings.min_confidence): it is not confirmed
CONFIRM_FLOOR = 0.3
#: shortest serial whose agreement counts (a short number can agree by chance)
CONFIRM_MIN_LEN = 6


def confirm_serial(hand: FieldValue | None, references: Sequence[tuple[str, str]]) -> FieldValue | None:
    """The handwritten serial with its confidence raised to `CONFIRMED_CONF` when its value
    equals (upper-case alphanumerics) one of the claim's other serials (`references`:
    (source, value) pairs such as ("declared", ...), ("label", ...)).

    Sound only because the reading is independent of those values: `serial_candidates`,
    `pick_serial` and the line re-reads never see the declared or the label serial, and no
    candidate is chosen by its closeness to them. The value is never changed (a reading
    that differs stays as read, at its own confidence, for `rule_serial` to flag); a
    reading below `CONFIRM_FLOOR`, or shorter than `CONFIRM_MIN_LEN`, is not confirmed."""
    if hand is None:
        return None
    try:
        v = _compact(hand.value)
        if len(v) < CONFIRM_MIN_LEN or hand.confidence < CONFIRM_FLOOR or hand.confidence >= CONFIRMED_CONF:
            return hand
        agree = [src for src, r in references if r and _compact(r) == v]
        if not agree:
            return hand
        return hand.model_copy(update={"confidence": CONFIRMED_CONF,
                                       "meta": {**hand.meta, "confirmed_by": ",".join(agree),
                                                "read_confidence": f"{hand.confidence:.3f}"}})
    except Exception:  # noqa: BLE001 - a failed check leaves the field as it was
        log.debug("serial confirmation failed", exc_info=True)
        return hand
