"""The OCR stage: file -> pages -> preprocessed images -> engine -> DocumentText.

    read_document(file)  receipts and invoices (PDF text layer, scans, photos)
    read_label(file)     phone photo of a serial-number label: barcodes + sparse text
    get_engine(name)     "tesseract", "tesseract-psm<N>", "rapidocr" (one instance per process)

Engines implement `pipeline.ocr.base.OcrEngine`; `register_engine` puts a
replay or fault-injection engine behind a name for tests. Errors: a malformed
file -> `FileRejected`; an engine failure -> `OcrError`; tesseract not
installed -> `DependencyMissing`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from models.documents import Box, DocumentText, FileInfo, Line, Page, Word
from pipeline.errors import ClaimcheckError, DependencyMissing, OcrError
from pipeline.ocr.base import OcrEngine

if TYPE_CHECKING:
    from pipeline.preprocess import Preprocessed

log = logging.getLogger(__name__)

__all__ = ["read_document", "read_label", "get_engine", "register_engine", "OcrEngine",
           "DEFAULT_DOCUMENT_ENGINE", "DEFAULT_LABEL_ENGINE"]

#: engine for receipts. scripts/ocr_probe.py on 30 SROIE receipts: tesseract psm 6
#: + preprocessing reads 0.75 of the words in ~0.65-0.9 s; RapidOCR reads 0.83
#: but takes ~3.9 s on one core, far over the 1.5 s per-receipt budget.
DEFAULT_DOCUMENT_ENGINE = "tesseract"
#: engine that engine="auto" picks for label photos. scripts/ocr_probe.py --labels
#: (12 rendered phone photos): after preprocessing RapidOCR read serial 12/12 and
#: model name 12/12 (0.6 s); tesseract psm 11 12/12 and 7/12, psm 6 12/12 and 8/12.
DEFAULT_LABEL_ENGINE = "rapidocr"
#: used by engine="auto" when RapidOCR is not installed (sparse-text mode)
FALLBACK_LABEL_ENGINE = "tesseract-psm11"
#: below this mean word confidence (or with fewer words than MIN_WORDS) the page
#: is re-read after tesseract's orientation detection
POOR_MEAN_CONF = 0.60
MIN_WORDS = 5
MIN_OSD_CONF = 1.0

_engines: dict[str, OcrEngine] = {}
_engines_lock = threading.Lock()


def register_engine(name: str, engine: OcrEngine | None) -> None:
    """Put `engine` behind `name` for this process (None removes it). For tests
    (replay and failing engines) and for an orchestrator that builds its own."""
    with _engines_lock:
        if engine is None:
            _engines.pop(name, None)
        else:
            _engines[name] = engine


def get_engine(name: str) -> OcrEngine:
    """The engine called `name`, created on first use and kept for the process."""
    with _engines_lock:
        eng = _engines.get(name)
        if eng is not None:
            return eng
        if name == "tesseract":
            from pipeline.ocr.tesseract import TesseractEngine
            eng = TesseractEngine()
        elif name.startswith("tesseract-psm") and name[len("tesseract-psm"):].isdigit():
            from pipeline.ocr.tesseract import TesseractEngine
            eng = TesseractEngine(psm=int(name[len("tesseract-psm"):]))
        elif name == "rapidocr":
            from pipeline.ocr.rapid import RapidOcrEngine
            eng = RapidOcrEngine()
        else:
            raise ValueError(f"unknown OCR engine {name!r} (known: tesseract, tesseract-psm<N>, rapidocr)")
        _engines[name] = eng
        return eng


# --------------------------------------------------------------------- helpers

@dataclass
class _Read:
    lines: list[Line]
    prep: Preprocessed


def _quality(lines: list[Line]) -> tuple[int, float]:
    """(number of word-like words, their mean confidence)."""
    words = [w for ln in lines for w in ln.words if sum(c.isalnum() for c in w.text) >= 2]
    if not words:
        return 0, 0.0
    return len(words), sum(w.conf for w in words) / len(words)


def _score(lines: list[Line]) -> float:
    """Total confidence of the confidently read word-like words: what a reading is worth."""
    return sum(w.conf for ln in lines for w in ln.words
               if w.conf >= POOR_MEAN_CONF and sum(c.isalnum() for c in w.text) >= 2)


def _is_poor(lines: list[Line]) -> bool:
    n, mean = _quality(lines)
    return n < MIN_WORDS or mean < POOR_MEAN_CONF


def _recognize(engine: OcrEngine, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
    try:
        return engine.recognize(image, languages)
    except ClaimcheckError:
        raise
    except Exception as exc:  # noqa: BLE001 - an engine must only raise typed errors; enforce it here
        raise OcrError(f"OCR engine {getattr(engine, 'name', '?')} failed: {type(exc).__name__}") from exc


def _detect_orientation(image: np.ndarray, warnings: list[str]) -> tuple[int, float] | None:
    from pipeline.ocr.tesseract import detect_orientation

    try:
        return detect_orientation(image)
    except DependencyMissing:
        warnings.append("orientation detection unavailable (tesseract OSD not installed)")
        return None


def _prep(image: np.ndarray, rotation: int, page_no: int, **prep_kwargs: Any) -> Preprocessed:
    from pipeline.preprocess import preprocess

    try:
        return preprocess(image, rotation=rotation, **prep_kwargs)
    except (cv2.error, ValueError) as exc:
        raise OcrError(f"page {page_no}: preprocessing failed ({type(exc).__name__})") from exc


def _read_image(image: np.ndarray, engine: OcrEngine, languages: tuple[str, ...], warnings: list[str],
                page_no: int, *, try_all_rotations: bool = False, **prep_kwargs: Any) -> _Read:
    """Preprocess and OCR one image. Orientation detection (tesseract OSD, ~0.5 s
    on a receipt) runs only when the upright reading looks poor; the reading
    with the better quality wins. With `try_all_rotations` (sparse labels, where
    OSD has too few characters to decide) the other quarter turns are read too
    when OSD gives no answer and the reading is still poor."""
    from pipeline.preprocess import _downscale

    prep = _prep(image, 0, page_no, **prep_kwargs)
    best = _Read(_recognize(engine, prep.image, languages), prep)
    if not _is_poor(best.lines):
        return best
    small, _ = _downscale(prep.image, 1400)
    found = _detect_orientation(small, warnings)
    if found is not None and found[0] != 0 and found[1] >= MIN_OSD_CONF:
        candidates = [found[0]]
    elif try_all_rotations and found is None:
        candidates = [90, 270, 180]
    else:
        return best
    for rot in candidates:
        log.debug("page %d: re-reading with rotation %d", page_no, rot)
        # OSD measured the preprocessed image, which is upright-equivalent to the
        # perspective-corrected input: rotate at that point and redo the rest
        prep2 = _prep(image, rot, page_no, **prep_kwargs)
        other = _Read(_recognize(engine, prep2.image, languages), prep2)
        if _score(other.lines) > _score(best.lines):
            best = other
        # with OSD's answer one re-read is enough; without it, read every turn:
        # tesseract reads upside-down text with deceptively good confidence
        if not try_all_rotations and not _is_poor(best.lines):
            break
    return best


def _keep_image(keep_images_dir: Path | None, file: FileInfo, page_no: int, image: np.ndarray) -> str | None:
    if keep_images_dir is None:
        return None
    keep_images_dir = Path(keep_images_dir)
    keep_images_dir.mkdir(parents=True, exist_ok=True)
    path = keep_images_dir / f"{file.sha256[:16]}-{file.role.value}-p{page_no}.png"
    if not cv2.imwrite(str(path), image):
        raise OcrError(f"could not write the preprocessed image of page {page_no}")
    return str(path)


def _back_to_input(words: Sequence[Word], prep: Preprocessed, width: int, height: int) -> list[Word]:
    """Boxes found on the preprocessed image, mapped back through the inverse of
    its transform (rotation, deskew, perspective, rescale) into the pixels of the
    image as uploaded (or as rendered from the PDF): the coordinates a claim
    handler and the data team's labels use."""
    if not words:
        return []
    inv = np.linalg.inv(prep.transform)
    corners = np.array([[(b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1)]
                        for b in (w.box for w in words)], dtype=np.float64).reshape(-1, 2)
    h = np.hstack([corners, np.ones((len(corners), 1))]) @ inv.T
    pts = (h[:, :2] / h[:, 2:3]).reshape(-1, 4, 2)
    out = []
    for w, q in zip(words, pts, strict=True):
        x0, y0 = float(np.clip(q[:, 0].min(), 0, width)), float(np.clip(q[:, 1].min(), 0, height))
        x1, y1 = float(np.clip(q[:, 0].max(), 0, width)), float(np.clip(q[:, 1].max(), 0, height))
        out.append(w.model_copy(update={"box": Box(x0=x0, y0=y0, x1=max(x1, x0), y1=max(y1, y0))}))
    return out


