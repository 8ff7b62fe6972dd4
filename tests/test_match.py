"""Matching: resellers (name + VAT), closed-set names, SKUs, excluded channels, similarity."""

from __future__ import annotations

import pytest

from models.campaign import ExcludedChannel
from pipeline.extract import extract_receipt
from pipeline.match import find_excluded_channels, match_names, match_reseller, match_sku, similarity
from tests.docbuild import doc


def _sku(campaign, lines: list[str]):  # type: ignore[no-untyped-def]
    d = doc(lines)
    return match_sku(extract_receipt(d), campaign.skus, d)


# ------------------------------------------------------------------ SKUs

@pytest.mark.parametrize("line, sku", [
    ("Sigma 85/1.4 DG DN Art Sony-E 7.499,00", "322965"),
    ("SIGMA AF 85MM F1.4 DG DN (A) L-MOUNT 7.499,00", "322969"),
    ("Sigma 24-70mm F2.8 DG DN | A E-mount 8.999,00", "578965"),
    ("Sigma 24-70mm F2.8 DG DN | A L-Mount 8.999,00", "578969"),
    ("SIGMA 40MM F/1.4 DG HSM ART NIKON 9.999,00", "332955"),
    ("Sigma 40mm f1.4 DG HSM Art Canon EF 9.999,00", "332954"),
    ("Sigma 18-50 mm F2.8 DC DN Contemporary Sony E 4.299,00", "585965"),
    ("Sigma 150-600mm F5-6.3 DG DN OS Sports L-Mount 12.999,00", "747969"),
    ("Sigma 28-70mm F2,8 DG DN C Sony FE 6.499,00", "592965"),
    ("Varenr. 213965 Sigma objektiv 11.999,00", "213965"),
    ("SIGMA 24-70/2.8 DG DN ART L 1299,00", "578969"),             # bare "L" after the line
    ("Sigma 100-400mm F5-6.3 DG DN OS | C Sony E 7.499,00", "750965"),
])
def test_sigma_sku(sigma, line: str, sku: str) -> None:  # type: ignore[no-untyped-def]
    m = _sku(sigma, ["Fotohuset ApS", line, "I alt 1,00"])
    assert m.sku is not None and m.sku.sku == sku
    assert m.score >= 0.8
    assert m.score - m.runner_up_score >= 0.3  # the mount variant is clearly behind


def test_sony_e_line_never_matches_l_mount(sigma) -> None:  # type: ignore[no-untyped-def]
    m = _sku(sigma, ["Sigma 35mm F1.4 DG DN Art Sony E-mount 6.999,00"])
    assert m.sku is not None and m.sku.sku == "303965"
    l_skus = [s for s in sigma.skus if "L-MOUNT" in s.name]
    d = doc(["Sigma 35mm F1.4 DG DN Art Sony E-mount 6.999,00"])
    only_l = match_sku(extract_receipt(d), l_skus, d)
    assert only_l.sku is None and only_l.score < 0.5


def test_missing_mount_is_ambiguous(sigma) -> None:  # type: ignore[no-untyped-def]
    m = _sku(sigma, ["Sigma 85mm F1.4 DG DN Art 7.499,00"])
    assert m.sku is not None and m.runner_up is not None
    assert {m.sku.sku, m.runner_up.sku} == {"322965", "322969"}
    assert m.score - m.runner_up_score < 0.05


def _sku_declared(campaign, lines: list[str], declared: str | None, skus=None):  # type: ignore[no-untyped-def]
    d = doc(lines)
    return match_sku(extract_receipt(d), skus if skus is not None else campaign.skus, d, declared=declared)


@pytest.mark.parametrize("declared, want", [
    ("24MM F/1.4 DG HSM ART NIKON", "401955"),
    ("Sigma 24mm f1.4 Art Canon EF", "401954"),
])
def test_mountless_line_takes_the_declared_variant(sigma, declared: str, want: str) -> None:  # type: ignore[no-untyped-def]
    m = _sku_declared(sigma, ["Fotohuset ApS", "24mm F1.4 DG HSM Art Sig 1 209,90", "I alt 1 209,90"], declared)
    assert m.sku is not None and m.sku.sku == want
    assert set(m.variants) == {"401954", "401955"}
    # the runner-up is a real alternative outside the family, far behind
    assert m.runner_up is None or m.runner_up.sku not in m.variants
    assert m.score - m.runner_up_score >= 0.3


