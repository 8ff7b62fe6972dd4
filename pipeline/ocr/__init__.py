"""The OCR stage: file -> pages -> preprocessed images -> engine -> DocumentText.

    read_document(file)  receipts and invoices (PDF text layer, scans, photos)
    read_label(file)     phone photo of a serial-number label: barcodes + sparse text
    get_engine(name)     "tesseract", "tesseract-psm<N>", "rapidocr" (one instance per process)

Engines implement `pipeline.ocr.base.OcrEngine`; `register_engine` puts a
replay or fault-injection engine behind a name for tests. Errors: a malformed
file -> `FileRejected`; an engine failure -> `OcrError`; tesseract not
installed -> `DependencyMissing`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from models.documents import Box, DocumentText, FileInfo, Line, Page, Word
from pipeline.errors import ClaimcheckError, DependencyMissing, OcrError
from pipeline.ocr.base import OcrEngine

if TYPE_CHECKING:
    from pipeline.preprocess import Preprocessed

log = logging.getLogger(__name__)

__all__ = ["read_document", "read_label", "get_engine", "register_engine", "OcrEngine",
           "DEFAULT_DOCUMENT_ENGINE", "DEFAULT_LABEL_ENGINE", "words_agreed", "AGREED_SUFFIX"]

#: engine for receipts. scripts/ocr_probe.py on 30 SROIE receipts: tesseract psm 6
#: + preprocessing reads 0.75 of the words in ~0.65-0.9 s; RapidOCR reads 0.83
#: but takes ~3.9 s on one core, far over the 1.5 s per-receipt budget.
DEFAULT_DOCUMENT_ENGINE = "tesseract"
#: engine that engine="auto" picks for label photos. scripts/ocr_probe.py --labels
#: (12 rendered phone photos): after preprocessing RapidOCR read serial 12/12 and
#: model name 12/12 (0.6 s); tesseract psm 11 12/12 and 7/12, psm 6 12/12 and 8/12.
DEFAULT_LABEL_ENGINE = "rapidocr"
#: used by engine="auto" when RapidOCR is not installed (sparse-text mode)
FALLBACK_LABEL_ENGINE = "tesseract-psm11"
#: below this mean word confidence (or with fewer words than MIN_WORDS) the page
#: is re-read after tesseract's orientation detection
POOR_MEAN_CONF = 0.60
MIN_WORDS = 5
MIN_OSD_CONF = 1.0

_engines: dict[str, OcrEngine] = {}
_engines_lock = threading.Lock()


def register_engine(name: str, engine: OcrEngine | None) -> None:
    """Put `engine` behind `name` for this process (None removes it). For tests
    (replay and failing engines) and for an orchestrator that builds its own."""
    with _engines_lock:
        if engine is None:
            _engines.pop(name, None)
        else:
            _engines[name] = engine


def ocr_cache_dir() -> Path | None:
    """CLAIMCHECK_OCR_CACHE_DIR, the data team's record/replay cache of engine readings (or None)."""
    from pipeline.settings import Settings
    return Settings().ocr_cache_dir


def get_engine(name: str) -> OcrEngine:
    """The engine called `name`, created on first use and kept for the process."""
    with _engines_lock:
        eng = _engines.get(name)
        if eng is not None:
            return eng
        if name == "tesseract":
            from pipeline.ocr.tesseract import TesseractEngine
            eng = TesseractEngine()
        elif name.startswith("tesseract-psm") and name[len("tesseract-psm"):].isdigit():
            from pipeline.ocr.tesseract import TesseractEngine
            eng = TesseractEngine(psm=int(name[len("tesseract-psm"):]))
        elif name == "rapidocr":
            from pipeline.ocr.rapid import RapidOcrEngine
            eng = RapidOcrEngine()
        elif name == DIGITS_ENGINE:
            from pipeline.ocr.tesseract import TesseractEngine
            eng = TesseractEngine(psm=6, extra_config=f"-c tessedit_char_whitelist={DIGITS_WHITELIST}")
            eng.name = DIGITS_ENGINE  # its own name: readings are cached apart from the page engine's
        else:
            raise ValueError(f"unknown OCR engine {name!r} (known: tesseract, tesseract-psm<N>, rapidocr, "
                             f"{DIGITS_ENGINE})")
        cache_dir = ocr_cache_dir()
        if cache_dir is not None:
            from pipeline.ocr.replay import ReplayEngine
            eng = ReplayEngine(eng, cache_dir / "pages")
        _engines[name] = eng
        return eng


# --------------------------------------------------------------------- helpers

@dataclass
class _Read:
    lines: list[Line]
    prep: Preprocessed


def _quality(lines: list[Line]) -> tuple[int, float]:
    """(number of word-like words, their mean confidence)."""
    words = [w for ln in lines for w in ln.words if sum(c.isalnum() for c in w.text) >= 2]
    if not words:
        return 0, 0.0
    return len(words), sum(w.conf for w in words) / len(words)


def _score(lines: list[Line]) -> float:
    """Total confidence of the confidently read word-like words: what a reading is worth."""
    return sum(w.conf for ln in lines for w in ln.words
               if w.conf >= POOR_MEAN_CONF and sum(c.isalnum() for c in w.text) >= 2)


def _is_poor(lines: list[Line]) -> bool:
    n, mean = _quality(lines)
    return n < MIN_WORDS or mean < POOR_MEAN_CONF


