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
  is measured in the other dimension (a step of TB_STEPS / LR_STEPS that
  fits, on a tall till roll as on a landscape page), so that cropping one
  side leaves at least one window as it was; a query tries every step that
  fits. They are only the index: each hash is split into four 16-bit bands,
  stored as integer keys in an indexed column, and a look-up fetches the few
  stored receipts that share a band (LSH) instead of comparing every image.
  A query also looks up its other three quarter turns and, when the paper
  hardly stood out from the table, the other reading of it (paper or whole
  image: `paper_pages`).
* `fine`: 256-bit hashes of the same windows, stored with the others, which
  rank the candidates the index found (receipts of one template share their
  coarse hashes; the longer and shorter lines of their own content differ).
  The closest few are ranked again by a keypoint vote (`keypoint_votes`:
  how many distinctive keypoint matches agree with one affine map; a
  re-photo or a crop moves the hashes more than its keypoints), and the
  store verifies only the best-ranked of both rankings.
* `features`: what verifies a candidate: up to 500 ORB keypoints spread over
  the page (position and 256-bit binary descriptor of a local patch), a
  coarse ink-density grid (one 4-bit cell per ~0.7 text height: text cannot
  be read from it) and, per inked cell, 32 bits of brightness comparisons
  between point pairs along the text line (which shapes are there, not the
  pixels). A candidate matches when an alignment fitted to the keypoint
  matches (RANSAC, then guided matching over the whole page) lines the query
  up with it and the cells then agree where both pages are, away from their
  edges (a crop's cut), each tile of cells registered again by a small shift
  (what the fit leaves): at most a few blobs of cells that clearly disagree
  side by side (a word). Receipts of the same shop and layout share their
  header and footer but differ in names, numbers, dates and item lines;
  those cells disagree in blocks, which is what tells them apart. Pages
  whose text runs up and down are turned first (`text_runs_vertically`).

Version 2 (this one) spreads the keypoints, adds the fine hashes and the
window steps, and uses test set 2; rows of version 1 are still looked up and
verified with their own tests (the set is recorded in the features).

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

VERSION = 2  # see the module docstring; version-1 rows stay comparable
N_TESTS = 32  # binary tests per grid cell
TEST_MARGIN = 12.0  # grey levels: a test counts only where the query's two points differ by more
LONG_SIDE = 1000  # the rectified paper is scaled to this many pixels on its long side
ORB_FEATURES = 500
CELL_MIN, CELL_MAX = 4, 12  # ink grid cell, pixels of the normalised page: ~0.7 of the text height
HASH_KINDS = ("g", "t", "b", "l", "r")  # whole page; windows anchored top, bottom, left, right
FINE_KINDS = ("G", "T", "B", "L", "R")  # the same windows' 256-bit hashes (ranking only)
TB_STEPS = (0.9, 0.6, 0.4, 0.27, 0.18)  # top/bottom window height, page widths
LR_STEPS = (0.4, 0.27, 0.18, 0.12, 0.08)  # left/right window width, page heights
HASH_SIDE = 256  # the page is hashed at this size (long side)
PROBE_BITS = 4  # multi-probe: a query also looks up its whole-page bands with these least certain bits flipped
BANDS = 4  # 16-bit bands of a 64-bit hash
#: verification: after alignment, ink-grid cells that disagree clearly, in horizontal runs of
#: three or more (a different word or number), grouped into blobs. A match has at most
#: MAX_BLOBS such blobs and at most MAX_MISMATCH of the overlapping inked cells in them.
BAD_TESTS = 0.25  # a cell disagrees when more than this share of its clear tests differ
MAX_BLOBS = 4
MAX_MISMATCH = 0.05
SAME_IMAGE_THRESHOLD = 0.5  # score = min(1 - blobs / 9, 1 - mismatch / 0.1): 0.5 <=> the limits above
MIN_INLIERS = 15
#: RANSAC iterations of the first fit from the ratio-test matches. A re-submitted receipt's matches
#: agree with one transform for 44% or more of them (seed-11 re-submission variants, re-photos and
#: crops included). RANSAC stops by itself once its best fit makes more draws pointless (OpenCV:
#: confidence 0.995): after ~140 draws at 44%, ~210 at 40%, ~350 at 35%. Under that cap a fit is
#: the same, draw for draw, as with any higher cap, so every pair with 37% or more agreeing matches
#: is aligned exactly as before; 300 draws still find a 30% fit 91% of the time (the guided matching
#: below then re-fits from all matches near it). The draws beyond only ever served receipts that
#: differ: the first fit of a pair that does not align runs to the cap, and at 1000 draws it was
#: half of all verification time (1000 -> 300: that fit 2.5x faster on the seed-11 look-ups).
FIRST_FIT_ITERS = 300
VOTE_ITERS = 200  # RANSAC draws of the ranking vote (`keypoint_votes`), per candidate
MIN_OVERLAP = 0.5  # the overlap must cover half of the smaller page
SHIFTS = True  # verification: re-align each tile of TILE x TILE cells by a small shift
TILE = 8
SHIFT_STEPS = (-1, 0, 1)  # x max(1.5 px, cell / 3)
SHIFT_RANGE = 1.0  # cells: how far a tile may be registered again
EDGE_MARGIN = 0.02  # of the long side: a strip along each page's edges is not compared


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
    fine: tuple[tuple[str, int], ...] = ()  # (kind in FINE_KINDS, 256-bit hash), rotation 0; stored
    query_fine: tuple[tuple[str, int], ...] = field(default=(), repr=False, compare=False)
    query_probes: tuple[int, ...] = field(default=(), repr=False, compare=False)  # multi-probe band keys

    def band_keys(self, *, query: bool = False) -> list[int]:
        """The LSH keys stored (or, with query=True, looked up: all four
        rotations of the page, every window step, and the probes)."""
        src = self.query_hashes if query and self.query_hashes else self.hashes
        keys = {band_key(kind, h, i) for kind, h in src for i in range(BANDS)}
        if query:
            keys.update(self.query_probes)
        return sorted(keys)

    def hashes_hex(self) -> str:
        return " ".join([f"{k}:{h:016x}" for k, h in self.hashes] + [f"{k}:{h:064x}" for k, h in self.fine])


def band_key(kind: str, h: int, band: int) -> int:
    """An integer key for band `band` of hash `h` of `kind` (fits in 32 bits)."""
    value = (h >> (16 * band)) & 0xFFFF
    return ((HASH_KINDS.index(kind) * BANDS + band) << 16) | value


def parse_hashes(text: str, kinds: tuple[str, ...] = HASH_KINDS) -> list[tuple[str, int]]:
    """The hashes of `kinds` in a stored `hashes_hex()` (FINE_KINDS: the fine
    ones, absent from rows of fingerprint version 1)."""
    out = []
    for part in text.split():
        k, _, v = part.partition(":")
        if k in kinds and v:
            try:
                out.append((k, int(v, 16)))
            except ValueError:
                continue
    return out


def hash_distance(query: ReceiptFingerprint, stored_text: str) -> float:
    """How far a stored receipt's hashes are from the query's, 0..64: the
    closest window of the same kind (any rotation of the query), by the fine
    hashes when both have them (scaled to 64 bits), else the coarse ones."""
    qf: dict[str, list[int]] = {}
    for kind, h in query.query_fine or query.fine:
        qf.setdefault(kind, []).append(h)
    fine = parse_hashes(stored_text, FINE_KINDS) if qf else []
    if fine:
        return min((hamming(h, q) / 4 for kind, h in fine for q in qf.get(kind, ())), default=64.0)
    qc: dict[str, list[int]] = {}
    for kind, h in query.query_hashes or query.hashes:
        qc.setdefault(kind, []).append(h)
    return float(min((hamming(h, q) for kind, h in parse_hashes(stored_text) for q in qc.get(kind, ())),
                     default=64))


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


def _paper_quad(gray: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """The largest bright region's quadrilateral (image pixels), its share of
    the image and how much brighter it is than the rest; None without one."""
    h, w = gray.shape
    s = 800 / max(h, w)
    small = cv2.resize(gray, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    blur = cv2.GaussianBlur(small, (0, 0), 3)
    _, th = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    th = cv2.morphologyEx(th, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(th, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c) / (small.shape[0] * small.shape[1])
    if area < 0.2 or area > 0.97:
        return None
    mask = np.zeros_like(small)
    cv2.drawContours(mask, [c], -1, 255, -1)
    if not (mask == 0).any():
        return None
    contrast = float(small[mask > 0].mean()) - float(small[mask == 0].mean())
    q = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True)
    if len(q) != 4:
        q = cv2.boxPoints(cv2.minAreaRect(c))
    return _order_quad(q.reshape(4, 2).astype(np.float32) / s), area, contrast


def _rectify(gray: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    pw = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2])))
    ph = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    if pw < 50 or ph < 50:
        return None
    M = cv2.getPerspectiveTransform(quad, np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32))
    return cv2.warpPerspective(gray, M, (pw, ph), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def paper_pages(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(the page, the other reading of it or None). The page is the receipt
    paper, rectified, when it stands out clearly from a darker background (a
    photo on a table: at most 93 % of the image, 25 grey levels brighter),
    else the whole image. When the call was close (under 45 grey levels, or
    over 88 % of the image: a pale table, a paper filling the frame; a
    re-saved or re-photographed copy can fall on the other side of it), the
    other reading too: a query looks both up."""
    found = _paper_quad(gray)
    if found is None:
        return gray, None
    quad, area, contrast = found
    strict = area <= 0.93 and contrast >= 25
    close_call = contrast >= 8 and (contrast < 45 or area > 0.88)
    paper = _rectify(gray, quad) if (strict or close_call) else None
    if paper is None:
        return gray, None
    if strict:
        return paper, (gray if close_call else None)
    return gray, paper


def find_paper(gray: np.ndarray) -> np.ndarray:
    """The receipt paper, rectified: the largest bright region when it stands
    out from a darker background (a photo on a table), else the whole image."""
    return paper_pages(gray)[0]


def text_runs_vertically(g: np.ndarray) -> bool:
    """Whether the text lines of a page run up and down (a page turned by a
    quarter, when OCR gave no rotation): the ink profile across the lines
    varies clearly more than the one along them."""
    h, w = g.shape[:2]
    s = 400 / max(h, w)
    a = ink(cv2.resize(g, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA))

    def variation(p: np.ndarray) -> float:
        p = p[len(p) // 20: len(p) - len(p) // 20]
        return float(p.std() / (p.mean() + 1e-3)) if len(p) > 4 else 0.0

    return variation(a.mean(axis=0)) > 1.5 * variation(a.mean(axis=1))


def _upright(g: np.ndarray, rotation: int) -> np.ndarray:
    if rotation % 360 == 90:
        g = cv2.rotate(g, cv2.ROTATE_90_CLOCKWISE)
    elif rotation % 360 == 180:
        g = cv2.rotate(g, cv2.ROTATE_180)
    elif rotation % 360 == 270:
        g = cv2.rotate(g, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if text_runs_vertically(g):  # the binary tests look along the text lines
        g = cv2.rotate(g, cv2.ROTATE_90_CLOCKWISE)
    h, w = g.shape
    s = LONG_SIDE / max(h, w)
    return cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))),
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)


def normalise(img: np.ndarray, rotation: int = 0) -> np.ndarray:
    """Grey, paper only, upright (`rotation`: degrees clockwise the page must
    turn, as OCR found), long side LONG_SIDE."""
    return _upright(find_paper(_gray(img)), rotation)


def normalise_both(img: np.ndarray, rotation: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """`normalise`, and the other reading of the paper (`paper_pages`) or None."""
    page, alt = paper_pages(_gray(img))
    return _upright(page, rotation), (_upright(alt, rotation) if alt is not None else None)


def phash(gray: np.ndarray) -> int:
    """64-bit DCT perceptual hash."""
    return phash_margins(gray)[0]


def phash_margins(gray: np.ndarray) -> tuple[int, np.ndarray]:
    """The pHash and, per bit, how far its coefficient was from the median
    (the bits a re-photo flips are the close ones)."""
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    d = cv2.dct(small)[:8, :8].ravel()
    med = np.median(d[1:])
    bits = d > med
    return int(sum(1 << i for i, b in enumerate(bits) if b)), np.abs(d - med)


def probe_keys(gray: np.ndarray, kind: str = "g", n_bits: int = PROBE_BITS) -> list[int]:
    """Multi-probe LSH: the band keys of the page's hash with one or two of
    the n_bits least certain bits of each band flipped. A re-photographed
    page's whole-page hash is a few bits off, and those bits are the ones
    whose coefficients lay close to the median; the query looks those
    neighbours up as well (nothing more is stored)."""
    h, margin = phash_margins(gray)
    keys = []
    for band in range(BANDS):
        idx = [16 * band + int(i) for i in np.argsort(margin[16 * band:16 * band + 16])[:n_bits]]
        flips = [1 << i for i in idx] + [(1 << i) | (1 << j) for n, i in enumerate(idx) for j in idx[n + 1:]]
        keys += [band_key(kind, h ^ f, band) for f in flips]
    return keys


def fine_hash(gray: np.ndarray) -> int:
    """256-bit DCT hash (16 x 16 low frequencies of 64 x 64) of the ink (the
    paper's own brightness taken out: a photo's shading is not content):
    which lines are long or short, where the blocks are. Not an index key (too fine to share
    a band after a re-photo); it ranks the candidates the index found, among
    which receipts of one template share their coarse hashes."""
    small = cv2.resize(ink(gray), (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    d = cv2.dct(small)[:16, :16].ravel()
    bits = d > np.median(d[1:])
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def _steps(steps: tuple[float, ...], along: int, room: float, query: bool) -> list[float]:
    """Window sizes (in page widths or heights, `along`) that fit in `room`
    pixels: a stored page keeps the largest that fits in 80 % of it, a query
    tries every one that fits (a crop of the other side may have taken the
    rest)."""
    fit = [k for k in steps if k * along <= (1.0 if query else 0.8) * room]
    if not fit:
        fit = [steps[-1]]
    return fit if query else fit[:1]


def window_hashes(page: np.ndarray, *, query: bool = False, fine: bool = False) -> list[tuple[str, int]]:
    """pHash of the whole page and of four edge-anchored windows. A top/bottom
    window is TB_STEPS page widths tall, a left/right one LR_STEPS page
    heights wide (the largest step that fits): measured in the dimension a
    crop of the opposite side leaves alone, so that cropping one side leaves
    at least one window as it was, on a tall till roll as on a landscape
    page. A query gives every step that fits. With fine=True, the 256-bit
    `fine_hash` of the same windows (kinds in capitals)."""
    h0, w0 = page.shape
    k0 = min(1.0, HASH_SIDE / max(h0, w0))  # the hashes look at 32 or 64 pixels a side: work small
    if k0 < 1.0:
        page = cv2.resize(page, (max(8, round(w0 * k0)), max(8, round(h0 * k0))), interpolation=cv2.INTER_AREA)
    h, w = page.shape
    f = fine_hash if fine else phash
    up = str.upper if fine else str
    out = [(up("g"), f(page))]
    for k in _steps(TB_STEPS, w, h, query):
        wh = max(4, min(h, round(k * w)))
        out.append((up("t"), f(page[:wh])))
        out.append((up("b"), f(page[h - wh:])))
    for k in _steps(LR_STEPS, h, w, query):
        ww = max(4, min(w, round(k * h)))
        out.append((up("l"), f(page[:, :ww])))
        out.append((up("r"), f(page[:, w - ww:])))
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
    tests: int = 1  # which point pairs (_PAIRS_BY_SET) the codes were made with


def keypoints(page: np.ndarray) -> tuple[list[cv2.KeyPoint], np.ndarray | None]:
    """Up to ORB_FEATURES keypoints spread over the page: detected four times
    over, then the strongest of each tile of ~1/8 of the long side first (a
    quota per tile), the rest by strength. Left to their strength alone they
    crowd into the bold header and the fitted alignment drifts at the far
    end of the page (a footer, the last item lines)."""
    orb = _orb()
    orb.setMaxFeatures(4 * ORB_FEATURES)
    try:
        kps = list(orb.detect(page, None))
    finally:
        orb.setMaxFeatures(ORB_FEATURES)
    if len(kps) > ORB_FEATURES:
        h, w = page.shape[:2]
        tile = max(h, w) / 8
        kps.sort(key=lambda k: -k.response)
        cells = [(int(k.pt[1] // tile), int(k.pt[0] // tile)) for k in kps]
        n_tiles = len(set(cells))
        quota = max(1, ORB_FEATURES // (2 * n_tiles))  # half the budget spread evenly
        taken: dict[tuple[int, int], int] = {}
        first, rest = [], []
        for k, c in zip(kps, cells, strict=True):
            if taken.get(c, 0) < quota:
                taken[c] = taken.get(c, 0) + 1
                first.append(k)
            else:
                rest.append(k)
        kps = first + rest[:ORB_FEATURES - len(first)]
    if not kps:
        return [], None
    out, desc = orb.compute(page, kps)
    return list(out), desc


def compute_features(page: np.ndarray) -> Features:
    kps, desc = keypoints(page)
    pts = np.array([k.pt for k in kps], np.float32).reshape(-1, 2)
    if desc is None:
        desc = np.zeros((0, 32), np.uint8)
    a = ink(page)
    th = text_height(a)
    grid, _, cell = ink_grid(page, a=a, cell=int(np.clip(round(0.7 * th), CELL_MIN, CELL_MAX)))
    radius = round(TEST_RADIUS * th, 2)
    bits, _ = cell_tests(page, cell, radius, grid.shape, TEST_SET)
    codes = pack_bits(bits)
    codes[grid < 0.05] = 0  # nothing to compare on blank paper
    return Features(shape=page.shape[:2], points=pts, descriptors=desc, grid=grid, cell=cell, codes=codes,
                    radius=radius, tests=TEST_SET)


#: the point pairs of the binary tests (dy_a, dx_a, dy_b, dx_b in radii), by test set: 1 (fingerprint
#: version 1) spread evenly over a square of 0.75 text heights a side, which mostly tells where a
#: text line's edges are (two receipts of one template agree there); 2 (version 2, radius 0.5 text
#: heights) flattened to the middle of the line, where the glyphs differ.
_PAIRS_BY_SET = {1: np.random.default_rng(20261123).uniform(-1.0, 1.0, size=(N_TESTS, 4)).astype(np.float32),
                 2: (np.random.default_rng(20261124).uniform(-1.0, 1.0, size=(N_TESTS, 4))
                     * np.array([0.4, 1.0, 0.4, 1.0])).astype(np.float32)}
TEST_SET = 2
TEST_RADIUS = 0.5  # text heights
_WEIGHTS = (np.uint32(1) << np.arange(N_TESTS, dtype=np.uint32)).astype(np.uint32)


def cell_tests(page: np.ndarray, cell: int, radius: float, shape: tuple[int, int],
               tests: int = TEST_SET) -> tuple[np.ndarray, np.ndarray]:
    """For every grid cell, N_TESTS brightness comparisons between point pairs
    around its centre (BRIEF-like, on a smoothed page): which glyph shapes
    are there, without keeping the pixels. Returns (bits, stable), both
    (gh, gw, N_TESTS) bool; `stable` where the two points differ clearly."""
    gh, gw = shape
    h, w = page.shape[:2]
    sm = cv2.GaussianBlur(page.astype(np.float32), (0, 0), max(0.8, radius / 6))
    cy = (np.arange(gh, dtype=np.float32) * cell + cell / 2)[:, None, None]
    cx = (np.arange(gw, dtype=np.float32) * cell + cell / 2)[None, :, None]
    off = _PAIRS_BY_SET[tests] * radius

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
    np.savez(buf, shape=np.array([*f.shape, f.cell, round(f.radius * 100), f.tests], np.int32),
             points=np.round(f.points * 16).astype(np.uint16), desc=f.descriptors, grid=q, codes=codes)
    return zlib.compress(buf.getvalue(), 6)


def unpack_keypoints(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Only the keypoints of stored features: (points (n, 2) float32, descriptors (n, 32) uint8)."""
    with np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False) as z:
        return z["points"].astype(np.float32) / 16, z["desc"]


def distinctive_matches(q_desc: np.ndarray, c_desc: np.ndarray) -> list[cv2.DMatch]:
    """The query's keypoint matches that pass the ratio test (best clearly
    closer than the second best): what `align` starts from."""
    if len(q_desc) < 8 or len(c_desc) < 8:
        return []
    pairs = _bf().knnMatch(q_desc, c_desc, k=2)
    return [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]


def keypoint_votes(q_points: np.ndarray, q_desc: np.ndarray, c_points: np.ndarray, c_desc: np.ndarray,
                   good: list[cv2.DMatch] | None = None) -> int:
    """A cheap vote for ranking candidates before verifying: how many of the
    distinctive keypoint matches agree with one affine map (a short RANSAC).
    The same receipt re-saved, scaled, cropped or re-photographed keeps most
    of its matches on one map; another receipt of the same shop and layout
    shares its header's keypoints, but its own lines' do not line up (and a
    shared header alone agrees with fewer). 0 when there are too few
    matches for `align` to start (MIN_INLIERS) or no map is found."""
    if good is None:
        good = distinctive_matches(q_desc, c_desc)
    if len(good) < MIN_INLIERS:
        return 0
    src = q_points[[g.queryIdx for g in good]]
    dst = c_points[[g.trainIdx for g in good]]
    A, mask = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=8.0,
                                   maxIters=VOTE_ITERS)
    return int(mask.sum()) if A is not None and mask is not None else 0


