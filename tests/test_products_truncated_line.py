"""Lens lines cut off by a narrow receipt, or read glued by the OCR: the line name
(ART/SPORTS/CONTEMPORARY) and the mount still count (synthetic lines)."""

from __future__ import annotations

import pytest

from pipeline.extract import extract_receipt
from pipeline.extract.products import parse_product
from pipeline.match import match_sku
from tests.docbuild import doc


@pytest.mark.parametrize("text, line, mount", [
    ("Sigma 150-600/5-6.3 DG DN OS Spor 4.999,00", "S", None),     # SPORTS cut off
    ("Sigma 14-24/2.8 DG DN Ar 8 699,00", "A", None),              # ART cut off
    ("SIGMA 18-50 2.8 DC DN Contem", "C", None),                   # CONTEMPORARY cut off
    ("SIGMA 150-600MM F5-6.3 DG DN OS SL 669,90", "S", "l"),       # "S L" read as one word
    ("Sigma 35mm F1.4 DG DN AE 5.999,00", "A", "sony_e"),          # "A E" read as one word
])
def test_truncated_or_glued_line_name(text: str, line: str, mount: str | None) -> None:
    sp = parse_product(text)
    assert sp.line == line
    assert sp.mount == mount


@pytest.mark.parametrize("text", [
    "Sigma 100-400mm f/5-6.3 DG DN OS 8.499,00",   # no line printed: none guessed
    "Sigma 24-70mm F2.8 DG DN Ca 1.000,00",        # two letters that are not a prefix of ART
    "Sigma 85mm F1.4 Sp 1.000,00",                 # no series codes before the word
])
def test_no_line_from_unrelated_words(text: str) -> None:
    assert parse_product(text).line is None


def test_glued_line_and_mount_picks_the_mount_variant(sigma) -> None:  # type: ignore[no-untyped-def]
    d = doc(["Fotohuset ApS", "SIGMA 150-600MM F5-6.3 DG DN OS SL 669,90", "I alt 669,90"])
    m = match_sku(extract_receipt(d), sigma.skus, d)
    assert m.sku is not None and m.sku.sku == "747969"   # 150-600 Sports, L-mount
    assert m.score >= 0.8
