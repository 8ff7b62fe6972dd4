"""Image-level forensics on synthetic receipts: a painted-over line, a digit copied with its paper."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from models.documents import Box, DocumentRole, DocumentText, FileInfo, Line, Page, Word
from pipeline.forensics import ForensicInput, image

MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
MONO_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf")
pytestmark = pytest.mark.skipif(not MONO.is_file(), reason="DejaVu fonts missing")

LINES = ["SUPERSTORE OSLO", "Date: 12/03/2022 14:05", "Receipt no 48213", "Lens cap 58mm        89,00",
         "UV filter 67mm      349,00", "Cleaning kit         99,00", "Camera bag          459,00",
         "Memory card 64GB    179,00", "Batteries AA 4x       59,00", "TOTAL              1234,50",
         "VAT 25%             246,90", "Thank you"]


def draw_receipt(lines=LINES, *, size=22, pitch=34, skip: int | None = None, offset: dict[int, int] | None = None,
                 bold: tuple[int, ...] = ()) -> tuple[Image.Image, list[tuple[str, tuple[int, int, int, int]]]]:
    """A clean printed receipt (no noise yet) and the box of every line."""
    W, H = 560, 60 + pitch * len(lines)
    img = Image.new("L", (W, H), 236)
    d = ImageDraw.Draw(img)
    boxes = []
    for i, text in enumerate(lines):
        f = ImageFont.truetype(str(MONO_BOLD if i in bold else MONO), size)
        y = 30 + i * pitch + (offset or {}).get(i, 0)
        if i == skip:
            continue
        d.text((24, y), text, font=f, fill=30)
        boxes.append((text, tuple(int(v) for v in d.textbbox((24, y), text, font=f))))
    return img, boxes


def add_noise(img: Image.Image, seed: int = 1, sigma: float = 5.0) -> Image.Image:
    a = np.asarray(img, np.float32) + np.random.default_rng(seed).normal(0, sigma, (img.height, img.width))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def make_input(tmp_path: Path, img: Image.Image, boxes, name: str = "r.png") -> ForensicInput:
    p = tmp_path / name
    jpeg = name.endswith(".jpg")
    img.convert("RGB").save(p, **({"quality": 100} if jpeg else {}))  # re-saved as JPEG, as the SROIE scans are
    data = p.read_bytes()
    info = FileInfo(role=DocumentRole.RECEIPT, name=name, path=str(p), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type="jpeg" if jpeg else "png",
                    width=img.width, height=img.height)
    lines = tuple(Line(words=(Word(text=t, conf=0.9, box=Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3])),)) for t, b in boxes)
    doc = DocumentText(file=info, pages=(Page(page_no=1, width=img.width, height=img.height, lines=lines),))
    return ForensicInput(file=info, doc=doc)


def _score(signals, detector: str) -> float:
    return max((s.score for s in signals if s.detector == detector), default=0.0)


def test_flat_patch_flags_a_painted_over_line(tmp_path):
    clean, boxes = draw_receipt()
    clean = add_noise(clean)
    tampered = clean.copy()
    b = boxes[5][1]
    ImageDraw.Draw(tampered).rectangle([b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2], fill=236)  # the "paper colour"
    kept = [x for i, x in enumerate(boxes) if i != 5]
    s_clean = image.flat_patch(make_input(tmp_path, clean, boxes, "clean.png"))
    s_tamp = image.flat_patch(make_input(tmp_path, tampered, kept, "tampered.png"))
    assert _score(s_clean, "image.flat_patch") < image.FLAT_THRESHOLD
    sig = [s for s in s_tamp if s.detector == "image.flat_patch"][0]
    assert sig.flagged
    r = sig.regions[0].box  # the region overlaps the painted line
    assert r.y0 < b[3] and r.y1 > b[1]


def test_flat_patch_is_silent_on_a_clean_digital_receipt(tmp_path):
    clean, boxes = draw_receipt()
    tampered = clean.copy()
    b = boxes[5][1]
    ImageDraw.Draw(tampered).rectangle([b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2], fill=236)
    # no noise anywhere: nothing to compare, no signal either way
    assert _score(image.flat_patch(make_input(tmp_path, tampered, boxes)), "image.flat_patch") == 0.0


def _date_digit_boxes(boxes):
    """Pixel box of the '2' of '12/03' in the date line, and of a '9' of '89,00' (same font)."""
    f = ImageFont.truetype(str(MONO), 22)
    text, b = boxes[1]
    x = 24 + f.getlength(text[:7])
    tgt = (int(x), b[1] - 1, int(x + f.getlength("2")) + 1, b[3] + 1)
    text2, b2 = boxes[3]
    i = text2.index("89")
    x2 = 24 + f.getlength(text2[:i])
    src = (int(x2), b2[1] - 1, int(x2 + f.getlength("8")) + 1, b2[3] + 1)
    return tgt, src


def test_copy_move_flags_a_digit_pasted_with_its_paper(tmp_path):
    base, boxes = draw_receipt()
    scan = add_noise(base, seed=3)
    tgt, src = _date_digit_boxes(boxes)
    tampered = scan.copy()
    m = 5  # the forger's selection takes some paper around the glyph
    patch = scan.crop((src[0] - m, src[1] - m, src[2] + m, src[3] + m))
    tampered.paste(patch, (tgt[0] - m, tgt[1] - m))
    s_t = image.copy_move(make_input(tmp_path, tampered, boxes, "t.jpg"))
    s_c = image.copy_move(make_input(tmp_path, scan, boxes, "c.jpg"))
    assert _score(s_c, "image.copy_move") < image.COPY_THRESHOLD
    sig = [s for s in s_t if s.detector == "image.copy_move"][0]
    assert sig.flagged and sig.field == "purchase_date"
    assert len(sig.regions) == 2  # the pasted glyph and where it was copied from
    pasted = sig.regions[0].box
    assert pasted.x0 < tgt[2] and pasted.x1 > tgt[0]


def test_copy_move_ignores_identical_prints_of_the_same_digit(tmp_path):
    # every "2" of the same font is the same pixels before the scan's noise: not a copy
    base, boxes = draw_receipt()
    assert _score(image.copy_move(make_input(tmp_path, add_noise(base, seed=9), boxes)), "image.copy_move") < image.COPY_THRESHOLD


def test_detectors_never_raise_on_a_page_without_text(tmp_path):
    img = add_noise(Image.new("L", (200, 120), 240))
    inp = make_input(tmp_path, img, [])
    assert image.flat_patch(inp) == [] and image.copy_move(inp) == []


def _scan(img: Image.Image, seed: int) -> Image.Image:
    """Print and scanner noise as a scan has it: grainy, then softened by the optics."""
    from PIL import ImageFilter

    return add_noise(img, seed=seed, sigma=14.0).filter(ImageFilter.GaussianBlur(1.0))


def _glyph_near(img: Image.Image, line_box, cx: float) -> image.Glyph:
    """The glyph component of a line (as the detector segments it) whose centre is nearest cx."""
    gs, _ = image.line_glyphs(np.asarray(img.convert("L"), np.float32), tuple(line_box), light=True)
    return min(gs, key=lambda g: abs(g.cx - cx))


def test_copy_residual_tells_a_resized_copy_from_a_second_print(tmp_path):
    base, boxes = draw_receipt()
    scan = _scan(base, 4)
    tgt, src = _date_digit_boxes(boxes)
    # another print of the "8" of "89,00": the "8" of the receipt number "48213"
    f = ImageFont.truetype(str(MONO), 22)
    text, b = boxes[2]
    x = 24 + f.getlength(text[:text.index("8")])
    gray = np.asarray(scan, np.float32)
    g_src = _glyph_near(scan, boxes[3][1], (src[0] + src[2]) / 2)
    g_other = _glyph_near(scan, b, x + f.getlength("8") / 2)
    natural = min(image._copy_residual(gray, g_other, g_src), image._warp_residual(gray, g_other, g_src))
    # the "8" cut with 3 px of paper, enlarged by 20 % and pasted over the date's "2"
    m = 3
    patch = scan.crop((src[0] - m, src[1] - m, src[2] + m, src[3] + m))
    patch = patch.resize((int(round(patch.width * 1.2)), int(round(patch.height * 1.2))), Image.Resampling.LANCZOS)
    tampered = scan.copy()
    at = (tgt[0] - m, tgt[1] - m - 2)
    tampered.paste(patch, at)
    g_t = _glyph_near(tampered, boxes[1][1], at[0] + patch.width / 2)
    copied = image._warp_residual(np.asarray(tampered, np.float32), g_t, g_src)
    assert natural > 0.02  # two prints differ by their noise
    assert copied < 0.5 * natural


def test_copy_move_flags_a_digit_pasted_into_an_amount_line(tmp_path):
    base, boxes = draw_receipt()
    scan = _scan(base, 5)
    f = ImageFont.truetype(str(MONO), 22)
    # target: the "5" of the TOTAL line's "1234,50"; source: the "9" of "89,00" (the resized case is
    # test_copy_residual_tells_a_resized_copy_from_a_second_print: the full search there runs only
    # for targets whose box-ratio match is already close, to stay in the time budget)
    text, b = boxes[9]
    x = 24 + f.getlength(text[:text.index("50")])
    tgt = (int(x), b[1] - 1, int(x + f.getlength("5")) + 1, b[3] + 1)
    text2, b2 = boxes[3]
    x2 = 24 + f.getlength(text2[:text2.index("9,00")])
    src = (int(x2), b2[1] - 1, int(x2 + f.getlength("9")) + 1, b2[3] + 1)
    m = 2
    patch = scan.crop((src[0] - m, src[1] - m, src[2] + m, src[3] + m))
    tampered = scan.copy()
    ImageDraw.Draw(tampered).rectangle([tgt[0], tgt[1], tgt[2] - 1, tgt[3] - 1], fill=236)
    tampered.paste(patch, (tgt[0] - m, tgt[1] - m - 1))
    # no extraction: every printed amount and date is judged
    sig = [s for s in image.copy_move(make_input(tmp_path, tampered, boxes, "t.jpg")) if s.detector == "image.copy_move"][0]
    assert sig.flagged, sig.detail
    assert sig.field == "total"
    pasted = sig.regions[0].box
    assert pasted.x0 < tgt[2] + 2 and pasted.x1 > tgt[0] - 2 and pasted.y0 < tgt[3] and pasted.y1 > tgt[1]
    assert _score(image.copy_move(make_input(tmp_path, scan, boxes, "c.jpg")), "image.copy_move") < image.COPY_THRESHOLD


def test_copy_move_is_silent_on_a_bit_identical_copy_in_a_lossless_file(tmp_path):
    # a copy saved losslessly repeats its source bit for bit - so do two renders of a digit at the
    # same sub-pixel phase in a digital receipt: bit-identical pixels prove no noise, not a copy
    base, boxes = draw_receipt()
    scan = add_noise(base, seed=3)
    tgt, src = _date_digit_boxes(boxes)
    tampered = scan.copy()
    m = 5
    tampered.paste(scan.crop((src[0] - m, src[1] - m, src[2] + m, src[3] + m)), (tgt[0] - m, tgt[1] - m))
    sig = [s for s in image.copy_move(make_input(tmp_path, tampered, boxes, "t.png")) if s.detector == "image.copy_move"][0]
    assert sig.detail["copy_residual"] < image.COPY_IDENTICAL and not sig.flagged


def test_copy_move_is_silent_on_a_clean_render_even_with_a_copied_digit(tmp_path):
    # without print or scan noise every "8" is the same pixels: a copy cannot be told from a print
    base, boxes = draw_receipt()
    tgt, src = _date_digit_boxes(boxes)
    tampered = base.copy()
    m = 4
    tampered.paste(base.crop((src[0] - m, src[1] - m, src[2] + m, src[3] + m)), (tgt[0] - m, tgt[1] - m))
    sigs = image.copy_move(make_input(tmp_path, tampered, boxes))
    assert _score(sigs, "image.copy_move") < image.COPY_THRESHOLD
    assert all(s.message and "@" not in s.message for s in sigs)


def test_copy_move_second_pair_keeps_repeating_prints_quiet(tmp_path):
    # mild noise on a render: identical prints stay nearly identical everywhere, so one close pair
    # (the copy) is no closer than many natural ones - the score stays low on the untouched receipt
    base, boxes = draw_receipt()
    scan = add_noise(base, seed=11, sigma=1.0)
    assert _score(image.copy_move(make_input(tmp_path, scan, boxes)), "image.copy_move") < image.COPY_THRESHOLD
