"""Intake: each bad input gets its own clear reason, from the bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.campaign import FileLimits
from models.documents import DocumentRole
from pipeline.errors import ClaimInputError
from pipeline.intake import check_file, detect_type, load_claim
from tests import badfiles

LIMITS = FileLimits()  # JPEG/PNG/PDF, 5 MB, 10 pages, 50 Mpx


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("receipt.jpg", lambda: b"", "FILE_EMPTY"),
        ("receipt.jpg", badfiles.truncated_jpeg, "FILE_CORRUPT"),
        ("receipt.png", badfiles.corrupt_png, "FILE_CORRUPT"),
        ("receipt.jpg", badfiles.png_bytes, "FILE_TYPE_MISMATCH"),
        ("receipt.jpg", badfiles.gif_bytes, "FILE_TYPE_MISMATCH"),
        ("receipt.gif", badfiles.gif_bytes, "FILE_FORMAT_UNSUPPORTED"),
        ("receipt.heic", badfiles.heic_bytes, "FILE_FORMAT_UNSUPPORTED"),
        ("receipt.docx", badfiles.docx_bytes, "FILE_FORMAT_UNSUPPORTED"),
        ("receipt.pdf", badfiles.docx_bytes, "FILE_TYPE_MISMATCH"),
        ("receipt.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024), "FILE_TOO_LARGE"),
        ("receipt.png", badfiles.huge_png_header, "FILE_TOO_MANY_PIXELS"),
        ("receipt.pdf", lambda: badfiles.pdf_bytes(encrypt="secret"), "FILE_ENCRYPTED"),
        ("receipt.pdf", lambda: badfiles.pdf_bytes(pages=500), "FILE_TOO_MANY_PAGES"),
        ("receipt.pdf", badfiles.truncated_pdf, "FILE_CORRUPT"),
    ],
    ids=["zero-byte", "truncated-jpeg", "corrupt-png", "png-named-jpg", "gif-named-jpg", "gif", "heic", "docx",
         "docx-named-pdf", "over-5mb", "30000x30000", "encrypted-pdf", "500-pages", "truncated-pdf"],
)
def test_bad_file_gets_its_reason(tmp_path: Path, name, make, code):
    (tmp_path / name).write_bytes(make())
    info, reasons = check_file(tmp_path, name, DocumentRole.RECEIPT, LIMITS)
    assert info is None
    assert [r.code for r in reasons] == [code]
    assert reasons[0].message and "{" not in reasons[0].message


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [("receipt.png", badfiles.png_bytes, "png"), ("receipt.jpg", badfiles.jpeg_bytes, "jpeg"),
     ("receipt.jpeg", badfiles.jpeg_bytes, "jpeg"), ("receipt.pdf", badfiles.pdf_bytes, "pdf"),
     ("receipt", badfiles.png_bytes, "png")],
)
def test_good_file_passes(tmp_path: Path, name, make, kind):
    (tmp_path / name).write_bytes(make())
    info, reasons = check_file(tmp_path, name, DocumentRole.RECEIPT, LIMITS)
    assert reasons == []
    assert info is not None and info.detected_type == kind and len(info.sha256) == 64


def test_missing_file_and_path_escape(tmp_path: Path):
    for name in ("nope.png", "../outside.png", "/etc/passwd"):
        info, reasons = check_file(tmp_path, name, DocumentRole.RECEIPT, LIMITS)
        assert info is None and [r.code for r in reasons] == ["FILE_MISSING"]


@pytest.mark.parametrize(
    ("head", "kind"),
    [(b"\xff\xd8\xff\xe0", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"%PDF-1.7", "pdf"), (b"GIF89a", "gif"),
     (b"", "empty"), (b"hello", "text"), (b"\x00\x01\x02\xff\xfe", "unknown")],
)
def test_detect_type(head, kind):
    assert detect_type(head) == kind


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("{not json", "not valid JSON"), ('{"claim_id": "x"}', "campaign_id"), ("[]", "invalid fields")],
)
def test_bad_claim_json_names_the_problem_not_the_values(tmp_path: Path, content, fragment):
    (tmp_path / "claim.json").write_text(content)
    with pytest.raises(ClaimInputError) as err:
        load_claim(tmp_path)
    assert fragment in err.value.message


def test_claim_json_errors_do_not_leak_personal_data(make_claim):
    d = make_claim(claimant={"name": "Secret Name", "email": "not-an-email-secret@example.com", "country": 7})
    with pytest.raises(ClaimInputError) as err:
        load_claim(d)
    assert "Secret" not in err.value.message and "secret@" not in err.value.message
