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
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.documents import DocumentText, FileInfo, Line, Page, Word
from pipeline.errors import ClaimcheckError, DependencyMissing, OcrError
from pipeline.ocr.base import OcrEngine

log = logging.getLogger(__name__)

__all__ = ["read_document", "read_label", "get_engine", "register_engine", "OcrEngine",
           "DEFAULT_DOCUMENT_ENGINE", "DEFAULT_LABEL_ENGINE"]

#: engine for receipts (scripts/ocr_probe.py: best recall within the time budget on SROIE)
DEFAULT_DOCUMENT_ENGINE = "tesseract"
#: engine that engine="auto" picks for label photos (scripts/ocr_probe.py --labels)
DEFAULT_LABEL_ENGINE = "rapidocr"
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
    prep: object  # pipeline.preprocess.Preprocessed


def _quality(lines: list[Line]) -> tuple[int, float]:
    words = [w for ln in lines for w in ln.words if sum(c.isalnum() for c in w.text) >= 2]
    if not words:
        return 0, 0.0
    return len(words), sum(w.conf for w in words) / len(words)


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


def _read_image(image: np.ndarray, engine: OcrEngine, languages: tuple[str, ...], warnings: list[str],
                page_no: int, **prep_kwargs: object) -> _Read:
    """Preprocess and OCR one image. Orientation detection (tesseract OSD, ~0.5 s
    on a receipt) runs only when the upright reading looks poor; the reading
    with the better quality wins."""
    from pipeline.preprocess import _downscale, preprocess

    try:
        prep = preprocess(image, rotation=0, **prep_kwargs)  # type: ignore[arg-type]
    except (cv2.error, ValueError) as exc:
        raise OcrError(f"page {page_no}: preprocessing failed ({type(exc).__name__})") from exc
    lines = _recognize(engine, prep.image, languages)
    if not _is_poor(lines):
        return _Read(lines, prep)
    small, _ = _downscale(prep.image, 1400)
    found = _detect_orientation(small, warnings)
    if found is None or found[0] == 0 or found[1] < MIN_OSD_CONF:
        return _Read(lines, prep)
    log.debug("page %d: re-reading after OSD rotation %d (conf %.1f)", page_no, found[0], found[1])
    try:
        # OSD measured the preprocessed image, which is upright-equivalent to the
        # perspective-corrected input: rotate at that point and redo the rest
        prep2 = preprocess(image, rotation=found[0], **prep_kwargs)  # type: ignore[arg-type]
    except (cv2.error, ValueError) as exc:
        raise OcrError(f"page {page_no}: preprocessing failed ({type(exc).__name__})") from exc
    lines2 = _recognize(engine, prep2.image, languages)
    if _quality(lines2) >= _quality(lines) or _quality(lines2)[1] > _quality(lines)[1]:
        return _Read(lines2, prep2)
    return _Read(lines, prep)


def _keep_image(keep_images_dir: Path | None, file: FileInfo, page_no: int, image: np.ndarray) -> str | None:
    if keep_images_dir is None:
        return None
    keep_images_dir = Path(keep_images_dir)
    keep_images_dir.mkdir(parents=True, exist_ok=True)
    path = keep_images_dir / f"{file.sha256[:16]}-{file.role.value}-p{page_no}.png"
    if not cv2.imwrite(str(path), image):
        raise OcrError(f"could not write the preprocessed image of page {page_no}")
    return str(path)


def _page(read: _Read, page_no: int, engine: OcrEngine, image_path: str | None,
          barcodes: tuple[Word, ...] = ()) -> Page:
    prep = read.prep
    h, w = prep.image.shape[:2]  # type: ignore[attr-defined]
    return Page(page_no=page_no, width=float(w), height=float(h), unit="px", lines=tuple(read.lines), source="ocr",
                engine=engine.name, rotation=int(prep.rotation), skew=float(prep.skew),  # type: ignore[attr-defined]
                image_path=image_path, barcodes=barcodes)


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
        image_path = _keep_image(keep_images_dir, file, rp.page_no, read.prep.image)  # type: ignore[attr-defined]
        page = _page(read, rp.page_no, eng, image_path)
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

    eng = get_engine(DEFAULT_LABEL_ENGINE if engine == "auto" else engine)
    warnings: list[str] = []
    rendered = render_file(file.path, file.detected_type, dpi=300)
    rp = rendered[0]
    if rp.text_page is not None:  # a label as a born-digital PDF: its text layer is exact
        return DocumentText(file=file, pages=(rp.text_page,), warnings=())
    assert rp.image is not None
    original = rp.image
    read = _read_image(original, eng, languages, warnings, 1)
    prep = read.prep

    barcodes: list[Word] = []
    try:
        barcodes = decode_barcodes(prep.image)  # type: ignore[attr-defined]
        if not barcodes:
            # the original photo can decode where the warped one does not: map its boxes over
            from models.documents import Box
            for b in decode_barcodes(original):
                pts = prep.map_points(np.array([[b.box.x0, b.box.y0], [b.box.x1, b.box.y0],  # type: ignore[attr-defined]
                                                [b.box.x1, b.box.y1], [b.box.x0, b.box.y1]]))
                barcodes.append(b.model_copy(update={"box": Box(x0=float(pts[:, 0].min()), y0=float(pts[:, 1].min()),
                                                                x1=float(pts[:, 0].max()),
                                                                y1=float(pts[:, 1].max()))}))
    except DependencyMissing as exc:
        warnings.append(f"barcodes not decoded: {exc.message}")
    image_path = _keep_image(keep_images_dir, file, 1, prep.image)  # type: ignore[attr-defined]
    page = _page(read, 1, eng, image_path, tuple(barcodes))
    if not page.lines and not barcodes:
        warnings.append("page 1: no text or barcode found")
    log.info("read label: %d line(s), %d barcode(s), engine %s", len(page.lines), len(barcodes), eng.name)
    return DocumentText(file=file, pages=(page,), warnings=tuple(warnings))
