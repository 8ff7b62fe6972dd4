"""layout.set_width on synthetic receipts: an item line re-typed in another proportional face is
flagged on its row; the same receipt printed in one face (with a bold header and total) is not,
and neither is a monospaced print."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from models.documents import Box, DocumentRole, DocumentText, FileInfo, Line, Page, Word
from pipeline.forensics import ForensicInput, typeset
from tests.test_forensics_image import add_noise

FONTS = Path("/usr/share/fonts/truetype")
SANS = FONTS / "liberation/LiberationSans-Regular.ttf"
SANS_BOLD = FONTS / "liberation/LiberationSans-Bold.ttf"
DEJAVU = FONTS / "dejavu/DejaVuSans.ttf"
MONO = FONTS / "dejavu/DejaVuSansMono.ttf"
pytestmark = pytest.mark.skipif(not all(p.is_file() for p in (SANS, SANS_BOLD, DEJAVU, MONO)),
                                reason="Liberation / DejaVu fonts missing")

LINES = ["Fotohandel Nordvest", "Kvittering 48213 Dato 12.03.2022", "Objektivdeksel Sigma 58mm 89,00",
         "Polarisasjonsfilter Hoya 67mm 349,00", "Rengjøringssett kamera 99,00", "Kameraveske Lowepro 459,00",
         "Minnekort SanDisk Extreme 179,00", "Batterilader Sony universal 259,00", "Linseduk mikrofiber 49,00",
         "Stativplate Manfrotto 199,00", "TOTAL 1682,00", "Takk for handelen"]
ITEM = 5  # "Kameraveske Lowepro 459,00"
BOLD = (0, 10)


def _receipt(face: dict[int, Path], default: Path = SANS, size: int = 24, pitch: int = 38):
    """A printed receipt and its OCR reading as tesseract gives it: one word box per word."""
    img = Image.new("L", (640, 60 + pitch * len(LINES)), 236)
    d = ImageDraw.Draw(img)
    lines = []
    for i, text in enumerate(LINES):
        f = ImageFont.truetype(str(face.get(i, SANS_BOLD if i in BOLD and default == SANS else default)), size)
        y = 30 + i * pitch
        d.text((24, y), text, font=f, fill=30)
        words, x = [], 24.0
        for k, w in enumerate(text.split(" ")):
            b = d.textbbox((x, y), w, font=f)
            words.append(Word(text=w, conf=0.9, box=Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3])))
            x += f.getlength(w + (" " if k < len(text.split(" ")) - 1 else ""))
        lines.append(Line(words=tuple(words)))
    return img, lines


def _input(tmp_path: Path, img: Image.Image, lines, name: str) -> ForensicInput:
    p = tmp_path / name
    add_noise(img).convert("RGB").save(p)
    data = p.read_bytes()
    info = FileInfo(role=DocumentRole.RECEIPT, name=name, path=str(p), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type="png", width=img.width, height=img.height)
    doc = DocumentText(file=info, pages=(Page(page_no=1, width=img.width, height=img.height, lines=tuple(lines)),))
    return ForensicInput(file=info, doc=doc)


def test_em_width_adds_advances_between_the_outer_ink_edges():
    one = typeset.em_width("ll")
    assert one is not None and 0 < one < 2 * typeset._glyph_table()["l"][0]
    assert typeset.em_width("mm") > typeset.em_width("ii")  # noqa: PLR2004 - wide letters set wider
    assert typeset.em_width("a☃") is None  # a character the table lacks: no prediction


def test_set_width_flags_an_item_line_retyped_in_another_face(tmp_path):
    img, lines = _receipt({ITEM: DEJAVU})
    sig = [s for s in typeset.set_width(_input(tmp_path, img, lines, "t.png")) if s.detector == "layout.set_width"][0]
    assert sig.flagged and sig.detail["model"] == "proportional" and sig.detail["width_ratio"] > 1.05
    row = lines[ITEM]
    r = sig.regions[0].box
    assert r.y0 < row.words[0].box.y1 and r.y1 > row.words[0].box.y0


def test_set_width_is_quiet_on_a_receipt_of_one_face_with_bold_header_and_total(tmp_path):
    img, lines = _receipt({})
    sigs = typeset.set_width(_input(tmp_path, img, lines, "c.png"))
    assert sigs and not any(s.flagged for s in sigs)


def test_set_width_judges_a_monospaced_print_per_character(tmp_path):
    img, lines = _receipt({}, default=MONO, size=20)
    sigs = typeset.set_width(_input(tmp_path, img, lines, "m.png"))
    assert sigs and sigs[0].detail["model"] == "monospaced" and not sigs[0].flagged
