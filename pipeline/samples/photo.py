"""Phone-photo and scanner degradations.

Every geometric degradation is a homography; `transform_box` maps a truth box
through it so truth.json stays in the final image's pixel coordinates.
"""

from __future__ import annotations

import random

import cv2
import numpy as np
from PIL import Image, ImageFilter

Box = tuple[int, int, int, int]


def transform_box(box: Box, H: np.ndarray, size: tuple[int, int]) -> Box:
    """The axis-aligned box around `box`'s four corners mapped through H, clipped to `size`."""
    x0, y0, x1, y1 = box
    pts = np.array([[[x0, y0]], [[x1, y0]], [[x1, y1]], [[x0, y1]]], dtype=np.float64)
    out = cv2.perspectiveTransform(pts, H).reshape(-1, 2)
    w, h = size
    nx0 = int(max(0, np.floor(out[:, 0].min())))
    ny0 = int(max(0, np.floor(out[:, 1].min())))
    nx1 = int(min(w, np.ceil(out[:, 0].max())))
    ny1 = int(min(h, np.ceil(out[:, 1].max())))
    return (nx0, ny0, nx1, ny1)


def _table(size: tuple[int, int], rng: random.Random, base: tuple[int, int, int]) -> np.ndarray:
    w, h = size
    nrng = np.random.default_rng(rng.randrange(2**32))
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    # wood-ish streaks along x plus fine noise
    streak = nrng.normal(0, 1, (1, w)).astype(np.float32)
    streak = cv2.GaussianBlur(streak, (0, 0), sigmaX=6)
    streak = streak / (np.abs(streak).max() + 1e-6) * 12
    img += streak[..., None]
    img += nrng.normal(0, 4, (h, w, 1)).astype(np.float32)
    return img


def _shadow(h: int, w: int, rng: random.Random, strength: float) -> np.ndarray:
    """A multiplicative shading field: a linear gradient from a random side."""
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx / w - 0.5) * np.cos(ang) + (yy / h - 0.5) * np.sin(ang)
    t = (t - t.min()) / (t.max() - t.min() + 1e-6)
    return 1.0 - strength * t


def phone_photo(img: Image.Image, rng: random.Random, *, background=(74, 58, 46)) -> tuple[Image.Image, np.ndarray, list[str]]:
    """The page photographed with a phone on a darker table: perspective, shadow, blur.

    Returns (photo, homography from page pixels to photo pixels, degradations).
    """
    src = np.asarray(img.convert("RGB"), dtype=np.float32)
    h, w = src.shape[:2]
    mx, my = int(w * 0.22), int(h * 0.08)
    W, H = w + 2 * mx, h + 2 * my
    j = lambda a: rng.uniform(-a, a)  # noqa: E731
    dst = np.float32([
        [mx + j(30) + 25, my + j(20) + 10],
        [mx + w + j(30) - 25, my + j(20) + 10],
        [mx + w + j(25) + 10, my + h + j(20) - 5],
        [mx + j(25) - 10, my + h + j(20) - 5],
    ])
    srcq = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    Hm = cv2.getPerspectiveTransform(srcq, dst)
    table = _table((W, H), rng, background)
    warped = cv2.warpPerspective(src, Hm, (W, H), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), Hm, (W, H), flags=cv2.INTER_LINEAR)
    # soft drop shadow of the paper on the table
    shadow = cv2.GaussianBlur(mask, (0, 0), 9)
    shadow = np.roll(shadow, (8, 6), axis=(0, 1))
    table *= (1.0 - 0.45 * shadow)[..., None]
    out = table * (1 - mask[..., None]) + warped * mask[..., None]
    out *= _shadow(H, W, rng, rng.uniform(0.18, 0.28))[..., None]
    out *= np.float32([1.0, 0.98, 0.93])  # warm indoor light
    out = cv2.GaussianBlur(out, (0, 0), 0.8)
    nrng = np.random.default_rng(rng.randrange(2**32))
    out += nrng.normal(0, 2.5, out.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    degr = ["phone_photo", "perspective_warp", "table_background", "shadow_gradient", "gaussian_blur_0.8",
            "sensor_noise", "jpeg_q85"]
    return photo, Hm, degr


def scan(img: Image.Image, rng: random.Random) -> tuple[Image.Image, np.ndarray, list[str]]:
    """A flatbed scan: slight skew, grey paper tone, a little blur and noise."""
    src = np.asarray(img.convert("RGB"), dtype=np.float32)
    h, w = src.shape[:2]
    angle = rng.uniform(-0.9, 0.9)
    M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    Hm = np.vstack([M, [0, 0, 1]])
    out = cv2.warpAffine(src, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=(250, 250, 248))
    out = out * 0.96 + 6  # slightly grey paper, lifted blacks
    out = cv2.GaussianBlur(out, (0, 0), 0.6)
    nrng = np.random.default_rng(rng.randrange(2**32))
    out += nrng.normal(0, 3, (h, w, 1)).astype(np.float32)
    res = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    return res, Hm, [f"scan_skew_{angle:.2f}deg", "paper_tone", "gaussian_blur_0.6", "scanner_noise"]


def glare(img: Image.Image, rng: random.Random) -> Image.Image:
    """A soft white glare blob."""
    a = np.asarray(img, dtype=np.float32)
    h, w = a.shape[:2]
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.25, 0.6) * h
    rx, ry = rng.uniform(0.12, 0.2) * w, rng.uniform(0.08, 0.14) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = np.exp(-(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2))
    a = a + (255 - a) * (0.55 * g)[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def mild_blur(img: Image.Image, radius: float = 0.9) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(radius))


