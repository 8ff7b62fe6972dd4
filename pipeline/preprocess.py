"""Image clean-up before OCR: pure functions from numpy arrays to numpy arrays.

Each step returns the new image and, where geometry changes, the 3x3 matrix
that maps pixel coordinates of its input to its output, so a caller can map
any point (a barcode found on the original photo, say) into the coordinates
of the image the OCR saw. `preprocess` chains the steps and records what it
did in a `Preprocessed` value:

    gray -> perspective (photo of paper on a darker background)
         -> quarter-turn rotation (given, or from an orientation detector)
         -> deskew (projection profile, +-15 degrees)
         -> lighting normalisation (divide by a large-kernel background)
         -> rescale (median character height to `TARGET_TEXT_HEIGHT`)

Conventions: `rotation` and `skew` are degrees of *clockwise* rotation that
were applied to the image (so a page scanned 5 degrees counter-clockwise gets
skew = +5). The only OpenCV calls whose conventions matter are
`getRotationMatrix2D` (positive = counter-clockwise) and `getPerspectiveTransform`;
`minAreaRect` (whose angle convention changed in OpenCV 5) is not used.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

log = logging.getLogger(__name__)

#: median height in pixels of a connected component (character) after rescaling.
#: On 30 SROIE receipts (psm 6) targets 20/24/30 gave the same word recall
#: (0.75) and beat no rescaling (0.72); 20 was the fastest (0.64 s median
#: against 0.75 s for 24), so it is the default.
TARGET_TEXT_HEIGHT = 20.0
#: never upscale beyond this many pixels (keeps tesseract's time bounded)
MAX_PIXELS = 16_000_000
MAX_SKEW = 15.0
#: lighting is normalised only when the paper's brightness varies more than this
#: (on flat scans the division costs a little recall: ocr_probe.py)
UNEVEN_LIGHTING = 0.15

OrientationDetector = Callable[[np.ndarray], "tuple[int, float] | None"]


@dataclass(frozen=True)
class Preprocessed:
    image: np.ndarray  # 2-D uint8, what the OCR engine sees
    rotation: int = 0  # quarter-turn rotation applied, degrees clockwise
    skew: float = 0.0  # small-angle rotation applied, degrees clockwise
    scale: float = 1.0
    warped: bool = False  # perspective correction applied
    transform: np.ndarray = field(default_factory=lambda: np.eye(3))  # input px -> output px
    steps: tuple[str, ...] = ()

    def map_points(self, pts: np.ndarray) -> np.ndarray:
        """Map N x 2 points from the input image into `image` coordinates."""
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        h = np.hstack([pts, np.ones((len(pts), 1))]) @ self.transform.T
        return h[:, :2] / h[:, 2:3]


# ----------------------------------------------------------------- basic steps

def to_gray(image: np.ndarray) -> np.ndarray:
    """A 2-D uint8 copy-free view when already gray; BGR/BGRA converted."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"unsupported image shape {image.shape}")


def _downscale(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    h, w = gray.shape[:2]
    f = min(1.0, max_side / max(h, w))
    if f >= 1.0:
        return gray, 1.0
    return cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA), f


