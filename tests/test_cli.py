"""The command line, through typer's runner (in-process, no OCR needed)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli import app
from tests import badfiles

runner = CliRunner()


def test_screen_json_lines_one_per_claim(make_claim, tmp_path):
    a = make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"})
    b = make_claim({"receipt.jpg": badfiles.gif_bytes()}, files={"receipt": "receipt.jpg"})
    out = tmp_path / "verdicts"
    res = runner.invoke(app, ["screen", str(a), str(b), "--json", "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert sorted(v["status"] for v in lines) == ["incomplete", "incomplete"]
    assert sorted(p.stem for p in out.glob("*.json")) == sorted([a.name, b.name])

def test_screen_fail_on_flag_exit_code(make_claim):
    a = make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"})
    res = runner.invoke(app, ["screen", str(a), "--workers", "1", "--fail-on-flag"])
    assert res.exit_code == 1
    assert "incomplete" in res.stdout


def test_screen_missing_path_is_an_input_error(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", "screen", str(tmp_path / "nope")],
                         capture_output=True, text=True)
    assert res.returncode == 3
    assert "no such file" in res.stderr and "Traceback" not in res.stderr


def test_schema_command_prints_claim_schema():
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert {"claim_id", "campaign_id", "declared", "claimant", "files"} <= set(schema["required"])


def test_campaigns_check_and_list():
    res = runner.invoke(app, ["campaigns", "check"])
    assert res.exit_code == 0 and "OK" in res.stdout
    res = runner.invoke(app, ["campaigns", "list"])
    assert "sigma-dk-autumn-2022" in res.stdout and "(example lists)" in res.stdout


def test_extract_names_each_file_even_when_bad(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(badfiles.truncated_jpeg())
    res = runner.invoke(app, ["extract", str(bad), "--json", "--workers", "1"])
    assert res.exit_code == 0
    line = json.loads(res.stdout.strip())
    assert line["file"] == str(bad) and line["status"] == "error" and line["reason"] == "FILE_CORRUPT"


def test_screen_explain_shows_reasons_with_clause(make_claim):
    a = make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"})
    res = runner.invoke(app, ["screen", str(a), "--workers", "1", "--explain", "--no-store"])
    assert res.exit_code == 0, res.output
    assert "FILE_EMPTY" in res.stdout and "(0 bytes)" in res.stdout and "reply by" in res.stdout


def test_claims_history_and_mark_fraud_then_next_claim_is_held(make_claim):
    from models.verdict import Status
    from pipeline.screen import screen_claim

    same = {"name": "Test Person", "email": "held@example.com", "country": "DK", "bank": {}}
    first = make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"}, claimant=same,
                       declared={"serial_number": "60000001"})
    screen_claim(first)
    res = runner.invoke(app, ["claims", "history", first.name])
    assert res.exit_code == 0 and json.loads(res.stdout.splitlines()[0])["claim_id"] == first.name
    res = runner.invoke(app, ["claims", "mark-fraud", first.name, "--note", "altered date"])
    assert res.exit_code == 0, res.output
    later = make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"}, claimant=same,
                       declared={"serial_number": "60000002"}, submitted_at="2022-10-25T10:00:00+02:00")
    v = screen_claim(later)
    assert "CLAIMANT_PRIOR_FRAUD" in v.codes and v.status in (Status.REVIEW, Status.INCOMPLETE)
    assert runner.invoke(app, ["claims", "mark-fraud", "no-such-claim"]).exit_code != 0