def _page(read: _Read, page_no: int, engine: OcrEngine, image_path: str | None, input_shape: tuple[int, ...],
          barcodes: tuple[Word, ...] = ()) -> Page:
    prep = read.prep
    h, w = int(input_shape[0]), int(input_shape[1])
    lines = tuple(Line(words=tuple(_back_to_input(ln.words, prep, w, h))) for ln in read.lines if ln.words)
    return Page(page_no=page_no, width=float(w), height=float(h), unit="px", lines=lines, source="ocr",
                engine=engine.name, rotation=int(prep.rotation), skew=float(prep.skew),
                image_path=image_path, barcodes=tuple(_back_to_input(barcodes, prep, w, h)))


# ------------------------------------------------------------------ public API

def read_document(file: FileInfo, *, languages: tuple[str, ...] = ("eng",), engine: str = "tesseract",
                  dpi: int = 300, keep_images_dir: Path | None = None) -> DocumentText:
    """All the text of a receipt/invoice. PDF pages with a text layer are read
    without OCR; other pages and images are preprocessed and OCRed."""
    from pipeline.render import render_file

    eng = get_engine(engine)
    warnings: list[str] = []
    pages: list[Page] = []
    for rp in render_file(file.path, file.detected_type, dpi=dpi):
        if rp.text_page is not None:
            pages.append(rp.text_page)
            continue
        assert rp.image is not None
        read = _read_image(rp.image, eng, languages, warnings, rp.page_no)
        image_path = _keep_image(keep_images_dir, file, rp.page_no, read.prep.image)
        page = _page(read, rp.page_no, eng, image_path, rp.image.shape)
        if not page.lines:
            warnings.append(f"page {rp.page_no}: no text found")
        pages.append(page)
    log.info("read %s: %d page(s), %d line(s), engine %s", file.role.value, len(pages),
             sum(len(p.lines) for p in pages), engine)
    return DocumentText(file=file, pages=tuple(pages), warnings=tuple(warnings))


