"""Stage 1: load a claim folder and check its files.

The file type is detected from the bytes, never from the name. Every problem
becomes a Reason (the claim still gets a verdict); nothing here raises for
bad input except a claim folder that cannot be read at all
(`ClaimInputError`), which the orchestrator also turns into a verdict.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError

from models.campaign import Campaign, FileLimits
from models.claim import Claim
from models.documents import DocumentRole, FileInfo
from models.verdict import Reason
from pipeline.errors import ClaimInputError
from pipeline.reasons import reason

log = logging.getLogger(__name__)

CLAIM_FILE = "claim.json"
_MAX_CLAIM_JSON = 256 * 1024

# name extensions and the type their bytes should have
_EXTENSIONS = {".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".png": "png", ".pdf": "pdf"}
_READABLE = {"jpeg": "a JPEG image", "png": "a PNG image", "pdf": "a PDF document", "gif": "a GIF image",
             "heic": "a HEIC/HEIF photo", "webp": "a WebP image", "tiff": "a TIFF image", "bmp": "a BMP image",
             "zip": "a ZIP-based office document", "ole": "an old Microsoft Office document",
             "text": "plain text", "unknown": "of an unrecognised type", "empty": "empty"}


def detect_type(head: bytes) -> str:
    """The file type from its first bytes (at least 1 KiB when the file has it)."""
    if not head:
        return "empty"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"hevx", b"mif1",
                                                                   b"msf1", b"avif", b"heim", b"heis"}:
        return "heic"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "ole"
    try:
        head[:512].decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "unknown"


def load_claim(claim_dir: Path) -> Claim:
    """Read and validate claim.json. Raises ClaimInputError with a reason that
    names the key, never the claimant's values."""
    path = Path(claim_dir) / CLAIM_FILE
    if not path.is_file():
        raise ClaimInputError(f"no {CLAIM_FILE} in the claim folder")
    if path.stat().st_size > _MAX_CLAIM_JSON:
        raise ClaimInputError(f"{CLAIM_FILE} is larger than {_MAX_CLAIM_JSON} bytes")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClaimInputError(f"{CLAIM_FILE} is not valid JSON (line {getattr(exc, 'lineno', '?')})") from None
    try:
        return Claim.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"'{loc}': {err['msg']}")
        raise ClaimInputError(f"{CLAIM_FILE} has invalid fields: " + "; ".join(problems)) from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _inside(claim_dir: Path, name: str) -> Path | None:
    """The file path, or None when the name escapes the claim folder."""
    base = claim_dir.resolve()
    path = (base / name).resolve()
    if base != path and base not in path.parents:
        return None
    return path


def check_file(claim_dir: Path, name: str, role: DocumentRole, limits: FileLimits,
               clause: str = "") -> tuple[FileInfo | None, list[Reason]]:
    """Check one uploaded file against the campaign's limits.

    Returns the FileInfo when the file can be read, and the reasons that
    stop it from being read (empty when it is fine)."""
    field = role.value

    def fail(code: str, **params: object) -> tuple[None, list[Reason]]:
        return None, [reason(code, field=field, clause=clause, **params)]  # type: ignore[arg-type]

    path = _inside(Path(claim_dir), name)
    if path is None or not path.is_file():
        return fail("FILE_MISSING")
    size = path.stat().st_size
    if size == 0:
        return fail("FILE_EMPTY")
    if size > limits.max_bytes:
        return fail("FILE_TOO_LARGE", size=size, limit=limits.max_bytes)
    with path.open("rb") as fh:
        head = fh.read(2048)
    detected = detect_type(head)
    allowed = ", ".join(sorted({t.upper() for t in limits.formats}))
    named = _EXTENSIONS.get(path.suffix.lower())
    if detected not in limits.formats:
        if named is not None:
            return fail("FILE_TYPE_MISMATCH", named=named.upper(), detected=_READABLE.get(detected, detected))
        return fail("FILE_FORMAT_UNSUPPORTED", detected=_READABLE.get(detected, detected), allowed=allowed)
    if named is not None and named != detected:
        return fail("FILE_TYPE_MISMATCH", named=named.upper(), detected=_READABLE.get(detected, detected))
    info = dict(role=role, name=name, path=str(path), size=size, sha256=_sha256(path), detected_type=detected)
    if detected == "pdf":
        return _check_pdf(path, info, limits, fail)
    return _check_image(path, info, limits, fail)


def _check_image(path: Path, info: dict, limits: FileLimits, fail):  # type: ignore[no-untyped-def]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size  # from the header: nothing decoded yet
                if width * height > limits.max_pixels:
                    return fail("FILE_TOO_MANY_PIXELS", width=width, height=height, limit=limits.max_pixels)
                im.load()  # a full decode catches truncated and damaged files
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return fail("FILE_TOO_MANY_PIXELS", width="?", height="?", limit=limits.max_pixels)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return fail("FILE_CORRUPT", detail=_image_error(exc))
    return FileInfo(**info, width=width, height=height), []


def _image_error(exc: Exception) -> str:
    text = str(exc).lower()
    if "truncated" in text:
        return "the image data is truncated"
    if "cannot identify" in text:
        return "the image header is not readable"
    return f"the image data is damaged ({type(exc).__name__})"


def _check_pdf(path: Path, info: dict, limits: FileLimits, fail):  # type: ignore[no-untyped-def]
    import pypdfium2 as pdfium  # the PDF engine pdfplumber renders with

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            return fail("FILE_ENCRYPTED")
        return fail("FILE_CORRUPT", detail="the PDF structure is damaged")
    try:
        pages = len(pdf)
        if pages == 0:
            return fail("FILE_CORRUPT", detail="the PDF has no pages")
        if pages > limits.max_pages:
            return fail("FILE_TOO_MANY_PAGES", pages=pages, limit=limits.max_pages)
        max_px = 0
        for i in range(pages):
            w, h = pdf[i].get_size()  # points; rendered at 300 dpi later
            max_px = max(max_px, int(w / 72 * 300) * int(h / 72 * 300))
        if max_px > limits.max_pixels * 4:
            return fail("FILE_TOO_MANY_PIXELS", width=int(w), height=int(h), limit=limits.max_pixels)
    finally:
        pdf.close()
    return FileInfo(**info, pages=pages), []


def check_claim_files(claim_dir: Path, claim: Claim, campaign: Campaign) -> tuple[dict[DocumentRole, FileInfo], list[Reason]]:
    """Check the receipt and the serial photo; a missing optional photo is not an error here."""
    files: dict[DocumentRole, FileInfo] = {}
    reasons: list[Reason] = []
    clause = campaign.clause("FILE_REJECTED") or campaign.files.source
    todo = [(DocumentRole.RECEIPT, claim.files.receipt)]
    if claim.files.serial_photo:
        todo.append((DocumentRole.SERIAL_PHOTO, claim.files.serial_photo))
    for role, name in todo:
        info, problems = check_file(claim_dir, name, role, campaign.files, clause)
        reasons.extend(problems)
        if info is not None:
            files[role] = info
    return files, reasons
