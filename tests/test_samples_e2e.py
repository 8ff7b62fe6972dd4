"""Every sample claim gets the verdict it was made for, end to end: real
files, the real tesseract (and RapidOCR where the pipeline asks for it),
no replays. The samples are screened as one batch over two workers in one
fresh claims store, as `claimcheck screen sample_receipts` does, so the
store-backed samples (a serial claimed in an earlier campaign, a sixth
claim from one person) see the claims before them. Marked slow: ~2 min."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.verdict import Status, Verdict
from pipeline.batch import screen_many
from pipeline.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
CLAIMS = sorted(p.parent for p in SAMPLES.glob("*/expected.json"))


def test_there_are_enough_samples():
    assert len(CLAIMS) >= 12


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, Verdict]:
    db = tmp_path_factory.mktemp("store") / "samples.db"
    settings = Settings(database_url=f"sqlite:///{db}")
    return {v.claim_id: v for v in screen_many(CLAIMS, settings, workers=2)}


@pytest.mark.slow
@pytest.mark.parametrize("claim_dir", CLAIMS, ids=[c.name for c in CLAIMS])
def test_sample_claim_verdict(verdicts, claim_dir: Path):
    expected = json.loads((claim_dir / "expected.json").read_text())
    v = verdicts[claim_dir.name]
    detail = "; ".join(f"{r.code}({r.field}): {r.message}" for r in v.reasons)
    assert v.status == Status(expected["status"]), detail
    assert set(expected["codes"]) <= set(v.codes), detail
    if v.status == Status.APPROVE:
        assert v.cashback_amount is not None and v.matched_sku is not None and v.payment_due is not None
    if v.status == Status.INCOMPLETE:
        assert v.reply_deadline is not None and v.missing
    for r in v.reasons:
        assert r.message and "{" not in r.message


@pytest.mark.slow
def test_batch_gave_one_verdict_per_sample(verdicts):
    assert sorted(verdicts) == [c.name for c in CLAIMS]
