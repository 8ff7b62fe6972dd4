"""`image.double_jpeg` (pipeline/forensics/jpeg.py): a region saved once inside a JPEG saved twice.

Synthetic receipts: grey paper with sensor noise and rows of dark text, saved as a camera
would (JPEG, coarse quality), then edited and re-saved at a finer quality like an editor."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from models.documents import DocumentRole, FileInfo
from pipeline.forensics import ForensicInput
from pipeline.forensics import jpeg as dj

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def _page(seed: int = 3) -> Image.Image:
    rng = np.random.default_rng(seed)
    h, w = 640, 480
    paper = 205 + 20 * np.linspace(0, 1, w)[None, :] + rng.normal(0, 4, (h, w))
    img = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB")
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(FONT, 18)
    for i, y in enumerate(range(30, 600, 34)):
        d.text((24, y), f"ITEM {i:02d} LENS 85MM F1.4 DG   {1000 + 37 * i},00", font=f, fill=(40, 38, 36))
    return img


def _jpeg(img: Image.Image, q: int) -> bytes:
    b = io.BytesIO()
    img.convert("RGB").save(b, "JPEG", quality=q, subsampling=2)
    return b.getvalue()


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _retype(img: Image.Image, box=(20, 268, 460, 296)) -> Image.Image:
    """Paint over a row and type new text, as an editor's brush and text tool would."""
    img = img.copy()
    d = ImageDraw.Draw(img)
    d.rectangle(box, fill=(214, 214, 214))
    d.text((box[0] + 4, box[1] + 3), "GIFT CARD 500 KR            500,00", font=ImageFont.truetype(FONT, 18), fill=(30, 30, 30))
    return img


def _input(tmp_path: Path, data: bytes, name: str = "r.jpg") -> ForensicInput:
    p = tmp_path / name
    p.write_bytes(data)
    info = FileInfo(role=DocumentRole.RECEIPT, name=name, path=str(p), size=len(data), sha256="0" * 64,
                    detected_type=name.rsplit(".", 1)[-1])
    return ForensicInput(file=info)


def test_first_quantisation_step_is_recovered():
    data = _jpeg(_open(_jpeg(_page(), 50)), 92)
    m = dj.dq_map(data)
    assert m is not None and len(m.q1) >= dj.MIN_FREQS
    q50 = np.asarray(Image.open(io.BytesIO(_jpeg(_page(), 50))).quantization[0]).reshape(8, 8)
    # the camera's step, found exactly at most frequencies; off by the tolerance at a few high ones
    exact = sum(q50[f] == q for f, q in m.q1.items())
    assert exact >= 0.8 * len(m.q1), m.q1
    assert all(abs(q50[f] - q) <= 2 or q50[f] % q == 0 for f, q in m.q1.items()), m.q1


def test_retyped_row_saved_into_a_coarser_photo_is_flagged_where_it_is(tmp_path):
    edited = _retype(_open(_jpeg(_page(), 50)))
    sigs = dj.double_jpeg(_input(tmp_path, _jpeg(edited, 90)))
    assert len(sigs) == 1
    s = sigs[0]
    assert s.flagged and s.detector == "image.double_jpeg"
    b = s.regions[0].box
    assert b.y0 <= 296 and b.y1 >= 268  # on the edited row
    assert b.y1 - b.y0 < 120  # and not the whole page


def test_a_pasted_glyph_is_flagged(tmp_path):
    img = _open(_jpeg(_page(), 65))
    a = np.asarray(img).copy()
    a[302:322, 400:412] = a[30:50, 24:36]  # one glyph cell cloned onto another row, grid-misaligned
    a[302:322, 412:424] = a[64:84, 36:48]
    sigs = dj.double_jpeg(_input(tmp_path, _jpeg(Image.fromarray(a), 90)))
    assert sigs and sigs[0].regions[0].box.y0 <= 322 and sigs[0].regions[0].box.y1 >= 302
    assert sigs[0].detail["gap_coefficients"] > 0


@pytest.mark.parametrize("q1, q2", [(50, 90), (35, 85), (75, 95)])
def test_a_receipt_saved_twice_without_edit_is_not_flagged(tmp_path, q1, q2):
    sigs = dj.double_jpeg(_input(tmp_path, _jpeg(_open(_jpeg(_page(seed=q1), q1)), q2)))
    assert not any(s.flagged for s in sigs)


def test_single_compression_gives_no_signal(tmp_path):
    assert dj.dq_map(_jpeg(_page(), 85)) is None
    assert dj.double_jpeg(_input(tmp_path, _jpeg(_retype(_page()), 85))) == []


def test_finer_first_save_leaves_no_gaps_and_no_claim(tmp_path):
    """Known limit: a camera JPEG of better quality than the editor's save has no gaps to find."""
    sigs = dj.double_jpeg(_input(tmp_path, _jpeg(_retype(_open(_jpeg(_page(), 95))), 80)))
    assert not any(s.flagged for s in sigs)


def test_png_and_garbage_give_no_signal(tmp_path):
    b = io.BytesIO()
    _page().save(b, "PNG")
    assert dj.double_jpeg(_input(tmp_path, b.getvalue(), "r.png")) == []
    assert dj.double_jpeg(_input(tmp_path, b"\xff\xd8\xff\xe0 not a jpeg", "x.jpg")) == []


def test_image_only_pdf_is_read_through_its_embedded_jpeg(tmp_path):
    edited = _retype(_open(_jpeg(_page(), 50)))
    p = tmp_path / "scan.pdf"
    _open(_jpeg(edited, 90)).save(p, "PDF", resolution=200.0, quality=90)
    data = p.read_bytes()
    sigs = dj.double_jpeg(_input(tmp_path, data, "scan.pdf"))
    assert sigs and sigs[0].flagged


def _with_words(inp: ForensicInput, boxes: list[tuple[str, tuple[int, int, int, int]]]) -> ForensicInput:
    from models.documents import Box, DocumentText, Line, Page, Word

    lines = tuple(Line(words=(Word(text=t, conf=0.9, box=Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3])),)) for t, b in boxes)
    doc = DocumentText(file=inp.file, pages=(Page(page_no=1, width=480, height=640, lines=lines),))
    return ForensicInput(file=inp.file, doc=doc)


def test_a_once_saved_mark_away_from_the_text_is_not_an_alteration(tmp_path):
    """A tick or stamp drawn on the image where the OCR read no word changes no text."""
    edited = _retype(_open(_jpeg(_page(), 50)))
    inp = _input(tmp_path, _jpeg(edited, 90))
    elsewhere = [("ITEM", (20, 30, 120, 50)), ("1037,00", (380, 64, 460, 84))]
    assert dj.double_jpeg(_with_words(inp, elsewhere)) == []
    on_row = [*elsewhere, ("GIFT", (24, 271, 80, 291))]
    sigs = dj.double_jpeg(_with_words(inp, on_row))
    assert sigs and sigs[0].flagged
