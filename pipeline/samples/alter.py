"""Altered copies of rendered receipts, for tamper-detection labels.

Pixel alterations work on the flat rendered page (a layouts.Canvas) before any
photo/scan degradation, so their boxes are mapped with the field boxes:

- digit_copy: one digit of the date or the total is overwritten with a digit
  glyph cut from elsewhere on the same receipt (resized to the target cell);
- line_replaced: an item line painted over and re-typed in a similar font;
- line_erased: an item line (text and price) painted over with paper colour.

With `alter_stage="final"` (`claimcheck samples generate --alter-stage final`) the same
three edits are made again on the FINISHED image instead, as an image editor would: the
photo/scan is first compressed as its camera or scanner would save it, then the edit is
replayed in final-image coordinates (the render-coordinate edit mapped through the
degradation homographies: `replay_on_final`), then the file is re-saved at the editor's
JPEG quality. The pasted glyph then carries the degraded source's pixels, painted paper is
flat over a noisy, unevenly lit photo, and re-typed text is sharp where the rest is blurred.

File alterations: pdf_incremental_edit (a string of the text-layer PDF rewritten in
an appended incremental update; the original revision stays in the file) and
editor_metadata (EXIF/XMP Software or PDF Producer of an image/PDF editor).
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.samples.fonts import font, font_path

EDITORS_IMAGE = ("Adobe Photoshop 24.0 (Windows)", "Adobe Photoshop 23.5 (Macintosh)", "GIMP 2.10.32",
                 "Adobe Photoshop Express 8.1", "Pixelmator Pro 3.2")
EDITORS_PDF = ("Adobe Acrobat Pro DC 22.3.20310", "iLovePDF", "PDFescape Online Editor", "Sejda PDF Editor 7.5")

Box = list[int]


def _cells(op: dict) -> tuple[list[tuple[float, float]], float, float]:
    """Horizontal extent of each character of a drawn text piece, and the digit row's top/bottom."""
    f = font(op["font"], op["size"])
    s = op["text"]
    x, y = op["xy"]
    total = f.getlength(s)
    x0 = {"la": x, "ra": x - total, "ma": x - total / 2}[op["anchor"]]
    cells = [(x0 + f.getlength(s[:i]), x0 + f.getlength(s[: i + 1])) for i in range(len(s))]
    dy0, dy1 = f.getbbox("0123456789", anchor="la")[1], f.getbbox("0123456789", anchor="la")[3]
    return cells, y + dy0 - 1, y + dy1 + 1


def _ibox(x0, y0, x1, y1) -> Box:
    return [int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))]


def digit_copy(page, field: dict, rng: random.Random, accept: Callable[[str], str | None]) -> dict | None:
    """Overwrite one digit of `field`'s value piece with a digit glyph copied from another piece.

    `accept(new_text)` returns the new normalised value, or None when the change is not wanted
    (e.g. an impossible date). Returns the alteration record, or None when nothing fits."""
    op = page.ops[field["_op"]]
    cells, ty0, ty1 = _cells(op)
    targets = [i for i, ch in enumerate(op["text"]) if ch.isdigit()]
    rng.shuffle(targets)
    sources = []  # (rank, op index, char index, digit)
    for k, o in enumerate(page.ops):
        if k == field["_op"]:
            continue
        rank = 0 if (o["font"], o["size"]) == (op["font"], op["size"]) else 1 if o["font"].split("-")[0] == op["font"].split("-")[0] else 2
        for j, ch in enumerate(o["text"]):
            if ch.isdigit():
                sources.append((rank, k, j, ch))
    digits = sorted({s[3] for s in sources})
    for i in targets:
        cand = [d for d in digits if d != op["text"][i]]
        rng.shuffle(cand)
        for d in cand:
            new_text = op["text"][:i] + d + op["text"][i + 1:]
            new_value = accept(new_text)
            if new_value is None:
                continue
            best = min(s[0] for s in sources if s[3] == d)
            src = rng.choice([s for s in sources if s[3] == d and s[0] == best])
            so = page.ops[src[1]]
            scells, sy0, sy1 = _cells(so)
            sbox = _ibox(scells[src[2]][0], sy0, scells[src[2]][1], sy1)
            tbox = _ibox(cells[i][0], ty0, cells[i][1], ty1)
            patch = page.img.crop(tuple(sbox))
            tw, th = tbox[2] - tbox[0], tbox[3] - tbox[1]
            if patch.size != (tw, th):
                patch = patch.resize((max(1, tw), max(1, th)), Image.Resampling.LANCZOS)
            page.img.paste(patch, (tbox[0], tbox[1]))
            page.draw = ImageDraw.Draw(page.img)
            old_text = field["text"]
            field["original_value"] = field["value"]
            field["value"] = new_value
            field["text"] = old_text.replace(op["text"], new_text)
            op["text"] = new_text
            return {"type": "digit_copy", "field": field["name"], "box": tbox,
                    "detail": {"from_box": sbox, "from_text": so["text"], "digit": d, "replaced_digit": _old_digit(old_text, field["text"]),
                               "old_value": field["original_value"], "new_value": new_value,
                               "source_scaled": best != 0}}
    return None


