"""Text normalisation shared by the extractors and matchers.

Three levels of folding, each length-preserving where it says so:

* `fold_char` / `fold_text`: lower-case, accents stripped, one output char per
  input char (so character offsets stay valid). Used for cue detection.
* `norm_name`: for fuzzy name matching (accents stripped, punctuation to
  spaces, company-form suffixes kept, upper-case).
* `fold_confusions`: the OCR-confusion fold: letters that OCR engines mix up
  with digits are mapped to one canonical digit (O/D/Q -> 0, I/L/| -> 1,
  S -> 5, B -> 8, Z -> 2, G -> 6). Two strings that differ only in such
  confusions fold to the same string. Applied to both sides of a comparison.
"""

from __future__ import annotations

import logging
import re
import unicodedata

log = logging.getLogger(__name__)

_SPECIAL_FOLD = {
    "æ": "a", "ø": "o", "å": "a", "ß": "s", "œ": "o", "ł": "l", "đ": "d", "þ": "t", "ð": "d",
    "ı": "i", "–": "-", "—": "-", "−": "-", "‐": "-", "’": "'", "‘": "'", "“": '"', "”": '"',
    "\u00a0": " ", "\t": " ", "\u202f": " ", "ș": "s", "ş": "s", "ț": "t", "ţ": "t",
}


def fold_char(c: str) -> str:
    """Fold one character to one lower-case ASCII-ish character."""
    lc = c.lower()
    if len(lc) != 1:
        lc = c
    if lc in _SPECIAL_FOLD:
        return _SPECIAL_FOLD[lc]
    if lc.isascii():
        return lc
    d = unicodedata.normalize("NFKD", lc)
    base = d[0] if d else lc
    return base if len(base) == 1 else lc


def fold_text(s: str) -> str:
    """Lower-case, accent-free copy of `s` with exactly the same length."""
    return "".join(fold_char(c) for c in s)


def strip_accents(s: str) -> str:
    """Accent-free copy (case kept); æ/ø/å folded like `fold_char`."""
    out = []
    for c in s:
        f = fold_char(c)
        out.append(f.upper() if c.isupper() else f)
    return "".join(out)


_PUNCT_RE = re.compile(r"[^0-9A-Za-z&+]+")


def norm_name(s: str) -> str:
    """Upper-case, accent-free, punctuation to single spaces."""
    s = strip_accents(s).upper()
    return " ".join(_PUNCT_RE.sub(" ", s).split())


_CONFUSION = str.maketrans({
    "O": "0", "D": "0", "Q": "0",
    "I": "1", "L": "1", "|": "1", "!": "1",
    "S": "5", "B": "8", "Z": "2", "G": "6",
})


def fold_confusions(s: str) -> str:
    """Map OCR-confusable letters to a canonical digit; drop spaces and punctuation.

    `fold_confusions("DG0 1S") == fold_confusions("0G01 5")`.
    """
    s = strip_accents(s).upper()
    s = re.sub(r"[^0-9A-Z|!]", "", s)
    return s.translate(_CONFUSION)


_DIGITISH = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "L": "1", "|": "1",
                           "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6"})


def to_digits(s: str) -> str:
    """Read a token that should be numeric, repairing letter look-alikes (only used
    where the context says a number is expected, e.g. after a VAT cue)."""
    return s.translate(_DIGITISH)


def compact(s: str) -> str:
    """Upper-case, spaces/dots/dashes removed."""
    return re.sub(r"[\s.\-/:]", "", s.upper())


def collapse_ws(s: str) -> str:
    return " ".join(s.split())


_NUMERICISH = re.compile(r"(?<![A-Za-z])[0-9OoIlSBZ|.,/:\-]{3,}(?![A-Za-z])")
_TO_DIGIT = {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8", "Z": "2"}


def repair_numeric(text: str) -> str:
    """Length-preserving repair of number-like tokens read with letter slips
    ("I5/12/2O17" -> "15/12/2017", "1.49O,00" -> "1.490,00"): only tokens made of
    digits, separators and look-alike letters, with at least two real digits and
    more digits than look-alikes, are changed."""
    if not text:
        return text

    def fix(m: re.Match[str]) -> str:
        tok = m.group(0)
        digits = sum(ch.isdigit() for ch in tok)
        alike = sum(ch in _TO_DIGIT for ch in tok)
        if alike == 0 or digits < 2 or alike >= digits:
            return tok
        return "".join(_TO_DIGIT.get(ch, ch) for ch in tok)

    return _NUMERICISH.sub(fix, text)
