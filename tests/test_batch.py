"""A batch of bad claims: every claim ends with exactly one verdict, and one
bad claim never stops the others. None of these needs OCR."""

from __future__ import annotations

import json

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
        try:
            claimant = json.loads((d / "claim.json").read_text())["claimant"]
        except (OSError, ValueError, KeyError):
            continue  # no claimant data in this claim
        if isinstance(claimant, dict) and claimant.get("email"):
            assert claimant["email"] not in text and claimant["name"] not in text
            assert claimant["bank"]["iban"] not in text


def test_worker_crash_still_gives_a_verdict(monkeypatch, bad_inbox):
    import pipeline.screen as screen

    def boom(s):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(screen, "STAGES", (("load", screen.stage_load), ("check_files", boom)))
    v = screen.screen_claim(bad_inbox["zero-byte"])
    assert v.status == Status.REVIEW and v.codes == ["INTERNAL_ERROR"]
    assert "RuntimeError" in v.reasons[0].message


def test_same_serial_in_two_claims_is_caught_by_the_store(make_claim):
    first = make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"})
    second = make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"})
    v1 = screen_claim(first)
    v2 = screen_claim(second)
    assert "SERIAL_ALREADY_CLAIMED" not in v1.codes
    r = next(r for r in v2.reasons if r.code == "SERIAL_ALREADY_CLAIMED")
    assert first.name in r.message and r.clause == "SIGMA 12, 15 (ii)"
    assert screen_claim(first).codes == v1.codes  # re-screening keeps its own registration


def test_sixth_sigma_claim_from_one_person_is_rejected(make_claim):
    same_person = {"name": "Test Person", "email": "Test.Person@Example.com", "country": "DK",
                   "bank": {"iban": "DK50 0040 0440 1162 43"}}
    verdicts = []
    for i in range(6):
        d = make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"},
                       declared={"serial_number": f"5421{i:04d}"},
                       claimant={**same_person, "email": "test.person@example.com" if i < 5 else "TestPerson+x@example.com"})
        verdicts.append(screen_claim(d))
    assert all("CLAIMANT_LIMIT_REACHED" not in v.codes for v in verdicts[:5])
    assert verdicts[5].status == Status.REJECT and "CLAIMANT_LIMIT_REACHED" in verdicts[5].codes


def test_claims_sharing_a_claimant_or_serial_run_in_submission_order(make_claim):
    from pipeline.batch import chains

    same = {"name": "A B", "email": "a.b@example.com", "country": "DK", "bank": {}}
    late = make_claim(claimant=same, submitted_at="2022-10-22T10:00:00+02:00", declared={"serial_number": "11111111"})
    early = make_claim(claimant={**same, "email": "AB@example.com"}, submitted_at="2022-10-21T10:00:00+02:00",
                       declared={"serial_number": "22222222"})
    other = make_claim(declared={"serial_number": "33333333"})
    same_serial = make_claim(declared={"serial_number": "33333333"}, submitted_at="2022-10-19T10:00:00+02:00")
    groups = chains([late, early, other, same_serial])
    assert sorted(groups, key=len) == [[early, late], [same_serial, other]] or \
        sorted(groups, key=len) == [[same_serial, other], [early, late]]


def test_sixth_claim_is_the_one_rejected_even_in_a_parallel_batch(make_claim):
    same = {"name": "Test Person", "email": "test.person@example.com", "country": "DK", "bank": {}}
    dirs = [make_claim({"receipt.jpg": b""}, files={"receipt": "receipt.jpg"}, claimant=same,
                       declared={"serial_number": f"7777{i:04d}"}, submitted_at=f"2022-10-2{i}T10:00:00+02:00")
            for i in range(6)]
    verdicts = {v.claim_id: v for v in screen_many(list(reversed(dirs)), workers=2)}
    limited = [d.name for d in dirs if "CLAIMANT_LIMIT_REACHED" in verdicts[d.name].codes]
    assert limited == [dirs[-1].name]
