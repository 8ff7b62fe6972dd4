"""The pre-screen flow through a real serverless Prefect run (marked: it
takes 10-30 s to start Prefect's temporary server). The claims are bad
inputs so no OCR is needed; the pipeline functions are tested elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.screen_inbox import pending_claims, write_verdict
from pipeline.batch import error_verdict
from tests import badfiles

ROOT = Path(__file__).resolve().parent.parent


def _inbox(make_claim, tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, upload in enumerate([b"", badfiles.gif_bytes(), badfiles.heic_bytes()]):
        d = make_claim({"receipt.jpg": upload}, files={"receipt": "receipt.jpg"})
        d.rename(inbox / f"claim-{i}")
        data = json.loads((inbox / f"claim-{i}" / "claim.json").read_text())
        data["claim_id"] = f"claim-{i}"
        (inbox / f"claim-{i}" / "claim.json").write_text(json.dumps(data))
    (inbox / "claim-broken").mkdir()
    (inbox / "claim-broken" / "claim.json").write_text("{")
    return inbox


def test_pending_claims_skips_screened_ones(make_claim, tmp_path):
    inbox = _inbox(make_claim, tmp_path)
    out = tmp_path / "out"
    assert len(pending_claims(inbox, out)) == 4
    write_verdict(out, "claim-0", error_verdict(inbox / "claim-0", "x"))
    assert [d.name for d in pending_claims(inbox, out)] == ["claim-1", "claim-2", "claim-broken"]
    assert len(pending_claims(inbox, out, rescreen=True)) == 4
    assert not list(out.glob(".*.tmp"))


@pytest.mark.prefect
def test_real_prefect_run_screens_each_claim_once(make_claim, tmp_path):
    inbox = _inbox(make_claim, tmp_path)
    out = tmp_path / "verdicts"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home" / "home")}
    env.pop("PREFECT_API_URL", None)
    script = ("import json, sys; from flows.screen_inbox import screen_inbox; "
              "print(json.dumps(screen_inbox(inbox=sys.argv[1], out=sys.argv[2], rescreen=sys.argv[3] == '1')))")

    def run(rescreen: bool) -> dict:
        res = subprocess.run([sys.executable, "-c", script, str(inbox), str(out), "1" if rescreen else "0"],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
        return json.loads(res.stdout.strip().splitlines()[-1])

    first = run(False)
    assert first["screened"] == 4
    assert first["statuses"] == {"incomplete": 3, "review": 1}
    assert sorted(p.stem for p in out.glob("*.json")) == ["claim-0", "claim-1", "claim-2", "claim-broken"]
    assert json.loads((out / "claim-broken.json").read_text())["reasons"][0]["code"] == "CLAIM_INVALID"
    second = run(False)
    assert second["screened"] == 0  # nothing new in the inbox
    (inbox / "claim-0" / "receipt.jpg").write_bytes(badfiles.png_bytes())
    third = run(True)
    assert third["screened"] == 4
    assert "FILE_TYPE_MISMATCH" in json.loads((out / "claim-0.json").read_text())["reasons"][0]["code"]


def test_deployment_definition_has_a_schedule():
    from flows.deploy import INTERVAL_SECONDS, build_deployment

    dep = build_deployment()
    assert dep.name == "claimcheck-inbox-every-5-min" and INTERVAL_SECONDS == 300
    assert dep.schedules and dep.parameters["rescreen"] is False


def test_evidence_image_for_flagged_claims_only(make_claim, tmp_path):
    import datetime as dt

    from flows.screen_inbox import write_evidence
    from models.documents import Box
    from models.forensics import Region, Signal, SignalFamily
    from models.verdict import Status, Verdict

    d = make_claim({"receipt.png": badfiles.png_bytes()}, files={"receipt": "receipt.png"})
    cid = json.loads((d / "claim.json").read_text())["claim_id"]
    now = dt.datetime.now(dt.UTC)
    flagged = Signal(detector="image.x", family=SignalFamily.IMAGE, score=0.9, threshold=0.5, message="m",
                     regions=(Region(box=Box(x0=1, y0=1, x1=5, y1=5)),))
    out = tmp_path / "out"
    assert write_evidence(out, d, Verdict(claim_id=cid, status=Status.APPROVE, screened_at=now)) == []
    written = write_evidence(out, d, Verdict(claim_id=cid, status=Status.APPROVE, screened_at=now, signals=(flagged,)))
    assert [p.name for p in written] == [f"{cid}-receipt-p1.png"] and written[0].parent == out / "evidence"
    broken = make_claim({"receipt.png": b"not a png"}, files={"receipt": "receipt.png"})
    assert write_evidence(out, broken, Verdict(claim_id="b", status=Status.REVIEW, screened_at=now)) == []
