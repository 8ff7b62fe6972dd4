"""Closed-list spellings of one company that OCR cannot tell apart (they differ only in
letters OCR confuses, "(KL)" / "(KI )"): the match stands but is never auto-accepted; a
spelling that differs only in punctuation, or a look-alike that is rarer on the list, does
not lower it."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.match import match_names
from tests.docbuild import doc

_FILL = [f"KEDAI {w} SDN BHD" for w in ("ALFA", "BETA", "GAMA", "DELTA", "EPSILON", "ZETA", "ETA", "TETA", "IOTA",
                                         "KAPA", "LAMDA", "MIU", "NIU", "XI", "OMIKRON", "PI", "RO", "SIGMA", "TAU",
                                         "UPSILON", "FI", "HI", "PSI", "OMEGA", "AURORA", "BOREAS", "CIRRUS",
                                         "DORADO", "ERIDANUS", "FORNAX", "GEMINI", "HYDRA", "INDUS", "LYRA")]


def _m(first: str, names: list[str]):  # type: ignore[no-untyped-def]
    ex = extract_receipt(doc([first, "LOT 3, JALAN PELABUR 23/1", "TEL: 03-5542 3228", "ITEM 1.00", "TOTAL 5.00"]))
    return match_names(ex, names)


def test_look_alike_spellings_are_a_guess_either_way() -> None:
    names = ["GARDENIA BAKERIES (KL) SDN BHD", "GARDENIA BAKERIES (KI ) SDN BHD", "SUN VICTORY SDN BHD", *_FILL]
    for read in ("GARDENIA BAKERIES (KI ) SDN BHD", "GARDENIA BAKERIES (KL) SDN BHD"):
        m = _m(read, names)
        assert m.name is not None and m.name.startswith("GARDENIA BAKERIES"), read
        assert m.score < 0.8, (read, m.score)


def test_without_the_look_alike_spelling_the_match_is_accepted() -> None:
    m = _m("GARDENIA BAKERIES (KL) SDN BHD", ["GARDENIA BAKERIES (KL) SDN BHD", "SUN VICTORY SDN BHD", *_FILL])
    assert m.name == "GARDENIA BAKERIES (KL) SDN BHD" and m.score >= 0.8


def test_punctuation_variants_are_the_same_name() -> None:
    names = ["MR. D.I.Y. (M) SDN BHD", "MR D.I.Y. (M) SDN BHD", "SUN VICTORY SDN BHD", *_FILL]
    m = _m("MR. D.I.Y. (M) SDN BHD", names)
    assert m.name is not None and "D.I.Y." in m.name and m.score >= 0.8


def test_a_rarer_look_alike_spelling_does_not_lower_the_commoner() -> None:
    # "KL" is on three names of the list, "KI" on one: the commoner spelling read plainly stands
    names = ["GARDENIA BAKERIES (KL) SDN BHD", "GARDENIA BAKERIES (KI ) SDN BHD", "KL CITY BOOKS SDN BHD",
             "KL GRAND HOTEL SDN BHD", *_FILL]
    m = _m("GARDENIA BAKERIES (KL) SDN BHD", names)
    assert m.name == "GARDENIA BAKERIES (KL) SDN BHD" and m.score >= 0.8
