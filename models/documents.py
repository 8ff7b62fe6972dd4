"""What the render and OCR stages produce: pages of words with boxes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from models.base import Record


class DocumentRole(StrEnum):
    RECEIPT = "receipt"
    SERIAL_PHOTO = "serial_photo"


class Box(Record):
    """Axis-aligned box in the page's own coordinates: pixels of the image as
    uploaded (a rasterised PDF page: pixels at the render dpi), mapped back
    from the preprocessed image the OCR saw; or PDF points (top-left origin)
    for a text-layer PDF."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    def union(self, other: Box) -> Box:
        return Box(x0=min(self.x0, other.x0), y0=min(self.y0, other.y0),
                   x1=max(self.x1, other.x1), y1=max(self.y1, other.y1))

    @staticmethod
    def enclosing(boxes: list[Box]) -> Box | None:
        if not boxes:
            return None
        out = boxes[0]
        for b in boxes[1:]:
            out = out.union(b)
        return out


class Word(Record):
    text: str
    conf: float = Field(ge=0.0, le=1.0, description="engine confidence, 0..1")
    box: Box
    engine: str = "tesseract"


class Line(Record):
    """Words on one text line, left to right."""

    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> Box:
        b = Box.enclosing([w.box for w in self.words])
        assert b is not None
        return b

    @property
    def conf(self) -> float:
        if not self.words:
            return 0.0
        return sum(w.conf for w in self.words) / len(self.words)


class Page(Record):
    page_no: int = Field(ge=1)
    width: float
    height: float
    unit: str = "px"  # "px" for OCRed images, "pt" for PDF text layers
    lines: tuple[Line, ...] = ()
    source: str = "ocr"  # "ocr" or "pdf-text"
    engine: str = "tesseract"
    rotation: int = 0  # degrees the image was rotated (clockwise) before OCR
    skew: float = 0.0  # degrees of deskew applied
    image_path: str | None = None  # the preprocessed image the OCR saw, when kept (for debugging OCR)
    barcodes: tuple[Word, ...] = ()  # decoded barcodes (text = payload, engine = symbology)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class FileInfo(Record):
    """One uploaded file after intake checks."""

    role: DocumentRole
    name: str
    path: str
    size: int
    sha256: str
    detected_type: str  # "jpeg", "png", "pdf", or what was found instead
    pages: int = 1
    width: int | None = None
    height: int | None = None


class DocumentText(Record):
    """All the text of one document, with its provenance."""

    file: FileInfo
    pages: tuple[Page, ...]
    warnings: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)

    def all_lines(self) -> list[tuple[Page, Line]]:
        return [(p, line) for p in self.pages for line in p.lines]
