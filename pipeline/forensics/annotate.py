"""Draw a verdict's evidence on the receipt, for the claim handler.

Red boxes: regions of forensic signals that reached their threshold (pasted
digits, edited text, the copied-from area); orange: weaker signals; blue: where
each field was read. Boxes are in the coordinates of the uploaded file (image
pixels, or PDF points for a text-layer page), so a text-layer PDF page is
rasterised here and its boxes scaled from points.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from models.documents import Box
from models.verdict import Verdict

log = logging.getLogger(__name__)

RED, ORANGE, BLUE = (0, 0, 220), (0, 140, 255), (200, 90, 0)
PDF_DPI = 150


def _pages(path: Path, detected_type: str) -> list[tuple[np.ndarray, float]]:
    """(BGR image, scale from box coordinates to its pixels) per page."""
    from pipeline.render import _rasterise, render_file

    out = []
    for i, p in enumerate(render_file(path, detected_type)):
        if p.image is not None:
            img, scale = p.image, 1.0
        else:
            img, scale = _rasterise(path, i, PDF_DPI), PDF_DPI / 72.0
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        out.append((img.copy(), scale))
    return out


def _draw(img: np.ndarray, box: Box, scale: float, colour: tuple[int, int, int], label: str, thick: int) -> None:
    h, w = img.shape[:2]
    x0, y0 = max(0, int(box.x0 * scale) - 3), max(0, int(box.y0 * scale) - 3)
    x1, y1 = min(w - 1, int(box.x1 * scale) + 3), min(h - 1, int(box.y1 * scale) + 3)
    cv2.rectangle(img, (x0, y0), (x1, y1), colour, thick)
    if label:
        size = max(0.4, min(1.2, w / 1600))
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, size, 1)
        ty = y0 - 4 if y0 - th - 6 > 0 else min(h - 2, y1 + th + 4)
        cv2.rectangle(img, (x0, ty - th - 3), (min(w - 1, x0 + tw + 4), ty + 3), (255, 255, 255), -1)
        cv2.putText(img, label, (x0 + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, size, colour, 1, cv2.LINE_AA)


def annotate(receipt: Path, detected_type: str, verdict: Verdict, out_dir: Path, *, fields: bool = True) -> list[Path]:
    """Write `<claim_id>-receipt-p<N>.png` for each page of the receipt with the verdict's
    evidence drawn on it; returns the files written (none when the receipt cannot be rendered)."""
    try:
        pages = _pages(Path(receipt), detected_type)
    except Exception as exc:  # noqa: BLE001 - an unreadable receipt has nothing to draw on
        log.info("claim %s: receipt not annotated (%s)", verdict.claim_id, type(exc).__name__)
        return []
    thick = 2
    for no, (img, scale) in enumerate(pages, start=1):
        thick = max(2, img.shape[1] // 500)
        if fields:
            for name, fv in verdict.fields.items():
                ev = fv.evidence
                if ev is not None and ev.document == "receipt" and ev.page == no and ev.box is not None:
                    _draw(img, ev.box, scale, BLUE, name, max(1, thick // 2))
        for sig in reversed(verdict.signals):  # strongest drawn last, on top
            colour = RED if sig.flagged else ORANGE
            if not sig.flagged and sig.score < sig.threshold / 2:
                continue
            for r in sig.regions:
                if r.page == no:
                    _draw(img, r.box, scale, colour, r.note or sig.detector, thick)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for no, (img, _) in enumerate(pages, start=1):
        path = out_dir / f"{verdict.claim_id}-receipt-p{no}.png"
        cv2.imwrite(str(path), img)
        written.append(path)
    return written


def annotate_claim(claim_dir: Path, verdict: Verdict, out_dir: Path) -> list[Path]:
    """Annotate the receipt of the claim in `claim_dir` (found through its claim.json)."""
    from pipeline.errors import ClaimInputError
    from pipeline.intake import _inside, detect_type, load_claim

    try:
        claim = load_claim(claim_dir)
    except ClaimInputError:
        return []
    path = _inside(Path(claim_dir), claim.files.receipt)
    if path is None or not path.is_file():
        return []
    return annotate(path, detect_type(path.read_bytes()[:64]), verdict, out_dir)