def _recognize(engine: OcrEngine, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
    try:
        return engine.recognize(image, languages)
    except ClaimcheckError:
        raise
    except Exception as exc:  # noqa: BLE001 - an engine must only raise typed errors; enforce it here
        raise OcrError(f"OCR engine {getattr(engine, 'name', '?')} failed: {type(exc).__name__}") from exc


def _detect_orientation(image: np.ndarray, warnings: list[str]) -> tuple[int, float] | None:
    from pipeline.ocr.tesseract import detect_orientation

    try:
        return detect_orientation(image)
    except DependencyMissing:
        warnings.append("orientation detection unavailable (tesseract OSD not installed)")
        return None


def _prep(image: np.ndarray, rotation: int, page_no: int, **prep_kwargs: Any) -> Preprocessed:
    from pipeline.preprocess import preprocess

    try:
        return preprocess(image, rotation=rotation, **prep_kwargs)
    except (cv2.error, ValueError) as exc:
        raise OcrError(f"page {page_no}: preprocessing failed ({type(exc).__name__})") from exc


#: the quarter turn found for a page of a file by an earlier reading, keyed by
#: (sha256, page): a second engine reading the same page (RapidOCR, which turns
#: upside-down lines itself and so reads them "well" in the wrong page order)
#: starts from it
_orientation_memo: OrderedDict[tuple[str, int], int] = OrderedDict()
_MEMO_SIZE = 512


def _remember_rotation(key: tuple[str, int] | None, rotation: int) -> None:
    if key is None or not key[0]:
        return
    with _engines_lock:
        _orientation_memo[key] = int(rotation) % 360
        _orientation_memo.move_to_end(key)
        while len(_orientation_memo) > _MEMO_SIZE:
            _orientation_memo.popitem(last=False)


def _remembered_rotation(key: tuple[str, int] | None) -> int:
    if key is None:
        return 0
    with _engines_lock:
        return _orientation_memo.get(key, 0)


def _read_image(image: np.ndarray, engine: OcrEngine, languages: tuple[str, ...], warnings: list[str],
                page_no: int, *, try_all_rotations: bool = False, hint: int = 0, **prep_kwargs: Any) -> _Read:
    """Preprocess and OCR one image. Orientation detection (tesseract OSD, ~0.5 s
    on a receipt) runs only when the upright reading looks poor; the reading
    with the better quality wins. With `try_all_rotations` (sparse labels, where
    OSD has too few characters to decide) the other quarter turns are read too
    when OSD gives no answer and the reading is still poor. `hint`: a quarter
    turn an earlier reading of the same page found, tried first."""
    from pipeline.preprocess import _downscale

    prep = _prep(image, hint % 360, page_no, **prep_kwargs)
    best = _Read(_recognize(engine, prep.image, languages), prep)
    if not _is_poor(best.lines):
        return best
    if hint % 360:
        prep0 = _prep(image, 0, page_no, **prep_kwargs)
        other = _Read(_recognize(engine, prep0.image, languages), prep0)
        if _score(other.lines) > _score(best.lines):
            best = other
        if not _is_poor(best.lines):
            return best
    small, f = _downscale(prep.image, 1400)
    found = _detect_orientation(small, warnings)
    if found is None and f < 1.0:
        # a long receipt turned sideways: its text at 1400 px is too small for OSD
        found = _detect_orientation(prep.image, warnings)
    if found is not None and found[0] != 0 and found[1] >= MIN_OSD_CONF:
        candidates = [found[0]]
    elif found is not None and found[1] < MIN_OSD_CONF and not try_all_rotations:
        # OSD unsure (few characters, low resolution, photos): its answer is often
        # right and otherwise usually off by a half turn (an upside-down page is
        # often "0, confidence 0.3"); the readings decide (by _score)
        candidates = [r for r in (found[0], (found[0] + 180) % 360) if r != 0]
    elif try_all_rotations and found is None:
        candidates = [90, 270, 180]
    else:
        return best
    for rot in candidates:
        log.debug("page %d: re-reading with rotation %d", page_no, rot)
        # OSD measured the preprocessed image, which is upright-equivalent to the
        # perspective-corrected input: rotate at that point and redo the rest
        prep2 = _prep(image, rot, page_no, **prep_kwargs)
        other = _Read(_recognize(engine, prep2.image, languages), prep2)
        if _score(other.lines) > _score(best.lines):
            best = other
        # with OSD's answer one re-read is enough; without it, read every turn:
        # tesseract reads upside-down text with deceptively good confidence
        if not try_all_rotations and not _is_poor(best.lines):
            break
    return best


# ------------------------------------------------------ key-line re-reading

#: re-read the lines that carry the total, the date and the VAT/GST number with a
#: second engine (RapidOCR recognition only, on the line's strip) and vote
REREAD_KEY_LINES = True
#: at most this many lines per page are re-read (~0.05-0.1 s of CPU each)
MAX_REREAD_LINES = 8
#: and at most this many value crops per line (the rightmost: the value column)
MAX_GROUPS_PER_LINE = 2
#: the first lines holding a date that were not among those (read cleanly, or crowded out by
#: amount lines) are re-read too, their date's crops only, at most this many: a date's digits are
#: trusted only when a second reading confirms them (`pipeline.extract.dates._readings_cap`)
MAX_DATE_REREAD_LINES = 2
_KEY_WORDS = re.compile(
    r"(total|tota1|t0tal|round|nett|amount|amt|due|payable|jumlah|cash|change|tunai|visa|master|card|credit|"
    r"date|dato|datum|tarikh|gst|vat|i alt|at betale|betala|yhteensa|plata)")
_DATEISH = re.compile(r"\d\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?[\dOoIl]{2}|\d{1,2}\s?[/\-]\s?\d|\d{2}:\d{2}")
_AMOUNTISH = re.compile(r"\d[.,]\s?\d\d(?!\d)")
_CLEAN_CONF = 0.93
_GLUE_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z)\]#])(?=\d)|(?<=[A-Za-z)\]]:)(?=\d)")
_GLUE_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[A-Za-z]{2,})")
_NON_LATIN = re.compile(r"[^\x00-\u024f\u2000-\u206f\u20a0-\u20cf]")


#: characters OCR puts for digits in a long number ("OOLSZ4708", "OO0S#AS2376")
_DIGIT_LIKE = frozenset("0123456789OoDIlLSZB")


def _near_gst(f: str) -> bool:
    """A three-character token one character away from "gst" ("bst", "ust", "6st", "gs7"):
    the label of a Malaysian GST number misread, in the folded text `f`."""
    for m in re.finditer(r"(?<![a-z0-9])[a-z0-9]{3}(?![a-z0-9])", f):
        tok = m.group(0)
        if sum(a != b for a, b in zip(tok, "gst", strict=True)) <= 1:
            return True
    return False


def _garbled_regnum(f: str, text: str) -> bool:
    """A registration-number line whose label and digits OCR both garbled: a label
    near "gst" or "reg" and a token of ten or more digit-like characters, at least
    four of them real digits ("(UST Ree Now v0149299200", "BST HO: OOLSZ4708c08").
    It only decides which lines the second engine re-reads; nothing is read from it."""
    if not (_near_gst(f) or re.search(r"(?<![a-z])re[egq](?![a-z]{2})", f)):
        return False
    for tok in text.split():
        digits = sum(c.isdigit() for c in tok)
        if digits >= 4 and sum(c in _DIGIT_LIKE for c in tok) >= 10:
            return True
    return False


#: a word shaped like a numeric date ("d/m/y", one separator twice) whose digits OCR
#: read as letters ("OR/OT/I?" for 07/07/17): three or more digit-like characters
_DATE_SHAPE = re.compile(r"(?<![A-Za-z0-9])[0-9A-Za-z?]{1,2}([/\-])[0-9A-Za-z?]{1,2}\1[0-9A-Za-z?]{2,4}(?![A-Za-z0-9])")


