"""SKU match confidence: the SKU's short name (alias) counts for lenses too, and a line
letter the receipt omits counts as printed only when the campaign's list leaves one line
for the printed attributes. Every way a different lens can look alike (other focal range,
aperture, line, design, mount, generation) stays below the accept threshold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.campaign import Sku
from pipeline.extract import extract_receipt
from pipeline.match import match_sku
from tests.docbuild import doc

ACCEPT = 0.80  # Settings.sku_accept_score
MARGIN = 0.08  # Settings.sku_margin


def _m(skus, lines: list[str], declared: str | None = None):  # type: ignore[no-untyped-def]
    d = doc(lines)
    return match_sku(extract_receipt(d), list(skus), d, declared=declared)


def _accepted(m) -> bool:  # type: ignore[no-untyped-def]
    return m.sku is not None and m.score >= ACCEPT and (m.runner_up is None or m.score - m.runner_up_score >= MARGIN)


# ------------------------------------------------------------------ aliases for lenses

@pytest.mark.parametrize("line", ["SONY FE 100-400 GM 6.999,99 lei", "Obiectiv Sony FE 100-400 GM OSS 6.999,99"])
def test_lens_alias_on_the_receipt_is_accepted(sony_ro, line: str) -> None:  # type: ignore[no-untyped-def]
    m = _m(sony_ro.skus, ["Foto SRL", line])
    assert m.sku is not None and m.sku.sku == "SEL100400GM"
    assert _accepted(m), (m.score, m.runner_up_score)


@pytest.mark.parametrize("line", [
    "SONY FE 100-400 GM F5.6-6.3 6.999,99",   # another aperture printed with the alias
    "SONY FE 100-400 GM II 6.999,99",         # another generation
    "SONY FE 100-400 G OSS 6.999,99",         # another line (G, not GM)
    "SONY FE 200-600 G OSS 6.999,99",         # another focal range
    "SONY FE 100-300 GM 6.999,99",
])
def test_lens_alias_never_accepts_a_different_lens(sony_ro, line: str) -> None:  # type: ignore[no-untyped-def]
    m = _m(sony_ro.skus, [line])
    assert not (m.sku is not None and m.sku.sku == "SEL100400GM" and m.score >= ACCEPT), (m.sku, m.score)


# ------------------------------------------------------------------ line letter left out

LINE = "Sigma 100-400mm f/5-6.3 DG DN OS 5.499,00"


def test_unique_lens_without_line_letter_takes_the_declared_mount(sigma) -> None:  # type: ignore[no-untyped-def]
    m = _m(sigma.skus, ["Fotohuset ApS", LINE, "I alt 5.499,00"], declared="Sigma 100-400 DG DN OS Contemporary Sony E")
    assert m.sku is not None and m.sku.sku == "750965"
    assert _accepted(m), (m.score, m.runner_up_score)


def test_unique_lens_without_line_letter_and_mount_stays_open(sigma) -> None:  # type: ignore[no-untyped-def]
    for declared in (None, "", "Sigma 150-600 DG DN OS Sports Sony E"):
        m = _m(sigma.skus, [LINE], declared=declared)
        assert not _accepted(m), (declared, m.sku, m.score, m.runner_up_score)


def test_printed_mount_without_line_letter_is_accepted(sigma) -> None:  # type: ignore[no-untyped-def]
    m = _m(sigma.skus, ["Sigma 100-400mm F5-6.3 DG DN OS L-Mount 5.499,00"])
    assert m.sku is not None and m.sku.sku == "750969" and _accepted(m)


def test_family_listed_in_two_lines_stays_uncertain(sigma) -> None:  # type: ignore[no-untyped-def]
    fake_sports = Sku(sku="FAKE01", name="100-400MM F/5-6.3 DG DN OS SPORTS SONY E/FE", amount=Decimal(740),
                      currency="DKK")
    skus = [*sigma.skus, fake_sports]
    for line in (LINE, "Sigma 100-400mm F5-6.3 DG DN OS Sony E 5.499,00"):
        m = _m(skus, [line], declared="Sigma 100-400 DG DN OS Contemporary Sony E")
        assert m.sku is not None and not _accepted(m), (line, m.sku, m.score, m.runner_up_score)


@pytest.mark.parametrize("line", [
    "Sigma 100-400mm F4-5.6 DG DN OS Sony E 5.499,00",       # another aperture
    "Sigma 100-400mm F5-6.3 DG OS HSM Sony E 5.499,00",      # the DSLR design
    "Sigma 100-400mm F5-6.3 DG DN OS Sports Sony E 5.499,00",  # another line
    "Sigma 100-400mm F5-6.3 DG DN OS Canon 5.499,00",        # a mount not listed
    "Sigma 120-400mm F5-6.3 DG DN OS Sony E 5.499,00",       # another focal range
])
def test_lens_without_line_letter_never_accepts_a_different_lens(sigma, line: str) -> None:  # type: ignore[no-untyped-def]
    m = _m(sigma.skus, [line], declared="Sigma 100-400 DG DN OS Contemporary Sony E")
    assert not (m.sku is not None and m.sku.sku in {"750965", "750969"} and m.score >= ACCEPT), (m.sku, m.score)


@pytest.mark.parametrize("line", [
    "Sigma 100-400mm DG DN OS 5.499,00",       # no aperture
    "Sigma 100-400/5-6.3 DG 5.499,00",         # design series cut off
    "Sigma 100-400mm F5-6.3 OS 5.499,00",
])
def test_line_letter_is_not_implied_for_a_cut_off_name(sigma, line: str) -> None:  # type: ignore[no-untyped-def]
    m = _m(sigma.skus, [line], declared="Sigma 100-400 DG DN OS Contemporary Sony E")
    assert m.score < ACCEPT, (m.sku, m.score)


def test_other_listed_lens_is_not_taken_for_this_one(sigma) -> None:  # type: ignore[no-untyped-def]
    m = _m(sigma.skus, ["Sigma 150-600mm F5-6.3 DG DN OS Sony E 9.999,00"])
    assert m.sku is not None and m.sku.sku == "747965"
