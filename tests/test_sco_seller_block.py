"""A company read poorly in the seller's block (the top of the receipt) and another read
cleanly below the title/number/date block (likelier the customer's): the seller's
block is preferred, and neither is auto-accepted. Without a recognisable company in the
seller's block the later one stands (still unsure)."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.match import match_names
from tests.docbuild import doc

NAMES = ["GARDENIA BAKERIES (KL) SDN BHD", "MAKASSAR FRESH MARKET S/B", "COSWAY (M) SDN BHD",
         "POPULAR BOOK CO. (M) SDN BHD", "GOLDEN SCOOP SDN BHD"]

_BODY = ["LOT 3, JALAN PELABUR 23/1,", "40300 SHAH ALAM, SELANGOR.", "TEL: 03- 55423228", "GST ID: 000381399040",
         "TAX INVOICE / ADJUSTMENT NOTE", "CASH INV NO.: 7805F712", "DATE: 05/08/2017",
         "MAKASSAR FRESH MARKET SDN BHD", "GROUND FLOOR, NO. 4 & 6,", *[""] * 14, "TOTAL 12.00"]


def _m(first: tuple[str, float] | str):  # type: ignore[no-untyped-def]
    return match_names(extract_receipt(doc([first, *_BODY])), NAMES)


def test_poorly_read_seller_beats_the_customer_below_the_invoice_block() -> None:
    m = _m(("GAKDENI ibS (KL) SDN BED", 0.39))
    assert m.name == "GARDENIA BAKERIES (KL) SDN BHD" and m.score < 0.8


def test_junk_in_the_seller_block_does_not_displace_the_later_name() -> None:
    m = _m(("— oF + emmnqen == +", 0.3))
    assert m.name == "MAKASSAR FRESH MARKET S/B" and m.score < 0.8


def test_cleanly_read_seller_is_still_accepted() -> None:
    m = _m("GARDENIA BAKERIES (KL) SDN BHD")
    assert m.name == "GARDENIA BAKERIES (KL) SDN BHD" and m.score >= 0.8