def _old_digit(old: str, new: str) -> str:
    for a, b in zip(old, new, strict=False):
        if a != b:
            return a
    return ""


def _similar_font(key: str, size: int) -> tuple[ImageFont.FreeTypeFont, str]:
    """A font close to the printed one, but not the same file: what an editor's text tool picks."""
    alt = {"mono": ("truetype/liberation/LiberationMono-Regular.ttf", "dejavu"),
           "sans": ("truetype/dejavu/DejaVuSans.ttf", "dejavu"),
           "dejavu": ("truetype/liberation/LiberationSans-Regular.ttf", "sans")}.get(key.split("-")[0], (None, "dejavu"))
    p = Path("/usr/share/fonts") / alt[0] if alt[0] else None
    if p is not None and p.is_file() and p != font_path(key):
        return ImageFont.truetype(str(p), size), p.stem
    return font(alt[1], size), str(font_path(alt[1]).stem)


def _retype(draw: ImageDraw.ImageDraw, op: dict, new_text: str, fill) -> tuple[str, Box]:
    """Type `new_text` where `op` was printed, in a similar font; (font name, text box)."""
    f, fname = _similar_font(op["font"], op["size"])
    draw.text(tuple(op["xy"]), new_text, font=f, fill=fill, anchor=op["anchor"])
    return fname, [int(v) for v in draw.textbbox(tuple(op["xy"]), new_text, font=f, anchor=op["anchor"])]


def line_replaced(page, field: dict, new_text: str, paper) -> dict:
    op = page.ops[field["_op"]]
    old_box = list(field["box"])
    page.draw.rectangle([old_box[0] - 1, old_box[1] - 1, old_box[2] + 1, old_box[3] + 1], fill=tuple(paper))
    fname, nb = _retype(page.draw, op, new_text, tuple(op["fill"]))
    box = [min(old_box[0], nb[0]) - 1, min(old_box[1], nb[1]) - 1, max(old_box[2], nb[2]) + 1, max(old_box[3], nb[3]) + 1]
    old = field["text"]
    field.update(original_value=field["value"], value=new_text, text=new_text, box=nb)
    return {"type": "line_replaced", "field": field["name"], "box": box,
            "detail": {"old_text": old, "new_text": new_text, "font": fname, "printed_font": op["font"]}}


# ---------------------------------------------------------------- edits of the finished image


def jpeg_roundtrip(img: Image.Image, quality: int) -> Image.Image:
    """The image as a camera or scanner saved it: JPEG-compressed once at `quality`."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality, subsampling=2)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def _compose(Hs: list[np.ndarray]) -> np.ndarray:
    H = np.eye(3)
    for h in Hs:
        H = np.asarray(h, dtype=np.float64) @ H
    return H


def _quad(box, H: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = box
    pts = np.array([[[x0, y0]], [[x1, y0]], [[x1, y1]], [[x0, y1]]], dtype=np.float64)
    return cv2.perspectiveTransform(pts, H).reshape(4, 2).astype(np.float32)


def _quad_mask(quad: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(m, np.round(quad).astype(np.int32), 255)
    return m


def _surrounding_paper(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The colour an editor's brush picks next to the region: the median of a ring around it."""
    ring = cv2.dilate(mask, np.ones((9, 9), np.uint8)) & ~mask
    px = arr[ring > 0]
    if len(px) == 0:
        px = arr.reshape(-1, 3)
    return np.median(px, axis=0)


