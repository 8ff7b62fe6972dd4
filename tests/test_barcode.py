"""Code 128 serial barcodes, drawn with reportlab as on the project's labels,
decoded from clean, rotated, blurred and perspective-warped images."""

from __future__ import annotations

from io import BytesIO

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from reportlab.graphics.barcode import code128
from reportlab.pdfgen import canvas

from pipeline.barcode import decode_barcodes

SERIAL = "54218873"


def code128_image(value: str = SERIAL, scale: float = 3.0) -> np.ndarray:
    """reportlab Code128 on a white page, rasterised with pdfium (gray, uint8)."""
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=(300, 120))
    code128.Code128(value, barHeight=50, barWidth=1.2, humanReadable=True).drawOn(c, 30, 30)
    c.save()
    pil = pdfium.PdfDocument(buf.getvalue())[0].render(scale=scale).to_pil().convert("L")
    return np.array(pil)


def distort(img: np.ndarray, kind: str) -> np.ndarray:
    h, w = img.shape
    if kind == "clean":
        return img
    if kind.startswith("rotate"):
        deg = float(kind[len("rotate"):])
        m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
        return cv2.warpAffine(img, m, (w, h), borderValue=255)
    if kind == "blur":
        return cv2.GaussianBlur(img, (5, 5), 1.2)
    if kind in ("perspective", "photo"):
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[60, 40], [w + 20, 0], [w - 10, h + 30], [90, h - 10]])
        m = cv2.getPerspectiveTransform(src, dst)
        out = cv2.warpPerspective(img, m, (w + 120, h + 100), borderValue=120)
        if kind == "photo":  # + rotation, blur, lighting gradient, noise, JPEG
            hh, ww = out.shape
            r = cv2.getRotationMatrix2D((ww / 2, hh / 2), 4, 1.0)
            out = cv2.warpAffine(out, r, (ww, hh), borderValue=120)
            out = cv2.GaussianBlur(out, (3, 3), 0.9)
            out = out * np.linspace(1.0, 0.75, ww)[None, :]
            out = out + np.random.default_rng(0).normal(0, 4, out.shape)
            out = np.clip(out, 0, 255).astype(np.uint8)
            ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 80])
            out = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
        return out
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["clean", "rotate3", "rotate-6", "blur", "perspective", "photo"])
def test_code128_is_decoded(kind: str) -> None:
    img = distort(code128_image(), kind)
    found = decode_barcodes(img)
    assert [b.text for b in found] == [SERIAL]
    b = found[0]
    assert b.engine == "barcode:code128"
    assert b.conf == 1.0
    h, w = img.shape
    assert 0 <= b.box.x0 < b.box.x1 <= w + 1 and 0 <= b.box.y0 < b.box.y1 <= h + 1
    assert b.box.width > 100  # the box covers the bars, not a point


def test_color_input_is_accepted() -> None:
    img = cv2.cvtColor(code128_image(), cv2.COLOR_GRAY2BGR)
    assert [b.text for b in decode_barcodes(img)] == [SERIAL]


@pytest.mark.parametrize("value", ["SN-0042-XY", "A1B2C3D4E5"])
def test_alphanumeric_payload(value: str) -> None:
    assert [b.text for b in decode_barcodes(code128_image(value))] == [value]


@pytest.mark.parametrize("kind", ["blank", "noise", "text-only"])
def test_no_barcode_gives_empty_list(kind: str) -> None:
    if kind == "blank":
        img = np.full((200, 400), 255, np.uint8)
    elif kind == "noise":
        img = np.random.default_rng(3).integers(0, 255, (200, 400)).astype(np.uint8)
    else:
        img = np.full((200, 400), 255, np.uint8)
        cv2.putText(img, "S/N 54218873", (10, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    assert decode_barcodes(img) == []
