"""Layout helpers: group OCR lines into visual rows, and build Evidence.

OCR engines (and the SROIE ground truth) often split one printed row into
several lines ("TOTAL" at the left, "15.90" at the right). Extractors work on
`Row`s: the lines whose vertical centres are close, ordered left to right.

Boxes on a `Page` are in the pixels of the file as uploaded, but a page read
after a quarter turn (`Page.rotation`, 90/180/270 degrees clockwise) has its
text running sideways or upside down in those pixels. Rows are therefore
grouped, ordered and placed (`Row.rel_y`) in the page's *upright* frame; the
boxes a `Row` hands out as evidence stay in the uploaded frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from models.documents import Box, DocumentText, Line, Page, Word
from models.fields import Evidence

log = logging.getLogger(__name__)


@dataclass
class Row:
    page: Page
    lines: list[Line]
    index: int = 0  # position of the row in reading order over the whole document
    doc_role: str = "receipt"
    engine: str = "tesseract"
    _text: str | None = field(default=None, repr=False)
    _upright: Box | None = field(default=None, repr=False)  # the row's box in the page's upright frame

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "  ".join(line.text for line in self.lines)
        return self._text

    @property
    def box(self) -> Box:
        b = Box.enclosing([ln.box for ln in self.lines if ln.words])
        return b if b is not None else Box(x0=0, y0=0, x1=0, y1=0)

    @property
    def conf(self) -> float:
        words = [w for ln in self.lines for w in ln.words]
        if not words:
            return 0.0
        return sum(w.conf for w in words) / len(words)

    @property
    def n_words(self) -> int:
        return sum(len(ln.words) for ln in self.lines)

    def word_spans(self) -> list[tuple[Word, int, int]]:
        """Each word with its character span in `text`."""
        out: list[tuple[Word, int, int]] = []
        pos = 0
        for i, ln in enumerate(self.lines):
            if i:
                pos += 2
            for j, w in enumerate(ln.words):
                if j:
                    pos += 1
                out.append((w, pos, pos + len(w.text)))
                pos += len(w.text)
        return out

    def conf_of_span(self, start: int, end: int) -> float:
        """Mean confidence of the words overlapping [start, end)."""
        ws = [w.conf for w, s, e in self.word_spans() if s < end and e > start]
        return sum(ws) / len(ws) if ws else self.conf

    def box_of_span(self, start: int, end: int) -> Box:
        b = Box.enclosing([w.box for w, s, e in self.word_spans() if s < end and e > start])
        return b if b is not None else self.box

    def span_evidence(self, start: int, end: int) -> Evidence:
        return Evidence(document=self.doc_role, page=self.page.page_no, box=self.box_of_span(start, end),
                        text=self.text)

    @property
    def upright_box(self) -> Box:
        """The row's box with the page turned upright (see `rotate_box`)."""
        if self._upright is None:
            self._upright = rotate_box(self.box, page_rotation(self.page), self.page.width or 0.0,
                                       self.page.height or 0.0)
        return self._upright

    def rel_y(self) -> float:
        """Vertical position 0 (top) .. 1 (bottom) on its page, upright."""
        rot = page_rotation(self.page)
        h = (self.page.width if rot in (90, 270) else self.page.height) or 1.0
        return max(0.0, min(1.0, self.upright_box.cy / h))

    def evidence(self, text: str | None = None) -> Evidence:
        return Evidence(document=self.doc_role, page=self.page.page_no, box=self.box,
                        text=self.text if text is None else text)


def _role(doc: DocumentText) -> str:
    try:
        return str(doc.file.role.value)
    except AttributeError:  # pragma: no cover - defensive
        return str(doc.file.role)


def page_rotation(page: Page) -> int:
    """The quarter turn (degrees clockwise, 0/90/180/270) that makes `page` upright."""
    try:
        rot = int(getattr(page, "rotation", 0) or 0) % 360
    except (TypeError, ValueError):
        return 0
    return rot if rot in (90, 180, 270) else 0


def rotate_box(b: Box, rot: int, w: float, h: float) -> Box:
    """`b`, a box of a w x h image, in the frame of that image turned `rot`
    degrees clockwise (a quarter turn; anything else leaves the box as it is)."""
    rot = rot % 360
    if rot == 90:
        return Box(x0=h - b.y1, y0=b.x0, x1=h - b.y0, y1=b.x1)
    if rot == 180:
        return Box(x0=w - b.x1, y0=h - b.y1, x1=w - b.x0, y1=h - b.y0)
    if rot == 270:
        return Box(x0=b.y0, y0=w - b.x1, x1=b.y1, y1=w - b.x0)
    return b


def build_rows(doc: DocumentText) -> list[Row]:
    """Group each page's lines into rows (vertical-centre proximity in the page's
    upright frame), top to bottom."""
    rows: list[Row] = []
    role = _role(doc)
    for page in doc.pages:
        rot = page_rotation(page)
        w, h_page = float(page.width or 0.0), float(page.height or 0.0)
        items = [(ln, rotate_box(ln.box, rot, w, h_page)) for ln in page.lines if ln.words and ln.text.strip()]
        items.sort(key=lambda it: (it[1].cy, it[1].x0))
        groups: list[list[tuple[Line, Box]]] = []
        for ln, b in items:
            placed = False
            if groups:
                g = groups[-1]
                gb = Box.enclosing([x for _, x in g])
                assert gb is not None
                h = min(b.height, min(x.height for _, x in g)) or 1.0
                # same row: centres close and not overlapping horizontally with a line already in it
                if abs(b.cy - gb.cy) < 0.5 * h and all(b.x0 >= x.x1 - 0.2 * h or b.x1 <= x.x0 + 0.2 * h
                                                       for _, x in g):
                    g.append((ln, b))
                    placed = True
            if not placed:
                groups.append([(ln, b)])
        for g in groups:
            g.sort(key=lambda it: it[1].x0)
            rows.append(Row(page=page, lines=[ln for ln, _ in g], index=len(rows), doc_role=role,
                            engine=page.engine, _upright=Box.enclosing([b for _, b in g])))
    return rows


def ocr_factor(conf: float) -> float:
    """How much an OCR word confidence lowers a field's confidence (1.0 for perfect text)."""
    return 0.5 + 0.5 * max(0.0, min(1.0, conf))


def clamp01(x: float) -> float:
    return max(0.0, min(1.0, x))