def _garbled_date(text: str) -> bool:
    """A date-shaped token with too few digits to be read as a date. It only decides
    which lines (and words) the second engine re-reads; nothing is read from it."""
    for m in _DATE_SHAPE.finditer(text):
        tok = m.group(0)
        if sum(c.isdigit() for c in tok) < 4 and sum(c in _DIGIT_LIKE for c in tok) >= 3:
            return True
    return False


def _key_line_priority(line: Line, rel_y: float) -> float:
    """How much re-reading `line` may help the extraction (0 = not a key line)."""
    from pipeline.extract.text import fold_text

    text = line.text
    f = fold_text(text)
    kw = _KEY_WORDS.search(f)
    date = _DATEISH.search(text) or _garbled_date(text)
    amount = _AMOUNTISH.search(text)
    if not (kw or date or re.search(r"(g5t|6st|reg)", f) or _garbled_regnum(f, text)):
        return 0.0
    if any(ord(c) > 127 and c.isalpha() for c in text):
        return 0.0  # accented text: the second engine's model reads Latin-1 letters poorly
    confs = [w.conf for w in line.words]
    low = min(confs) if confs else 0.0
    p = 0.0
    if kw and (amount or rel_y > 0.35):
        p += 1.0
    if date:
        p += 0.8
    if (re.search(r"(gst|g5t|6st|vat|reg|tax id|mva|moms|cvr)", f) and sum(c.isdigit() for c in text) >= 6) \
            or _garbled_regnum(f, text):
        p += 1.2  # a registration number
    elif kw and not amount and not date:
        p += 0.3  # a label whose value was not read
    if low >= _CLEAN_CONF and (amount or date):
        p *= 0.3  # already read cleanly
    return p * (1.5 - low)


_GLUE_DATE_TIME = re.compile(r"(?<![\d])(\d{1,2}[/\-.]\d{1,2}[/\-.](?:\d{4}|\d{2}))(?=\d{1,2}\s?:\s?\d{2})")


def _chars_and_breaks(text: str) -> tuple[list[str], list[bool]]:
    """The non-space characters of `text`, and for each whether a space came before it."""
    chars: list[str] = []
    breaks: list[bool] = []
    pending = False
    for c in text:
        if c.isspace():
            pending = True
            continue
        chars.append(c)
        breaks.append(pending)
        pending = False
    return chars, breaks


def _respace_like(text2: str, text1: str) -> str:
    """Put the word breaks of reading `text1` into reading `text2` where the two
    agree character for character (RapidOCR drops the wide gaps of receipt
    columns: "06-05-201812:43:19", "TOTAL:65.55")."""
    import difflib

    a_chars, a_space = _chars_and_breaks(text1)
    a_chars = [c.upper() for c in a_chars]
    b_chars, b_space = _chars_and_breaks(text2)
    sm = difflib.SequenceMatcher(None, "".join(a_chars), "".join(c.upper() for c in b_chars), autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                if a_space[i1 + k]:
                    b_space[j1 + k] = True
        elif tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):  # same length, different characters: a misread, same spacing
                if a_space[i1 + k]:
                    b_space[j1 + k] = True
        elif a_space[i1] if i1 < len(a_space) else False:
            if j1 < len(b_space):
                b_space[j1] = True
    out = []
    for k, c in enumerate(b_chars):
        if k and b_space[k]:
            out.append(" ")
        out.append(c)
    return "".join(out)


def _normalise_second_reading(text: str, page_text: str = "") -> str:
    if page_text:
        text = _respace_like(text, page_text)
    text = _GLUE_DATE_TIME.sub(r"\1 ", text)
    text = _GLUE_LETTER_DIGIT.sub(" ", text)
    text = _GLUE_DIGIT_LETTER.sub(" ", text)
    return " ".join(text.split())


def _value_groups(line: Line) -> list[list[int]]:
    """Runs of adjacent words of `line` that carry a value (two or more digits, or
    digit look-alikes next to such a word): the parts worth re-reading."""
    words = line.words
    h = max(1.0, line.box.height)
    groups: list[list[int]] = []
    for i, w in enumerate(words):
        digits = sum(c.isdigit() for c in w.text)
        if (digits < 1 or (digits < 2 and len(w.text) < 3 and not re.search(r"[.,:/\-]", w.text))) \
                and not _garbled_date(w.text):
            continue
        if groups and groups[-1][-1] == i - 1 and w.box.x0 - words[i - 1].box.x1 < 1.2 * h:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


#: the engine name of a word gets this suffix when the second engine's re-read of
#: its crop gave exactly the same characters ("tesseract+rapidocr")
AGREED_SUFFIX = "+rapidocr"
#: the second reading must be at least this confident to count as agreement
AGREE_MIN_SCORE = 0.80


def _agreed_engine(engine: str) -> str:
    return engine if engine.endswith(AGREED_SUFFIX) else engine + AGREED_SUFFIX


def words_agreed(words: Sequence[Word]) -> bool:
    """Every word was read the same by both engines (see `_vote_group`)."""
    return bool(words) and all(w.engine.endswith(AGREED_SUFFIX) for w in words)


#: marks put into a word's engine name ("tesseract+digits+rapidocr"), always before AGREED_SUFFIX
#: (`words_agreed` and the forensics read that suffix) and after the engine itself (the part
#: before the first "+" stays the engine's family):
#: the second engine read other characters and the page's words were kept (`_vote_group`)
RAPID_DIFFERED = "+rapidocr-no"
#: a word of the second engine's reading that replaced the page's words (it read other characters)
RAPID_REPLACED = "+replaced"
#: ... and whose digits the page reading had read alike
PAGE_DIGITS_AGREE = "+pagedigits"
#: the digits-only reading of a date word (`_reread_date_digits`): its majority read the same
#: digits, other digits, or no reading had a majority
DIGITS_CONFIRMED, DIGITS_CONTRADICTED, DIGITS_UNSURE = "+digits", "+digits-no", "+digits-unsure"
_MARKS = (RAPID_DIFFERED, RAPID_REPLACED, PAGE_DIGITS_AGREE, DIGITS_CONFIRMED, DIGITS_CONTRADICTED, DIGITS_UNSURE)


def with_mark(engine: str, mark: str) -> str:
    """`engine` with `mark` added (before AGREED_SUFFIX; once)."""
    if mark in marks_of(engine):
        return engine
    if engine.endswith(AGREED_SUFFIX):
        return engine[: -len(AGREED_SUFFIX)] + mark + AGREED_SUFFIX
    return engine + mark


def marks_of(engine: str) -> set[str]:
    """The marks (see `_MARKS`) in a word's engine name."""
    parts = engine.split("+")[1:]
    return {m for m in _MARKS if m[1:] in parts}


