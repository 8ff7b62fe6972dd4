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
    if v.status == Status.REJECT:
        assert v.cashback_amount is None
    if v.status == Status.INCOMPLETE:
        assert v.reply_deadline is not None and v.missing
    for r in v.reasons:
        assert r.message and "{" not in r.message


@pytest.mark.slow
def test_batch_gave_one_verdict_per_sample(verdicts):
    assert sorted(verdicts) == [c.name for c in CLAIMS]


def _overlap(box, truth) -> float:
    """Share of the pipeline's evidence box that lies inside the labelled box
    (labels box the whole printed field, label word included; evidence boxes the value)."""
    ix = max(0.0, min(box.x1, truth[2]) - max(box.x0, truth[0]))
    iy = max(0.0, min(box.y1, truth[3]) - max(box.y0, truth[1]))
    area = (box.x1 - box.x0) * (box.y1 - box.y0)
    return ix * iy / area if area > 0 else 0.0


def _receipt_truth(c: Path) -> dict:
    return json.loads((c / "truth.json").read_text())["receipt"]


# receipts the pipeline reads as images (not the deliberately broken files)
IMAGE_SAMPLES = [c for c in CLAIMS if _receipt_truth(c).get("format") in ("png", "jpeg", "pdf")
                 and _receipt_truth(c).get("coordinate_space") in ("pixels", "pixels_of_embedded_page_image")]


@pytest.mark.slow
@pytest.mark.parametrize("claim_dir", IMAGE_SAMPLES, ids=[c.name for c in IMAGE_SAMPLES])
def test_evidence_boxes_point_at_the_labelled_field(verdicts, claim_dir: Path):
    """Evidence is in the uploaded image's pixels: a handler can find it there."""
    truth = json.loads((claim_dir / "truth.json").read_text())["receipt"]
    scale = 300 / truth["dpi"] if truth.get("coordinate_space") == "pixels_of_embedded_page_image" else 1.0
    labelled = {f["name"]: [x * scale for x in f["box"]] for f in truth["fields"]}
    v = verdicts[claim_dir.name]
    checked = 0
    for name in ("total", "purchase_date", "receipt_number", "reseller_vat"):
        fv = v.fields.get(name)
        if fv is None or fv.evidence is None or fv.evidence.box is None or name not in labelled:
            continue
        checked += 1
        assert _overlap(fv.evidence.box, labelled[name]) >= 0.5, (name, fv.evidence.box, labelled[name])
    assert checked >= 2
