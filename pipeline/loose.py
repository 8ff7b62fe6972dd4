"""`claimcheck extract`: the fields of loose receipts (no claim, no campaign),
one JSON-able dict per file, so any external labelled set can be scored."""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from models.campaign import FileLimits
from models.documents import DocumentRole, DocumentText
from models.fields import FieldValue, ReceiptExtraction
from models.match import NameMatch
from pipeline.batch import Progress, parallel_map
from pipeline.settings import Settings

log = logging.getLogger(__name__)

#: a closed-list match at least this strong is taken without re-reading the top lines
ACCEPT = Settings.model_fields["accept_confidence"].default

# loose receipts are not bound by a campaign's upload limits, only by safety caps
LOOSE_LIMITS = FileLimits(max_bytes=50 * 1024 * 1024, max_pages=20, max_pixels=80_000_000,
                          source="claimcheck extract safety caps")


@dataclass(frozen=True)
class ExtractJob:
    country: str | None = None
    languages: tuple[str, ...] = ("eng",)
    engine: str = "tesseract"
    names: tuple[str, ...] | None = None
    forensics: bool = False  # also run the receipt forensics (signals in the output)


def load_reseller_names(path: Path) -> tuple[str, ...]:
    """A plain list (one name per line) or a reseller CSV with a `name` column."""
    text = Path(path).read_text(encoding="utf-8")
    first = text.splitlines()[0] if text.strip() else ""
    if "," in first and "name" in [h.strip().lower() for h in first.split(",")]:
        rows = list(csv.DictReader(text.splitlines()))
        return tuple(r["name"].strip() for r in rows if r.get("name", "").strip())
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _field(fv: FieldValue) -> dict[str, object]:
    out: dict[str, object] = {"value": fv.value, "raw": fv.raw, "confidence": round(fv.confidence, 4)}
    if fv.meta:
        out["meta"] = dict(fv.meta)
    if fv.evidence is not None and fv.evidence.box is not None:
        b = fv.evidence.box
        out["page"] = fv.evidence.page
        out["box"] = [round(b.x0, 1), round(b.y0, 1), round(b.x1, 1), round(b.y1, 1)]
    return out


def extract_file(path: Path, job: ExtractJob) -> dict[str, object]:
    from pipeline.intake import check_file

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    path = Path(path)
    info, problems = check_file(path.parent, path.name, DocumentRole.RECEIPT, LOOSE_LIMITS)
    if info is None:
        return {"file": str(path), "status": "error", "reason": problems[0].code, "message": problems[0].message}
    from pipeline.extract import extract_receipt
    from pipeline.match import match_names
    from pipeline.ocr import read_document

    # with a closed list, the reading is extracted and matched before the top lines are re-read
    # by the second engine, and they are re-read only when that match is weak (see
    # pipeline.ocr.REREAD_HEADER_LINES); a strong match keeps this first extraction
    first: dict[str, object] = {}

    def weak_match(d: DocumentText) -> bool:
        t1 = time.perf_counter()
        e = extract_receipt(d, country=job.country)
        mm = match_names(e, job.names or ())
        first.update(doc=d, ex=e, m=mm, secs=time.perf_counter() - t1)
        return mm.name is None or mm.score < ACCEPT

    t = time.perf_counter()
    doc = read_document(info, languages=job.languages, engine=job.engine,
                        header_reread_wanted=weak_match if job.names else None)
    pre_secs = float(first.get("secs", 0.0))  # type: ignore[arg-type]
    timings["ocr"] = round(time.perf_counter() - t - pre_secs, 4)
    t = time.perf_counter()
    reuse = first.get("doc") is doc
    ex = first["ex"] if reuse else extract_receipt(doc, country=job.country)  # type: ignore[assignment]
    assert isinstance(ex, ReceiptExtraction)
    out: dict[str, object] = {"file": str(path), "status": "ok", "document_kind": ex.document_kind.value}
    fields = {name: _field(fv) for name, fv in ex.fields().items()}
    if job.names:
        m = first["m"] if reuse else match_names(ex, job.names)
        assert isinstance(m, NameMatch)
        if m.name is not None:
            fields["reseller_match"] = {"value": m.name, "confidence": round(m.score, 4)}
    out["fields"] = fields
    timings["extract"] = round(time.perf_counter() - t + pre_secs, 4)
    if job.forensics:
        from pipeline.forensics import ForensicInput, run_detectors

        t = time.perf_counter()
        signals, _ = run_detectors(ForensicInput(file=info, doc=doc, extraction=ex))
        out["signals"] = [g.model_dump(mode="json") for g in signals]
        timings["forensics"] = round(time.perf_counter() - t, 4)
    timings["total"] = round(time.perf_counter() - t0, 4)
    out["timings"] = timings
    return out


def _run(args: tuple[Path, ExtractJob]) -> dict[str, object]:
    return extract_file(*args)


def extract_many(paths: list[Path], job: ExtractJob, *, workers: int = 1,
                 progress: Progress | None = None) -> Iterator[dict[str, object]]:
    for _, result in parallel_map(
            _run, [(p, job) for p in paths], workers=workers, progress=progress, label=lambda a: a[0].name,
            on_error=lambda a, exc: {"file": str(a[0]), "status": "error", "reason": type(exc).__name__,
                                     "message": getattr(exc, "message", "extraction failed")}):
        yield result