def read_label(file: FileInfo, *, languages: tuple[str, ...] = ("eng",), engine: str = "auto",
               keep_images_dir: Path | None = None) -> DocumentText:
    """Barcodes and text of a photo of a serial-number label (first page of a PDF).
    engine="auto" uses `DEFAULT_LABEL_ENGINE`, measured on rendered label photos."""
    from pipeline.barcode import decode_barcodes
    from pipeline.render import render_file

    warnings: list[str] = []
    eng = get_engine(DEFAULT_LABEL_ENGINE if engine == "auto" else engine)
    rendered = render_file(file.path, file.detected_type, dpi=300)
    rp = rendered[0]
    if rp.text_page is not None:  # a label as a born-digital PDF: its text layer is exact
        return DocumentText(file=file, pages=(rp.text_page,), warnings=())
    assert rp.image is not None
    original = rp.image
    try:
        read = _read_image(original, eng, languages, warnings, 1, try_all_rotations=True)
    except DependencyMissing as exc:
        if engine != "auto":
            raise
        # RapidOCR's models load lazily, so a broken install shows up only here
        warnings.append(f"{DEFAULT_LABEL_ENGINE} unavailable ({exc.code}); label read with {FALLBACK_LABEL_ENGINE}")
        eng = get_engine(FALLBACK_LABEL_ENGINE)
        read = _read_image(original, eng, languages, warnings, 1, try_all_rotations=True)
    prep = read.prep

    barcodes: list[Word] = []
    try:
        barcodes = decode_barcodes(prep.image)
        if not barcodes:
            # the original photo can decode where the warped one does not: map its boxes over
            for b in decode_barcodes(original):
                pts = prep.map_points(np.array([[b.box.x0, b.box.y0], [b.box.x1, b.box.y0],
                                                [b.box.x1, b.box.y1], [b.box.x0, b.box.y1]]))
                barcodes.append(b.model_copy(update={"box": Box(x0=float(pts[:, 0].min()), y0=float(pts[:, 1].min()),
                                                                x1=float(pts[:, 0].max()),
                                                                y1=float(pts[:, 1].max()))}))
    except DependencyMissing as exc:
        warnings.append(f"barcodes not decoded: {exc.message}")
    image_path = _keep_image(keep_images_dir, file, 1, prep.image)
    page = _page(read, 1, eng, image_path, original.shape, tuple(barcodes))
    if not page.lines and not barcodes:
        warnings.append("page 1: no text or barcode found")
    log.info("read label: %d line(s), %d barcode(s), engine %s", len(page.lines), len(barcodes), eng.name)
    return DocumentText(file=file, pages=(page,), warnings=tuple(warnings))
