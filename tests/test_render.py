"""Rendering: PDF text layers without OCR, image-only PDFs rasterised, EXIF
orientation, and malformed files as typed errors."""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from models.documents import DocumentRole, FileInfo
from pipeline import ocr
from pipeline.errors import FileRejected, OcrError
from pipeline.ocr.replay import FailingEngine
from pipeline.render import apply_exif_orientation, load_image, render_file, render_pdf

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PDF_LINES = [(72, 720, "Fotohandel Nord ApS"), (72, 700, "Faktura 2024-0117"),
             (72, 680, "Sony Alpha 7 IV"), (400, 680, "17.999,00"), (72, 640, "TOTAL DKK 17.999,00")]


def fileinfo(path: Path, kind: str, role: DocumentRole = DocumentRole.RECEIPT) -> FileInfo:
    data = path.read_bytes()
    return FileInfo(role=role, name=path.name, path=str(path), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type=kind)


def text_pdf(path: Path) -> Path:
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    c.setFont("Helvetica", 12)
    for x, y, text in PDF_LINES:
        c.drawString(x, y, text)
    c.save()
    return path


def text_image(lines: list[str], size: int = 34) -> Image.Image:
    font = ImageFont.truetype(FONT, size)
    img = Image.new("L", (900, 80 + int(size * 1.8) * len(lines)), 255)
    d = ImageDraw.Draw(img)
    for i, t in enumerate(lines):
        d.text((40, 40 + i * int(size * 1.8)), t, font=font, fill=0)
    return img


def image_pdf(path: Path) -> Path:
    img = text_image(["CAMERA WORLD", "RECEIPT 88123", "TOTAL 1299.00"])
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    c.drawImage(ImageReader(img), 50, 500, width=450, height=450 * img.height / img.width)
    c.save()
    return path


@pytest.fixture
def no_ocr():
    """Register a failing engine: any OCR call would raise."""
    eng = FailingEngine(name="no-ocr")
    ocr.register_engine("no-ocr", eng)
    yield eng
    ocr.register_engine("no-ocr", None)


def test_text_layer_pdf_is_read_without_ocr(tmp_path: Path, no_ocr: FailingEngine) -> None:
    path = text_pdf(tmp_path / "r.pdf")
    doc = ocr.read_document(fileinfo(path, "pdf"), engine="no-ocr")
    assert no_ocr.calls == 0
    (page,) = doc.pages
    assert page.source == "pdf-text" and page.unit == "pt" and page.engine == "pdfplumber"
    assert (page.width, page.height) == (595, 842)
    texts = [ln.text for ln in page.lines]
    assert texts == ["Fotohandel Nord ApS", "Faktura 2024-0117", "Sony Alpha 7 IV 17.999,00", "TOTAL DKK 17.999,00"]
    sony = page.lines[2].words[0]
    assert sony.text == "Sony" and sony.conf == 1.0 and sony.engine == "pdfplumber"
    # pdfplumber's top is measured from the top of the page: baseline 680 -> top about 842-680-9
    assert sony.box.x0 == pytest.approx(72, abs=0.5)
    assert 150 < sony.box.y0 < sony.box.y1 < 165
    price = page.lines[2].words[-1]
    assert price.box.x0 == pytest.approx(400, abs=0.5)


def test_image_only_pdf_is_rasterised(tmp_path: Path) -> None:
    path = image_pdf(tmp_path / "scan.pdf")
    (rp,) = render_pdf(path, dpi=150)
    assert rp.text_page is None and rp.image is not None and rp.dpi == 150
    assert rp.image.ndim == 2
    assert abs(rp.image.shape[0] - 842 * 150 / 72) <= 1 and abs(rp.image.shape[1] - 595 * 150 / 72) <= 1


def test_image_only_pdf_is_ocred(tmp_path: Path) -> None:
    path = image_pdf(tmp_path / "scan.pdf")
    doc = ocr.read_document(fileinfo(path, "pdf"), dpi=200)
    (page,) = doc.pages
    assert page.source == "ocr" and page.unit == "px" and page.engine == "tesseract"
    words = {w.text for ln in page.lines for w in ln.words}
    assert {"CAMERA", "WORLD", "RECEIPT", "88123", "TOTAL", "1299.00"} <= words


