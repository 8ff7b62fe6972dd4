"""Document kind calibration (synthetic lines): a kind decided while an order-confirmation
title was read as negated is unsure (at most 0.5), whatever the other cues say; an
ordinary till receipt, or one that says it is not an invoice, keeps its confidence."""

from __future__ import annotations

from models.fields import DocumentKind
from pipeline.extract.doc_kind import classify
from pipeline.extract.layout import build_rows
from tests.docbuild import doc

RECEIPT = ["Kvitto nr 4711", "Totalt 12 497,00", "Kort 12 497,00"]


def test_a_negated_order_confirmation_title_makes_the_kind_unsure() -> None:
    # a stray "no" before the title (an OCR slip, a neighbour's word): the title is skipped
    kind, conf = classify(build_rows(doc(["Bildbutiken AB", "no Orderbekräftelse", *RECEIPT])))
    assert kind == DocumentKind.TILL_RECEIPT and conf <= 0.5
    # the same page without the stray word is an order confirmation
    kind, conf = classify(build_rows(doc(["Bildbutiken AB", "Orderbekräftelse", *RECEIPT])))
    assert kind == DocumentKind.ORDER_CONFIRMATION


def test_a_receipt_without_negated_titles_keeps_its_confidence() -> None:
    kind, conf = classify(build_rows(doc(["Bildbutiken AB", *RECEIPT])))
    assert kind == DocumentKind.TILL_RECEIPT and conf > 0.5
    # "not an invoice" negates an invoice title, not an order confirmation: no cap
    kind2, conf2 = classify(build_rows(doc(["Bildbutiken AB", *RECEIPT, "Dette er ikke en faktura"])))
    assert kind2 == DocumentKind.TILL_RECEIPT and conf2 == conf