def test_mountless_line_stays_ambiguous_without_a_declared_variant(sigma) -> None:  # type: ignore[no-untyped-def]
    line = ["24mm F1.4 DG HSM Art 1 209,90"]
    for declared in (None, "", "SIGMA 85MM F/1.4 DG DN ART SONY E/FE", "24MM F/1.4 DG HSM ART SONY E/FE"):
        m = _sku_declared(sigma, line, declared)
        assert m.variants == ()
        assert m.runner_up is not None and m.score - m.runner_up_score < 0.05, declared


def test_printed_mount_wins_over_the_declared_one(sigma) -> None:  # type: ignore[no-untyped-def]
    m = _sku_declared(sigma, ["Sigma 40mm f1.4 DG HSM Art Canon EF 9.999,00"], "40MM F/1.4 DG HSM ART NIKON")
    assert m.sku is not None and m.sku.sku == "332954" and m.variants == ()


def test_variants_with_different_cashback_are_not_resolved(sigma) -> None:  # type: ignore[no-untyped-def]
    skus = [s if s.sku != "401955" else s.model_copy(update={"amount": s.amount + 100}) for s in sigma.skus]
    m = _sku_declared(sigma, ["24mm F1.4 DG HSM Art 1 209,90"], "24MM F/1.4 DG HSM ART NIKON", skus=skus)
    assert m.variants == ()
    assert m.runner_up is not None and m.score - m.runner_up_score < 0.05


@pytest.mark.parametrize("line", [
    "Sigma 50mm F1.4 DG DN Art Sony E 6.999,00",     # not in the campaign
    "Sigma 105mm F2.8 DG DN Macro Art L-Mount 5.999,00",
    "Canon RF 50mm F1.8 STM 1.999,00",
    "Fototaske 299,00",
])
def test_product_not_on_list_scores_low(sigma, line: str) -> None:  # type: ignore[no-untyped-def]
    m = _sku(sigma, [line])
    assert m.sku is None and m.score < 0.5


@pytest.mark.parametrize("line, sku", [
    ("Sony Alpha 7 IV kamerahus 24.990,00", "ILCE7M4"),
    ("SONY ILCE-7M4K kit 27.990,00", "ILCE7M4"),
    ("Sony A7R V body 39.990,00", "ILCE7RM5"),
    ("Sony FE 24-70mm F2.8 GM II SEL2470GM2 24.990,00", "SEL2470GM2"),
    ("Sony ZV-E10 vlogkamera 7.490,00", "ZVE10"),
])
def test_sony_no_sku(sony_no, line: str, sku: str) -> None:  # type: ignore[no-untyped-def]
    m = _sku(sony_no, ["Fjordfoto AS", line])
    assert m.sku is not None and m.sku.sku == sku
    assert m.score > m.runner_up_score


@pytest.mark.parametrize("line", ["Sony Alpha 7 III ILCE-7M3 15.990,00", "Sony A7C II 19.990,00"])
def test_sony_no_other_model_scores_low(sony_no, line: str) -> None:  # type: ignore[no-untyped-def]
    m = _sku(sony_no, [line])
    assert m.sku is None, (m.sku, m.score)


def test_sony_ro_sku(sony_ro) -> None:  # type: ignore[no-untyped-def]
    m = _sku(sony_ro, ["Aparat foto Sony A7 III ILCE-7M3 8.999,99 lei"])
    assert m.sku is not None and m.sku.sku == "ILCE7M3"


# ------------------------------------------------------------------ resellers

def _ex(lines: list[str]):  # type: ignore[no-untyped-def]
    return extract_receipt(doc(lines))


