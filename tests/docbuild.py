"""Build DocumentTexts from plain text lines, for readable tests.

`doc(["Fotohuset ApS", "CVR-nr. 12972997", "I alt 1.490,00"])` gives one page
whose rows are 40 px apart, words laid out left to right (12 px per
character), every word with confidence `conf`. A line given as a tuple
`(text, conf)` overrides the confidence; `(text, conf, engine)` also the engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.documents import Box, DocumentRole, DocumentText, FileInfo, Line, Page, Word

LineSpec = str | tuple[str, float] | tuple[str, float, str]

CHAR_W = 12.0
ROW_H = 40.0


def make_line(text: str, y: float, conf: float = 0.95, engine: str = "tesseract", x: float = 20.0) -> Line:
    words = []
    for tok in text.split():
        w = CHAR_W * len(tok)
        words.append(Word(text=tok, conf=conf, box=Box(x0=x, y0=y, x1=x + w, y1=y + 28), engine=engine))
        x += w + CHAR_W
    return Line(words=tuple(words))


def doc(lines: Sequence[LineSpec], *, conf: float = 0.95, engine: str = "tesseract",
        role: DocumentRole = DocumentRole.RECEIPT, barcodes: Sequence[str] = (), name: str = "receipt.png") -> DocumentText:
    out: list[Line] = []
    for i, spec in enumerate(lines):
        if isinstance(spec, tuple):
            text, c = spec[0], spec[1]
            eng = spec[2] if len(spec) > 2 else engine  # type: ignore[misc]
        else:
            text, c, eng = spec, conf, engine
        if text.strip():
            out.append(make_line(text, 20 + ROW_H * i, c, eng))
    height = max(400.0, 40 + ROW_H * len(lines))
    bcs = tuple(Word(text=b, conf=1.0, box=Box(x0=10, y0=10, x1=200, y1=60), engine="CODE128") for b in barcodes)
    page = Page(page_no=1, width=1000, height=height, lines=tuple(out), engine=engine, barcodes=bcs)
    info = FileInfo(role=role, name=name, path=f"/tmp/{name}", size=1000, sha256="0" * 64, detected_type="png",
                    width=1000, height=int(height))
    return DocumentText(file=info, pages=(page,))


def doc_from_quads(items: Sequence[tuple[tuple[float, ...], str]], *, width: float, height: float,
                   conf: float = 1.0, name: str = "receipt.jpg") -> DocumentText:
    """From (quadrilateral x1,y1..x4,y4, transcript) items, e.g. SROIE ground truth;
    word boxes are spread over the line box in proportion to their length."""
    lines: list[Line] = []
    for quad, text in items:
        xs, ys = quad[0::2], quad[1::2]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        toks = text.split()
        if not toks:
            continue
        total = sum(len(t) for t in toks) + len(toks) - 1
        cw = (x1 - x0) / max(total, 1)
        x = x0
        words = []
        for t in toks:
            w = cw * len(t)
            words.append(Word(text=t, conf=conf, box=Box(x0=x, y0=y0, x1=x + w, y1=y1)))
            x += w + cw
        lines.append(Line(words=tuple(words)))
    page = Page(page_no=1, width=width, height=height, lines=tuple(lines))
    info = FileInfo(role=DocumentRole.RECEIPT, name=name, path=name, size=0, sha256="0" * 64, detected_type="jpeg",
                    width=int(width), height=int(height))
    return DocumentText(file=info, pages=(page,))


def words_line(texts: Sequence[str], conf: float = 0.7, y: float = 10) -> Line:
    """One OCR line of the given words, 12 px per character with a one-word gap."""
    words, x = [], 10.0
    for t in texts:
        words.append(Word(text=t, conf=conf, box=Box(x0=x, y0=y, x1=x + 12 * len(t), y1=y + 20)))
        x += 12 * len(t) + 12
    return Line(words=tuple(words))