def rotate_quarter(gray: np.ndarray, degrees_cw: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by 0/90/180/270 degrees clockwise (lossless). Returns image, matrix."""
    d = degrees_cw % 360
    h, w = gray.shape[:2]
    if d == 0:
        return gray, np.eye(3)
    if d == 90:
        out = cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE)
        m = np.array([[0, -1, h - 1], [1, 0, 0], [0, 0, 1]], dtype=np.float64)
    elif d == 180:
        out = cv2.rotate(gray, cv2.ROTATE_180)
        m = np.array([[-1, 0, w - 1], [0, -1, h - 1], [0, 0, 1]], dtype=np.float64)
    elif d == 270:
        out = cv2.rotate(gray, cv2.ROTATE_90_COUNTERCLOCKWISE)
        m = np.array([[0, 1, 0], [-1, 0, w - 1], [0, 0, 1]], dtype=np.float64)
    else:
        raise ValueError(f"rotation must be a multiple of 90, got {degrees_cw}")
    return out, m


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    """Dark-on-light ink as a 0/255 mask (Otsu on a lightly blurred copy)."""
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask


def estimate_skew(gray: np.ndarray, max_angle: float = MAX_SKEW) -> float:
    """Degrees to rotate *clockwise* so text lines become horizontal, found by
    maximising the sharpness of the horizontal projection profile of the ink
    (coarse 0.5-degree search over +-max_angle, then 0.1-degree refinement).
    Returns 0.0 when there is too little ink or no clear optimum."""
    small, _ = _downscale(gray, 1000)
    mask = _ink_mask(small)
    ys, xs = np.nonzero(mask)
    if len(xs) < 200 or len(xs) > 0.5 * mask.size:
        return 0.0
    if len(xs) > 80_000:
        idx = np.random.default_rng(0).choice(len(xs), 80_000, replace=False)
        xs, ys = xs[idx], ys[idx]
    xs = xs.astype(np.float64) - small.shape[1] / 2
    ys = ys.astype(np.float64) - small.shape[0] / 2

    def score(ccw_deg: float) -> float:
        a = math.radians(ccw_deg)
        # row of each ink pixel after rotating the image ccw_deg counter-clockwise
        yr = -math.sin(a) * xs + math.cos(a) * ys
        hist = np.bincount((yr - yr.min()).astype(np.int64))
        return float(np.dot(hist, hist))

    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    scores = np.array([score(a) for a in coarse])
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5001, 0.1)
    fscores = np.array([score(a) for a in fine])
    best = float(fine[int(np.argmax(fscores))])
    base = score(0.0)
    if base > 0 and fscores.max() < base * 1.02:  # no clear gain over "not skewed"
        return 0.0
    if abs(best) >= max_angle - 0.25:
        # the optimum sits on the edge of the search range: not a text skew but a
        # long straight feature (a coloured margin stripe, a table border, the page edge)
        return 0.0
    return round(-best, 2)


def rotate_small(gray: np.ndarray, degrees_cw: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by a small angle about the centre, growing the canvas so nothing is
    cut off; the new corners are filled with the page's background (white)."""
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees_cw, 1.0)  # cv2: positive = counter-clockwise
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(math.ceil(h * sin + w * cos)), int(math.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    border = int(np.percentile(gray, 95))
    out = cv2.warpAffine(gray, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=border)
    return out, np.vstack([m, [0, 0, 1]])


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl from 4 unordered points (by angle around the centroid)."""
    pts = pts.reshape(4, 2).astype(np.float64)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise in image coordinates (y down), starting near -180 degrees
    start = int(np.argmin(pts.sum(axis=1)))  # top-left has the smallest x+y
    return np.roll(pts, -start, axis=0)


def find_document_quad(gray: np.ndarray) -> np.ndarray | None:
    """Corners (tl, tr, br, bl; 4 x 2 float, input pixels) of a bright sheet
    on a darker background, or None when there is no clear quadrilateral (a
    flatbed scan, a close-up without visible edges, a cluttered photo)."""
    small, f = _downscale(gray, 640)
    h, w = small.shape
    blur = cv2.GaussianBlur(small, (7, 7), 0)
    otsu, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    k = max(3, (min(h, w) // 40) | 1)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    cnt = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(cnt)
    if not (0.10 * h * w <= area <= 0.92 * h * w):
        return None
    hull = cv2.convexHull(cnt)
    peri = cv2.arcLength(hull, True)
    quad = None
    for eps in (0.02, 0.03, 0.04, 0.05, 0.06):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            quad = approx.reshape(4, 2).astype(np.float64)
            break
    if quad is None:
        return None
    # the quadrilateral must explain the blob (not a triangle-ish or ragged shape)
    if cv2.contourArea(quad.astype(np.float32)) < 0.85 * cv2.contourArea(hull) or \
            cv2.contourArea(quad.astype(np.float32)) > 1.15 * cv2.contourArea(hull):
        return None
    # the sheet must be clearly brighter than what surrounds it
    inside = np.zeros_like(small)
    cv2.fillConvexPoly(inside, quad.astype(np.int32), 255)
    out_px = blur[inside == 0]
    in_px = blur[inside > 0]
    if out_px.size < 0.05 * blur.size or float(np.median(in_px)) - float(np.median(out_px)) < 40:
        return None
    quad = _order_corners(quad)
    if not _edges_are_steps(blur, quad):
        return None
    return quad / f


def _edges_are_steps(img: np.ndarray, quad: np.ndarray, *, offset: float = 5.0, min_step: float = 30.0) -> bool:
    """True when the quad's sides are real sheet edges: along every side that is
    inside the image, the brightness steps down sharply from inside to outside
    (a shadow or lighting gradient split by Otsu has no such step), and at least
    two sides are such edges."""
    h, w = img.shape
    centre = quad.mean(axis=0)
    real_edges = 0
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        t = np.linspace(0.1, 0.9, 24)[:, None]
        pts = a + (b - a) * t
        d = b - a
        normal = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
        if np.dot(centre - (a + b) / 2, normal) < 0:
            normal = -normal  # make it point inwards
        inner = np.round(pts + normal * offset).astype(int)
        outer = np.round(pts - normal * offset).astype(int)
        ok = (outer[:, 0] >= 0) & (outer[:, 0] < w) & (outer[:, 1] >= 0) & (outer[:, 1] < h) & \
             (inner[:, 0] >= 0) & (inner[:, 0] < w) & (inner[:, 1] >= 0) & (inner[:, 1] < h)
        if ok.sum() < 8:
            continue  # this side lies on (or beyond) the image border
        step = img[inner[ok, 1], inner[ok, 0]].astype(float) - img[outer[ok, 1], outer[ok, 0]].astype(float)
        if float(np.median(step)) < min_step:
            return False
        real_edges += 1
    return real_edges >= 2


def warp_quad(gray: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Warp the quadrilateral `quad` (tl, tr, br, bl) to an upright rectangle."""
    tl, tr, br, bl = quad
    width = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    height = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    width, height = max(width, 8), max(height, 8)
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    out = cv2.warpPerspective(gray, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, m.astype(np.float64)


def _background(gray: np.ndarray) -> np.ndarray:
    """The page with the ink removed (large grey-level closing), smoothed, at a
    reduced size."""
    small, _ = _downscale(gray, 800)
    k = max(5, (min(small.shape) // 25) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return cv2.GaussianBlur(bg, (0, 0), k / 2)


def lighting_unevenness(gray: np.ndarray) -> float:
    """How uneven the paper's brightness is: (p95 - p5) / p95 of the background
    estimate (0 for a flatbed scan, ~0.3+ under a shadow)."""
    bg = _background(gray).astype(np.float64)
    lo, hi = np.percentile(bg, [5, 95])
    return float((hi - lo) / max(hi, 1.0))


#: a page whose darkest 1% of pixels is lighter than this is faint print (a
#: fading thermal receipt): its grey levels are stretched before anything else
FAINT_DARKEST = 110


def stretch_faint(gray: np.ndarray) -> np.ndarray | None:
    """Contrast stretch of faint print (p1 -> 0, p99.5 -> 255), or None when the
    page has real blacks already. Otsu-based steps (ink mask, text height) and the
    OCR engines then see the text."""
    small, _ = _downscale(gray, 1000)
    lo, hi = np.percentile(small, [1, 99.5])
    if lo < FAINT_DARKEST or hi - lo < 25:
        return None
    lut = np.clip((np.arange(256, dtype=np.float64) - lo) * 255.0 / (hi - lo), 0, 255).astype(np.uint8)
    return cv2.LUT(gray, lut)


def normalize_lighting(gray: np.ndarray) -> np.ndarray:
    """Flatten shadows and uneven lighting: divide by a background estimate (the
    page with the ink removed by a large grey-level closing, then smoothed), so
    the paper becomes uniformly near-white and the ink keeps its contrast."""
    bg = cv2.resize(_background(gray), (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, np.maximum(bg, 1), scale=255)


def estimate_text_height(gray: np.ndarray) -> float | None:
    """Median height in pixels of character-like connected components, or None."""
    small, f = _downscale(gray, 1600)
    mask = _ink_mask(small)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    hs = stats[1:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    ws = stats[1:, cv2.CC_STAT_WIDTH].astype(np.float64)
    area = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    H = small.shape[0]
    keep = (hs >= 4) & (hs <= 0.15 * H) & (ws <= 2.5 * hs) & (ws >= 0.1 * hs) & (area >= 10) & \
        (area <= 0.95 * hs * ws + 1)
    if keep.sum() < 5:
        return None
    return float(np.median(hs[keep])) / f


def rescale_factor(gray: np.ndarray, target: float = TARGET_TEXT_HEIGHT) -> float:
    """Factor that brings the median character height to about `target` pixels
    (1.0 when it is already within 25% of it or cannot be measured)."""
    th = estimate_text_height(gray)
    if th is None:
        return 1.0
    s = target / th
    if 0.8 <= s <= 1.25:
        return 1.0
    s = min(max(s, 0.35), 4.0)
    h, w = gray.shape[:2]
    if h * w * s * s > MAX_PIXELS:
        s = math.sqrt(MAX_PIXELS / (h * w))
    return 1.0 if 0.8 <= s <= 1.25 else s


def rescale(gray: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    if factor == 1.0:
        return gray, np.eye(3)
    h, w = gray.shape[:2]
    nw, nh = max(1, round(w * factor)), max(1, round(h * factor))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    out = cv2.resize(gray, (nw, nh), interpolation=interp)
    return out, np.diag([nw / w, nh / h, 1.0])


# -------------------------------------------------------------------- pipeline

def preprocess(image: np.ndarray, *, rotation: int | None = 0,
               orientation_detector: OrientationDetector | None = None,
               perspective: bool = True, deskew: bool = True, lighting: bool = True,
               rescale_text: bool = True, target_text_height: float = TARGET_TEXT_HEIGHT,
               min_orientation_conf: float = 1.0) -> Preprocessed:
    """Clean a page or photo up for OCR (see the module docstring for the order).

    rotation: a known quarter-turn (degrees clockwise) to apply, or None to ask
        `orientation_detector` (e.g. `pipeline.ocr.tesseract.detect_orientation`)
        on a downscaled copy; its answer is used only when its confidence is at
        least `min_orientation_conf`.
    """
    gray = to_gray(image)
    if gray.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {gray.dtype}")
    total = np.eye(3)
    steps: list[str] = []
    warped = False

    stretched = stretch_faint(gray)
    if stretched is not None:
        gray = stretched
        steps.append("contrast")

    if perspective:
        quad = find_document_quad(gray)
        if quad is not None:
            gray, m = warp_quad(gray, quad)
            total = m @ total
            warped = True
            steps.append("perspective")

    rot = 0
    if rotation is None and orientation_detector is not None:
        small, _ = _downscale(gray, 1400)
        found = orientation_detector(small)
        if found is not None and found[1] >= min_orientation_conf:
            rot = found[0]
        steps.append(f"osd:{found[0] if found else 'none'}")
    elif rotation:
        rot = int(rotation) % 360
    if rot:
        gray, m = rotate_quarter(gray, rot)
        total = m @ total
        steps.append(f"rotate:{rot}")

    skew = 0.0
    if deskew:
        skew = estimate_skew(gray)
        if abs(skew) >= 0.3:
            gray, m = rotate_small(gray, skew)
            total = m @ total
            steps.append(f"deskew:{skew:+.1f}")
        else:
            skew = 0.0

    if lighting and lighting_unevenness(gray) >= UNEVEN_LIGHTING:
        gray = normalize_lighting(gray)
        steps.append("lighting")

    scale = 1.0
    if rescale_text:
        scale = rescale_factor(gray, target_text_height)
        if scale != 1.0:
            gray, m = rescale(gray, scale)
            total = m @ total
            steps.append(f"scale:{scale:.2f}")

    log.debug("preprocess: %s", ",".join(steps) or "nothing")
    return Preprocessed(image=np.ascontiguousarray(gray), rotation=rot, skew=skew, scale=scale, warped=warped,
                        transform=total, steps=tuple(steps))
