"""Barcode decoding: the one wrapper around ZBar (pyzbar + Debian's libzbar0).

Serial-number labels carry a Code 128 barcode of the serial. OpenCV's
`cv2.barcode.BarcodeDetector` (still in OpenCV 5.0) decodes only EAN-8/13 and
UPC-A/E, so it cannot read them; ZBar decodes Code 128, Code 39, EAN/UPC,
QR and more. A photo is tried as is, then Otsu-binarised, then at twice the
size (thin bars on a small photo), then downscaled (a large photo); every
variant is decoded (a few ms each) and the largest box per payload is kept. ZBar scans rows and columns, so a label a
few degrees off horizontal (or vertical) still decodes.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from models.documents import Box, Word
from pipeline.errors import DependencyMissing

log = logging.getLogger(__name__)


def _zbar():
    try:
        from pyzbar import pyzbar
    except ImportError as exc:  # pyzbar missing, or libzbar0 missing (ImportError from ctypes loader)
        raise DependencyMissing("barcode decoding needs pyzbar and libzbar0 (apt-get install libzbar0)") from exc
    return pyzbar


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _variants(gray: np.ndarray):
    """(image, 3x3 matrix from variant pixels back to input pixels)."""
    eye = np.eye(3)
    yield gray, eye
    _, otsu = cv2.threshold(cv2.GaussianBlur(gray, (3, 3), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    yield otsu, eye
    h, w = gray.shape
    if max(h, w) < 2500:
        big = cv2.resize(gray, (w * 2, h * 2), interpolation=cv2.INTER_CUBIC)
        yield big, np.diag([0.5, 0.5, 1.0])
    if max(h, w) > 1600:
        f = 1600 / max(h, w)
        small = cv2.resize(gray, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
        yield small, np.diag([1 / f, 1 / f, 1.0])


def decode_barcodes(image: np.ndarray) -> list[Word]:
    """Every distinct barcode in `image`: text = payload, engine =
    "barcode:<symbology>" (e.g. "barcode:code128"), box in `image` pixels,
    conf 1.0 (ZBar checks the symbol's checksum, so a decode is exact)."""
    pyzbar = _zbar()
    gray = np.ascontiguousarray(_gray(image))
    if gray.dtype != np.uint8 or gray.size == 0:
        return []
    found: dict[tuple[str, str], Word] = {}
    for variant, back in _variants(gray):
        try:
            results = pyzbar.decode(variant)
        except Exception as exc:  # noqa: BLE001 - a decoder crash must not fail the claim
            log.warning("zbar failed on a variant: %s", type(exc).__name__)
            continue
        for r in results:
            try:
                text = r.data.decode("utf-8")
            except UnicodeDecodeError:
                text = r.data.decode("latin-1")
            symbology = str(r.type).lower().replace("-", "")
            pts = np.array([[p.x, p.y, 1.0] for p in r.polygon] or
                           [[r.rect.left, r.rect.top, 1.0],
                            [r.rect.left + r.rect.width, r.rect.top + r.rect.height, 1.0]], dtype=np.float64)
            orig = pts @ back.T
            x0, y0 = orig[:, 0].min(), orig[:, 1].min()
            x1, y1 = orig[:, 0].max(), orig[:, 1].max()
            key = (symbology, text)
            box = Box(x0=float(x0), y0=float(y0), x1=float(max(x1, x0 + 1)), y1=float(max(y1, y0 + 1)))
            # ZBar's polygon covers the scan lines that decoded; on a soft photo that can
            # be a single point, so keep the largest box any variant reported
            old = found.get(key)
            if old is None or box.width * box.height > old.box.width * old.box.height:
                found[key] = Word(text=text, conf=1.0, engine=f"barcode:{symbology}", box=box)
    log.debug("barcodes found: %d", len(found))
    return list(found.values())
