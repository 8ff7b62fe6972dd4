"""JPEG compression history: a region saved once inside an image saved twice.

`image.double_jpeg` (issue 6, "inconsistent JPEG compression history ... in a region").
A phone photo or a scan is a JPEG. When someone opens it in an editor, changes a digit
or a line, and saves it again, every untouched 8x8 block has been quantised twice: first
with the camera's table (q1), then with the editor's (q2). Where q1 is coarser than q2,
the twice-quantised DCT coefficients can only take some values (a multiple of q1,
re-quantised by q2, leaves gaps between the reachable values). The edited blocks were
quantised once, by q2 only, and their coefficients fall into those gaps. This is the
aligned double-quantisation analysis of the literature (Lin et al. 2009, "Fast, automatic
and fine-grained tampered JPEG image detection via DCT coefficient analysis"; Bianchi &
Piva 2012), written from the description, in three steps:

1. the luma DCT coefficients are recomputed from the decoded Y channel (JPEG's DCT is the
   orthonormal DCT-II) and divided by the file's own luma table q2;
2. per frequency, q1 is estimated as the coarsest step whose reachable values explain
   almost all non-zero coefficients, far more than chance would (a singly compressed image
   explains no better than chance, and gets no estimate: the detector stays silent);
3. per block, the coefficients that land in a gap are counted; a cluster of such blocks
   over the receipt's text is reported with its box.

A flat fill has no AC coefficients and leaves no gap trace (`image.flat_patch` looks at
that); a receipt re-saved with the same table (q1 = q2) has no gaps either. What this
catches is a pasted glyph, re-typed text or a resampled region saved into a photo or scan
that was itself a JPEG of a coarser quality.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from models.documents import Box
from pipeline.forensics import ForensicInput, Region, Signal, SignalFamily, register

ZIGZAG = [(0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0), (4, 0), (3, 1),
          (2, 2), (1, 3), (0, 4), (0, 5), (1, 4), (2, 3), (3, 2), (4, 1), (5, 0), (6, 0), (5, 1), (4, 2),
          (3, 3), (2, 4), (1, 5), (0, 6)]
FREQS = ZIGZAG[1:28]  # low and middle AC frequencies: where printed text has its energy
TOL = 1.3  # coefficient units: the RGB round trip between the two saves moves a coefficient by ~0.4 (1 sigma)
MIN_NONZERO = 150  # non-zero coefficients of a frequency needed to estimate its q1
FIT = 0.96  # share of non-zero coefficients q1 must explain
MIN_GAIN = 0.25  # ... and by how much more than chance (the reachable share of all values)
MIN_FREQS = 3  # frequencies with a q1 estimate before the image counts as saved twice
BLOCK_GAPS = 4  # coefficients in a gap that make a block "saved once"
ESTIMATE_BLOCKS = 40000  # blocks sampled (on a regular lattice) to estimate q1
THRESHOLD = 0.85  # about 47 gap coefficients in one cluster on a clean map


@dataclass
class DQMap:
    """Per-block double-quantisation evidence of one JPEG's luma."""

    gaps: np.ndarray  # (nby, nbx) coefficients in a gap
    nonzero: np.ndarray  # (nby, nbx) non-zero coefficients at the frequencies with a q1 estimate
    q1: dict[tuple[int, int], int]  # frequency -> estimated first quantisation step
    q2: np.ndarray  # 8x8 luma table of the file