def _jpeg_with_orientation(path: Path, orientation: int) -> Path:
    img = Image.new("RGB", (200, 100), (255, 255, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))  # red square at the top-left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    return path


@pytest.mark.parametrize("orientation,shape,corner", [
    (1, (100, 200), "tl"), (3, (100, 200), "br"), (6, (200, 100), "tr"), (8, (200, 100), "bl"),
    (2, (100, 200), "tr"),
])
def test_jpeg_exif_orientation_is_applied(tmp_path: Path, orientation: int, shape: tuple[int, int],
                                          corner: str) -> None:
    img = load_image(_jpeg_with_orientation(tmp_path / f"o{orientation}.jpg", orientation))
    assert img.shape[:2] == shape
    h, w = shape
    y, x = {"tl": (5, 5), "tr": (5, w - 6), "br": (h - 6, w - 6), "bl": (h - 6, 5)}[corner]
    b, g, r = img[y, x]
    assert r > 200 and g < 60 and b < 60
    # and it agrees with Pillow's own transposition
    from PIL import ImageOps
    with Image.open(tmp_path / f"o{orientation}.jpg") as pil:
        ref = np.array(ImageOps.exif_transpose(pil).convert("RGB"))[:, :, ::-1]
    assert ref.shape == img.shape


def test_apply_exif_orientation_leaves_unknown_values() -> None:
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(apply_exif_orientation(a, 1), a)
    assert np.array_equal(apply_exif_orientation(a, 99), a)


def _bad_file(tmp_path: Path, kind: str) -> tuple[Path, str]:
    if kind == "truncated-jpeg":
        buf = BytesIO()
        Image.new("RGB", (50, 50)).save(buf, "JPEG")
        p = tmp_path / "t.jpg"
        p.write_bytes(buf.getvalue()[:20])
        return p, "jpeg"
    if kind == "garbage-png":
        p = tmp_path / "g.png"
        p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
        return p, "png"
    if kind == "garbage-pdf":
        p = tmp_path / "g.pdf"
        p.write_bytes(b"%PDF-1.4\n" + b"not a pdf at all" * 20)
        return p, "pdf"
    if kind == "truncated-pdf":
        p = text_pdf(tmp_path / "full.pdf")
        q = tmp_path / "cut.pdf"
        q.write_bytes(p.read_bytes()[:300])
        return q, "pdf"
    if kind == "missing":
        return tmp_path / "nope.jpg", "jpeg"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["truncated-jpeg", "garbage-png", "garbage-pdf", "truncated-pdf", "missing"])
def test_malformed_files_are_rejected(tmp_path: Path, kind: str) -> None:
    path, detected = _bad_file(tmp_path, kind)
    with pytest.raises((FileRejected, OcrError)) as err:
        render_file(path, detected)
    assert isinstance(err.value, FileRejected)
    assert err.value.code == "FILE_CORRUPT"


def test_encrypted_pdf_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "enc.pdf"
    c = canvas.Canvas(str(p), encrypt="secret")
    c.drawString(72, 720, "Confidential receipt text here")
    c.save()
    with pytest.raises(FileRejected) as err:
        render_file(p, "pdf")
    assert err.value.code == "FILE_ENCRYPTED"


def test_unsupported_type_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "x.gif"
    p.write_bytes(b"GIF89a")
    with pytest.raises(FileRejected):
        render_file(p, "gif")


def test_mixed_pdf_reads_text_pages_and_ocrs_scanned_pages(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    c.setFont("Helvetica", 12)
    for x, y, text in PDF_LINES:
        c.drawString(x, y, text)
    c.showPage()
    img = text_image(["CAMERA WORLD", "RECEIPT 88123", "TOTAL 1299.00"])
    c.drawImage(ImageReader(img), 50, 500, width=450, height=450 * img.height / img.width)
    c.save()
    doc = ocr.read_document(fileinfo(path, "pdf"), dpi=200)
    assert [p.source for p in doc.pages] == ["pdf-text", "ocr"]
    assert [p.page_no for p in doc.pages] == [1, 2]
    assert "TOTAL DKK 17.999,00" in doc.pages[0].text
    assert "RECEIPT 88123" in doc.pages[1].text
