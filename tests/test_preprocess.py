"""Preprocessing: each step on synthetic receipts with a known distortion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline import preprocess as pp

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
RECEIPT_LINES = ["SUPER CAMERA STORE", "Invoice 20931", "Date 12/03/2024", "Canon EOS R6 2499.00",
                 "VAT 25% 499.80", "TOTAL 2499.00", "Thank you for shopping"]
KEY_WORDS = {"super", "camera", "store", "invoice", "total", "2499.00"}


def receipt(size: int = 30, width: int = 720) -> Image.Image:
    font = ImageFont.truetype(FONT, size)
    line_h = int(size * 1.8)
    img = Image.new("L", (width, 60 + line_h * len(RECEIPT_LINES)), 255)
    d = ImageDraw.Draw(img)
    for i, text in enumerate(RECEIPT_LINES):
        d.text((40, 30 + i * line_h), text, font=font, fill=0)
    return img


def on_dark_background(page: np.ndarray, corners: np.ndarray, canvas: tuple[int, int] = (1100, 900),
                       bg: int = 55) -> np.ndarray:
    """Warp `page` onto a dark canvas so its corners land on `corners` (tl,tr,br,bl)."""
    h, w = page.shape
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    W, H = canvas
    warped = cv2.warpPerspective(page, m, (W, H), borderValue=0)
    mask = cv2.warpPerspective(np.full_like(page, 255), m, (W, H), borderValue=0)
    noise = np.random.default_rng(1).normal(0, 5, (H, W))
    back = np.clip(bg + noise, 0, 255).astype(np.uint8)
    return np.where(mask > 127, warped, back).astype(np.uint8)


def words_of(lines) -> set[str]:
    return {w.text.lower().strip(".,:;") for ln in lines for w in ln.words} | \
        {w.text.lower() for ln in lines for w in ln.words}


# ------------------------------------------------------------------ geometry

@pytest.mark.parametrize("deg", [0, 90, 180, 270])
def test_rotate_quarter_matrix_maps_pixels(deg: int) -> None:
    img = np.zeros((40, 60), np.uint8)
    img[5, 10] = 255
    out, m = pp.rotate_quarter(img, deg)
    p = pp.Preprocessed(image=out, transform=m).map_points(np.array([[10, 5]]))[0]
    y, x = np.argwhere(out == 255)[0]
    assert (round(p[0]), round(p[1])) == (x, y)
    assert out.shape == (img.shape if deg in (0, 180) else img.shape[::-1])


@pytest.mark.parametrize("angle", [-8.0, -3.0, 2.0, 5.0, 12.0])
def test_estimate_skew_finds_the_rotation(angle: float) -> None:
    # PIL rotates counter-clockwise for positive angles, so +angle needs angle degrees clockwise back
    img = np.array(receipt().rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC))
    found = pp.estimate_skew(img)
    assert abs(found - angle) <= 0.5


def test_estimate_skew_of_a_straight_page_is_zero() -> None:
    assert abs(pp.estimate_skew(np.array(receipt()))) <= 0.3


def test_estimate_skew_of_a_blank_page_is_zero() -> None:
    assert pp.estimate_skew(np.full((300, 300), 255, np.uint8)) == 0.0


@pytest.mark.parametrize("corners", [
    [[250, 80], [820, 130], [780, 850], [200, 800]],  # phone photo, perspective
    [[300, 60], [760, 60], [760, 860], [300, 860]],  # straight, on a dark table
    [[180, 150], [900, 90], [950, 700], [140, 760]],  # strong keystone
], ids=["perspective", "straight", "keystone"])
def test_find_document_quad_on_dark_background(corners: list[list[int]]) -> None:
    page = np.array(receipt())
    photo = on_dark_background(page, np.array(corners, dtype=np.float64))
    quad = pp.find_document_quad(photo)
    assert quad is not None
    assert np.max(np.abs(quad - np.array(corners))) < 25  # px on a 1100-px photo


@pytest.mark.parametrize("case", ["flatbed", "blank", "noise"])
def test_find_document_quad_declines_without_a_clear_sheet(case: str) -> None:
    if case == "flatbed":
        img = np.array(receipt())
    elif case == "blank":
        img = np.full((500, 400), 200, np.uint8)
    else:
        img = np.random.default_rng(0).integers(0, 255, (500, 400)).astype(np.uint8)
    assert pp.find_document_quad(img) is None


def test_warp_quad_makes_the_sheet_upright() -> None:
    page = np.array(receipt())
    corners = np.array([[250, 80], [820, 130], [780, 850], [200, 800]], dtype=np.float64)
    photo = on_dark_background(page, corners)
    out = pp.preprocess(photo, lighting=False, rescale_text=False, deskew=False)
    assert out.warped and "perspective" in out.steps
    # the warped image is the sheet: almost all of it paper-white, no dark table left at the borders
    border = np.concatenate([out.image[:5].ravel(), out.image[-5:].ravel(), out.image[:, :5].ravel()])
    assert np.median(border) > 200
    # a corner of the sheet maps to (near) the origin
    assert np.allclose(out.map_points(corners[:1])[0], [0, 0], atol=3)


def test_normalize_lighting_flattens_a_shadow() -> None:
    page = np.array(receipt()).astype(np.float64)
    h, w = page.shape
    shadow = np.linspace(1.0, 0.35, w)[None, :] * np.linspace(1.0, 0.8, h)[:, None]
    shaded = (page * shadow).astype(np.uint8)
    out = pp.normalize_lighting(shaded)
    paper = page > 200
    assert shaded[paper].std() > 25
    assert out[paper].std() < 12
    assert np.median(out[page < 50]) < 100  # ink is still dark


@pytest.mark.parametrize("size", [12, 20, 30, 45, 90])
def test_text_height_and_rescale_factor(size: int) -> None:
    img = np.array(receipt(size=size, width=size * 26))
    th = pp.estimate_text_height(img)
    assert th is not None and 0.55 * size <= th <= 0.95 * size  # DejaVu capitals/x-height mix
    f = pp.rescale_factor(img)
    # after rescaling, the text is within 25% of the target (or was already)
    assert 0.75 * pp.TARGET_TEXT_HEIGHT <= th * f <= 1.3 * pp.TARGET_TEXT_HEIGHT


def test_preprocess_records_rotation_and_skew() -> None:
    img = np.array(receipt().rotate(4, expand=True, fillcolor=255, resample=Image.BICUBIC))
    img = np.ascontiguousarray(np.rot90(img, 2))  # upside down
    out = pp.preprocess(img, rotation=180)
    assert out.rotation == 180
    assert abs(out.skew - 4) <= 0.5
    assert out.image.dtype == np.uint8 and out.image.ndim == 2


def test_preprocess_uses_the_orientation_detector_only_when_confident() -> None:
    img = np.array(receipt())
    calls: list[tuple[int, int]] = []

    def detector(small: np.ndarray) -> tuple[int, float]:
        calls.append(small.shape)
        return 90, 0.2  # low confidence: must be ignored

    out = pp.preprocess(img, rotation=None, orientation_detector=detector)
    assert calls and out.rotation == 0
    out2 = pp.preprocess(img, rotation=None, orientation_detector=lambda s: (270, 5.0))
    assert out2.rotation == 270


# ------------------------------------------------------- preprocessing + OCR

def _distort(kind: str) -> np.ndarray:
    page = np.array(receipt())
    if kind == "skew5":
        return np.array(Image.fromarray(page).rotate(5, expand=True, fillcolor=255, resample=Image.BICUBIC))
    if kind == "perspective":
        return on_dark_background(page, np.array([[250, 80], [820, 130], [780, 850], [200, 800]], float))
    if kind == "shadow":
        h, w = page.shape
        g = np.linspace(1.0, 0.3, w)[None, :] * np.ones((h, 1))
        return (page * g).astype(np.uint8)
    if kind == "small":
        return cv2.resize(page, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["skew5", "perspective", "shadow", "small"])
def test_preprocessed_distorted_receipt_reads(kind: str) -> None:
    from pipeline.ocr.tesseract import TesseractEngine

    out = pp.preprocess(_distort(kind))
    found = words_of(TesseractEngine().recognize(out.image, ("eng",)))
    assert KEY_WORDS <= found, f"missing {KEY_WORDS - found}"