@pytest.mark.parametrize("lines, rid", [
    (["Fotohuset Nørrebro ApS", "Nørrebrogade 12", "CVR-nr. 12972997"], "dk-fotohuset"),           # da
    (["F0tohuset Norrebr0 ApS", "CVR-nr. 12972997"], "dk-fotohuset"),                             # OCR slips
    (["LINSEKOMPAGNIET A/S", "CVR 93478878"], "dk-linsekompagniet"),
    (["Bildbutiken i Malmö AB", "Org.nr 557413-7484"], "se-bildbutiken"),                         # sv
    (["Fjordfoto AS", "Org.nr. 918 057 889 MVA"], "no-fjordfoto"),                                # nb
    (["Kamerakulma Oy", "Y-tunnus 5009051-8"], "fi-kamerakulma"),                                 # fi
])
def test_reseller_name_and_vat_agree(sigma, lines: list[str], rid: str) -> None:  # type: ignore[no-untyped-def]
    m = match_reseller(_ex(lines), sigma.resellers)
    assert m.reseller is not None and m.reseller.id == rid
    assert m.by_name is not None and m.by_vat is not None
    assert not m.conflict and m.score >= 0.8


def test_reseller_by_vat_only(sigma) -> None:  # type: ignore[no-untyped-def]
    m = match_reseller(_ex(["~~~ ~~ ~", "CVR-nr. 12972997"]), sigma.resellers)
    assert m.reseller is not None and m.reseller.id == "dk-fotohuset"
    assert m.by_name is None and m.by_vat is not None


def test_reseller_by_name_only(sony_ro) -> None:  # type: ignore[no-untyped-def]
    m = match_reseller(_ex(["FOTO MAGAZIN CARPATI SRL", "Str. Lunga 4, Brasov"]), sony_ro.resellers)
    assert m.reseller is not None and m.reseller.id == "ro-fotomagazin"
    assert m.by_vat is None


def test_reseller_conflict(sigma) -> None:  # type: ignore[no-untyped-def]
    m = match_reseller(_ex(["Fotohuset Nørrebro ApS", "CVR-nr. 93478878"]), sigma.resellers)
    assert m.conflict
    assert m.by_name is not None and m.by_name.id == "dk-fotohuset"
    assert m.by_vat is not None and m.by_vat.id == "dk-linsekompagniet"
    assert m.reseller is None


def test_unknown_reseller(sigma) -> None:  # type: ignore[no-untyped-def]
    m = match_reseller(_ex(["Elektro Discount ApS", "CVR-nr. 44125243"]), sigma.resellers)
    assert m.reseller is None and m.by_name is None and m.by_vat is None


# ------------------------------------------------------------------ closed-set names

NAMES = ["HOME MASTER HARDWARE & ELECTRICAL", "KHE ELECTRICAL TRADING", "MR D.I.Y. (M) SDN BHD",
         "MR. D.I.Y. (M) SDN BHD", "AEON CO. (M) BHD", "GARDENIA BAKERIES (KL) SDN BHD"]


@pytest.mark.parametrize("lines, name", [
    (["HOME MASTER HARDWARE &", "ELECTRICAL", "NO.113G, JALAN SETIA", "GST REG NO. :001637511168"],
     "HOME MASTER HARDWARE & ELECTRICAL"),                          # name over two lines
    (["MR. D.I.Y. (M) SDN BHD", "(CO. REG : 860671-D)"], "MR. D.I.Y. (M) SDN BHD"),   # printed spelling wins
    (["MR D.I.Y. (M) SDN BHD"], "MR D.I.Y. (M) SDN BHD"),
    (["GARDENIA BAKERIES (KL) SDN BHD (139386 X)", "LOT 3, JALAN PELABUR 23/1"], "GARDENIA BAKERIES (KL) SDN BHD"),
    (["TAX INVOICE", "AE0N C0. (M) BHD", "TEL 03-1234567"], "AEON CO. (M) BHD"),     # OCR 0/O
])
def test_match_names(lines: list[str], name: str) -> None:
    m = match_names(_ex(lines), NAMES)
    assert m.name == name and m.score >= 0.8


def test_match_names_unknown() -> None:
    m = match_names(_ex(["RESTORAN WONG", "JALAN 5"]), NAMES)
    assert m.name is None


# ------------------------------------------------------------------ excluded channels

