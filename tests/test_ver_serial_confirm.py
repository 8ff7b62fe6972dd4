"""A handwritten serial read exactly as the claim's other serials give it (declared on the
form, read from the label photo) is confirmed; one that differs is never bent towards them
(synthetic values and a synthetic claim)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.fields import FieldValue, LabelExtraction
from pipeline.extract.serial import CONFIRMED_CONF, confirm_serial


def _hand(value: str, conf: float) -> FieldValue:
    return FieldValue(name="serial_handwritten", raw=value, value=value, confidence=conf,
                      meta={"alternatives": "54218878"})


@pytest.mark.parametrize("conf", [0.37, 0.55, 0.79])
def test_reading_equal_to_the_declared_serial_is_confirmed(conf: float) -> None:
    got = confirm_serial(_hand("54218873", conf), [("declared", "54218873")])
    assert got is not None and got.value == "54218873"
    assert got.confidence == CONFIRMED_CONF >= 0.8
    assert got.meta["confirmed_by"] == "declared"
    assert got.meta["read_confidence"] == f"{conf:.3f}"
    assert got.meta["alternatives"] == "54218878"  # the reading's own record is kept


def test_separators_and_case_do_not_matter() -> None:
    got = confirm_serial(_hand("ab123456", 0.6), [("declared", "AB-123 456"), ("label", "AB123456")])
    assert got is not None and got.confidence == CONFIRMED_CONF
    assert got.meta["confirmed_by"] == "declared,label"


@pytest.mark.parametrize("other", ["54218878", "5421887", "542188730", "54218874"])
def test_a_different_reading_is_left_as_read(other: str) -> None:
    """One digit off, one short, one long: neither the value nor the confidence moves (the
    mismatch is rule_serial's; an alternative equal to the reference is not picked)."""
    hand = _hand(other, 0.55)
    assert confirm_serial(hand, [("declared", "54218873"), ("label", "54218873")]) == hand


def test_weak_short_or_already_sure_readings_are_untouched() -> None:
    weak = _hand("54218873", 0.25)
    assert confirm_serial(weak, [("declared", "54218873")]) == weak
    short = _hand("54218", 0.6)
    assert confirm_serial(short, [("declared", "54218")]) == short
    sure = _hand("54218873", 0.95)
    assert confirm_serial(sure, [("declared", "54218873")]) == sure
    assert confirm_serial(None, [("declared", "54218873")]) is None
    hand = _hand("54218873", 0.6)
    assert confirm_serial(hand, [("declared", ""), ("label", "")]) == hand


def _stage_match(sigma, hand: FieldValue, declared: str, label: str | None, label_conf: float = 0.97):  # type: ignore[no-untyped-def]
    from models.claim import Claim
    from pipeline.screen import Screening, stage_match
    from pipeline.settings import Settings
    from tests.conftest import claim_data
    from tests.test_rules import doc, good_extraction

    claim = Claim.model_validate(claim_data(declared={"serial_number": declared}) | {"campaign_id": sigma.id})
    lab = LabelExtraction(serial_barcode=FieldValue(name="serial_barcode", raw=label, value=label,
                                                    confidence=label_conf)) if label else None
    s = Screening(claim_dir=Path("."), settings=Settings(use_store=False), claim=claim, campaign=sigma,
                  receipt=doc(), extraction=good_extraction(serial_handwritten=hand), label=lab)
    out = stage_match(s)
    assert out.extraction is not None and out.extraction.serial_handwritten is not None
    return out


def test_stage_match_confirms_and_rules_still_see_a_mismatch(sigma) -> None:  # type: ignore[no-untyped-def]
    from pipeline import rules
    from pipeline.settings import Settings

    # read right, unsure: confirmed by the form and the label
    out = _stage_match(sigma, _hand("54218873", 0.5), "54218873", "54218873")
    assert out.extraction.serial_handwritten.confidence == CONFIRMED_CONF
    # the form and the handwriting agree, the label photo does not: confirmed as read, and
    # the mismatch with the label is still raised
    out = _stage_match(sigma, _hand("54218873", 0.5), "54218873", "99999999")
    hand = out.extraction.serial_handwritten
    assert hand.confidence == CONFIRMED_CONF and hand.value == "54218873"
    ctx = rules.Context(claim=out.claim, campaign=sigma, settings=Settings(use_store=False), receipt=out.receipt,
                        extraction=out.extraction, label=out.label, reseller=None, sku=None, channels=(),
                        files=frozenset())
    assert "SERIAL_MISMATCH" in [r.code for r in rules.rule_serial(ctx)]
    # one digit off the form and the label: stays at its own confidence
    out = _stage_match(sigma, _hand("54218878", 0.5), "54218873", "54218873")
    assert out.extraction.serial_handwritten.confidence == 0.5
    assert out.extraction.serial_handwritten.value == "54218878"
    # an unsure label reading is no reference (the form still is)
    out = _stage_match(sigma, _hand("54218873", 0.5), "11111111", "54218873", label_conf=0.6)
    assert out.extraction.serial_handwritten.confidence == 0.5
