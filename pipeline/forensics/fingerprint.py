"""Receipt fingerprints: find the same receipt in another claim.

A `ReceiptFingerprint` is computed once per receipt (`fingerprint(inp)`) and
stored with the claim's verdict (`Store.record(..., fingerprint=fp)`); the
store looks a new receipt up among all stored ones (`Store.find_duplicates`).
What it holds, and what each part survives:

* `sha256` of the file: the same file.
* `content_key`: a hash of the reseller (VAT number, else normalised name),
  the receipt number and the purchase date, as extracted: the same purchase
  on a re-typed, re-printed or edited receipt.
* `hashes`: 64-bit perceptual hashes (pHash) of the receipt paper, found on
  the image and rectified, at a canonical size: the whole paper ("g"), and
  four windows anchored at its top, bottom, left and right edges whose size
  is measured in the other dimension, so that cropping one side leaves at
  least one window as it was. They are only the index: each hash is split
  into four 16-bit bands, stored as integer keys in an indexed column, and a
  look-up fetches the few stored receipts that share a band (LSH) instead of
  comparing every image.
* `features`: what verifies a candidate: up to 500 ORB keypoints (position
  and 256-bit binary descriptor of a local patch), a coarse ink-density
  grid (one 4-bit cell per ~0.7 text height: text cannot be read from it)
  and, per inked cell, 32 bits of brightness comparisons between point pairs
  (which shapes are there, not the pixels). A candidate matches when
  a homography fitted to the keypoint matches (RANSAC) lines the query up
  with it and the ink grids then agree where they overlap: at most two
  blobs of cells that clearly disagree in runs of three (a word).
  Receipts of the same shop and layout share their header and footer but
  differ in numbers, dates and item lines; those cells disagree in blocks,
  which is what tells them apart.

Nothing stored is personal data: hashes, descriptors of local patches and an
unreadable density grid. The query's own normalised image is kept in memory
only (`ReceiptFingerprint.image`), never stored.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from pipeline.forensics import ForensicInput

log = logging.getLogger(__name__)

VERSION = 1
N_TESTS = 32  # binary tests per grid cell
TEST_MARGIN = 12.0  # grey levels: a test counts only where the query's two points differ by more
LONG_SIDE = 1000  # the rectified paper is scaled to this many pixels on its long side
ORB_FEATURES = 500
CELL_MIN, CELL_MAX = 4, 12  # ink grid cell, pixels of the normalised page: ~0.7 of the text height
HASH_KINDS = ("g", "t", "b", "l", "r")  # whole page; windows anchored top, bottom, left, right
BANDS = 4  # 16-bit bands of a 64-bit hash
#: verification: after alignment, ink-grid cells that disagree clearly, in horizontal runs of
#: three or more (a different word or number), grouped into blobs. A match has at most
#: MAX_BLOBS such blobs and at most MAX_MISMATCH of the overlapping inked cells in them.
BAD_TESTS = 0.25  # a cell disagrees when more than this share of its clear tests differ
MAX_BLOBS = 4
MAX_MISMATCH = 0.05
SAME_IMAGE_THRESHOLD = 0.5  # score = min(1 - blobs / 9, 1 - mismatch / 0.1): 0.5 <=> the limits above
MIN_INLIERS = 15
MIN_OVERLAP = 0.5  # the overlap must cover half of the smaller page


@dataclass(frozen=True, eq=False)
class ReceiptFingerprint:
    """What identifies a receipt across claims. `image` (the query's normalised
    grey page) is kept in memory for verifying candidates, never stored."""

    sha256: str
    content_key: str | None = None
    hashes: tuple[tuple[str, int], ...] = ()  # (kind, 64-bit pHash), rotation 0
    features: bytes | None = None  # ORB keypoints + descriptors + ink grid, compressed
    version: int = VERSION
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    query_hashes: tuple[tuple[str, int], ...] = field(default=(), repr=False, compare=False)  # rotations too

    def band_keys(self, *, query: bool = False) -> list[int]:
        """The LSH keys stored (or, with query=True, looked up: all four
        rotations of the page)."""
        src = self.query_hashes if query and self.query_hashes else self.hashes
        return sorted({band_key(kind, h, i) for kind, h in src for i in range(BANDS)})

    def hashes_hex(self) -> str:
        return " ".join(f"{k}:{h:016x}" for k, h in self.hashes)


def band_key(kind: str, h: int, band: int) -> int:
    """An integer key for band `band` of hash `h` of `kind` (fits in 32 bits)."""
    value = (h >> (16 * band)) & 0xFFFF
    return ((HASH_KINDS.index(kind) * BANDS + band) << 16) | value


def parse_hashes(text: str) -> list[tuple[str, int]]:
    out = []
    for part in text.split():
        k, _, v = part.partition(":")
        if k in HASH_KINDS and v:
            out.append((k, int(v, 16)))
    return out


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


# ----------------------------------------------------------------- content key

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L"})


def _norm_text(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.translate(_FOLD))
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^0-9A-Z]", "", s.upper())


def content_key(reseller: str | None, receipt_number: str | None, purchase_date: str | None) -> str | None:
    """sha256 of (reseller, receipt number, date) normalised, or None when one is missing."""
    r, n, d = (_norm_text(x or "") for x in (reseller, receipt_number, purchase_date))
    if not (r and n and d):
        return None
    return hashlib.sha256(f"claimcheck-receipt:v1|{r}|{n}|{d}".encode()).hexdigest()


def _content_key_of(inp: ForensicInput) -> str | None:
    ex = inp.extraction
    if ex is None:
        return None
    vat = ex.reseller_vat.value if ex.reseller_vat is not None else None
    vat_digits = re.sub(r"\D", "", vat or "")
    reseller = vat_digits if len(vat_digits) >= 6 else (ex.reseller_name.value if ex.reseller_name else None)
    number = ex.receipt_number.value if ex.receipt_number else None
    date = ex.purchase_date.value if ex.purchase_date else None
    return content_key(reseller, number, date)


# ----------------------------------------------------------------- image

def _gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY if img.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return img


def _order_quad(q: np.ndarray) -> np.ndarray:
    s = q.sum(1)
    d = np.diff(q, axis=1).ravel()
    return np.array([q[s.argmin()], q[d.argmin()], q[s.argmax()], q[d.argmax()]], np.float32)


def find_paper(gray: np.ndarray) -> np.ndarray:
    """The receipt paper, rectified: the largest bright region when it stands
    out from a darker background (a photo on a table), else the whole image."""
    h, w = gray.shape
    s = 800 / max(h, w)
    small = cv2.resize(gray, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    blur = cv2.GaussianBlur(small, (0, 0), 3)
    _, th = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    th = cv2.morphologyEx(th, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(th, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return gray
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c) / (small.shape[0] * small.shape[1])
    if area < 0.2 or area > 0.93:
        return gray
    # the paper must be brighter than what surrounds it
    mask = np.zeros_like(small)
    cv2.drawContours(mask, [c], -1, 255, -1)
    if float(small[mask > 0].mean()) < float(small[mask == 0].mean()) + 25:
        return gray
    q = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True)
    if len(q) != 4:
        q = cv2.boxPoints(cv2.minAreaRect(c))
    quad = _order_quad(q.reshape(4, 2).astype(np.float32) / s)
    pw = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2])))
    ph = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    if pw < 50 or ph < 50:
        return gray
    M = cv2.getPerspectiveTransform(quad, np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32))
    return cv2.warpPerspective(gray, M, (pw, ph), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def normalise(img: np.ndarray, rotation: int = 0) -> np.ndarray:
    """Grey, paper only, upright (`rotation`: degrees clockwise the page must
    turn, as OCR found), long side LONG_SIDE."""
    g = find_paper(_gray(img))
    if rotation % 360 == 90:
        g = cv2.rotate(g, cv2.ROTATE_90_CLOCKWISE)
    elif rotation % 360 == 180:
        g = cv2.rotate(g, cv2.ROTATE_180)
    elif rotation % 360 == 270:
        g = cv2.rotate(g, cv2.ROTATE_90_COUNTERCLOCKWISE)
    h, w = g.shape
    s = LONG_SIDE / max(h, w)
    return cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))),
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)


def phash(gray: np.ndarray) -> int:
    """64-bit DCT perceptual hash."""
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    d = cv2.dct(small)[:8, :8].ravel()
    med = np.median(d[1:])
    bits = d > med
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def window_hashes(page: np.ndarray) -> list[tuple[str, int]]:
    """pHash of the whole page and of four edge-anchored windows. A top/bottom
    window is 0.9 page widths tall (capped at 85 % of the height), a left/right
    one 0.4 page heights wide (capped at 85 % of the width): measured in the
    dimension a crop of the opposite side leaves alone."""
    h, w = page.shape
    out = [("g", phash(page))]
    wh = min(int(0.9 * w), int(0.85 * h))
    ww = min(int(0.4 * h), int(0.85 * w))
    out.append(("t", phash(page[:wh])))
    out.append(("b", phash(page[h - wh:])))
    out.append(("l", phash(page[:, :ww])))
    out.append(("r", phash(page[:, w - ww:])))
    return out


def ink(page: np.ndarray) -> np.ndarray:
    """0..1 darkness of each pixel against the local paper brightness."""
    g = cv2.GaussianBlur(page.astype(np.float32), (0, 0), 1.0)
    bg = cv2.blur(cv2.dilate(g, np.ones((15, 15), np.uint8)), (15, 15))
    return np.clip((bg - g) / np.maximum(bg * 0.5, 20), 0, 1)


def text_height(a: np.ndarray) -> float:
    """Median height of the glyph-like ink components of an ink map, pixels."""
    n, _, stats, _ = cv2.connectedComponentsWithStats((a > 0.4).astype(np.uint8), connectivity=8)
    if n <= 1:
        return 14.0
    w, h, area = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    ok = (h >= 3) & (h <= 80) & (w <= 4 * h) & (area >= 4)
    return float(np.median(h[ok])) if ok.sum() >= 10 else 14.0


def ink_grid(page: np.ndarray, valid: np.ndarray | None = None, cell: int | None = None,
             a: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Mean ink per cell; the cell is ~0.7 text heights unless given."""
    if a is None:
        a = ink(page)
    if cell is None:
        cell = int(np.clip(round(0.7 * text_height(a)), CELL_MIN, CELL_MAX))
    h, w = a.shape
    gh, gw = max(1, h // cell), max(1, w // cell)
    g = cv2.resize(a[:gh * cell, :gw * cell], (gw, gh), interpolation=cv2.INTER_AREA)
    if valid is None:
        return g, None, cell
    v = cv2.resize(valid[:gh * cell, :gw * cell], (gw, gh), interpolation=cv2.INTER_AREA) > 0.99
    return g, v, cell


_ORB = None


def _orb() -> cv2.ORB:
    global _ORB
    if _ORB is None:
        _ORB = cv2.ORB_create(nfeatures=ORB_FEATURES, scaleFactor=1.2, nlevels=6,  # type: ignore[attr-defined]
                              fastThreshold=10)
    return _ORB


@dataclass(frozen=True)
class Features:
    shape: tuple[int, int]
    points: np.ndarray  # (n, 2) float32
    descriptors: np.ndarray  # (n, 32) uint8
    grid: np.ndarray  # (gh, gw) float32 0..1
    cell: int = 12
    codes: np.ndarray | None = None  # (gh, gw) uint32: binary tests on each inked cell (0 elsewhere)
    radius: float = 10.0  # of the binary tests, pixels


def compute_features(page: np.ndarray) -> Features:
    kps, desc = _orb().detectAndCompute(page, None)
    pts = np.array([k.pt for k in kps], np.float32).reshape(-1, 2)
    if desc is None:
        desc = np.zeros((0, 32), np.uint8)
    a = ink(page)
    th = text_height(a)
    grid, _, cell = ink_grid(page, a=a)
    radius = round(0.75 * th, 2)
    bits, _ = cell_tests(page, cell, radius, grid.shape)
    codes = pack_bits(bits)
    codes[grid < 0.05] = 0  # nothing to compare on blank paper
    return Features(shape=page.shape[:2], points=pts, descriptors=desc, grid=grid, cell=cell, codes=codes,
                    radius=radius)


_PAIRS = np.random.default_rng(20261123).uniform(-1.0, 1.0, size=(N_TESTS, 4)).astype(np.float32)
_WEIGHTS = (np.uint32(1) << np.arange(N_TESTS, dtype=np.uint32)).astype(np.uint32)


def cell_tests(page: np.ndarray, cell: int, radius: float, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """For every grid cell, N_TESTS brightness comparisons between point pairs
    around its centre (BRIEF-like, on a smoothed page): which glyph shapes
    are there, without keeping the pixels. Returns (bits, stable), both
    (gh, gw, N_TESTS) bool; `stable` where the two points differ clearly."""
    gh, gw = shape
    h, w = page.shape[:2]
    sm = cv2.GaussianBlur(page.astype(np.float32), (0, 0), max(0.8, radius / 6))
    cy = (np.arange(gh, dtype=np.float32) * cell + cell / 2)[:, None, None]
    cx = (np.arange(gw, dtype=np.float32) * cell + cell / 2)[None, :, None]
    off = _PAIRS * radius

    def at(dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
        yy = np.clip(np.rint(cy + dy), 0, h - 1).astype(np.intp)
        xx = np.clip(np.rint(cx + dx), 0, w - 1).astype(np.intp)
        return sm[yy, xx]

    a, b = at(off[:, 0], off[:, 1]), at(off[:, 2], off[:, 3])
    return a < b, np.abs(a - b) > TEST_MARGIN


def pack_bits(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) * _WEIGHTS).sum(axis=-1, dtype=np.uint32)


def unpack_bits(codes: np.ndarray) -> np.ndarray:
    return (codes[..., None] & _WEIGHTS) != 0


def pack_features(f: Features) -> bytes:
    q = np.clip(np.round(f.grid * 15), 0, 15).astype(np.uint8)
    buf = io.BytesIO()
    codes = f.codes if f.codes is not None else np.zeros(f.grid.shape, np.uint32)
    np.savez(buf, shape=np.array([*f.shape, f.cell, round(f.radius * 100)], np.int32),
             points=np.round(f.points * 16).astype(np.uint16), desc=f.descriptors, grid=q, codes=codes)
    return zlib.compress(buf.getvalue(), 6)


def unpack_features(blob: bytes) -> Features:
    with np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False) as z:
        shape = tuple(int(x) for x in z["shape"])
        return Features(shape=(shape[0], shape[1]), points=z["points"].astype(np.float32) / 16,
                        descriptors=z["desc"], grid=z["grid"].astype(np.float32) / 15,
                        cell=shape[2], codes=z["codes"], radius=shape[3] / 100)


_BF = None


def verify(query: np.ndarray, qf: Features, cand: Features) -> tuple[float, dict[str, float | int]]:
    """Score 0..1 that the normalised page `query` shows the receipt of `cand`.

    Keypoint matches (ratio test) -> RANSAC homography -> the query warped onto
    the candidate's page -> ink grids compared where they overlap; cells that
    disagree in 2x2 blocks (a different number, date, item line) count."""
    global _BF
    if _BF is None:
        _BF = cv2.BFMatcher(cv2.NORM_HAMMING)
    detail: dict[str, float | int] = {"inliers": 0}
    if len(qf.descriptors) < 8 or len(cand.descriptors) < 8:
        return 0.0, detail
    pairs = _BF.knnMatch(qf.descriptors, cand.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < MIN_INLIERS:
        return 0.0, detail
    src = qf.points[[g.queryIdx for g in good]]
    dst = cand.points[[g.trainIdx for g in good]]
    H, mask = cv2.findHomography(src, dst, cv2.RANSAC, 8.0)
    if H is None:
        return 0.0, detail
    inl = mask.ravel().astype(bool)
    detail["inliers"] = int(inl.sum())
    if inl.sum() < MIN_INLIERS:
        return 0.0, detail
    H2, _ = cv2.findHomography(src[inl], dst[inl], 0)
    if H2 is not None:
        H = H2
    h, w = cand.shape
    try:
        warped = cv2.warpPerspective(query, H, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        valid = cv2.warpPerspective(np.ones(query.shape[:2], np.float32), H, (w, h), flags=cv2.INTER_NEAREST)
    except cv2.error:
        return 0.0, detail
    gq, v, cell = ink_grid(warped, valid, cand.cell)
    gc = cand.grid
    gh, gw = min(gq.shape[0], gc.shape[0]), min(gq.shape[1], gc.shape[1])
    gq, gc, v = gq[:gh, :gw], gc[:gh, :gw], v[:gh, :gw]  # type: ignore[index]
    # the overlap must be a good part of the smaller page
    q_area = query.shape[0] * query.shape[1] / (cell * cell)
    overlap = float(v.sum()) / max(1.0, min(q_area, gh * gw))
    detail["overlap"] = round(overlap, 3)
    if overlap < MIN_OVERLAP:
        return 0.0, detail
    mx = np.maximum(gq, gc)
    act = v & (mx > 0.1)
    n_act = int(act.sum())
    if n_act < 50:
        return 0.0, detail
    # a cell disagrees when many of its clear binary tests came out the other way
    qbits, qstable = cell_tests(warped, cell, cand.radius, (gh, gw))
    cbits = unpack_bits(cand.codes[:gh, :gw]) if cand.codes is not None else qbits
    n = qstable.sum(axis=-1)
    dis = ((qbits != cbits) & qstable).sum(axis=-1)
    # ... or when the ink itself differs clearly (text on one page, blank paper on the other)
    dens = np.abs(gq - gc) > 0.12 + 0.5 * mx
    bad = (act & (dens | ((gc >= 0.05) & (n >= 6) & (dis > BAD_TESTS * n)))).astype(np.uint8)
    # two or more side by side: a different word or number, not noise
    runs = cv2.morphologyEx(bad, cv2.MORPH_OPEN, np.ones((1, 2), np.uint8))
    mismatch = float(runs.sum()) / n_act
    blobs = cv2.connectedComponents(runs, connectivity=8)[0] - 1
    detail["mismatch"] = round(mismatch, 4)
    detail["blobs"] = int(blobs)
    score = min(1.0 - blobs / (2 * MAX_BLOBS + 1), 1.0 - mismatch / (2 * MAX_MISMATCH))
    return float(np.clip(score, 0.0, 1.0)), detail


# ----------------------------------------------------------------- entry point

def _first_image(inp: ForensicInput) -> np.ndarray | None:
    for img in inp.images:
        if img is not None:
            return img
    if inp.file.detected_type == "pdf":  # a text-layer page: rasterise it ourselves
        try:
            from pipeline.render import _rasterise

            return _rasterise(inp.path, 0, 150)
        except Exception:  # noqa: BLE001 - no image, no image fingerprint
            return None
    return None


def _rotation(inp: ForensicInput) -> int:
    if inp.doc is not None and inp.doc.pages and inp.doc.pages[0].source == "ocr":
        return int(inp.doc.pages[0].rotation) % 360
    return 0


def fingerprint_image(img: np.ndarray, sha256: str, *, content: str | None = None,
                      rotation: int = 0) -> ReceiptFingerprint:
    page = normalise(img, rotation)
    hashes = window_hashes(page)
    query = list(hashes)
    for rot in (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE):
        query += window_hashes(cv2.rotate(page, rot))
    feats = compute_features(page)
    return ReceiptFingerprint(sha256=sha256, content_key=content, hashes=tuple(hashes),
                              features=pack_features(feats), image=page, query_hashes=tuple(query))


def fingerprint(inp: ForensicInput) -> ReceiptFingerprint:
    """The receipt's fingerprint. Never raises: a file without a usable image
    gets one with its sha256 (and content key) only."""
    content = None
    try:
        content = _content_key_of(inp)
    except Exception as exc:  # noqa: BLE001
        log.warning("fingerprint: content key failed: %s", type(exc).__name__)
    try:
        img = _first_image(inp)
        if img is not None and min(img.shape[:2]) >= 32:
            return fingerprint_image(img, inp.file.sha256, content=content, rotation=_rotation(inp))
    except Exception as exc:  # noqa: BLE001 - forensics never stops a claim
        log.warning("fingerprint: image failed on %s: %s", inp.file.role, type(exc).__name__)
    return ReceiptFingerprint(sha256=inp.file.sha256, content_key=content)


__all__ = ["SAME_IMAGE_THRESHOLD", "ReceiptFingerprint", "band_key", "content_key", "fingerprint",
           "fingerprint_image", "parse_hashes", "unpack_features", "verify"]
