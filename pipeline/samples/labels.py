"""Serial-number label photos: a white sticker with the brand, model, "S/N ..." and a
Code 128 barcode of the serial (encoded by reportlab), photographed on a coloured
surface with rotation, perspective, glare and blur."""

from __future__ import annotations

import random

import cv2
import numpy as np
from PIL import Image, ImageDraw

from pipeline.samples.fonts import font
from pipeline.samples.photo import glare, mild_blur, transform_box


def code128_modules(value: str) -> list[tuple[bool, int]]:
    """The bar/space pattern of `value` in Code 128 as (is_bar, width in modules)."""
    from reportlab.graphics.barcode.code128 import Code128

    b = Code128(value)
    b.validate()
    b.encode()
    b.decompose()
    out = []
    for ch in b.decomposed:
        out.append((ch.isupper(), ord(ch.upper()) - ord("A") + 1))
    return out


def draw_barcode(draw: ImageDraw.ImageDraw, x: int, y: int, value: str, module: int, height: int) -> tuple[int, int, int, int]:
    cx = x
    for is_bar, wdt in code128_modules(value):
        if is_bar:
            draw.rectangle([cx, y, cx + wdt * module - 1, y + height], fill=(15, 15, 15))
        cx += wdt * module
    return (x, y, cx, y + height)


def render_sticker(brand: str, model: str, serial: str, *, serial_prefix: str = "S/N",
                   extra: str = "") -> tuple[Image.Image, dict]:
    """The flat sticker (about 8 px per mm) and the boxes of what is printed on it."""
    mods = sum(w for _, w in code128_modules(serial))
    module = 3
    width = max(760, mods * module + 120)
    height = 430
    img = Image.new("RGB", (width, height), (246, 246, 242))
    d = ImageDraw.Draw(img)
    boxes = {}
    d.rounded_rectangle([4, 4, width - 5, height - 5], radius=22, outline=(190, 190, 185), width=3)
    b = d.textbbox((40, 30), brand, font=font("sans-bold", 64))
    d.text((40, 30), brand, font=font("sans-bold", 64), fill=(10, 10, 10))
    boxes["brand"] = b
    if extra:
        d.text((width - 40, 50), extra, font=font("sans", 30), fill=(30, 30, 30), anchor="ra")
    d.text((40, 118), model, font=font("sans-bold", 36), fill=(20, 20, 20))
    boxes["model"] = d.textbbox((40, 118), model, font=font("sans-bold", 36))
    bc = draw_barcode(d, (width - mods * module) // 2, 185, serial, module, 120)
    boxes["barcode"] = bc
    sn = f"{serial_prefix} {serial}"
    d.text((width // 2, 326), sn, font=font("mono-bold", 46), fill=(10, 10, 10), anchor="ma")
    boxes["serial"] = d.textbbox((width // 2, 326), sn, font=font("mono-bold", 46), anchor="ma")
    return img, boxes


def label_photo(brand: str, model: str, serial: str, rng: random.Random, *, serial_prefix: str = "S/N",
                extra: str = "", background: tuple[int, int, int] = (60, 64, 70)) -> tuple[Image.Image, dict, list[str]]:
    """The sticker photographed: on a coloured surface, rotated, warped, glare, blur."""
    sticker, boxes = render_sticker(brand, model, serial, serial_prefix=serial_prefix, extra=extra)
    w, h = sticker.size
    W, H = int(w * 1.45), int(h * 2.0)
    cx, cy = W / 2 + rng.uniform(-30, 30), H / 2 + rng.uniform(-25, 25)
    ang = np.deg2rad(rng.uniform(-6, 6))
    corners = np.float32([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    rot = np.float32([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = corners @ rot.T + np.float32([cx, cy])
    # perspective: one side a little shorter than the other
    k = rng.uniform(0.03, 0.06) * h
    if rng.random() < 0.5:
        dst[1, 1] += k
        dst[2, 1] -= k
    else:
        dst[0, 1] += k
        dst[3, 1] -= k
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    Hm = cv2.getPerspectiveTransform(src, dst)
    nrng = np.random.default_rng(rng.randrange(2**32))
    bg = np.empty((H, W, 3), np.float32)
    bg[:] = background
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    bg *= (0.8 + 0.3 * (xx / W))[..., None]
    bg += nrng.normal(0, 5, (H, W, 1)).astype(np.float32)
    warped = cv2.warpPerspective(np.asarray(sticker, np.float32), Hm, (W, H), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), Hm, (W, H), flags=cv2.INTER_LINEAR)
    sh = np.roll(cv2.GaussianBlur(mask, (0, 0), 7), (6, 6), axis=(0, 1))
    bg *= (1 - 0.4 * sh)[..., None]
    out = bg * (1 - mask[..., None]) + warped * mask[..., None]
    img = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    img = glare(img, rng)
    img = mild_blur(img, 0.9)
    tboxes = {k: list(transform_box(v, Hm, (W, H))) for k, v in boxes.items()}
    degr = [f"rotation_{np.rad2deg(ang):.1f}deg", "perspective_warp", "coloured_background", "glare", "gaussian_blur_0.9",
            "jpeg_q85"]
    return img, tboxes, degr