def _luma_coefficients(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(coefficients of FREQS / q2 as (nby, nbx, len(FREQS)) float32, the 8x8 luma table, blocks with clipped
    pixels) or None. Clipping at black or white breaks the arithmetic of re-quantisation, so
    such blocks are left out of both the estimate and the map."""
    im = Image.open(io.BytesIO(data))
    if im.format != "JPEG" or not getattr(im, "quantization", None) or 0 not in im.quantization:
        return None
    q2 = np.asarray(im.quantization[0], np.float32).reshape(8, 8)  # Pillow gives natural order
    if im.mode in ("RGB", "YCbCr"):
        im.draft("YCbCr", im.size)  # decoder output before colour conversion: the exact luma
        y = np.asarray(im)[..., 0]
    elif im.mode == "L":
        y = np.asarray(im)
    else:
        return None
    h, w = (y.shape[0] // 8) * 8, (y.shape[1] // 8) * 8
    if h < 64 or w < 64:
        return None
    nby, nbx = h // 8, w // 8
    blocks = (y[:h, :w].reshape(nby, 8, nbx, 8).swapaxes(1, 2).reshape(nby, nbx, 64).astype(np.float32) - 128.0)
    coef = (blocks @ _BASIS).reshape(nby, nbx, len(FREQS))  # only the frequencies looked at
    clipped = ((blocks >= 254 - 128) | (blocks <= 1 - 128)).any(axis=2)
    return coef / _steps(q2), q2, clipped


def _dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II matrix: JPEG's FDCT is D @ block @ D.T."""
    u, x = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    d = np.sqrt(2.0 / 8.0) * np.cos((2 * x + 1) * u * np.pi / 16.0)
    d[0, :] = np.sqrt(1.0 / 8.0)
    return d.astype(np.float32)


_DCT = _dct_matrix()
#: (64, len(FREQS)): block (row-major) -> the DCT coefficients of FREQS, D[u] (x) D[v]
_BASIS = np.stack([np.outer(_DCT[u], _DCT[v]).ravel() for u, v in FREQS], axis=1).astype(np.float32)


def _steps(q2: np.ndarray) -> np.ndarray:
    """The quantisation steps of FREQS in an 8x8 table."""
    return np.array([q2[f] for f in FREQS], np.float32)


def _rgb_clipped(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """Blocks (of an 8x8 grid of `shape`) with a decoded colour channel at 0..2 or 253..255."""
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    h, w = shape[0] * 8, shape[1] * 8
    sat = ((rgb[:h, :w] <= 2) | (rgb[:h, :w] >= 253)).any(axis=2)
    return sat.reshape(shape[0], 8, shape[1], 8).any(axis=(1, 3))


def _reachable(v: np.ndarray, q1: int, q2: float) -> np.ndarray:
    """Whether the quantised value v (step q2) can come from a multiple of q1."""
    lo = (v * q2 - q2 / 2 - TOL) / q1
    hi = (v * q2 + q2 / 2 + TOL) / q1
    return np.floor(hi) >= np.ceil(lo)


def _estimate_q1(v: np.ndarray, q2: float) -> int | None:
    """The first quantisation step of one frequency, or None when the coefficients look
    quantised once. A candidate q1 must explain (make reachable) nearly all non-zero
    values, and far more of them than it would explain of a smooth, once-quantised
    distribution with the same spread (a geometric law of |v|, the discrete Laplacian)."""
    nz = np.abs(v[v != 0])
    if len(nz) < MIN_NONZERO or q2 < 1:
        return None
    vals, counts = np.unique(nz, return_counts=True)
    mean = float(nz.mean())
    if mean <= 1.05:
        return None  # nearly all +-1: nothing to tell the laws apart
    r = 1.0 - 1.0 / mean
    k = np.arange(1, int(vals.max()) + 8)
    law = (1.0 - r) * r ** (k - 1)
    law /= law.sum()
    best, best_gain = None, MIN_GAIN
    for q1 in range(int(q2) + 1, int(q2) * 12 + 2):
        fit = float(counts[_reachable(vals, q1, q2)].sum()) / len(nz)
        if fit < FIT:
            continue
        chance = float(law[_reachable(k, q1, q2)].sum())
        gain = fit - chance
        if gain > best_gain:
            best, best_gain = q1, gain
    return best


def dq_map(data: bytes) -> DQMap | None:
    """The per-block evidence, or None when the file is not a JPEG saved twice over one grid."""
    try:
        got = _luma_coefficients(data)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):  # a broken file has no history to read
        return None
    if got is None:
        return None
    c, q2, clipped = got
    q1s: dict[tuple[int, int], int] = {}
    vals: dict[tuple[int, int], np.ndarray] = {}
    # the estimate needs a few thousand blocks, not all of a 35-megapixel scan
    step = max(1, int(np.sqrt(c.shape[0] * c.shape[1] / ESTIMATE_BLOCKS)))
    for i, f in enumerate(FREQS):
        v = np.rint(c[:, :, i])
        v[clipped] = 0  # no evidence either way
        q1 = _estimate_q1(v[::step, ::step], float(q2[f]))
        if q1 is not None:
            q1s[f], vals[f] = q1, v
        if i == 7 and not q1s:
            return None  # the lowest frequencies carry the clearest gaps: saved once (the usual case)
    if len(q1s) < MIN_FREQS:
        return None
    # a saturated colour (highlighter yellow, the black border of a scan) clips a channel when the
    # first save is decoded to RGB, and its blocks re-quantise off the grid without any edit
    clipped = clipped | _rgb_clipped(data, c.shape[:2])
    for f in vals:
        vals[f][clipped] = 0
    gaps = np.zeros(c.shape[:2], np.int32)
    nonzero = np.zeros(c.shape[:2], np.int32)
    for f, q1 in q1s.items():
        v = vals[f]
        gaps += (~_reachable(v, q1, float(q2[f]))).astype(np.int32)
        nonzero += (v != 0).astype(np.int32)
    return DQMap(gaps, nonzero, q1s, q2)


def _clusters(m: DQMap) -> tuple[list[tuple[int, int, int, int, int, int]], float]:
    """Clusters of once-saved blocks (bx0, by0, bx1, by1, blocks, gap coefficients), most gap
    coefficients first, and the share of textured blocks that look once-saved outside the top
    cluster. Blocks join along a text line (a gap of up to five blocks, horizontally or, on a
    page photographed sideways, vertically): an edited line is one finding."""
    once = (m.gaps >= BLOCK_GAPS) & (m.gaps * 4 >= m.nonzero)
    textured = m.nonzero >= 3
    out = []
    for kernel in ((3, 11), (11, 3)):
        joined = cv2.dilate(once.astype(np.uint8), np.ones(kernel, np.uint8))
        n, lab, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        for i in range(1, n):
            members = once & (lab == i)
            k = int(members.sum())
            if k == 0:
                continue
            ys, xs = np.nonzero(members)
            out.append((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1, k,
                        int(m.gaps[members].sum())))
    out.sort(key=lambda t: (-t[5], -t[4]))
    rest = int(once.sum()) - (out[0][4] if out else 0)
    background = rest / max(1, int(textured.sum()))
    return out, background


def _jpeg_stream(inp: ForensicInput) -> bytes | None:
    """The receipt's JPEG: the file itself, or the single page image of an image-only PDF."""
    data = inp.data
    if data[:3] == b"\xff\xd8\xff":
        return data
    if data[:5] == b"%PDF-" and data.count(b"/DCTDecode") == 1:
        start = data.find(b"\xff\xd8\xff")
        end = data.rfind(b"\xff\xd9")
        if 0 <= start < end:
            return data[start:end + 2]
    return None


def _score(gaps: int, background: float) -> float:
    """0..1 strength of a cluster: its coefficients in a gap (a pasted digit has a few dozen,
    a re-typed line hundreds; a twice-saved receipt with no edit shows a few isolated ones),
    discounted by how often blocks elsewhere on this receipt look once-saved (noise of the
    estimate)."""
    clean = max(0.0, 1.0 - background / 0.04)
    return float(round((1.0 - np.exp(-gaps / 25.0)) * clean, 4))


def _word_boxes(inp: ForensicInput, sx: float, sy: float) -> list[tuple[float, float, float, float]] | None:
    """Boxes of the OCR words of page 1 with at least two letters or digits, in JPEG pixels;
    None when there is no pixel OCR reading to go by."""
    doc = inp.doc
    if doc is None or not doc.pages or doc.pages[0].unit != "px":
        return None
    out = []
    for line in doc.pages[0].lines:
        for w in line.words:
            if sum(ch.isalnum() for ch in w.text) >= 2:
                b = w.box
                out.append((b.x0 / sx, b.y0 / sy, b.x1 / sx, b.y1 / sy))
    return out


def _touches_text(c: tuple[int, int, int, int, int, int], words: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = c[0] * 8, c[1] * 8, c[2] * 8, c[3] * 8
    return any(not (wx1 <= x0 or x1 <= wx0 or wy1 <= y0 or y1 <= wy0) for wx0, wy0, wx1, wy1 in words)


@register("double_jpeg", SignalFamily.IMAGE)
def double_jpeg(inp: ForensicInput) -> list[Signal]:
    data = _jpeg_stream(inp)
    if data is None:
        return []
    m = dq_map(data)
    if m is None:
        return []
    clusters, background = _clusters(m)
    jh, jw = m.gaps.shape[0] * 8, m.gaps.shape[1] * 8
    sx = sy = 1.0
    if data is not inp.data:  # image-only PDF: page pixels per JPEG pixel
        imgs = inp.images
        if imgs and imgs[0] is not None:
            ph, pw = imgs[0].shape[:2]
            sx, sy = pw / max(1, jw), ph / max(1, jh)
    # what matters is text changed: a once-saved tick, stamp or signature beside the text is not
    words = _word_boxes(inp, sx, sy)
    if words is not None:
        clusters = [c for c in clusters if _touches_text(c, words)]
    if not clusters:
        return []
    bx0, by0, bx1, by1, blocks, gaps = clusters[0]
    score = _score(gaps, background)
    box = Box(x0=bx0 * 8 * sx, y0=by0 * 8 * sy, x1=bx1 * 8 * sx, y1=by1 * 8 * sy)
    return [Signal(
        detector="image.double_jpeg", family=SignalFamily.IMAGE, score=score, threshold=THRESHOLD,
        message=("Part of the receipt's text was saved only once while the rest of the image was saved twice "
                 "as JPEG: it looks pasted or re-typed and saved into an earlier photo or scan."),
        regions=(Region(page=1, box=box, note="saved once"),),
        detail={"blocks": blocks, "gap_coefficients": gaps, "background": round(background, 4),
                "frequencies": len(m.q1)},
    )]
