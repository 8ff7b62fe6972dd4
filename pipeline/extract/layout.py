"""Layout helpers: group OCR lines into visual rows, and build Evidence.

OCR engines (and the SROIE ground truth) often split one printed row into
several lines ("TOTAL" at the left, "15.90" at the right). Extractors work on
`Row`s: the lines whose vertical centres are close, ordered left to right.
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

    def rel_y(self) -> float:
        """Vertical position 0 (top) .. 1 (bottom) on its page."""
        h = self.page.height or 1.0
        return max(0.0, min(1.0, self.box.cy / h))

    def evidence(self, text: str | None = None) -> Evidence:
        return Evidence(document=self.doc_role, page=self.page.page_no, box=self.box,
                        text=self.text if text is None else text)


def _role(doc: DocumentText) -> str:
    try:
        return str(doc.file.role.value)
    except AttributeError:  # pragma: no cover - defensive
        return str(doc.file.role)


def build_rows(doc: DocumentText) -> list[Row]:
    """Group each page's lines into rows (vertical-centre proximity), top to bottom."""
    rows: list[Row] = []
    role = _role(doc)
    for page in doc.pages:
        lines = [ln for ln in page.lines if ln.words and ln.text.strip()]
        lines.sort(key=lambda ln: (ln.box.cy, ln.box.x0))
        groups: list[list[Line]] = []
        for ln in lines:
            b = ln.box
            placed = False
            if groups:
                g = groups[-1]
                gb = Box.enclosing([x.box for x in g])
                assert gb is not None
                h = min(b.height, min(x.box.height for x in g)) or 1.0
                # same row: centres close and not overlapping horizontally with a line already in it
                if abs(b.cy - gb.cy) < 0.5 * h and all(b.x0 >= x.box.x1 - 0.2 * h or b.x1 <= x.box.x0 + 0.2 * h
                                                       for x in g):
                    g.append(ln)
                    placed = True
            if not placed:
                groups.append([ln])
        for g in groups:
            g.sort(key=lambda ln: ln.box.x0)
            rows.append(Row(page=page, lines=g, index=len(rows), doc_role=role, engine=page.engine))
    return rows


def ocr_factor(conf: float) -> float:
    """How much an OCR word confidence lowers a field's confidence (1.0 for perfect text)."""
    return 0.5 + 0.5 * max(0.0, min(1.0, conf))


def clamp01(x: float) -> float:
    return max(0.0, min(1.0, x))