def _vote_group(line: Line, group: list[int], text2: str, score2: float, box: Box) -> list[Word]:
    """The words that replace `group` of `line` after a second reading of its crop.

    Same text (ignoring spaces): the page's words, with the better confidence of
    the two readings. Different text: the second reading when it is confident (it
    reads more of the printed characters, scripts/ocr_probe.py), with a lowered
    confidence, so that a value read from it falls below the auto-approve threshold
    unless the extraction confirms it some other way; else the page's words, also
    with a lowered confidence."""
    from pipeline.ocr.base import split_line_into_words

    old = [line.words[i] for i in group]
    t1 = "".join(w.text for w in old)
    t2 = re.sub(r"\s", "", text2)
    if t1.upper() == t2.upper():
        # both engines read the same characters: the words say so in their engine
        # name (AGREED_SUFFIX), so an extractor can trust them more than one reading
        agreed = score2 >= AGREE_MIN_SCORE
        return [w.model_copy(update={"conf": max(w.conf, min(score2, 0.99)),
                                     "engine": _agreed_engine(w.engine) if agreed else w.engine}) for w in old]
    mean1 = sum(w.conf for w in old) / len(old)
    # (the second engine read other characters: the kept page words say so, RAPID_DIFFERED)
    if not t2 or score2 < 0.85 or not any(c.isdigit() for c in t2):
        return [w.model_copy(update={"conf": min(w.conf, 0.6), "engine": with_mark(w.engine, RAPID_DIFFERED)})
                for w in old]
    if score2 < mean1 and score2 < 0.95:
        return [w.model_copy(update={"conf": min(w.conf, 0.6), "engine": with_mark(w.engine, RAPID_DIFFERED)})
                for w in old]
    d1, d2 = re.sub(r"\D", "", t1), re.sub(r"\D", "", t2)
    engine2 = "rapidocr" + RAPID_REPLACED + (PAGE_DIGITS_AGREE if d1 and d1 == d2 else "")
    new = split_line_into_words(" ".join(text2.split()), box, score2, engine2)
    return [w.model_copy(update={"conf": min(0.7, score2 * 0.75)}) for w in new] or old


def _padded_crop(image: np.ndarray, x0: float, y0: float, x1: float, y1: float, hh: float) -> np.ndarray | None:
    """The box widened by 0.35 and heightened by 0.2 of the line height `hh`, clipped to the
    image; None when too small to read."""
    h_img, w_img = image.shape[:2]
    cx0, cx1 = int(max(0, x0 - 0.35 * hh)), int(min(w_img, x1 + 0.35 * hh))
    cy0, cy1 = int(max(0, y0 - 0.2 * hh)), int(min(h_img, y1 + 0.2 * hh))
    if cy1 - cy0 < 6 or cx1 - cx0 < 6:
        return None
    return image[cy0:cy1, cx0:cx1]


def _second_readings(crops: list[np.ndarray], warnings: list[str], what: str) -> list[tuple[str, float]] | None:
    """The second engine's (text, score) per crop, or None (with a warning) when it cannot read."""
    try:
        from pipeline.ocr.rapid import recognize_crops

        return recognize_crops(crops)
    except ClaimcheckError as exc:
        warnings.append(f"{what} not re-read ({exc.code})")
        return None


def _reread_key_lines(image: np.ndarray, lines: list[Line], warnings: list[str]) -> list[Line]:
    """Re-read the values (amounts, dates, registration numbers) on the lines most
    likely to hold the total, the date and the VAT/GST number (label words,
    date-like or amount-like text) with RapidOCR's recogniser on small crops of
    the page, and vote word by word (see `_vote_group`)."""
    if not REREAD_KEY_LINES or not lines:
        return lines
    h_img = image.shape[0]
    scored = []
    for k, ln in enumerate(lines):
        if not ln.words:
            continue
        p = _key_line_priority(ln, ln.box.cy / max(1.0, h_img))
        if p > 0:
            scored.append((p, k))
    chosen = sorted(k for _, k in sorted(scored, reverse=True)[:MAX_REREAD_LINES])
    # the first lines holding a date, when not chosen (read cleanly, crowded out): their date's crops
    date_words: dict[int, set[int]] = {}
    for k, i in _date_words(lines):
        date_words.setdefault(k, set()).add(i)
    extra = [k for k in date_words if k not in chosen][:MAX_DATE_REREAD_LINES]
    crops: list[np.ndarray] = []
    jobs: list[tuple[int, list[int], Box]] = []
    line_jobs: list[tuple[int, int]] = []  # (line, crop index): whole registration-number lines
    for k in sorted([*chosen, *extra]):
        ln = lines[k]
        if k in chosen and REREAD_REGNUM_LINES and _is_regnum_line(ln):
            b = ln.box
            crop = _padded_crop(image, b.x0, b.y0, b.x1, b.y1, b.height)
            if crop is not None:
                line_jobs.append((k, len(crops)))
                crops.append(crop)
        groups = _value_groups(ln)
        if k not in chosen:
            groups = [g for g in groups if date_words[k] & set(g)]
        for g in groups[-MAX_GROUPS_PER_LINE:]:
            b = Box.enclosing([ln.words[i].box for i in g])
            if b is None:
                continue
            crop = _padded_crop(image, b.x0, min(b.y0, ln.box.y0), b.x1, max(b.y1, ln.box.y1),
                                max(b.height, ln.box.height))
            if crop is None:
                continue
            crops.append(crop)
            jobs.append((k, g, b))
    if not crops:
        return lines
    results = _second_readings(crops, warnings, "key lines")
    if results is None:
        return lines
    line_results = {k: results[i] for k, i in line_jobs}
    skip = {i for _, i in line_jobs}
    results = [r for i, r in enumerate(results) if i not in skip]
    replaced: dict[int, dict[int, list[Word]]] = {}
    for (k, g, b), (text2, score2) in zip(jobs, results, strict=True):
        if _NON_LATIN.search(text2):
            continue
        text2 = _normalise_second_reading(text2, " ".join(lines[k].words[i].text for i in g))
        replaced.setdefault(k, {})[g[0]] = _vote_group(lines[k], g, text2, score2, b)
        for i in g[1:]:
            replaced[k][i] = []
    out = list(lines)
    for k, rep in replaced.items():
        words: list[Word] = []
        for i, w in enumerate(lines[k].words):
            words.extend(rep[i] if i in rep else [w])
        if words:
            out[k] = Line(words=tuple(sorted(words, key=lambda w: w.box.x0)))
    for k, (text2, score2) in line_results.items():
        if not _NON_LATIN.search(text2):
            out[k] = _vote_regnum_line(out[k], text2, score2)
    return out


