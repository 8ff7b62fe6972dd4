"""File-metadata forensic signals: editor software, modification dates, PDF revisions,
text over a scanned image, rare fonts. Small files are built here (PIL, reportlab)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from models.documents import DocumentRole, FileInfo
from pipeline.forensics import ForensicInput, SignalFamily, run_detectors
from pipeline.forensics import metadata as md


def _info(path: Path, kind: str) -> FileInfo:
    return FileInfo(role=DocumentRole.RECEIPT, name=path.name, path=str(path), size=path.stat().st_size,
                    sha256="0" * 64, detected_type=kind)


def _signals(path: Path, kind: str) -> dict[str, object]:
    sigs, _ = run_detectors(ForensicInput(file=_info(path, kind)), only=(SignalFamily.METADATA,))
    return {s.detector: s for s in sigs}


def _image(path: Path, fmt: str = "JPEG", software: str | None = None, xmp_tool: str | None = None,
           exif_dates: tuple[str, str] | None = None) -> Path:
    im = Image.new("RGB", (120, 80), (250, 250, 245))
    kw: dict = {}
    ex = Image.Exif()
    if software:
        ex[0x0131] = software
    if exif_dates:
        ex[0x0132] = exif_dates[1]
        ex.get_ifd(0x8769)[0x9003] = exif_dates[0]
    if len(ex) or exif_dates:
        kw["exif"] = ex.tobytes()
    if xmp_tool:
        from pipeline.samples.alter import xmp_packet

        if fmt == "JPEG":
            kw["xmp"] = xmp_packet(xmp_tool)
        else:
            from PIL import PngImagePlugin

            pi = PngImagePlugin.PngInfo()
            pi.add_itxt("XML:com.adobe.xmp", xmp_packet(xmp_tool).decode())
            kw["pnginfo"] = pi
    im.save(path, fmt, **kw)
    return path


# ------------------------------------------------------------------ images


def test_plain_image_without_metadata_is_silent(tmp_path: Path) -> None:
    assert _signals(_image(tmp_path / "r.jpg"), "jpeg") == {}
    assert _signals(_image(tmp_path / "r.png", "PNG"), "png") == {}


@pytest.mark.parametrize("tool", ["Adobe Photoshop 24.0 (Windows)", "GIMP 2.10.32", "Pixelmator Pro 3.2",
                                  "Adobe Photoshop Express 8.1", "Snapseed 2.0", "Canva"])
def test_exif_software_of_an_editor_is_flagged(tmp_path: Path, tool: str) -> None:
    s = _signals(_image(tmp_path / "r.jpg", software=tool), "jpeg")["metadata.editor_software"]
    assert s.flagged and s.family == SignalFamily.METADATA
    assert "EXIF Software" in s.detail["where"]
    assert "@" not in s.message


def test_xmp_creator_tool_in_png_is_flagged(tmp_path: Path) -> None:
    s = _signals(_image(tmp_path / "r.png", "PNG", xmp_tool="GIMP 2.10.32"), "png")["metadata.editor_software"]
    assert s.flagged and "XMP CreatorTool" in s.detail["where"]


def test_phone_software_is_not_an_editor(tmp_path: Path) -> None:
    sigs = _signals(_image(tmp_path / "r.jpg", software="iOS 16.1"), "jpeg")
    assert "metadata.editor_software" not in sigs


def test_exif_modified_days_after_taken(tmp_path: Path) -> None:
    p = _image(tmp_path / "r.jpg", software="iOS 16.1", exif_dates=("2022:10:14 12:00:00", "2022:12:01 21:14:03"))
    s = _signals(p, "jpeg")["metadata.modified_later"]
    assert s.flagged and s.detail["gap_days"] > 40
    p2 = _image(tmp_path / "r2.jpg", exif_dates=("2022:10:14 12:00:00", "2022:10:14 12:00:05"))
    assert "metadata.modified_later" not in _signals(p2, "jpeg")


# ------------------------------------------------------------------ PDFs


def _pdf(path: Path, *, producer: str = "ReportLab PDF Library", lines: list[tuple[str, str]] | None = None,
         background: bool = False, invisible_layer: bool = False, over: list[tuple[float, float, str]] = ()) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1, pageCompression=0)
    c.setProducer(producer)
    c.setCreator(producer)
    W, H = A4
    if background:
        buf = io.BytesIO()
        Image.new("RGB", (400, 560), (245, 245, 240)).save(buf, "JPEG")
        c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, W, H)
    y = H - 80
    for text, fnt in lines or []:
        c.saveState()  # the text render mode is graphics state: keep it to this line
        t = c.beginText(60, y)
        t.setFont(fnt, 11)
        if invisible_layer:
            t.setTextRenderMode(3)
        t.textOut(text)
        c.drawText(t)
        c.restoreState()
        y -= 18
    for x, yy, text in over:
        c.setFont("Helvetica", 11)
        c.drawString(x, H - yy, text)
    c.showPage()
    c.save()
    return path


RECEIPT = [("Fotohuset ApS  Norrebrogade 112  2200 Kobenhavn N", "Helvetica"),
           ("Faktura 10234   Dato 14.10.2022", "Helvetica"),
           ("Sigma 85mm F1.4 DG DN Art Sony E      7.999,00", "Helvetica"),
           ("Linseklud mikrofiber                     149,00", "Helvetica"),
           ("I ALT DKK                               8.148,00", "Helvetica"),
           ("Heraf moms 25%                          1.629,60", "Helvetica")]


def test_shop_pdf_is_silent(tmp_path: Path) -> None:
    assert _signals(_pdf(tmp_path / "r.pdf", lines=RECEIPT), "pdf") == {}
    assert _signals(_pdf(tmp_path / "r2.pdf", producer="Microsoft: Print To PDF", lines=RECEIPT), "pdf") == {}
    assert _signals(_pdf(tmp_path / "r3.pdf", producer="Skia/PDF m106", lines=RECEIPT), "pdf") == {}


@pytest.mark.parametrize("tool", ["iLovePDF", "PDFescape Online Editor", "Sejda PDF Editor 7.5",
                                  "Adobe Acrobat Pro DC 22.3.20310", "Foxit PhantomPDF 10.1", "Smallpdf.com"])
def test_pdf_producer_of_an_editor_is_flagged(tmp_path: Path, tool: str) -> None:
    s = _signals(_pdf(tmp_path / "r.pdf", producer=tool, lines=RECEIPT), "pdf")["metadata.editor_software"]
    assert s.flagged and "PDF Producer" in s.detail["where"]


def test_classify_software() -> None:
    assert md.classify_software("Acrobat Distiller 11.0 (Windows)") is None
    assert md.classify_software("Acrobat PDFMaker 22 for Word") is None
    assert md.classify_software("Adobe Acrobat Pro 11.0.23 Paper Capture Plug-in")[1] < 0.5
    assert md.classify_software("wkhtmltopdf 0.12.6") is None
    assert md.classify_software("") is None


def test_pdf_date() -> None:
    import datetime as dt

    assert md.pdf_date("D:20221014120000+02'00'") == dt.datetime(2022, 10, 14, 10, 0)
    assert md.pdf_date("D:20221014") == dt.datetime(2022, 10, 14)
    assert md.pdf_date("garbage") is None


def test_incremental_edit_is_flagged_with_old_and_new_text(tmp_path: Path) -> None:
    from pipeline.samples.alter import pdf_incremental_edit

    p = _pdf(tmp_path / "r.pdf", lines=[("I ALT DKK 8.148,00", "Helvetica")] + RECEIPT)
    before = p.read_bytes()
    pdf_incremental_edit(p, "I ALT DKK 8.148,00", "I ALT DKK 3.148,00")
    assert p.read_bytes().startswith(before)  # the first revision survives
    s = _signals(p, "pdf")["metadata.pdf_revisions"]
    assert s.flagged and s.detail["revisions"] == 2
    assert "8.148,00" in s.detail["old_text"] and "3.148,00" in s.detail["new_text"]
    (r,) = [r for r in s.regions if r.note.startswith("text changed")]
    # the changed amount, in PDF points with a top-left origin, on the first line (y = 80 pt from the top)
    assert 60 < r.box.x0 < 200 and 65 < r.box.y0 < 82 and r.box.y1 < 85


def test_metadata_only_update_is_scored_but_not_flagged(tmp_path: Path) -> None:
    import re

    p = _pdf(tmp_path / "r.pdf", lines=RECEIPT)
    data = p.read_bytes()
    trailer = data[data.rindex(b"trailer"):]
    size = int(re.search(rb"/Size (\d+)", trailer).group(1))
    root = re.search(rb"/Root (\d+ \d+ R)", trailer).group(1)
    prev = int(re.search(rb"startxref\s+(\d+)", data[data.rindex(b"startxref"):]).group(1))
    off = len(data)
    obj = b"%d 0 obj\n<< /Producer (ReportLab PDF Library) /Title (Faktura) >>\nendobj\n" % size
    xref = b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (size, off)
    tr = b"trailer\n<< /Size %d /Root %s /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size + 1, root, size, prev, off + len(obj))
    p.write_bytes(data + obj + xref + tr)
    s = _signals(p, "pdf")["metadata.pdf_revisions"]
    assert not s.flagged and s.score > 0 and s.detail["text_changes"] == 0


def test_revision_ends_ignore_linearization_and_trailing_bytes() -> None:
    one = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\nstartxref\n9\n%%EOF\n"
    assert len(md.pdf_revision_ends(one)) == 1
    assert len(md.pdf_revision_ends(one + b"\x00\x00\n")) == 1
    lin = b"%PDF-1.5\n1 0 obj<</Linearized 1>>endobj\nxref\n0 1\ntrailer<<>>\nstartxref\n0\n%%EOF\n" + one[9:]
    assert len(md.pdf_revision_ends(lin)) == 1


def test_text_typed_over_a_scan_is_flagged(tmp_path: Path) -> None:
    ocr_layer = [(t, "Helvetica") for t, _ in RECEIPT]
    genuine = _pdf(tmp_path / "g.pdf", lines=ocr_layer, background=True, invisible_layer=True)
    assert "metadata.text_over_image" not in _signals(genuine, "pdf")
    typed = _pdf(tmp_path / "t.pdf", lines=ocr_layer, background=True, invisible_layer=True,
                 over=[(300, 300, "3.148,00")])
    s = _signals(typed, "pdf")["metadata.text_over_image"]
    assert s.flagged and s.detail["chars_over_image"] == 6
    (r,) = s.regions
    assert 295 < r.box.x0 < 305 and 285 < r.box.y1 < 305  # points, top-left origin
    scan_only = _pdf(tmp_path / "s.pdf", background=True, over=[(300, 300, "14.10.2022")])
    assert _signals(scan_only, "pdf")["metadata.text_over_image"].flagged


def test_text_page_on_a_background_picture_is_not_text_over_image(tmp_path: Path) -> None:
    p = _pdf(tmp_path / "b.pdf", lines=RECEIPT * 2, background=True)
    assert "metadata.text_over_image" not in _signals(p, "pdf")


def test_rare_font_in_the_total(tmp_path: Path) -> None:
    lines = RECEIPT[:4] + [("I ALT DKK 8.148,00", "Helvetica")]
    p = _pdf(tmp_path / "f.pdf", lines=lines, over=[(200, 400, "")])
    assert "metadata.rare_font" not in _signals(p, "pdf")
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    q = tmp_path / "f2.pdf"
    c = canvas.Canvas(str(q), pagesize=A4, invariant=1, pageCompression=0)
    y = A4[1] - 80
    for text, _ in RECEIPT[:4]:
        c.setFont("Helvetica", 11)
        c.drawString(60, y, text)
        y -= 18
    c.setFont("Helvetica", 11)
    c.drawString(60, y, "I ALT DKK 8.1")
    c.setFont("Courier", 11)
    c.drawString(60 + c.stringWidth("I ALT DKK 8.1", "Helvetica", 11), y, "48")
    c.save()
    s = _signals(q, "pdf")["metadata.rare_font"]
    assert s.detail["font"] == "Courier" and s.detail["chars"] == 2
    assert s.regions and s.regions[0].box.y0 > 80


@pytest.mark.parametrize("kind", ["truncated", "encrypted", "garbage", "empty", "corrupt_png"])
def test_broken_files_never_raise(tmp_path: Path, kind: str) -> None:
    from pipeline.forensics import DETECTORS, _load_builtin
    from tests import badfiles as bf

    data, t = {"truncated": (bf.truncated_pdf(), "pdf"), "encrypted": (bf.pdf_bytes(encrypt="secret"), "pdf"),
               "garbage": (b"%PDF-1.4\n garbage %%EOF\n more %%EOF\n", "pdf"), "empty": (b"", "pdf"),
               "corrupt_png": (bf.corrupt_png(), "png")}[kind]
    p = tmp_path / f"bad.{t}"
    p.write_bytes(data)
    inp = ForensicInput(file=_info(p, t))
    _load_builtin()
    for _name, fam, fn in DETECTORS:
        if fam in (SignalFamily.METADATA, SignalFamily.CONTENT):
            assert all(0 <= s.score <= 1 for s in fn(inp))  # no exception


def test_edited_total_with_the_reading_names_the_field_and_content_agrees(tmp_path: Path) -> None:
    """A text-layer PDF (read without OCR): the incremental edit is placed on the total
    field, and the content check sees the same total disagree with the items and VAT."""
    from pipeline.extract import extract_receipt
    from pipeline.ocr import read_document
    from pipeline.samples.alter import pdf_incremental_edit

    lines = [("Fotohuset ApS", "Helvetica"), ("CVR-nr. 12972997", "Helvetica"), ("Faktura 10234", "Helvetica"),
             ("Dato 14.10.2022", "Helvetica"), ("Sigma 85mm F1.4 DG DN Art 7.999,00", "Helvetica"),
             ("Linseklud 149,00", "Helvetica"), ("Subtotal ekskl. moms 6.518,40", "Helvetica"),
             ("Moms 25% 1.629,60", "Helvetica"), ("I ALT DKK 8.148,00", "Helvetica")]
    p = _pdf(tmp_path / "r.pdf", lines=lines)
    pdf_incremental_edit(p, "I ALT DKK 8.148,00", "I ALT DKK 9.148,00")
    info = _info(p, "pdf")
    d = read_document(info, languages=("eng", "dan"))
    assert d.pages[0].unit == "pt"
    ex = extract_receipt(d, country="DK")
    sigs, _ = run_detectors(ForensicInput(file=info, doc=d, extraction=ex),
                            only=(SignalFamily.METADATA, SignalFamily.CONTENT))
    by = {s.detector: s for s in sigs}
    rev = by["metadata.pdf_revisions"]
    assert rev.flagged and rev.field == "total" and rev.score >= 0.9
    assert ex.total is not None and ex.total.evidence is not None
    assert any(r.box.y0 <= ex.total.evidence.box.cy <= r.box.y1 for r in rev.regions)
    assert by["content.totals_mismatch"].flagged
