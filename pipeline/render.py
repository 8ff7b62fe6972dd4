"""Turn an uploaded file into pages: text from a PDF's text layer, or pixels.

The only module that touches pdfplumber and pypdfium2. A PDF page with a real
text layer becomes a finished `Page` (source "pdf-text", unit "pt", no OCR);
a page without one is rasterised for OCR. Images are decoded with OpenCV and
turned upright by their EXIF orientation. Anything malformed becomes
`FileRejected` (code FILE_CORRUPT / FILE_ENCRYPTED), never a library error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.documents import Box, Page, Word
from pipeline.errors import FileRejected
from pipeline.ocr.base import group_words_into_lines

log = logging.getLogger(__name__)

#: a text layer with fewer visible characters than this is treated as absent
MIN_TEXT_CHARS = 20
#: hard cap on rasterised pixels per page (a 300-dpi A3 page is ~17.4 MP)
MAX_RASTER_PIXELS = 40_000_000


@dataclass(frozen=True)
class RenderedPage:
    page_no: int
    image: np.ndarray | None = None  # gray or BGR uint8, when the page needs OCR
    text_page: Page | None = None  # when the PDF's text layer was used
    dpi: int | None = None


# ------------------------------------------------------------------- images

_EXIF_ORIENTATION = 0x0112


def _exif_orientation(data: bytes) -> int:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, TypeError):
        return 1
    except Exception:  # noqa: BLE001 - e.g. DecompressionBombError: no usable tag, the pixels decide
        return 1


def apply_exif_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation tag (1..8) the way viewers do (as Pillow's
    `ImageOps.exif_transpose`)."""
    ops = {
        2: lambda a: cv2.flip(a, 1),
        3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
        4: lambda a: cv2.flip(a, 0),
        5: lambda a: cv2.transpose(a),
        6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
        7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),
        8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    op = ops.get(orientation)
    return op(image) if op else image


