"""Closed-set name match: the company form "SDN BHD" misread by OCR ("SUN BHD",
"SIN BHD", "SDN BHO") is read back as the form, on small synthetic receipts and a
made-up list of names."""

from __future__ import annotations

import pytest

from pipeline.extract import extract_receipt
from pipeline.match import _unslip_forms, match_names
from tests.docbuild import doc

NAMES = ["ELKAN SERVICE SDN BHD", "ELKAN SERVIS ENTERPRISE", "SUNRISE BAKERY SDN BHD", "KEDAI SIN HUAT"]


@pytest.mark.parametrize("text, fixed", [
    ("ELKAN SERVICE SUN BHD", "ELKAN SERVICE SDN BHD"),
    ("ELKAN SERVICE SIN BHD", "ELKAN SERVICE SDN BHD"),
    ("ELKAN SERVICE SDN BHO", "ELKAN SERVICE SDN BHD"),
    ("ELKAN SERVICE SDN 8HD", "ELKAN SERVICE SDN BHD"),
    ("KEDAI SIN HUAT", "KEDAI SIN HUAT"),           # a word, not the form: no BHD after it
    ("SUNRISE BAKERY", "SUNRISE BAKERY"),
])
def test_form_slips_are_read_back(text: str, fixed: str) -> None:
    assert _unslip_forms(text) == fixed


def _receipt(name_line: str):  # type: ignore[no-untyped-def]
    return extract_receipt(doc([name_line, "NO 5, JALAN MAJU, 52100 KUALA LUMPUR", "TAX INVOICE",
                                "ITEM A 5.00", "TOTAL 5.00"]))


def test_misread_form_scores_like_the_printed_one() -> None:
    clean = match_names(_receipt("ELKAN SERVICE SDN BHD"), NAMES)
    slip = match_names(_receipt("ELKAN SERVICE SUN BHD"), NAMES)
    assert clean.name == slip.name == "ELKAN SERVICE SDN BHD"
    assert slip.score == pytest.approx(clean.score, abs=0.01)


def test_form_repair_does_not_turn_a_word_into_another_company() -> None:
    m = match_names(_receipt("KEDAI SIN HUAT"), NAMES)
    assert m.name == "KEDAI SIN HUAT"
