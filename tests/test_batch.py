"""A batch of bad claims: every claim ends with exactly one verdict, and one
bad claim never stops the others. None of these needs OCR."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.verdict import Status
from pipeline.batch import screen_many
from pipeline.screen import screen_claim
from tests import badfiles


@pytest.fixture
def bad_inbox(make_claim, tmp_path):
    made = {
        "zero-byte": make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"}),
        "gif-as-jpg": make_claim({"receipt.jpg": badfiles.gif_bytes()}, files={"receipt": "receipt.jpg"}),
        "heic": make_claim({"receipt.heic": badfiles.heic_bytes()}, files={"receipt": "receipt.heic"}),
        "encrypted": make_claim({"receipt.pdf": badfiles.pdf_bytes(encrypt="pw")}, files={"receipt": "receipt.pdf"}),
        "500-pages": make_claim({"receipt.pdf": badfiles.pdf_bytes(pages=500)}, files={"receipt": "receipt.pdf"}),
        "30000px": make_claim({"receipt.png": badfiles.huge_png_header()}, files={"receipt": "receipt.png"}),
        "truncated": make_claim({"receipt.jpg": badfiles.truncated_jpeg()}, files={"receipt": "receipt.jpg"}),
        "missing": make_claim({}, files={"receipt": "receipt.png"}),
        "unknown-campaign": make_claim({"receipt.png": b""}, campaign_id="nikon-2031"),
    }
    broken = tmp_path / "claim-broken-json"
    broken.mkdir()
    (broken / "claim.json").write_text("{oops")
    made["broken-json"] = broken
    empty = tmp_path / "claim-no-json"
    empty.mkdir()
    made["no-json"] = empty
    return made


EXPECTED = {
    "zero-byte": ("incomplete", "FILE_EMPTY"), "gif-as-jpg": ("incomplete", "FILE_TYPE_MISMATCH"),
    "heic": ("incomplete", "FILE_FORMAT_UNSUPPORTED"), "encrypted": ("incomplete", "FILE_ENCRYPTED"),
    "500-pages": ("incomplete", "FILE_TOO_MANY_PAGES"), "30000px": ("incomplete", "FILE_TOO_MANY_PIXELS"),
    "truncated": ("incomplete", "FILE_CORRUPT"), "missing": ("incomplete", "FILE_MISSING"),
    "unknown-campaign": ("review", "CAMPAIGN_UNKNOWN"), "broken-json": ("review", "CLAIM_INVALID"),
    "no-json": ("review", "CLAIM_INVALID"),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_claim_gets_a_verdict_with_its_reason(bad_inbox, case):
    v = screen_claim(bad_inbox[case])
    status, code = EXPECTED[case]
    assert v.status == Status(status)
    assert code in v.codes
    assert all(r.message for r in v.reasons)


def test_incomplete_verdict_has_deadline_and_missing(bad_inbox):
    v = screen_claim(bad_inbox["zero-byte"])
    assert v.reply_deadline is not None and v.missing == ("receipt",)
    assert (v.reply_deadline - v.screened_at.date()).days in (13, 14, 15)  # 14 days, local vs UTC date


def test_batch_gives_exactly_one_verdict_per_claim(bad_inbox):
    dirs = list(bad_inbox.values())
    verdicts = list(screen_many(dirs, workers=2))
    assert sorted(v.claim_id for v in verdicts) == sorted(d.name for d in dirs)


def test_verdicts_carry_no_personal_data(bad_inbox):
    for d in bad_inbox.values():
        text = screen_claim(d).model_dump_json()
        assert "test.person@example.com" not in text and "Test Person" not in text
        assert "DK5000400440116243" not in text


def test_worker_crash_still_gives_a_verdict(monkeypatch, bad_inbox):
    import pipeline.screen as screen

    def boom(s):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(screen, "STAGES", (("load", screen.stage_load), ("check_files", boom)))
    v = screen.screen_claim(bad_inbox["zero-byte"])
    assert v.status == Status.REVIEW and v.codes == ["INTERNAL_ERROR"]
    assert "RuntimeError" in v.reasons[0].message
