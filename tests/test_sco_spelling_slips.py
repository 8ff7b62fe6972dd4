"""Closed-list spellings under OCR slips: a generic word of the list read with digit
look-alikes ("RE5T0RAN") is still generic, so a typo spelling of the list cannot win on
it; a reading cut at the line end that equals a cut spelling on the list is not
auto-accepted while the full spelling is listed."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.match import match_names
from tests.docbuild import doc

#: a list long enough (>= 40 names) to tell generic words: RESTORAN on six names
_FILL = [f"KEDAI {w} SDN BHD" for w in ("ALFA", "BETA", "GAMA", "DELTA", "EPSILON", "ZETA", "ETA", "TETA", "IOTA",
                                         "KAPA", "LAMDA", "MIU", "NIU", "XI", "OMIKRON", "PI", "RO", "SIGMA", "TAU",
                                         "UPSILON", "FI", "HI", "PSI", "OMEGA", "AURORA", "BOREAS", "CIRRUS",
                                         "DORADO", "ERIDANUS", "FORNAX", "GEMINI", "HYDRA", "INDUS")]
NAMES = ["RESTORAN WAN SHENG", "RSTORAN WAN SHENG", "RESTORAN WAN SHE", "RESTORAN HOETIM", "RESTORAN KIM LIAN",
         "RESTORAN SRI MAJU", "RESTORAN AL AMIN", "RESTORAN NASI KANDAR", *_FILL]


def _m(first: str):  # type: ignore[no-untyped-def]
    ex = extract_receipt(doc([first, "NO. 2, JALAN 3/4", "TEL: 03-1234 5678", "ITEM 1.00", "TOTAL 5.00"]))
    return match_names(ex, NAMES)


def test_generic_word_read_with_slips_does_not_favour_a_typo_spelling() -> None:
    m = _m("RE5T0RAN WAN 5HEN6")
    # the typo spelling "RSTORAN" must not be auto-accepted on the slipped generic word
    assert not (m.name == "RSTORAN WAN SHENG" and m.score >= 0.8)
    assert m.name in ("RESTORAN WAN SHENG", "RSTORAN WAN SHENG")


def test_plain_reading_is_still_accepted() -> None:
    m = _m("RESTORAN WAN SHENG")
    assert m.name == "RESTORAN WAN SHENG" and m.score >= 0.8
    m = _m("RESTORAN HOETIM")
    assert m.name == "RESTORAN HOETIM" and m.score >= 0.8


def test_reading_cut_at_the_line_end_is_unsure_when_the_full_spelling_is_listed() -> None:
    m = _m("RESTORAN WAN SHE")
    assert m.name is not None and "WAN SHE" in m.name and m.score < 0.8