CHANNELS = [
    ExcludedChannel(name="eBay", patterns=("ebay",), clause="8"),
    ExcludedChannel(name="Amazon", patterns=("amazon",), clause="8"),
    ExcludedChannel(name="CDON marketplace", patterns=("cdon marketplace", "cdon markedsplads"), clause="8"),
    ExcludedChannel(name="Elkjøp marketplace", patterns=("elkjøp marketplace", "elkjop markedsplass"), clause="8"),
]


@pytest.mark.parametrize("lines, channel", [
    (["Order via www.ebay.dk", "Total 100,00"], "eBay"),
    (["Amazon.de Marketplace", "Rechnung"], "Amazon"),
    (["CDON", "Marketplace seller: Foto ApS"], "CDON marketplace"),          # adjacent rows
    (["Solgt via CDON Markedsplads"], "CDON marketplace"),
    (["Elkjop Markedsplass - selger: X"], "Elkjøp marketplace"),
    (["ELKJØP MARKETPLACE"], "Elkjøp marketplace"),
])
def test_excluded_channel_found(lines: list[str], channel: str) -> None:
    hits = find_excluded_channels(doc(lines), CHANNELS)
    assert [h.channel.name for h in hits] == [channel]
    assert hits[0].evidence


@pytest.mark.parametrize("lines", [
    ["CDON", "Kvittering", "Tak for handlen", "Marketplace"],   # words too far apart
    ["Elkjøp Lørenskog", "Kvittering"],                       # the shop itself is allowed
    ["Fotohuset ApS", "I alt 100,00"],
])
def test_excluded_channel_not_found(lines: list[str]) -> None:
    assert find_excluded_channels(doc(lines), CHANNELS) == []


# ------------------------------------------------------------------ similarity

@pytest.mark.parametrize("a, b, lo, hi", [
    ("54123456", "54I23456", 1.0, 1.0),
    ("A1B2C3D4", "A1 B2 C3 D4", 1.0, 1.0),
    ("Fotohuset Nørrebro ApS", "FOTOHUSET NORREBRO APS", 1.0, 1.0),
    ("Fotohuset", "Linsekompagniet", 0.0, 0.5),
    ("54123456", "98765432", 0.0, 0.5),
    ("", "x", 0.0, 0.0),
])
def test_similarity(a: str, b: str, lo: float, hi: float) -> None:
    assert lo <= similarity(a, b) <= hi


def test_similarity_word_order() -> None:
    assert similarity("Nørrebro Fotohuset", "Fotohuset Nørrebro") == 1.0


@pytest.mark.parametrize("line, sku", [
    ("Sigma 35/1.4 0G 0N Art S0NY-E 6.999,00", "303965"),      # DG/0G, DN/0N, SONY/S0NY slips
    ("SIGMA 40MM F1.4 DG H5M ART NIK0N 9.999,00", "332955"),
])
def test_sku_with_ocr_slips(sigma, line: str, sku: str) -> None:  # type: ignore[no-untyped-def]
    m = _sku(sigma, [line])
    assert m.sku is not None and m.sku.sku == sku
    assert m.score - m.runner_up_score >= 0.3


# ------------------------------------------------------------------ closed-set names: OCR slips, layout, spellings

SROIE_LIKE = ["99 SPEED MART S/B", "TEO HENG STATIONERY & BOOKS", "AA PHARMACY", "SUBANG HEALTHCARE SDN BHD",
              "RESTORAN WAN SHENG", "RSTORAN WAN SHENG", "RESTORAN WAN SHE", "RESTORAN SIAM VILLAGE",
              "GARDENIA BAKERIES (KL) SDN BHD", "MAKASSAR FRESH MARKET S/B", "MR. D.I.Y. (M) SDN BHD",
              "IMAGE PRINTEC (M) SDN BHD"]


