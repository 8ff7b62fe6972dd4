"""Every sample claim gets the verdict it was made for, end to end: real
files, the real tesseract (and RapidOCR where the pipeline asks for it),
no replays. Marked slow: about 2-6 s per claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.verdict import Status
from pipeline.screen import screen_claim

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
CLAIMS = sorted(p.parent for p in SAMPLES.glob("*/expected.json"))


def test_there_are_enough_samples():
    assert len(CLAIMS) >= 12


@pytest.mark.slow
@pytest.mark.parametrize("claim_dir", CLAIMS, ids=[c.name for c in CLAIMS])
def test_sample_claim_verdict(claim_dir: Path):
    expected = json.loads((claim_dir / "expected.json").read_text())
    v = screen_claim(claim_dir)
    detail = "; ".join(f"{r.code}({r.field}): {r.message}" for r in v.reasons)
    assert v.status == Status(expected["status"]), detail
    assert set(expected["codes"]) <= set(v.codes), detail
    if v.status == Status.APPROVE:
        assert v.cashback_amount is not None and v.matched_sku is not None
    if v.status == Status.INCOMPLETE:
        assert v.reply_deadline is not None and v.missing
