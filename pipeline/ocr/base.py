"""The contract every OCR engine implements, and helpers shared by engines.

An engine is anything with a ``name`` and a ``recognize`` method (see
`OcrEngine`). The orchestrator never imports an engine's library: it calls
`pipeline.ocr.get_engine(name)` and then ``recognize``. Tests swap in a
`pipeline.ocr.replay.ReplayEngine` (recorded output, no binary needed) or a
`pipeline.ocr.replay.FailingEngine` (fault injection) through the same path.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import numpy as np

from models.documents import Box, Line, Word

log = logging.getLogger(__name__)


@runtime_checkable
class OcrEngine(Protocol):
    """An OCR engine.

    Attributes:
        name: short, stable identifier ("tesseract", "tesseract-psm11",
            "rapidocr", ...). It is stored on every `Page` the engine reads and
            is part of the replay-cache key, so it must change whenever the
            engine's configuration changes what it outputs.

    `recognize(image, languages)`:
        image: a 2-D uint8 array (grayscale) or an H x W x 3 uint8 array in
            OpenCV's BGR order. The engine must not modify it.
        languages: tesseract language codes ("eng", "dan", ...), most likely
            first. An engine that cannot use them (RapidOCR's multilingual
            Latin model) may ignore them; an engine that can must skip
            languages that are not installed rather than fail.
        returns: the text lines, top to bottom, each with its words left to
            right. Word boxes are in pixels of ``image``; ``Word.conf`` is in
            0..1; ``Word.engine`` is the engine's ``name``. Empty words are
            dropped. A blank image gives an empty list, not an error.
        raises: `pipeline.errors.DependencyMissing` when the engine's binary or
            model is not installed; `pipeline.errors.OcrError` for any other
            failure (crash, timeout, unreadable output). Nothing else.
    """

    name: str

    def recognize(self, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]: ...


def group_words_into_lines(words: list[Word], *, min_overlap: float = 0.5) -> list[Line]:
    """Group words into text lines by vertical overlap.

    Words are taken in order of their vertical centre; a word joins the current
    line when its vertical overlap with the line's running box is at least
    ``min_overlap`` of the smaller of the two heights. Each line's words are
    sorted left to right and lines are sorted top to bottom.
    """
    if not words:
        return []
    ordered = sorted(words, key=lambda w: (w.box.cy, w.box.x0))
    groups: list[list[Word]] = []
    spans: list[tuple[float, float]] = []
    for w in ordered:
        placed = False
        # only the last few lines can overlap a word further down the page
        for i in range(len(groups) - 1, max(-1, len(groups) - 4), -1):
            y0, y1 = spans[i]
            overlap = min(y1, w.box.y1) - max(y0, w.box.y0)
            smaller = max(1e-6, min(y1 - y0, w.box.height))
            if overlap / smaller >= min_overlap:
                groups[i].append(w)
                # the line's span is the median top and bottom of its words, so one tall
                # word (or a merged box) does not make the line swallow its neighbours
                spans[i] = (float(np.median([g.box.y0 for g in groups[i]])),
                            float(np.median([g.box.y1 for g in groups[i]])))
                placed = True
                break
        if not placed:
            groups.append([w])
            spans.append((w.box.y0, w.box.y1))
    lines = [Line(words=tuple(sorted(g, key=lambda w: w.box.x0))) for g in groups]
    lines.sort(key=lambda ln: (ln.box.y0 + ln.box.y1) / 2)
    return lines


def split_line_into_words(text: str, box: Box, conf: float, engine: str) -> list[Word]:
    """Split a text-line result (one box for the whole line) into words.

    The word boxes are an approximation: each word gets an x-range in proportion
    to its number of characters (spaces included) within the line box, and the
    line's full height. Good enough to group and locate words, not for
    pixel-exact crops.
    """
    text = text.strip()
    if not text:
        return []
    n = len(text)
    out: list[Word] = []
    pos = 0
    for token in text.split():
        start = text.index(token, pos)
        end = start + len(token)
        pos = end
        x0 = box.x0 + box.width * start / n
        x1 = box.x0 + box.width * end / n
        out.append(Word(text=token, conf=min(1.0, max(0.0, conf)),
                        box=Box(x0=x0, y0=box.y0, x1=x1, y1=box.y1), engine=engine))
    return out


def as_gray(image: np.ndarray) -> np.ndarray:
    """A 2-D uint8 view of ``image`` (BGR, BGRA or gray)."""
    import cv2

    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    raise ValueError(f"unsupported image shape {image.shape}")