def unpack_features(blob: bytes) -> Features:
    with np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False) as z:
        shape = tuple(int(x) for x in z["shape"])
        tests = shape[4] if len(shape) > 4 and shape[4] in _PAIRS_BY_SET else 1  # version 1: no 5th value
        return Features(shape=(shape[0], shape[1]), points=z["points"].astype(np.float32) / 16,
                        descriptors=z["desc"], grid=z["grid"].astype(np.float32) / 15,
                        cell=shape[2], codes=z["codes"], radius=shape[3] / 100, tests=tests)


_BF = None


def _bf() -> cv2.BFMatcher:
    global _BF
    if _BF is None:
        _BF = cv2.BFMatcher(cv2.NORM_HAMMING)
    return _BF


def align(qf: Features, cand: Features, good: list[cv2.DMatch] | None = None) -> tuple[np.ndarray | None, int]:
    """The homography from the query page to the candidate's, and how many
    keypoint matches agree with it. Distinctive matches (ratio test) and
    RANSAC give a first estimate; then every query keypoint is matched again
    among the candidate's keypoints that lie where the estimate puts it
    (guided matching), so that the plain and repeated glyphs all over the
    page, not only the distinctive ones, pin the final fit down (a fit from a
    cluster of header keypoints drifts by several pixels at the far end)."""
    if len(qf.descriptors) < 8 or len(cand.descriptors) < 8:
        return None, 0
    if good is None:
        good = distinctive_matches(qf.descriptors, cand.descriptors)
    if len(good) < MIN_INLIERS:
        return None, 0
    src = qf.points[[g.queryIdx for g in good]]
    dst = cand.points[[g.trainIdx for g in good]]
    H, mask = cv2.findHomography(src, dst, cv2.RANSAC, 8.0, maxIters=FIRST_FIT_ITERS)
    if H is None or int(mask.sum()) < MIN_INLIERS:
        return None, 0 if H is None else int(mask.sum())
    n_inl = int(mask.sum())
    # an affine fit extrapolates better from a cluster of keypoints (a crop, a scan, a scaled
    # copy are affine; a re-photographed page is nearly so once rectified): prefer it unless
    # the homography explains clearly more matches
    A, amask = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=8.0)
    if A is not None:
        def close(M: np.ndarray) -> int:
            p = cv2.perspectiveTransform(src.reshape(-1, 1, 2), M).reshape(-1, 2)
            return int((((p - dst) ** 2).sum(-1) < 16.0).sum())
        HA = np.vstack([A, [0, 0, 1]])
        if close(HA) >= 0.9 * close(H):
            H = HA
    for radius, thr in ((12.0, 4.0), (5.0, 2.5)):
        proj = cv2.perspectiveTransform(qf.points.reshape(-1, 1, 2).astype(np.float32), H).reshape(-1, 2)
        dx = proj[:, 0, None] - cand.points[None, :, 0]
        dy = proj[:, 1, None] - cand.points[None, :, 1]
        near = ((dx * dx + dy * dy) < radius * radius).astype(np.uint8)
        if int(near.sum()) < MIN_INLIERS:
            break
        ms = [m for m in _bf().match(qf.descriptors, cand.descriptors, mask=near) if m.distance < 72]
        if len(ms) < MIN_INLIERS:
            break
        s2 = qf.points[[m.queryIdx for m in ms]]
        d2_ = cand.points[[m.trainIdx for m in ms]]
        H2, mask2 = cv2.findHomography(s2, d2_, cv2.RANSAC, thr)
        if H2 is None or int(mask2.sum()) < max(MIN_INLIERS, n_inl // 2):
            break
        inl = mask2.ravel().astype(bool)
        H3, _ = cv2.findHomography(s2[inl], d2_[inl], 0)
        H = H3 if H3 is not None else H2
        n_inl = int(inl.sum())
    return H, n_inl


def _cell_means(integral: np.ndarray, y0: np.ndarray, x0: np.ndarray, cell: int) -> np.ndarray:
    h, w = integral.shape[0] - 1, integral.shape[1] - 1
    y0 = np.clip(y0, 0, h - cell)
    x0 = np.clip(x0, 0, w - cell)
    y1, x1 = y0 + cell, x0 + cell
    s = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    return s / float(cell * cell)


def _tests(sm: np.ndarray, cy: np.ndarray, cx: np.ndarray, radius: float,
           tests: int = TEST_SET) -> tuple[np.ndarray, np.ndarray]:
    """N_TESTS comparisons around each centre (cy, cx: (n,) arrays) of a smoothed page."""
    h, w = sm.shape[:2]
    off = _PAIRS_BY_SET[tests] * radius
    ya = np.clip(np.rint(cy[:, None] + off[None, :, 0]), 0, h - 1).astype(np.intp)
    xa = np.clip(np.rint(cx[:, None] + off[None, :, 1]), 0, w - 1).astype(np.intp)
    yb = np.clip(np.rint(cy[:, None] + off[None, :, 2]), 0, h - 1).astype(np.intp)
    xb = np.clip(np.rint(cx[:, None] + off[None, :, 3]), 0, w - 1).astype(np.intp)
    a, b = sm[ya, xa], sm[yb, xb]
    return a < b, np.abs(a - b) > TEST_MARGIN


def verify(query: np.ndarray, qf: Features, cand: Features, *, maps: dict | None = None,
           good: list[cv2.DMatch] | None = None) -> tuple[float, dict[str, float | int]]:
    """Score 0..1 that the normalised page `query` shows the receipt of `cand`.

    `align` -> the query warped onto the candidate's page -> ink grids and
    binary tests compared cell by cell where both pages are, leaving out a
    strip along either page's edges (a crop's cut, a sliver of table, the
    smoothing running off the page). A cell that disagrees is tried again
    a little shifted (what is left of the alignment error, a thin rule
    blurred by a photo); cells that still disagree, side by side (a
    different word or number), are what count."""
    detail: dict[str, float | int] = {"inliers": 0}
    H, n_inl = align(qf, cand, good)
    detail["inliers"] = n_inl
    if H is None or n_inl < MIN_INLIERS:
        return 0.0, detail
    h, w = cand.shape
    m = max(4, round(EDGE_MARGIN * max(query.shape[:2])))
    qvalid = np.zeros(query.shape[:2], np.float32)
    qvalid[m:-m, m:-m] = 1.0
    try:
        warped = cv2.warpPerspective(query, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        valid = cv2.warpPerspective(qvalid, H, (w, h), flags=cv2.INTER_NEAREST)
    except cv2.error:
        return 0.0, detail
    mc = max(4, round(EDGE_MARGIN * max(h, w)))
    valid[:mc], valid[-mc:], valid[:, :mc], valid[:, -mc:] = 0, 0, 0, 0
    a = ink(warped)
    gq, v, cell = ink_grid(warped, valid, cand.cell, a=a)
    gc = cand.grid
    gh, gw = min(gq.shape[0], gc.shape[0]), min(gq.shape[1], gc.shape[1])
    gq, gc, v = gq[:gh, :gw], gc[:gh, :gw], v[:gh, :gw]  # type: ignore[index]
    # the overlap must be a good part of the smaller page
    qh, qw = query.shape[:2]
    corners = np.array([[m, m], [qw - m, m], [qw - m, qh - m], [m, qh - m]], np.float32).reshape(-1, 1, 2)
    quad = cv2.perspectiveTransform(corners, H)
    q_area = abs(cv2.contourArea(quad)) / (cell * cell)  # in the candidate's cells
    # the same paper maps to a convex quadrilateral of comparable size (both pages have the same
    # long side: a crop or a re-photo changes the area by a fraction, not by a factor of four)
    ratio = abs(cv2.contourArea(quad)) / max(1.0, float((qw - 2 * m) * (qh - 2 * m)))
    if not cv2.isContourConvex(quad.astype(np.float32)) or not 0.25 <= ratio <= 4.0:
        detail["overlap"] = 0.0
        return 0.0, detail
    overlap = float(v.sum()) / max(1.0, min(q_area, gh * gw))
    detail["overlap"] = round(overlap, 3)
    if overlap < MIN_OVERLAP:
        return 0.0, detail
    mx = np.maximum(gq, gc)
    act = v & (mx > 0.1)
    n_act = int(act.sum())
    if n_act < 50:
        return 0.0, detail
    # a cell disagrees when many of its clear binary tests came out the other way ...
    sm = cv2.GaussianBlur(warped.astype(np.float32), (0, 0), max(0.8, cand.radius / 6))
    ys, xs = np.nonzero(act)
    cy = ys.astype(np.float32) * cell + cell / 2
    cx = xs.astype(np.float32) * cell + cell / 2
    codes = cand.codes[:gh, :gw][ys, xs] if cand.codes is not None else None
    cbits = unpack_bits(codes) if codes is not None else None
    cg = gc[ys, xs]
    integral = cv2.integral(a)

    def disagree(dy: float | np.ndarray, dx: float | np.ndarray, idx: np.ndarray) -> np.ndarray:
        qb, qs = _tests(sm, cy[idx] + dy, cx[idx] + dx, cand.radius, cand.tests)
        n = qs.sum(-1)
        bad_t = np.zeros(len(idx), bool)
        if cbits is not None:
            dis = ((qb != cbits[idx]) & qs).sum(-1)
            bad_t = (cg[idx] >= 0.05) & (n >= 6) & (dis > BAD_TESTS * n)
        # ... or when the ink itself differs clearly (text on one page, blank paper on the other)
        y0 = np.rint(ys[idx] * cell + dy).astype(np.intp)
        x0 = np.rint(xs[idx] * cell + dx).astype(np.intp)  # dy, dx: scalars or one per cell
        q_ink = _cell_means(integral, y0, x0, cell)
        bad_d = np.abs(q_ink - cg[idx]) > 0.12 + 0.5 * np.maximum(q_ink, cg[idx])
        return bad_t | bad_d

    idx = np.arange(len(ys))
    still = disagree(0.0, 0.0, idx)
    if SHIFTS and still.any() and still.mean() < 0.5:  # (half the page disagreeing is another page)
        # what is left of the alignment error is smooth and local (a far corner without
        # keypoints, a page not quite flat): each tile of TILE x TILE cells where something
        # disagrees is registered again on its own, by the shift (up to SHIFT_RANGE cells)
        # that best fits the query's ink to the candidate's ink grid over the whole tile, and
        # its cells are compared again there and at the small steps around it. One shift per
        # tile: different text does not agree under any shift.
        tile = (ys // TILE) * (gw // TILE + 1) + xs // TILE
        sel = idx[np.isin(tile, np.unique(tile[still]))]
        _, inv = np.unique(tile[sel], return_inverse=True)
        n_t = int(inv.max()) + 1
        r = int(round(SHIFT_RANGE * cell))
        step = max(1, cell // 4)  # the small steps below fill in between
        best_err = np.full(n_t, np.inf)
        best_dy, best_dx = np.zeros(n_t), np.zeros(n_t)
        y0s, x0s = ys[sel] * cell, xs[sel] * cell
        for dy in range(-r, r + 1, step):
            for dx in range(-r, r + 1, step):
                e = np.abs(_cell_means(integral, y0s + dy, x0s + dx, cell) - cg[sel])
                err = np.bincount(inv, e, n_t) + 1e-4 * (abs(dy) + abs(dx))  # ties: the smaller shift
                better = err < best_err
                best_err[better], best_dy[better], best_dx[better] = err[better], dy, dx
        s = max(1.5, cell / 3)
        per = [still[sel]]
        for ey in SHIFT_STEPS:
            for ex in SHIFT_STEPS:
                per.append(disagree(best_dy[inv] + ey * s, best_dx[inv] + ex * s, sel))
        for ey in SHIFT_STEPS:
            for ex in SHIFT_STEPS:
                if ey or ex:
                    per.append(disagree(np.full(len(sel), ey * s), np.full(len(sel), ex * s), sel))
        per_a = np.stack(per)  # (shifts, cells)
        counts = np.stack([np.bincount(inv, pk, n_t) for pk in per_a])
        best = counts.argmin(axis=0)  # ties: the first (no shift)
        still[sel] = per_a[best[inv], np.arange(len(sel))]
    bad = np.zeros((gh, gw), np.uint8)
    bad[ys[still], xs[still]] = 1
    # two or more side by side: a different word or number, not noise
    runs = cv2.morphologyEx(bad, cv2.MORPH_OPEN, np.ones((1, 2), np.uint8))
    mismatch = float(runs.sum()) / n_act
    blobs = cv2.connectedComponents(runs, connectivity=8)[0] - 1
    detail["mismatch"] = round(mismatch, 4)
    detail["blobs"] = int(blobs)
    if maps is not None:
        maps.update(warped=warped, valid=v, act=act, bad=bad, runs=runs, gq=gq, gc=gc, cell=cell)
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
    page, alt = normalise_both(img, rotation)
    hashes = window_hashes(page)
    fine = window_hashes(page, fine=True)
    query: list[tuple[str, int]] = []
    query_fine: list[tuple[str, int]] = []
    probes: list[int] = []
    for p in (page, alt) if alt is not None else (page,):
        k = min(1.0, HASH_SIDE / max(p.shape[:2]))
        if k < 1.0:  # as window_hashes would, once for the four turns
            p = cv2.resize(p, (max(8, round(p.shape[1] * k)), max(8, round(p.shape[0] * k))),
                           interpolation=cv2.INTER_AREA)
        for rot in (None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE):
            r = p if rot is None else cv2.rotate(p, rot)
            query += window_hashes(r, query=True)
            query_fine += window_hashes(r, query=True, fine=True)
            probes += probe_keys(r)
    feats = compute_features(page)
    return ReceiptFingerprint(sha256=sha256, content_key=content, hashes=tuple(hashes),
                              features=pack_features(feats), image=page,
                              query_hashes=tuple(dict.fromkeys(query)), fine=tuple(fine),
                              query_fine=tuple(dict.fromkeys(query_fine)), query_probes=tuple(sorted(set(probes))))


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
           "distinctive_matches", "fingerprint_image", "hash_distance", "keypoint_votes", "parse_hashes",
           "unpack_features", "unpack_keypoints", "verify"]
