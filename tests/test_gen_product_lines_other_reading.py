"""Product lines read by another OCR reading of the same receipt join the page reading's
(synthetic readings): a row one engine garbled is matched from the other engine's reading, at a
confidence below the accept threshold."""

from __future__ import annotations

from pipeline.extract import extract_receipt
from pipeline.extract.products import OTHER_READING_LINE_CONF, merge_product_lines
from pipeline.match import match_sku
from tests.docbuild import doc

LENS = "SIGMA 150-600MM F5-6.3 DG DN OS SL 669,90"
FILTER = "Hoya UV filter HD 67mm 499,00"


def test_garbled_lens_row_is_found_in_the_other_reading(sigma) -> None:  # type: ignore[no-untyped-def]
    page = doc(["Fotohuset ApS", FILTER, "ON = bod 69 90", "I alt 1.168,90"])
    other = doc(["Fotohuset ApS", FILTER, LENS, "I alt 1.168,90"], engine="rapidocr")
    alone = extract_receipt(page)
    assert not any("600" in p.value for p in alone.product_lines)
    assert match_sku(alone, sigma.skus, page).sku is None
    ex = extract_receipt(page, extra_docs=[other])
    added = [p for p in ex.product_lines if "600" in p.value]
    assert len(added) == 1
    assert added[0].confidence <= OTHER_READING_LINE_CONF
    assert added[0].meta.get("reading") == "other"
    # the filter, read alike by both, is listed once
    assert sum("Hoya" in p.value for p in ex.product_lines) == 1
    m = match_sku(ex, sigma.skus, page)
    assert m.sku is not None and m.sku.sku == "747969"


def test_without_page_lines_the_other_reading_is_taken_as_read() -> None:
    other = extract_receipt(doc(["Shop", LENS], engine="rapidocr")).product_lines
    assert other and other[0].confidence > OTHER_READING_LINE_CONF
    merged = merge_product_lines([], [list(other)])
    assert [p.confidence for p in merged] == [p.confidence for p in other]
    assert merge_product_lines([], []) == []


def test_lines_read_alike_modulo_confusions_are_not_added() -> None:
    page = list(extract_receipt(doc(["Shop", "SIGMA 150-600MM F5-6.3 DG DN OS SL 669,90"])).product_lines)
    other = list(extract_receipt(doc(["Shop", "SIGMA 150-6OOMM F5-6.3 DG DN 0S SL 669,90"])).product_lines)
    assert merge_product_lines(page, [other]) == page