def load_image(path: Path | str) -> np.ndarray:
    """Decode a JPEG/PNG into an upright BGR uint8 array."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FileRejected("the image file cannot be read", code="FILE_CORRUPT") from exc
    arr = np.frombuffer(data, dtype=np.uint8)
    try:
        img = cv2.imdecode(arr, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION) if arr.size else None
    except cv2.error as exc:
        raise FileRejected("the image cannot be decoded", code="FILE_CORRUPT") from exc
    if img is None or img.size == 0:
        raise FileRejected("the image cannot be decoded", code="FILE_CORRUPT")
    orientation = _exif_orientation(data)
    if orientation != 1:
        log.debug("applying EXIF orientation %d", orientation)
    return apply_exif_orientation(img, orientation)


# ---------------------------------------------------------------------- PDF

def _pdf_errors() -> tuple[type[BaseException], ...]:
    errs: list[type[BaseException]] = [ValueError, KeyError, TypeError, OSError, AssertionError, RecursionError]
    try:
        from pdfminer.pdfparser import PDFSyntaxError
        from pdfminer.psexceptions import PSException
        errs += [PDFSyntaxError, PSException]
    except ImportError:  # pragma: no cover
        pass
    try:
        from pdfplumber.utils.exceptions import PdfminerException
        errs.append(PdfminerException)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errs)


def _is_encryption_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        name = type(seen).__name__
        if "Password" in name or "Encrypt" in name:
            return True
        for arg in getattr(seen, "args", ()):
            if isinstance(arg, BaseException) and _is_encryption_error(arg):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def _text_layer_page(page, page_no: int) -> Page | None:  # noqa: ANN001 - pdfplumber.Page
    words_raw = page.extract_words(keep_blank_chars=False, use_text_flow=False)
    chars = sum(len(str(w.get("text", "")).strip()) for w in words_raw)
    if chars < MIN_TEXT_CHARS:
        return None
    words = []
    for w in words_raw:
        text = str(w["text"]).strip()
        if not text:
            continue
        words.append(Word(text=text, conf=1.0, engine="pdfplumber",
                          box=Box(x0=float(w["x0"]), y0=float(w["top"]), x1=float(w["x1"]), y1=float(w["bottom"]))))
    lines = group_words_into_lines(words)
    return Page(page_no=page_no, width=float(page.width), height=float(page.height), unit="pt",
                lines=tuple(lines), source="pdf-text", engine="pdfplumber")


def _rasterise(path: Path, index: int, dpi: int) -> np.ndarray:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[index]
        w_pt, h_pt = page.get_size()
        scale = dpi / 72.0
        if w_pt * h_pt * scale * scale > MAX_RASTER_PIXELS:
            scale = (MAX_RASTER_PIXELS / (w_pt * h_pt)) ** 0.5
            log.warning("page %d rasterised at %.0f dpi instead of %d (pixel cap)", index + 1, scale * 72, dpi)
        bitmap = page.render(scale=scale, grayscale=True)
        pil = bitmap.to_pil().convert("L")
        return np.array(pil, dtype=np.uint8)
    finally:
        pdf.close()


def render_pdf(path: Path | str, *, dpi: int = 300, max_pages: int | None = None) -> list[RenderedPage]:
    """Each page of a PDF: its text layer as a `Page` when it has a real one,
    else a grayscale raster at `dpi` for OCR."""
    import pdfplumber

    path = Path(path)
    out: list[RenderedPage] = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            pages = pdf.pages if max_pages is None else pdf.pages[:max_pages]
            for i, page in enumerate(pages):
                text_page = _text_layer_page(page, i + 1)
                if text_page is not None:
                    out.append(RenderedPage(page_no=i + 1, text_page=text_page))
                else:
                    out.append(RenderedPage(page_no=i + 1, image=_rasterise(path, i, dpi), dpi=dpi))
    except FileRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - pdfminer/pdfium raise many types; all mean "cannot read"
        if _is_encryption_error(exc):
            raise FileRejected("the PDF is password-protected", code="FILE_ENCRYPTED") from exc
        log.warning("PDF cannot be read: %s", type(exc).__name__)
        raise FileRejected(f"the PDF cannot be read ({type(exc).__name__})", code="FILE_CORRUPT") from exc
    if not out:
        raise FileRejected("the PDF has no pages", code="FILE_CORRUPT")
    return out


#: the pages of the last few files rendered, so that the stages of one claim (the OCR reading, a
#: second reading, the handwritten-serial pass, the forensics) decode a file once; each caller
#: gets its own copy of the pixels. Keyed by a hash of the file's bytes (hashing is far cheaper
#: than decoding).
RENDER_CACHE_FILES = 2
RENDER_CACHE_BYTES = 96_000_000  # a file whose pages hold more pixels than this is not kept
_render_cache: OrderedDict[tuple[object, ...], list[RenderedPage]] = OrderedDict()
_render_lock = threading.Lock()


def _copy(pages: list[RenderedPage]) -> list[RenderedPage]:
    return [dataclasses.replace(p, image=p.image.copy()) if p.image is not None else p for p in pages]


def render_file(path: Path | str, detected_type: str, *, dpi: int = 300) -> list[RenderedPage]:
    """Pages of an uploaded file: PDF pages (text layer or raster) or the one image."""
    if detected_type not in ("pdf", "jpeg", "png"):
        raise FileRejected(f"cannot render a file of type {detected_type!r}", code="FILE_FORMAT_UNSUPPORTED")
    try:
        digest = hashlib.blake2b(Path(path).read_bytes(), digest_size=16).digest()
        key: tuple[object, ...] | None = (digest, detected_type, dpi)
    except OSError:
        key = None  # the renderer says what is wrong with the file
    if key is not None:
        with _render_lock:
            hit = _render_cache.get(key)
            if hit is not None:
                _render_cache.move_to_end(key)
                return _copy(hit)
    pages = render_pdf(path, dpi=dpi) if detected_type == "pdf" else [RenderedPage(page_no=1, image=load_image(path))]
    if key is not None and sum(p.image.nbytes for p in pages if p.image is not None) <= RENDER_CACHE_BYTES:
        with _render_lock:
            _render_cache[key] = _copy(pages)
            while len(_render_cache) > RENDER_CACHE_FILES:
                _render_cache.popitem(last=False)
    return pages