def replay_on_final(img: Image.Image, record: dict, Hs: list[np.ndarray], *,
                    old_box: Box | None = None, op: dict | None = None) -> Image.Image:
    """Repeat a pixel alteration, made in render coordinates (`record` before box mapping), on
    the degraded image: the clone stamp copies the degraded source glyph onto the target
    cell's quad, painting fills the row's quad with the paper colour picked beside it, and
    re-typed text is drawn through the page's homography in the darkest ink of the old line."""
    H = _compose(Hs)
    arr = np.asarray(img.convert("RGB")).copy()
    shape = arr.shape[:2]
    kind = record["type"]
    if kind == "digit_copy":
        src, dst = _quad(record["detail"]["from_box"], H), _quad(record["box"], H)
        M = cv2.getPerspectiveTransform(src, dst)
        moved = cv2.warpPerspective(arr, M, (shape[1], shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        m = _quad_mask(dst, shape) > 0
        arr[m] = moved[m]
    elif kind in ("line_erased", "line_replaced"):
        box = record["box"] if kind == "line_erased" else old_box
        b = [box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1]
        m = _quad_mask(_quad(b, H), shape)
        ink = None
        if kind == "line_replaced":
            lum = arr[m > 0].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            if len(lum):
                ink = arr[m > 0][np.argsort(lum)[max(0, len(lum) // 50)]].astype(np.float32)
        arr[m > 0] = _surrounding_paper(arr, m)
        if kind == "line_replaced" and op is not None:
            w = int(np.ceil(max(old_box[2], record["box"][2]) + op["size"] * 2))
            h = int(np.ceil(max(old_box[3], record["box"][3]) + op["size"] * 2))
            layer = Image.new("L", (w, h), 0)
            _retype(ImageDraw.Draw(layer), op, record["detail"]["new_text"], 255)
            alpha = cv2.warpPerspective(np.asarray(layer), H, (shape[1], shape[0]), flags=cv2.INTER_LINEAR)
            a = (alpha.astype(np.float32) / 255.0)[..., None]
            colour = ink if ink is not None else np.array(op["fill"][:3], np.float32)
            arr = (arr.astype(np.float32) * (1 - a) + colour * a).round().clip(0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def line_erased(page, field: dict, paper) -> dict:
    row = field["_row"]
    page.draw.rectangle(row, fill=tuple(paper))
    return {"type": "line_erased", "field": field["name"], "box": list(row),
            "detail": {"erased_text": field["text"]}}


def clip_box(box: Box, size: tuple[int, int]) -> Box:
    w, h = size
    return [max(0, min(w, box[0])), max(0, min(h, box[1])), max(0, min(w, box[2])), max(0, min(h, box[3]))]


# ---------------------------------------------------------------- PDF edit


def pdf_escape(s: str) -> bytes:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("cp1252")


def pdf_incremental_edit(path: Path, old: str, new: str) -> dict:
    """Rewrite the string `(old) Tj` as `(new) Tj` in the page content stream, saved as an incremental
    update: a new revision of the stream object, a second xref section and trailer (/Prev) and a
    second %%EOF are appended; the bytes of the first revision are left untouched."""
    data = path.read_bytes()
    needle = b"(" + pdf_escape(old) + b") Tj"
    for m in re.finditer(rb"(\d+) 0 obj\s*<<((?:(?!endobj).)*?)>>\s*stream\r?\n", data, re.S):
        if b" obj" in m.group(2):
            continue
        start = m.end()
        lm = re.search(rb"/Length (\d+)", m.group(2))
        if not lm or b"/Filter" in m.group(2):
            continue
        body = data[start:start + int(lm.group(1))]
        if needle in body:
            num = int(m.group(1))
            break
    else:
        raise ValueError(f"{old!r} not found in an uncompressed content stream of {path}")
    new_body = body.replace(needle, b"(" + pdf_escape(new) + b") Tj", 1)
    trailer = data[data.rindex(b"trailer"):]
    prev = int(re.search(rb"startxref\s+(\d+)", data[data.rindex(b"startxref"):]).group(1))
    size = int(re.search(rb"/Size (\d+)", trailer).group(1))
    root = re.search(rb"/Root (\d+ \d+ R)", trailer).group(1)
    info = re.search(rb"/Info (\d+ \d+ R)", trailer)
    ids = re.search(rb"/ID\s*(\[.*?\])", trailer, re.S)
    if not data.endswith(b"\n"):
        data += b"\n"
    off = len(data)
    obj = b"%d 0 obj\n<< /Length %d >>\nstream\n" % (num, len(new_body)) + new_body + b"\nendstream\nendobj\n"
    xref_off = off + len(obj)
    xref = b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (num, off)
    tr = b"trailer\n<< /Size %d /Root %s" % (size, root)
    if info:
        tr += b" /Info " + info.group(1)
    if ids:
        tr += b" /ID " + ids.group(1)
    tr += b" /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (prev, xref_off)
    path.write_bytes(data + obj + xref + tr)
    return {"object": num, "old_text": old, "new_text": new, "original_bytes": off, "prev_startxref": prev}


# ------------------------------------------------------------- metadata


def xmp_packet(tool: str) -> bytes:
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
            f'<xmp:CreatorTool>{tool}</xmp:CreatorTool><xmp:ModifyDate>2022-12-01T21:14:03+01:00</xmp:ModifyDate>'
            '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


def editor_exif(tool: str) -> Image.Exif:
    ex = Image.Exif()
    ex[0x0131] = tool  # Software
    ex[0x0132] = "2022:12:01 21:14:03"  # DateTime (of the edit)
    return ex