# ------------------------------------------------ digits-only reading of dates

#: read the digit words of the numeric dates on a page a third time: tesseract restricted to
#: digits and date separators, on each word's crop upscaled to every height of DIGITS_HEIGHTS,
#: all crops of the page stacked into one image (one tesseract call per page, ~0.1 s). The
#: heights vote (`_digits_mark`): the majority's date confirms the page's date, contradicts it,
#: or (no majority) leaves it unsure, which the word's engine name says (DIGITS_CONFIRMED, ...). Both
#: engines can misread a faint digit alike ("2016" as "2015"); a restricted reading at three
#: scales is a third, differently made reading. SROIE tune half (session 4): of the words of 80
#: numeric dates, the majority read the page's digits for 63 dates, other digits for 2 (one the
#: wrong year both engines had read), and no majority for 15.
REREAD_DATE_DIGITS = True
DIGITS_ENGINE = "tesseract-digits"
DIGITS_WHITELIST = "0123456789/-.:,"
#: crop heights in pixels (the word's box plus a quarter of its height above and below)
DIGITS_HEIGHTS = (40, 56, 72)
#: at most this many date words per page are read (three crops each)
MAX_DATE_WORDS = 8
#: horizontal padding of a word's crop, in its heights (the next word is often close)
DIGITS_PAD_X = 0.1
#: white rows between two stacked crops
DIGITS_GAP = 24


def _date_words(lines: list[Line]) -> list[tuple[int, int]]:
    """(line, word) of every word that holds digits of a date found on the line (in reading order)."""
    from pipeline.extract.dates import find_dates

    out: list[tuple[int, int]] = []
    for k, ln in enumerate(lines):
        if not ln.words or not re.search(r"\d", ln.text):
            continue
        spans, pos = [], 0
        for w in ln.words:
            spans.append((pos, pos + len(w.text)))
            pos += len(w.text) + 1
        for h in find_dates(ln.text, loose=True):
            for i, (s0, e0) in enumerate(spans):
                if s0 < h.end and e0 > h.start and any(c.isdigit() for c in ln.words[i].text) \
                        and (k, i) not in out:
                    out.append((k, i))
    return out


def _digits_crop(image: np.ndarray, word: Word) -> np.ndarray | None:
    h_img, w_img = image.shape[:2]
    box = word.box
    hh = max(1.0, box.height)
    # a word the second engine's line reading put in gets an x-range in proportion to its letters:
    # pad it as the key-line crops are padded
    pad = 0.35 if word.engine.startswith("rapidocr") else DIGITS_PAD_X
    y0, y1 = int(max(0, box.y0 - 0.25 * hh)), int(min(h_img, box.y1 + 0.25 * hh))
    x0, x1 = int(max(0, box.x0 - pad * hh)), int(min(w_img, box.x1 + pad * hh))
    if y1 - y0 < 6 or x1 - x0 < 6:
        return None
    crop = image[y0:y1, x0:x1]
    return crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)


def _stack(rows: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The crops one under the other on white, and the rows (y0, y1) each occupies."""
    gap = DIGITS_GAP
    width = max(r.shape[1] for r in rows) + 2 * gap
    canvas = np.full((gap + sum(r.shape[0] + gap for r in rows), width), 255, np.uint8)
    bands, y = [], gap
    for r in rows:
        canvas[y:y + r.shape[0], gap:gap + r.shape[1]] = r
        bands.append((y, y + r.shape[0]))
        y += r.shape[0] + gap
    return canvas, bands


def _dates_at(text: str, start: int, end: int, *, repaired: bool = True) -> tuple[str, ...]:
    """The dates of `text` that overlap text[start:end] (ISO), in order; without `repaired`, not
    those that needed a digit-slip repair ("19/2/2617")."""
    from pipeline.extract.dates import find_dates

    return tuple(h.date.isoformat() for h in find_dates(text, loose=True)
                 if h.start < end and h.end > start and (repaired or not h.repaired))


def _digits_mark(line: Line, i: int, readings: Sequence[str]) -> str:
    """What the digits-only readings of word `i` say of the line's date: a reading with the word's
    digits votes for the page's date; another is put in the word's place and the date it then
    makes is its vote. Confirmed: the majority (two or more)
    makes the page's date. Contradicted: it makes another date. Unsure: no majority (readings that
    make no date, "68/04/2018" or "06-05-2118", or only a repaired one, "19/2/2617", are slips of the
    restricted reading and no vote).
    Digits outside the date (a time glued to it, "0:" before it) do not count."""
    from collections import Counter

    before = " ".join(w.text for w in line.words[:i])
    start = len(before) + (1 if before else 0)
    rest = [w.text for w in line.words[i + 1:]]
    page = _dates_at(line.text, start, start + len(line.words[i].text))
    votes: Counter[tuple[str, ...]] = Counter()
    digits = re.sub(r"\D", "", line.words[i].text)
    for r in readings:
        r = "".join(r.split())
        if not r:
            continue
        if re.sub(r"\D", "", r) == digits:  # the same digits, a separator lost or read otherwise
            votes[page] += 1
            continue
        got = _dates_at(" ".join([*(w.text for w in line.words[:i]), r, *rest]), start, start + len(r),
                        repaired=False)
        if got:
            votes[got] += 1
    if not votes:
        return DIGITS_UNSURE
    top, n = votes.most_common(1)[0]
    if n < 2:
        return DIGITS_UNSURE
    return DIGITS_CONFIRMED if top == page else DIGITS_CONTRADICTED


def _reread_date_digits(image: np.ndarray, lines: list[Line], warnings: list[str]) -> list[Line]:
    """Mark the digit words of the page's dates with what the digits-only reading found (see
    REREAD_DATE_DIGITS); the words' text and confidence are left as they are."""
    if not REREAD_DATE_DIGITS or not lines:
        return lines
    targets = _date_words(lines)[:MAX_DATE_WORDS]
    rows: list[np.ndarray] = []
    owners: list[int] = []  # index into targets, per row
    for t, (k, i) in enumerate(targets):
        crop = _digits_crop(image, lines[k].words[i])
        if crop is None:
            continue
        for height in DIGITS_HEIGHTS:
            f = height / crop.shape[0]
            rows.append(cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA))
            owners.append(t)
    if not rows:
        return lines
    canvas, bands = _stack(rows)
    try:
        read = _recognize(get_engine(DIGITS_ENGINE), canvas, ("eng",))
    except ClaimcheckError as exc:
        warnings.append(f"dates not re-read as digits ({exc.code})")
        return lines
    found: list[list[Word]] = [[] for _ in rows]
    half = DIGITS_GAP / 2
    for w in (w for ln in read for w in ln.words):
        for r, (y0, y1) in enumerate(bands):
            if y0 - half <= w.box.cy < y1 + half:
                found[r].append(w)
                break
    readings: dict[int, list[str]] = {}
    for r, t in enumerate(owners):
        readings.setdefault(t, []).append("".join(w.text for w in sorted(found[r], key=lambda w: w.box.x0)))
    out = list(lines)
    for t, texts in readings.items():
        k, i = targets[t]
        words = list(out[k].words)
        w = words[i]
        words[i] = w.model_copy(update={"engine": with_mark(w.engine, _digits_mark(out[k], i, texts))})
        out[k] = Line(words=tuple(words))
    return out


