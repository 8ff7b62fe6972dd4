"""The handwritten serial against the claim's other serials (declared on the form, read
from the label photo): a reading of another length is not accepted (synthetic values)."""

from __future__ import annotations

from models.fields import FieldValue
from pipeline.extract.serial import CONFIRMED_CONF, LENGTH_DIFFERS_CONF, cross_check_serial_length


def _hand(value: str, conf: float) -> FieldValue:
    return FieldValue(name="serial_handwritten", raw=value, value=value, confidence=conf)


def test_one_digit_short_of_declared_and_label_is_capped() -> None:
    got = cross_check_serial_length(_hand("5409262", 0.84), [("declared", "54092626"), ("label", "54092626")])
    assert got is not None and got.value == "5409262"
    assert got.confidence == LENGTH_DIFFERS_CONF < 0.8
    assert "length_differs" in got.meta


def test_one_digit_longer_is_capped_too() -> None:
    got = cross_check_serial_length(_hand("540926266", 0.9), [("declared", "54092626")])
    assert got is not None and got.confidence == LENGTH_DIFFERS_CONF


def test_same_length_as_a_reference_is_untouched() -> None:
    hand = _hand("54092626", 0.9)
    # a different number of the same length is rule_serial's to judge, not a lost digit
    assert cross_check_serial_length(hand, [("declared", "54092627")]) == hand
    # one reference of the same length is enough (the form may carry a typo)
    assert cross_check_serial_length(hand, [("declared", "5409262"), ("label", "54092626")]) == hand


def test_never_raises_the_confidence_and_ignores_empty_references() -> None:
    low = _hand("5409262", 0.5)
    assert cross_check_serial_length(low, [("declared", "54092626")]) == low
    hand = _hand("5409262", 0.9)
    assert cross_check_serial_length(hand, [("declared", ""), ("label", "12")]) == hand
    assert cross_check_serial_length(None, [("declared", "54092626")]) is None


def test_separators_do_not_count_as_length() -> None:
    hand = _hand("AB123456", 0.9)
    assert cross_check_serial_length(hand, [("declared", "ab-123 456")]) == hand


def test_stage_match_caps_a_short_handwritten_serial(sigma) -> None:  # type: ignore[no-untyped-def]
    """Wired into the screening: the claim form's serial (synthetic claim) is the reference."""
    from pathlib import Path

    from models.claim import Claim
    from pipeline.screen import Screening, stage_match
    from pipeline.settings import Settings
    from tests.conftest import claim_data
    from tests.test_rules import doc, good_extraction

    claim = Claim.model_validate(claim_data(declared={"serial_number": "54218873"}) | {"campaign_id": sigma.id})

    def run(hand: str) -> FieldValue:
        ex = good_extraction(serial_handwritten=_hand(hand, 0.88))
        s = Screening(claim_dir=Path("."), settings=Settings(use_store=False), claim=claim, campaign=sigma,
                      receipt=doc(), extraction=ex)
        out = stage_match(s).extraction
        assert out is not None and out.serial_handwritten is not None
        return out.serial_handwritten

    assert run("5421887").confidence == LENGTH_DIFFERS_CONF
    assert run("54218874").confidence == 0.88  # same length, another number: rule_serial's to judge
    assert run("54218873").confidence == CONFIRMED_CONF  # equal to the form's: confirmed (test_ver_serial_confirm)
