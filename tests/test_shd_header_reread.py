"""Header re-reads are on by default: a garbled top line is replaced by the second engine's
clearly more confident reading, a confidently read top line is not sent at all (fake
second engine; no OCR engine runs)."""

from __future__ import annotations

import numpy as np

from pipeline import ocr
from tests.docbuild import words_line


def test_header_re_reads_are_on_by_default(monkeypatch) -> None:
    import pipeline.ocr.rapid as rapid

    sent: list[int] = []

    def fake(crops, threads=1):  # type: ignore[no-untyped-def]
        sent.append(len(crops))
        return [("RESTAURANT SIN DU", 0.95)] * len(crops)

    monkeypatch.setattr(rapid, "recognize_crops", fake)
    assert ocr.REREAD_HEADER_LINES is True
    garbled = words_line(["restaurawr", "sii"], conf=0.36, y=10)
    clean = words_line(["NO", "8", "JALAN", "TUN", "RAZAK"], conf=0.97, y=40)
    out = ocr._reread_header_lines(np.full((600, 400), 255, np.uint8), [garbled, clean], [])
    assert out[0].text == "RESTAURANT SIN DU"
    assert all(w.conf <= ocr.HEADER_WORD_CONF for w in out[0].words)  # one engine's reading: not "agreed"
    assert out[1] == clean
    assert sent == [1]  # only the garbled line was cropped


def test_a_second_reading_not_clearly_surer_is_not_taken(monkeypatch) -> None:
    import pipeline.ocr.rapid as rapid

    monkeypatch.setattr(rapid, "recognize_crops", lambda crops, threads=1: [("POPULAR BOOX CO", 0.85)] * len(crops))
    line = words_line(["POPULAR", "BOOK", "CO"], conf=0.8, y=10)
    assert ocr._reread_header_lines(np.full((600, 400), 255, np.uint8), [line], []) == [line]