#: re-read the first page's top lines (the seller's name and address) whole with the
#: second engine, and take its reading when it is clearly the more confident one:
#: tesseract garbles large, bold or stylised name fonts ("restaurawr sii" for
#: "RESTAURANT SIN DU", "ROPULAR BOOK", "MR. D.I.Y. (M) SON BHD") that RapidOCR's
#: recogniser reads. Key lines (amounts, dates, registration numbers) are left to
#: `_reread_key_lines`.
#: On since session 5 (2026-12-02): on the SROIE tune half (67) company 66 -> 67 of 67 right, 57 -> 58
#: accepted at 0.80 (all right), date/total/GST unchanged; on degraded copies of the tune half
#: (scripts/augment_sroie.py --seed 5: 60-70% scale, JPEG 40-60, blur, 1-3 degree rotation, noise)
#: company 62/67 either way, 54 -> 55 accepted (all right), GST 60 -> 61. Re-reading only the
#: receipts whose closed-list match scores below 0.80 (10 of 67 tune, 13 of 67 degraded) would give
#: the same figures; that needs the match before the re-read (a second pass in the callers).
#: Since session 6 the callers that match the seller against a closed list (`claimcheck extract`
#: with names, the SROIE eval, the screening with the campaign's resellers) pass
#: `read_document(header_reread_wanted=...)`: the page reading is extracted and matched first and
#: the top lines are re-read only when the match is weak (no match, or below accept_confidence).
#: Earlier (session 4, off): 66/67 either way, 63 vs 64 accepted; median time 1.72 vs 1.43 times a
#: bare tesseract call.
REREAD_HEADER_LINES = True
#: lines whose centre is in this top part of the page, at most this many
HEADER_REL_Y, MAX_HEADER_LINES = 0.30, 12
#: the second reading replaces the line when at least this confident and this much
#: more confident than the line's mean word confidence
HEADER_MIN_SCORE, HEADER_MIN_GAIN = 0.90, 0.10
#: word confidence given to a replaced line's words (not "agreed": one engine's reading)
HEADER_WORD_CONF = 0.90


#: a line box taller than this many times its words' median height spans two printed rows
#: (tesseract joined them): a crop of it reads either row, or a mix of both
HEADER_MAX_ROWS_RATIO = 1.6