@pytest.mark.parametrize("lines, name", [
    # a registration number read with slips looks like a postcode, a word like "BOKS" like a street:
    # the row is no header line, but still a name candidate
    (["99 SPEED MARI 5/B (5153-),", "LOT P.T. 33198, BATU 4", "42100 KLANG, SELANGOR"], "99 SPEED MART S/B"),
    (["TEOHNG ST ATI.ONERY &BOKS", "(001451637M)", "NO 53, JALAN BESAR"], "TEO HENG STATIONERY & BOOKS"),
    # "S N" in a misread "SDN" is no serial-number label that cuts the name
    (["MR. D.I.Y. (M) S N BHD", "(CO. REG:860671-D)"], "MR. D.I.Y. (M) SDN BHD"),
    # the text cut off at a "label" belongs to the name
    (["IMAGE PRINTEC (M) SDN BHD", "NO 5, JALAN 2"], "IMAGE PRINTEC (M) SDN BHD"),
])
def test_match_names_rows_the_header_filter_drops(lines: list[str], name: str) -> None:
    assert match_names(_ex(lines), SROIE_LIKE).name == name


def test_legal_name_wins_over_the_brand_line_above_it() -> None:
    m = match_names(_ex(["SIMPLIFIED TAX INVOICE", "AA PHARMACY", "SUBANG HEALTHCARE SDN BHD", "GST NO: 001367086080"]),
                    SROIE_LIKE)
    assert m.name == "SUBANG HEALTHCARE SDN BHD"
    # the brand alone is the brand
    assert match_names(_ex(["AA PHARMACY", "NO 3, JALAN 5"]), SROIE_LIKE).name == "AA PHARMACY"


def test_commoner_spelling_wins_when_the_ocr_dropped_a_letter() -> None:
    # "RSTORAN" (a typo variant on the list) fits the misread line better, but the
    # list spells the word "RESTORAN" in other names: the guess is not auto-accepted
    m = match_names(_ex(["RSTORAN WAN SHENG", "NO 2, JALAN 1"]), SROIE_LIKE)
    assert m.name == "RESTORAN WAN SHENG" and m.score < 0.8
    m = match_names(_ex(["RESTORAN WAN SHENG", "NO 2, JALAN 1"]), SROIE_LIKE)
    assert m.name == "RESTORAN WAN SHENG" and m.score >= 0.8


def test_name_after_the_title_block_is_not_trusted_over_the_seller() -> None:
    lines = ["GARDENIA BAKERIES (KL) SDN BHD", "LOT 3, JALAN PELABUR 23/1", "TAX INVOICE", "Inv No.: 7727F7B",
             "Date: 27/07/2017", "MAKASSAR FRESH MARKET SDN BHD", "GROUND FLOOR, NO. 4",
             *[""] * 8, "Total 12.00"]
    ex = _ex(lines)
    assert [h.meta["block"] for h in ex.header_lines if h.value.startswith("MAKASSAR")] == ["1"]
    assert match_names(ex, SROIE_LIKE).name == "GARDENIA BAKERIES (KL) SDN BHD"
    # the seller's name misread: the customer's may win, but never auto-accepted
    lines[0] = "GAKDENI ibS (KL) SDN BED"
    m = match_names(_ex(lines), SROIE_LIKE)
    assert m.name == "GARDENIA BAKERIES (KL) SDN BHD" or m.score < 0.8


def test_close_other_company_lowers_the_match_confidence() -> None:
    names = ["LA STATIONERY SDN BHD", "LIAN HING STATIONERY SDN BHD", "KEDAI XYZ"]
    clear = match_names(_ex(["LIAN HING STATIONERY SDN BHD"]), names)
    unsure = match_names(_ex(["LIAN STATIONERY SDN BHD"]), names)
    assert clear.name == "LIAN HING STATIONERY SDN BHD" and clear.score >= 0.9
    assert unsure.score < clear.score - 0.05


def test_a_title_above_the_name_does_not_open_the_seller_block() -> None:
    ex = _ex(["CASH SALE", "INVOICE NO: 12345", "MR. D.I.Y. (M) SDN BHD", "LOT 3, JALAN 2", *[""] * 10, "TOTAL 5.00"])
    assert [h.meta["block"] for h in ex.header_lines if h.value.startswith("MR")] == ["0"]
    m = match_names(ex, SROIE_LIKE)
    assert m.name == "MR. D.I.Y. (M) SDN BHD" and m.score >= 0.8
