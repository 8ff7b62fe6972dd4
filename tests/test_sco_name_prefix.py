"""A seller's name printed (or joined by the OCR) on one row with its address or its
registration number: the name before the address is a closed-list candidate, so the
company is still matched and auto-accepted; a bare address prefix matches nothing."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.extract.reseller import name_prefix
from pipeline.match import match_names
from tests.docbuild import doc

NAMES = ["SANYU STATIONERY SHOP", "SANYU SUPPLY SDN BHD", "AEON CO. (M) BHD", "FARMASI MALURI S/B",
         "KFA SUPPLY", "GARDENIA BAKERIES (KL) SDN BHD"]


def test_name_prefix_cuts_at_the_address_or_registration_number() -> None:
    assert name_prefix("SANYU STATIONERY SHOP NO. 31G&33G, JALAN SETIA INDAH") == "SANYU STATIONERY SHOP"
    assert name_prefix("AEON CO. (M) BHD (126926-H) 3RD FLR, AEON TAMAN MALURI SC") == "AEON CO. (M) BHD"
    assert name_prefix("KEDAI ABC 12, JALAN 3/4") == "KEDAI ABC"
    assert name_prefix("SANYU STATIONERY SHOP") is None  # nothing to cut
    assert name_prefix("NO. 31G, JALAN SETIA INDAH") is None  # an address from its start
    assert name_prefix("ABC 40170 SETIA ALAM") is None  # too few letters before the postcode


def _match(first: str):  # type: ignore[no-untyped-def]
    ex = extract_receipt(doc([first, "40170 SETIA ALAM, SELANGOR", "TEL: 03-3362 4137", "ITEM 1.00", "TOTAL 5.00"]))
    return match_names(ex, NAMES)


def test_name_joined_with_its_address_is_matched_and_accepted() -> None:
    m = _match("SANYU STATIONERY SHOP NO. 31G&33G, JALAN SETIA INDAH X ,U13/X")
    assert m.name == "SANYU STATIONERY SHOP" and m.score >= 0.8
    m = _match("AEON CO. (M) BHD (126926-H) 3RD FLR, AEON TAMAN MALURI SC")
    assert m.name == "AEON CO. (M) BHD" and m.score >= 0.8


def test_an_address_row_alone_is_not_accepted_as_a_company() -> None:
    m = _match("TAMAN MALURI, JLN JEJAKA 5")
    assert m.name is None or m.score < 0.8