def _spans_two_rows(line: Line) -> bool:
    hs = sorted(w.box.height for w in line.words if w.box.height > 0)
    return bool(hs) and line.box.height > HEADER_MAX_ROWS_RATIO * hs[len(hs) // 2]


def _header_candidates(lines: list[Line], h_img: int) -> list[int]:
    out = []
    for k, ln in enumerate(lines[:MAX_HEADER_LINES]):
        if not ln.words or ln.box.cy / max(1.0, h_img) > HEADER_REL_Y:
            continue
        text = ln.text
        if sum(c.isalpha() for c in text) < 4 or any(ord(c) > 127 and c.isalpha() for c in text):
            continue
        if _spans_two_rows(ln):
            continue
        if _key_line_priority(ln, ln.box.cy / max(1.0, h_img)) > 0:
            continue
        if sum(w.conf for w in ln.words) / len(ln.words) + HEADER_MIN_GAIN > 1.0:
            continue  # no second reading can be HEADER_MIN_GAIN more confident: not worth a crop
        out.append(k)
    return out


#: the second reading of a top line is refused when it holds this many more characters than
#: the page line (times, plus a few): it read text that is not this line's (a neighbouring
#: column or row, "Vesterbrogade 58 i" -> "Vesterbrogade 58 Ordrenummer")
HEADER_MAX_GROWTH = 1.4
#: labels a second reading may not bring into a top line that the page line does not show
#: (a field label read from a neighbour would give that field a value from the wrong line)
_HEADER_NEW_LABELS = frozenset({"RECEIPT_NO", "TOTAL", "SUBTOTAL", "DATE", "OTHER_DATE", "TAX", "PAYMENT", "BUYER",
                                "ORDER_CONF", "INVOICE", "RECEIPT", "SERIAL", "MODEL"})
#: word confidence of a replaced line whose digits the two engines read differently: a value
#: (VAT number, serial) read from it is never auto-approved on one engine's word
HEADER_DIGITS_DIFFER_CONF = 0.6


def _alnum(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


def _digits_agree(t1: str, t2: str) -> bool:
    """Both readings hold the same digits, or at least the same long numbers (8+ digits): a
    letter read as a digit next to a number ("F1I50090518" / "FI50090518") is not a disagreement."""
    d1, d2 = re.sub(r"\D", "", t1), re.sub(r"\D", "", t2)
    if d1 == d2:
        return True
    runs1, runs2 = set(_num_runs(t1)), set(_num_runs(t2))
    return bool(runs1) and runs1 == runs2 and len(d2) <= len(d1)


def _vote_header_line(line: Line, text2: str, score2: float) -> Line:
    """The page line, or the second engine's whole-line reading when that is clearly
    more confident (see HEADER_MIN_SCORE / HEADER_MIN_GAIN), reads about as many
    characters as the page line and brings in no field label the page line lacks.
    Where the two readings' digits differ the taken words with digits keep a lowered confidence."""
    from pipeline.extract.cues import find_cues
    from pipeline.ocr.base import split_line_into_words

    if not line.words or _NON_LATIN.search(text2):
        return line
    mean1 = sum(w.conf for w in line.words) / len(line.words)
    if score2 < HEADER_MIN_SCORE or score2 < mean1 + HEADER_MIN_GAIN:
        return line
    # the page line's word breaks, but no letter-digit split: that would cut a VAT number's
    # country prefix from its digits ("R025771280" -> "R 025771280")
    norm2 = " ".join(_respace_like(text2, line.text).split())
    a1, a2 = _alnum(line.text), _alnum(norm2)
    if sum(c.isalpha() for c in norm2) < 3 or a1 == a2:
        return line
    if len(a2) > HEADER_MAX_GROWTH * len(a1) + 2:
        return line
    labels1 = {c.label for c in find_cues(line.text)}
    if any(c.label in _HEADER_NEW_LABELS and c.label not in labels1 for c in find_cues(norm2)):
        return line
    words = split_line_into_words(norm2, line.box, score2, "rapidocr")
    if not words:
        return line
    conf = min(HEADER_WORD_CONF, score2)
    low = conf if _digits_agree(line.text, norm2) else min(conf, HEADER_DIGITS_DIFFER_CONF)
    return Line(words=tuple(w.model_copy(update={"conf": low if any(c.isdigit() for c in w.text) else conf})
                            for w in words))


def _reread_header_lines(image: np.ndarray, lines: list[Line], warnings: list[str]) -> list[Line]:
    if not REREAD_HEADER_LINES or not lines:
        return lines
    h_img = image.shape[0]
    crops: list[np.ndarray] = []
    jobs: list[int] = []
    for k in _header_candidates(lines, h_img):
        b = lines[k].box
        crop = _padded_crop(image, b.x0, b.y0, b.x1, b.y1, b.height)
        if crop is None:
            continue
        crops.append(crop)
        jobs.append(k)
    if not crops:
        return lines
    results = _second_readings(crops, warnings, "header lines")
    if results is None:
        return lines
    out = list(lines)
    for k, (text2, score2) in zip(jobs, results, strict=True):
        out[k] = _vote_header_line(out[k], text2, score2)
    return out


#: re-read whole lines that carry a registration number (GST/VAT/org. number) too:
#: the value crops of such a line cut a number that tesseract split or garbled
#: ("001 31760640", "© 335787520"), while the whole line reads in one piece
REREAD_REGNUM_LINES = True
_REGNUM_LABEL = re.compile(r"(gst|g5t|6st|vat|tax id|reg|mva|moms|cvr|org)")
_NUM_RUN = re.compile(r"\d(?:[ \-]?\d){7,}")


def _is_regnum_line(line: Line) -> bool:
    from pipeline.extract.text import fold_text

    text = line.text
    f = fold_text(text)
    if _DATEISH.search(text):
        return False
    return (bool(_REGNUM_LABEL.search(f)) and sum(c.isdigit() for c in text) >= 6
            and bool(re.search(r"\d(?:[ \-]?\d){4,}", text))) or _garbled_regnum(f, text)


def _num_runs(text: str) -> list[str]:
    """Runs of 8 or more digits (single spaces or dashes inside allowed), as digits."""
    return [re.sub(r"\D", "", m.group(0)) for m in _NUM_RUN.finditer(text)]


def _vote_regnum_line(line: Line, text2: str, score2: float) -> Line:
    """Vote a whole-line second reading of a registration-number line against the
    (already group-voted) page line. The same long number in both: its words are
    marked as agreed. A confident second reading with a number the page line does
    not have: the words from the first digit on are replaced by the second reading,
    with a lowered confidence (a value from it is never auto-approved on its own)."""
    from pipeline.ocr.base import split_line_into_words

    if score2 < REGNUM_MIN_SCORE:
        return line
    norm2 = _normalise_second_reading(text2, line.text)
    runs2 = _num_runs(norm2)
    if not runs2:
        return line
    runs1 = _num_runs(line.text)
    if set(runs2) <= set(runs1):
        words = tuple(w.model_copy(update={"engine": _agreed_engine(w.engine)})
                      if sum(c.isdigit() for c in w.text) >= 8 and re.sub(r"\D", "", w.text) in runs2 else w
                      for w in line.words)
        return Line(words=words)
    digit_words = [i for i, w in enumerate(line.words) if any(c.isdigit() for c in w.text)]
    if not digit_words:
        return line
    first = digit_words[0]
    m = _NUM_RUN.search(norm2)
    assert m is not None
    tail = norm2[m.start():]
    old = line.words[first:]
    mean1 = sum(w.conf for w in old) / len(old)
    if score2 < mean1:
        return line
    x1 = max(w.box.x1 for w in old)
    box = Box(x0=old[0].box.x0, y0=min(w.box.y0 for w in old), x1=x1, y1=max(w.box.y1 for w in old))
    new = [w.model_copy(update={"conf": min(0.7, score2 * 0.75)})
           for w in split_line_into_words(tail, box, score2, "rapidocr")]
    return Line(words=tuple(line.words[:first]) + tuple(new)) if new else line


#: a whole-line second reading must be at least this confident to be voted
REGNUM_MIN_SCORE = 0.90


def _keep_image(keep_images_dir: Path | None, file: FileInfo, page_no: int, image: np.ndarray) -> str | None:
    if keep_images_dir is None:
        return None
    keep_images_dir = Path(keep_images_dir)
    keep_images_dir.mkdir(parents=True, exist_ok=True)
    path = keep_images_dir / f"{file.sha256[:16]}-{file.role.value}-p{page_no}.png"
    if not cv2.imwrite(str(path), image):
        raise OcrError(f"could not write the preprocessed image of page {page_no}")
    return str(path)


def _back_to_input(words: Sequence[Word], prep: Preprocessed, width: int, height: int) -> list[Word]:
    """Boxes found on the preprocessed image, mapped back through the inverse of
    its transform (rotation, deskew, perspective, rescale) into the pixels of the
    image as uploaded (or as rendered from the PDF): the coordinates a claim
    handler and the data team's labels use."""
    if not words:
        return []
    inv = np.linalg.inv(prep.transform)
    corners = np.array([[(b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1)]
                        for b in (w.box for w in words)], dtype=np.float64).reshape(-1, 2)
    h = np.hstack([corners, np.ones((len(corners), 1))]) @ inv.T
    pts = (h[:, :2] / h[:, 2:3]).reshape(-1, 4, 2)
    out = []
    for w, q in zip(words, pts, strict=True):
        x0, y0 = float(np.clip(q[:, 0].min(), 0, width)), float(np.clip(q[:, 1].min(), 0, height))
        x1, y1 = float(np.clip(q[:, 0].max(), 0, width)), float(np.clip(q[:, 1].max(), 0, height))
        out.append(w.model_copy(update={"box": Box(x0=x0, y0=y0, x1=max(x1, x0), y1=max(y1, y0))}))
    return out


def _page(read: _Read, page_no: int, engine: OcrEngine, image_path: str | None, input_shape: tuple[int, ...],
          barcodes: tuple[Word, ...] = ()) -> Page:
    prep = read.prep
    h, w = int(input_shape[0]), int(input_shape[1])
    lines = tuple(Line(words=tuple(_back_to_input(ln.words, prep, w, h))) for ln in read.lines if ln.words)
    return Page(page_no=page_no, width=float(w), height=float(h), unit="px", lines=lines, source="ocr",
                engine=engine.name, rotation=int(prep.rotation), skew=float(prep.skew),
                image_path=image_path, barcodes=tuple(_back_to_input(barcodes, prep, w, h)))


# ------------------------------------------------------------------ public API

def read_document(file: FileInfo, *, languages: tuple[str, ...] = ("eng",), engine: str = "tesseract",
                  dpi: int = 300, keep_images_dir: Path | None = None,
                  header_reread_wanted: Callable[[DocumentText], bool] | None = None) -> DocumentText:
    """All the text of a receipt/invoice. PDF pages with a text layer are read
    without OCR; other pages and images are preprocessed and OCRed.

    `header_reread_wanted`: when given, the first page's top lines are re-read by the second
    engine (`_reread_header_lines`) only if it returns True for the reading without that
    re-read (the caller's closed-list seller match is weak, see `REREAD_HEADER_LINES`);
    when it returns False, or the re-read changes no line, that same DocumentText object is
    returned. Without it the top lines are always re-read."""
    from pipeline.render import render_file

    eng = get_engine(engine)
    warnings: list[str] = []
    pages: list[Page] = []
    deferred: tuple[int, _Read, int, tuple[int, ...], str | None] | None = None
    for rp in render_file(file.path, file.detected_type, dpi=dpi):
        if rp.text_page is not None:
            pages.append(rp.text_page)
            continue
        assert rp.image is not None
        key = (file.sha256, rp.page_no) if file.sha256 else None
        read = _read_image(rp.image, eng, languages, warnings, rp.page_no, hint=_remembered_rotation(key))
        _remember_rotation(key, read.prep.rotation)
        before_header: _Read | None = None
        if eng.name.startswith("tesseract"):
            read = _Read(_reread_key_lines(read.prep.image, read.lines, warnings), read.prep)
            if rp.page_no == 1 and header_reread_wanted is None:
                read = _Read(_reread_header_lines(read.prep.image, read.lines, warnings), read.prep)
            elif rp.page_no == 1 and REREAD_HEADER_LINES:
                before_header = read
        read = _Read(_reread_date_digits(read.prep.image, read.lines, warnings), read.prep)
        image_path = _keep_image(keep_images_dir, file, rp.page_no, read.prep.image)
        page = _page(read, rp.page_no, eng, image_path, rp.image.shape)
        if not page.lines:
            warnings.append(f"page {rp.page_no}: no text found")
        if before_header is not None:
            deferred = (len(pages), before_header, rp.page_no, rp.image.shape, image_path)
        pages.append(page)
    doc = DocumentText(file=file, pages=tuple(pages), warnings=tuple(warnings))
    if deferred is not None and header_reread_wanted is not None and header_reread_wanted(doc):
        doc = _reread_deferred_header(doc, deferred, eng, warnings)
    log.info("read %s: %d page(s), %d line(s), engine %s", file.role.value, len(doc.pages),
             sum(len(p.lines) for p in doc.pages), engine)
    return doc


def _reread_deferred_header(doc: DocumentText, deferred: tuple[int, _Read, int, tuple[int, ...], str | None],
                            eng: OcrEngine, warnings: list[str]) -> DocumentText:
    """`doc` with its first page's top lines re-read (what `read_document` does straight away
    without `header_reread_wanted`): the same steps in the same order, so the same page."""
    idx, before, page_no, shape, image_path = deferred
    lines = _reread_header_lines(before.prep.image, before.lines, warnings)
    if all(a is b for a, b in zip(lines, before.lines, strict=True)):
        return doc if len(warnings) == len(doc.warnings) else doc.model_copy(update={"warnings": tuple(warnings)})
    # the date re-read ran on these lines already (its warnings are in `warnings`)
    read = _Read(_reread_date_digits(before.prep.image, lines, []), before.prep)
    pages = list(doc.pages)
    pages[idx] = _page(read, page_no, eng, image_path, shape)
    return doc.model_copy(update={"pages": tuple(pages), "warnings": tuple(warnings)})


def read_label(file: FileInfo, *, languages: tuple[str, ...] = ("eng",), engine: str = "auto",
               keep_images_dir: Path | None = None) -> DocumentText:
    """Barcodes and text of a photo of a serial-number label (first page of a PDF).
    engine="auto" uses `DEFAULT_LABEL_ENGINE`, measured on rendered label photos."""
    from pipeline.barcode import decode_barcodes
    from pipeline.render import render_file

    warnings: list[str] = []
    eng = get_engine(DEFAULT_LABEL_ENGINE if engine == "auto" else engine)
    rendered = render_file(file.path, file.detected_type, dpi=300)
    rp = rendered[0]
    if rp.text_page is not None:  # a label as a born-digital PDF: its text layer is exact
        return DocumentText(file=file, pages=(rp.text_page,), warnings=())
    assert rp.image is not None
    original = rp.image
    try:
        read = _read_image(original, eng, languages, warnings, 1, try_all_rotations=True)
    except DependencyMissing as exc:
        if engine != "auto":
            raise
        # RapidOCR's models load lazily, so a broken install shows up only here
        warnings.append(f"{DEFAULT_LABEL_ENGINE} unavailable ({exc.code}); label read with {FALLBACK_LABEL_ENGINE}")
        eng = get_engine(FALLBACK_LABEL_ENGINE)
        read = _read_image(original, eng, languages, warnings, 1, try_all_rotations=True)
    prep = read.prep

    barcodes: list[Word] = []
    try:
        barcodes = decode_barcodes(prep.image)
        if not barcodes:
            # the original photo can decode where the warped one does not: map its boxes over
            for b in decode_barcodes(original):
                pts = prep.map_points(np.array([[b.box.x0, b.box.y0], [b.box.x1, b.box.y0],
                                                [b.box.x1, b.box.y1], [b.box.x0, b.box.y1]]))
                barcodes.append(b.model_copy(update={"box": Box(x0=float(pts[:, 0].min()), y0=float(pts[:, 1].min()),
                                                                x1=float(pts[:, 0].max()),
                                                                y1=float(pts[:, 1].max()))}))
    except DependencyMissing as exc:
        warnings.append(f"barcodes not decoded: {exc.message}")
    image_path = _keep_image(keep_images_dir, file, 1, prep.image)
    page = _page(read, 1, eng, image_path, original.shape, tuple(barcodes))
    if not page.lines and not barcodes:
        warnings.append("page 1: no text or barcode found")
    log.info("read label: %d line(s), %d barcode(s), engine %s", len(page.lines), len(barcodes), eng.name)
    return DocumentText(file=file, pages=(page,), warnings=tuple(warnings))