# ------------------------------------------------- dataset degradations (generator.py)
# Each returns the new image and, for geometric ones, the 3x3 homography from the old
# pixels to the new ones, so truth boxes can be mapped with transform_box.


def rotate_small(img: Image.Image, angle: float, fill=(250, 250, 246)) -> tuple[Image.Image, np.ndarray]:
    """Rotate by `angle` degrees (counter-clockwise), enlarging the canvas so nothing is cut off."""
    src = np.asarray(img.convert("RGB"))
    h, w = src.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    c, s = abs(M[0, 0]), abs(M[0, 1])
    W, H = int(np.ceil(h * s + w * c)), int(np.ceil(h * c + w * s))
    M[0, 2] += W / 2 - w / 2
    M[1, 2] += H / 2 - h / 2
    out = cv2.warpAffine(src, M, (W, H), flags=cv2.INTER_LINEAR, borderValue=tuple(int(v) for v in fill))
    return Image.fromarray(out), np.vstack([M, [0, 0, 1]])


def rotate_quarter(img: Image.Image, degrees: int) -> tuple[Image.Image, np.ndarray]:
    """Rotate clockwise by 90, 180 or 270 degrees (lossless); the exact pixel-edge homography."""
    w, h = img.size
    if degrees == 90:
        return img.transpose(Image.Transpose.ROTATE_270), np.array([[0, -1, h], [1, 0, 0], [0, 0, 1]], float)
    if degrees == 180:
        return img.transpose(Image.Transpose.ROTATE_180), np.array([[-1, 0, w], [0, -1, h], [0, 0, 1]], float)
    if degrees == 270:
        return img.transpose(Image.Transpose.ROTATE_90), np.array([[0, 1, 0], [-1, 0, w], [0, 0, 1]], float)
    raise ValueError(degrees)


def keystone(img: Image.Image, rng: random.Random, strength: float, fill=(90, 84, 78)) -> tuple[Image.Image, np.ndarray]:
    """A mild perspective: the corners pulled in by up to `strength` of the size."""
    src = np.asarray(img.convert("RGB"))
    h, w = src.shape[:2]
    j = lambda a: rng.uniform(0, a)  # noqa: E731
    dst = np.float32([[j(strength) * w, j(strength) * h], [w - j(strength) * w, j(strength) * h],
                      [w - j(strength) * w, h - j(strength) * h], [j(strength) * w, h - j(strength) * h]])
    Hm = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), dst)
    out = cv2.warpPerspective(src, Hm, (w, h), flags=cv2.INTER_LINEAR, borderValue=tuple(int(v) for v in fill))
    return Image.fromarray(out), Hm


def low_resolution(img: Image.Image, scale: float) -> tuple[Image.Image, np.ndarray]:
    w, h = img.size
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    out = img.resize((nw, nh), Image.Resampling.BILINEAR)
    return out, np.array([[nw / w, 0, 0], [0, nh / h, 0], [0, 0, 1]], float)


def hard_shadow(img: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    """The soft-edged shadow of a hand or phone falling over one corner of the page."""
    a = np.asarray(img.convert("RGB"), dtype=np.float32)
    h, w = a.shape[:2]
    mask = np.zeros((h, w), np.float32)
    corner = rng.randrange(4)
    cx = 0 if corner in (0, 3) else w
    cy = 0 if corner in (0, 1) else h
    pts = np.array([[cx, cy], [abs(cx - w * rng.uniform(0.4, 0.8)), cy], [cx, abs(cy - h * rng.uniform(0.3, 0.6))]],
                   np.int32)
    cv2.fillPoly(mask, [pts], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), max(3.0, 0.02 * max(w, h)))
    a *= (1 - strength * mask)[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def fold(img: Image.Image, rng: random.Random, *, horizontal: bool, pos: float) -> Image.Image:
    """A paper fold across the page at `pos` (fraction of height/width): a dark crease and a lit side."""
    a = np.asarray(img.convert("RGB"), dtype=np.float32)
    h, w = a.shape[:2]
    n = h if horizontal else w
    c = pos * n
    t = np.arange(n, dtype=np.float32) - c
    prof = 1 - 0.35 * np.exp(-(t / 2.5) ** 2) - 0.07 * np.exp(-(np.maximum(t, 0) / (0.05 * n)))  # crease, shade
    prof += 0.04 * np.exp(-(np.minimum(t, 0) / (0.05 * n)) ** 2) * (t < 0)
    prof = prof[:, None] if horizontal else prof[None, :]
    a = a * prof[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
