"""The top lines are re-read by the second engine only when the caller's closed-list seller
match on the page reading is weak: a strong match makes no second-engine call and keeps the
page reading (and its extraction), a weak one (or no match) re-reads and matches again.
Fakes stand in for tesseract (the page reading) and RapidOCR (the second readings)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.documents import DocumentRole, FileInfo
from pipeline import ocr
from pipeline.preprocess import Preprocessed
from tests.docbuild import words_line

SECOND = ("POPULAR BOOK CO", 0.96)


def _page_reading(header: list[str]) -> list:
    return [words_line(header, conf=0.55, y=10),
            words_line(["NO", "8", "JALAN", "TUN", "RAZAK"], conf=0.97, y=60),
            words_line(["THANK", "YOU"], conf=0.97, y=500)]


@pytest.fixture
def fakes(monkeypatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Install the fake engines; returns (file, set_header, calls)."""
    import pipeline.ocr.rapid as rapid

    calls: list[int] = []
    state = {"header": ["ROPULAR", "B0OK", "CO"]}

    def fake_second(crops, threads=1):  # type: ignore[no-untyped-def]
        calls.append(len(crops))
        return [SECOND] * len(crops)

    def fake_read(image, eng, languages, warnings, page_no, **kw):  # type: ignore[no-untyped-def]
        return ocr._Read(_page_reading(state["header"]), Preprocessed(image=np.full((600, 400), 255, np.uint8)))

    monkeypatch.setattr(rapid, "recognize_crops", fake_second)
    monkeypatch.setattr(ocr, "_read_image", fake_read)
    monkeypatch.setattr(ocr, "_reread_key_lines", lambda image, lines, warnings: lines)
    monkeypatch.setattr(ocr, "_reread_date_digits", lambda image, lines, warnings: lines)
    monkeypatch.setattr(ocr, "REREAD_HEADER_LINES", True)
    path = tmp_path / "r.png"
    assert cv2.imwrite(str(path), np.full((600, 400), 255, np.uint8))
    data = path.read_bytes()
    info = FileInfo(role=DocumentRole.RECEIPT, name=path.name, path=str(path), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type="png")

    def set_header(words: list[str]) -> None:
        state["header"] = words

    return info, set_header, calls


def test_no_second_reading_of_the_top_lines_when_the_caller_says_so(fakes) -> None:  # type: ignore[no-untyped-def]
    info, _, calls = fakes
    seen = []
    doc = ocr.read_document(info, header_reread_wanted=lambda d: seen.append(d) is not None)
    assert calls == []
    assert doc.pages[0].lines[0].text == "ROPULAR B0OK CO"
    assert seen == [doc] and seen[0] is doc  # the reading the caller judged, unchanged


def test_top_lines_re_read_when_the_caller_asks(fakes) -> None:  # type: ignore[no-untyped-def]
    info, _, calls = fakes
    doc = ocr.read_document(info, header_reread_wanted=lambda d: True)
    assert calls == [1]  # the low-confidence top line only
    assert doc.pages[0].lines[0].text == "POPULAR BOOK CO"
    # the same page as the unconditional re-read gives
    assert ocr.read_document(info).pages == doc.pages
    assert calls == [1, 1]


def test_strong_closed_list_match_makes_no_second_engine_call(fakes) -> None:  # type: ignore[no-untyped-def]
    from pipeline.loose import ExtractJob, extract_file

    info, set_header, calls = fakes
    set_header(["POPULAR", "BOOK", "CO"])  # read right but not confidently: a header candidate
    out = extract_file(Path(info.path), ExtractJob(names=("POPULAR BOOK CO", "RESTAURANT SIN DU")))
    assert out["status"] == "ok", out
    assert calls == []
    match = out["fields"]["reseller_match"]  # type: ignore[index]
    assert match["value"] == "POPULAR BOOK CO" and match["confidence"] >= 0.80


def test_weak_closed_list_match_re_reads_and_matches_again(fakes) -> None:  # type: ignore[no-untyped-def]
    from pipeline.extract import extract_receipt
    from pipeline.loose import ExtractJob, extract_file
    from pipeline.match import match_names

    info, set_header, calls = fakes
    names = ("POPULAR BOOK CO", "RESTAURANT SIN DU")
    set_header(["ropuiar", "bcox"])
    first = match_names(extract_receipt(ocr.read_document(info, header_reread_wanted=lambda d: False)), names)
    assert first.name is None or first.score < 0.80  # weak on the page reading
    out = extract_file(Path(info.path), ExtractJob(names=names))
    assert calls == [1]
    match = out["fields"]["reseller_match"]  # type: ignore[index]
    assert match["value"] == "POPULAR BOOK CO" and match["confidence"] >= 0.80


def test_without_a_list_the_top_lines_are_always_re_read(fakes) -> None:  # type: ignore[no-untyped-def]
    from pipeline.loose import ExtractJob, extract_file

    info, set_header, calls = fakes
    set_header(["POPULAR", "BOOK", "CO"])
    extract_file(Path(info.path), ExtractJob())
    assert calls == [1]


def test_screening_re_reads_only_for_a_weak_reseller_match(fakes, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pipeline.ocr.rapid as rapid
    from pipeline.campaigns import get_campaign
    from pipeline.screen import Screening, stage_extract, stage_read_receipt
    from pipeline.settings import Settings

    info, set_header, calls = fakes
    monkeypatch.setattr(rapid, "recognize_crops",
                        lambda crops, threads=1: calls.append(len(crops)) or [("Fotohuset Nørrebro ApS", 0.96)])
    base = Screening(claim_dir=Path(info.path).parent, settings=Settings(second_engine=None),
                     campaign=get_campaign("sigma-dk-autumn-2022"), files={DocumentRole.RECEIPT: info})
    set_header(["Fotohuset", "Norrebro", "ApS"])  # an alias of a listed reseller (a header candidate)
    s = stage_read_receipt(base)
    assert calls == [] and s.receipt_extraction is not None
    assert stage_extract(s).extraction is s.receipt_extraction  # extracted once
    set_header(["rotohnsct", "norchro", "aps"])  # garbled: no confident match
    s = stage_read_receipt(base)
    assert calls == [1] and s.receipt is not None and s.receipt_extraction is None
    assert s.receipt.pages[0].lines[0].text == "Fotohuset Nørrebro ApS"
