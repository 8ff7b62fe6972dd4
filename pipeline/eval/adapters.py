"""Dataset readers of `claimcheck eval`: find the documents of a labelled set,
say how to run the pipeline on them, and score one result against its labels.

Two formats are detected from the folder:

* SROIE (`images/`, `labels/`, optional `ocr_lines/` and `companies.txt`):
  loose receipts through `pipeline.loose.extract_file`;
* generated claims (folders with `truth.json` + `expected.json`): claims
  through `pipeline.screen.screen_claim`, with a claims store private to the run.

A worker returns one JSON-able dict per document (the pipeline's output plus
`maxrss_kb` and `pid` of the worker); `score` turns that dict into
`FieldRecord`s. A result with `status == "error"` is wrong for every field.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.eval.metrics import FieldRecord, norm_text, outcome, same
from pipeline.eval.tamper import TamperObs

log = logging.getLogger(__name__)

STATUSES = ("approve", "incomplete", "review", "reject")


@dataclass(frozen=True)
class Item:
    """One labelled document (a SROIE image, or a claim folder)."""

    id: str
    path: Path
    truth: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)  # layout/language/degradation -> values
    expected_status: str | None = None
    problem: str | None = None  # the labels could not be read: the item is scored as an error


@dataclass(frozen=True)
class DocScore:
    records: list[FieldRecord]
    timings: dict[str, float]
    status: tuple[str, str] | None = None  # (expected, got) verdict status, claims only
    match: tuple[float | None, bool] | None = None  # (reseller match score, right) for the sweep
    maxrss_kb: int | None = None
    pid: int | None = None
    error: str | None = None
    tamper: TamperObs | None = None  # forensic signals vs whether the receipt was altered


@dataclass
class Dataset:
    kind: str  # "sroie" | "claims"
    name: str
    root: Path
    items: list[Item]
    fields: tuple[str, ...]
    field_notes: dict[str, str]
    jobs: list[Any]  # picklable arguments of `worker`, one per job
    worker: Callable[[Any], list[dict[str, Any]]]  # module-level: runs in worker processes
    job_items: Callable[[Any], list[str]]  # the item ids of a job (for error results)
    score: Callable[[Item, dict[str, Any]], DocScore]
    unlabelled: dict[str, Any] = field(default_factory=dict)


def _usage() -> dict[str, int]:
    return {"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "pid": os.getpid()}


def error_result(item_id: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"id": item_id, "status": "error", "reason": reason, "message": message}


def detect(path: Path) -> str:
    """ "sroie" or "claims"; raises ValueError when the folder is neither."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path}: not a folder")
    if (path / "images").is_dir() and (path / "labels").is_dir():
        return "sroie"
    if (path / "truth.json").is_file() or any((d / "truth.json").is_file() for d in path.iterdir() if d.is_dir()):
        return "claims"
    raise ValueError(f"{path}: neither a SROIE folder (images/ + labels/) nor claim folders with truth.json")


def load(path: Path, *, limit: int = 0, resellers: Path | None = None, store_url: str | None = None) -> Dataset:
    kind = detect(path)
    if kind == "sroie":
        return load_sroie(path, limit=limit, resellers=resellers)
    return load_claims(path, limit=limit, store_url=store_url)


def _record(doc: str, name: str, expected: Any, got: Any, conf: Any, equal: bool, note: str = "") -> FieldRecord:
    exp = None if expected in (None, "") else str(expected)
    g = None if got in (None, "") else str(got)
    c = float(conf) if isinstance(conf, (int, float)) and g is not None else None
    return FieldRecord(doc=doc, field=name, outcome=outcome(exp is not None, g is not None, equal and g is not None),
                       expected=exp, got=g, confidence=c, note=note)


def _error_records(item: Item, fields: tuple[str, ...], expected: dict[str, Any], why: str) -> list[FieldRecord]:
    return [FieldRecord(doc=item.id, field=f, outcome="error",
                        expected=None if expected.get(f) in (None, "") else str(expected.get(f)), note=why)
            for f in fields]


# =========================================================================== SROIE

_GST_LINE = re.compile(r"\bGST\b", re.I)
_GST_NO = re.compile(r"(?<!\d)(\d{12})(?!\d)")


def sroie_gst_numbers(transcript_lines: list[str]) -> list[str]:
    """GST registration numbers printed in a SROIE ground-truth transcript: a
    12-digit number on a line naming GST, or on the line after a bare "GST NO."."""
    out: list[str] = []
    for i, line in enumerate(transcript_lines):
        if not _GST_LINE.search(line):
            continue
        for cand in (line, transcript_lines[i + 1] if i + 1 < len(transcript_lines) else ""):
            found = _GST_NO.findall(re.sub(r"[\s\-]", "", cand))
            if found:
                out.extend(x for x in found if x not in out)
                break
    return out


def _read_transcript(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) == 9:
            lines.append(parts[8])
    return lines


def _sroie_worker(job: tuple[str, str, Any]) -> list[dict[str, Any]]:
    from pipeline.loose import extract_file

    item_id, path, extract_job = job
    try:
        out = extract_file(Path(path), extract_job)
    except Exception as exc:  # noqa: BLE001 - one bad image never stops the run
        out = error_result(item_id, type(exc).__name__, str(exc)[:200])
    return [{**out, "id": item_id, **_usage()}]


def load_sroie(root: Path, *, limit: int = 0, resellers: Path | None = None) -> Dataset:
    from pipeline.loose import ExtractJob, load_reseller_names

    root = Path(root)
    images = sorted(p for p in (root / "images").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".pdf"))
    if limit:
        images = images[:limit]
    resellers = resellers or (root / "companies.txt" if (root / "companies.txt").is_file() else None)
    names = load_reseller_names(resellers) if resellers else ()
    has_transcripts = (root / "ocr_lines").is_dir()
    # a forged set (scripts/forge_sroie.py) lists its forgeries; every other image is genuine
    forgeries: dict[str, Any] = {}
    if (root / "forgeries.json").is_file():
        forgeries = json.loads((root / "forgeries.json").read_text(encoding="utf-8")).get("forgeries") or {}
    items = []
    for img in images:
        truth: dict[str, Any] = {}
        problem = None
        try:
            lab = json.loads((root / "labels" / f"{img.stem}.json").read_text(encoding="utf-8"))
            truth = {"company": lab.get("company"), "date": lab.get("date"), "total": lab.get("total")}
        except (OSError, ValueError) as exc:
            problem = f"label unreadable: {type(exc).__name__}"
        tpath = root / "ocr_lines" / f"{img.stem}.txt"
        if has_transcripts and tpath.is_file():
            lines = _read_transcript(tpath)
            truth["gst_numbers"] = sroie_gst_numbers(lines)
            truth["transcript_digits"] = re.sub(r"\D", " ", " ".join(lines))
        alts = forgeries.get(img.stem)
        truth["alterations"] = alts if isinstance(alts, list) else [alts] if isinstance(alts, dict) else []
        items.append(Item(id=img.stem, path=img, truth=truth, problem=problem))
    job = ExtractJob(country=None, languages=("eng",), names=tuple(names) or None, forensics=True)
    fields = ("company", "date", "total") + (("gst_number",) if has_transcripts else ())
    notes = {
        "company": ("closed-list match (reseller_match) against " + (resellers.name if resellers else "nothing")
                    + "; right when equal to the label (case and spacing ignored)")
                   if names else "no reseller list: never right",
        "date": "purchase_date vs the label as a calendar date (label read day-first)",
        "total": "total vs the label as a number (currency prefix dropped)",
    }
    if has_transcripts:
        notes["gst_number"] = ("unlabelled; expected = the 12-digit number on a GST line of the ground-truth "
                               "transcript (ocr_lines/), compared as digits")

    def score(item: Item, res: dict[str, Any]) -> DocScore:
        return _score_sroie(item, res, fields, bool(names))

    ds = Dataset(kind="sroie", name=root.name, root=root, items=items, fields=fields, field_notes=notes,
                 jobs=[(it.id, str(it.path), job) for it in items if it.problem is None],
                 worker=_sroie_worker, job_items=lambda j: [j[0]], score=score)
    ds.unlabelled = {"gst_number": {"check": "exactness vs ground-truth transcript" if has_transcripts
                                    else "found rate only"}}
    return ds


def _score_sroie(item: Item, res: dict[str, Any], fields: tuple[str, ...], has_names: bool) -> DocScore:
    t = item.truth
    expected = {"company": t.get("company"), "date": t.get("date"), "total": t.get("total"),
                "gst_number": (t.get("gst_numbers") or [None])[0]}
    usage = {"maxrss_kb": res.get("maxrss_kb"), "pid": res.get("pid")}
    if item.problem or res.get("status") != "ok":
        why = item.problem or f"{res.get('reason', 'error')}: {res.get('message', '')}".strip()
        return DocScore(records=_error_records(item, fields, expected, why), timings={}, error=why,
                        match=(None, False), **usage)
    f: dict[str, dict[str, Any]] = res.get("fields") or {}  # type: ignore[assignment]

    def get(name: str) -> tuple[Any, Any]:
        fv = f.get(name) or {}
        return fv.get("value"), fv.get("confidence")

    recs = []
    company, cconf = get("reseller_match")
    ok = norm_text(company) is not None and norm_text(company) == norm_text(t.get("company"))
    recs.append(_record(item.id, "company", t.get("company"), company, cconf, ok))
    d, dconf = get("purchase_date")
    recs.append(_record(item.id, "date", t.get("date"), d, dconf, same("date", t.get("date"), d)))
    tot, tconf = get("total")
    recs.append(_record(item.id, "total", t.get("total"), tot, tconf, same("amount", t.get("total"), tot)))
    if "gst_number" in fields:
        g, gconf = get("reseller_vat")
        gd = re.sub(r"\D", "", str(g)) if g else ""
        ok = bool(gd) and gd in (t.get("gst_numbers") or [])
        exp = (t.get("gst_numbers") or [None])[0]
        note = "" if not gd or ok else ("printed elsewhere in the transcript" if gd in t.get("transcript_digits", "")
                                        else "not in the transcript")
        recs.append(_record(item.id, "gst_number", exp, g, gconf, ok, note))
    alterations = t.get("alterations") or []
    tamper = TamperObs.from_signals(bool(alterations), [str(a.get("type")) for a in alterations if isinstance(a, dict)],
                                    res.get("signals") or [])
    return DocScore(records=recs, timings=dict(res.get("timings") or {}),
                    match=(cconf if company is not None else None, ok_company(recs)), tamper=tamper, **usage)


def ok_company(recs: list[FieldRecord]) -> bool:
    return any(r.field == "company" and r.outcome == "tp" for r in recs)


# =========================================================================== generated claims

CLAIM_FIELDS: tuple[tuple[str, str], ...] = (
    # (field, normalisation); the verdict field of the same name unless listed in _GOT
    ("document_kind", "text"),
    ("reseller_name", "name"),
    ("reseller_vat", "vat"),
    ("purchase_date", "date"),
    ("receipt_number", "serial"),
    ("total", "amount"),
    ("serial_handwritten", "serial"),
    ("label_serial", "serial"),
)
NAME_SIMILARITY = 0.85


def _claim_expected(truth: dict[str, Any]) -> dict[str, Any]:
    rec = truth.get("receipt") or {}
    fields: dict[str, Any] = {}
    for fdef in rec.get("fields") or []:
        fields.setdefault(fdef.get("name"), fdef.get("value"))  # the first one (addresses repeat)
    serial = truth.get("serial") or {}
    # truth.json lists what is printed; a receipt file that cannot be read has nothing on it
    return {
        "document_kind": rec.get("document_kind"),
        "reseller_name": fields.get("reseller_name"),
        "reseller_vat": fields.get("reseller_vat"),
        "purchase_date": fields.get("purchase_date"),
        "receipt_number": fields.get("receipt_number"),
        "total": fields.get("total"),
        "serial_handwritten": serial.get("handwritten"),
        "label_serial": serial.get("label"),
    }


def _claim_groups(truth: dict[str, Any]) -> dict[str, list[str]]:
    rec = truth.get("receipt") or {}
    degr = []
    for d in rec.get("degradations") or []:
        if isinstance(d, dict):  # generated sets: {"type": "blur", "sigma": 1.2}
            degr.append(str(d.get("type") or "unknown"))
        else:  # sample_receipts: "gaussian_blur_0.8", "jpeg_q85", "rotation_-1.3deg"
            degr.append(re.sub(r"_q\d+.*$|_-?[\d.]+(deg|dpi)?$", "", str(d)))
    groups = {"layout": [str(rec.get("layout") or "unknown")], "language": [str(rec.get("language") or "unknown")],
              "degradation": sorted(set(degr)) or ["none"]}
    if truth.get("scenario"):
        groups["scenario"] = [str(truth["scenario"])]
    return groups


def _find_claim_dirs(root: Path) -> list[Path]:
    if (root / "truth.json").is_file():
        return [root]
    return sorted(d for d in root.iterdir() if d.is_dir() and (d / "truth.json").is_file())


def _claims_worker(job: tuple[list[str], Any]) -> list[dict[str, Any]]:
    """Screen a chain of claims (claims sharing a claimant or serial, in submission order)."""
    from pipeline.screen import screen_claim

    dirs, settings = job
    out = []
    for d in dirs:
        item_id = Path(d).name
        try:
            v = screen_claim(Path(d), settings)
            extra: dict[str, Any] = {}
            kind = v.fields.get("document_kind")
            if kind is not None:
                extra["document_kind"] = {"value": kind.value, "confidence": round(float(kind.confidence), 4)}
            if "reseller" in v.match_scores:
                extra["reseller_match"] = {"id": v.matched_reseller, "score": v.match_scores["reseller"],
                                           "name_score": v.match_scores.get("reseller_name", 0.0)}
            out.append({"id": item_id, "status": "ok", "verdict": v.model_dump(mode="json"), **extra, **_usage()})
        except Exception as exc:  # noqa: BLE001 - the rest of the chain goes on
            log.error("claim %s: %s", item_id, type(exc).__name__)
            out.append({**error_result(item_id, type(exc).__name__, str(exc)[:200]), **_usage()})
    return out


def load_claims(root: Path, *, limit: int = 0, store_url: str | None = None) -> Dataset:
    from pipeline.batch import chains
    from pipeline.settings import Settings

    root = Path(root)
    dirs = _find_claim_dirs(root)
    if limit:
        dirs = dirs[:limit]
    items = []
    for d in dirs:
        try:
            truth = json.loads((d / "truth.json").read_text(encoding="utf-8"))
            expected = json.loads((d / "expected.json").read_text(encoding="utf-8")) \
                if (d / "expected.json").is_file() else {}
            items.append(Item(id=d.name, path=d, truth=truth, groups=_claim_groups(truth),
                              expected_status=expected.get("status")))
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            items.append(Item(id=d.name, path=d, problem=f"truth unreadable: {type(exc).__name__}"))
    good = [it.path for it in items if it.problem is None]
    # a store private to the run: cross-claim rules (serial claimed, claimant limits) see only this set
    settings = Settings(use_store=store_url is not None, database_url=store_url)
    if store_url is not None:
        from pipeline.screen import open_store

        open_store(settings)  # migrate once here, not racing in every worker
        settings = settings.model_copy(update={"migrate_store": False})
    jobs = [([str(p) for p in chain], settings) for chain in (chains(good) if store_url else [[p] for p in good])]
    fields = tuple(f for f, _ in CLAIM_FIELDS)
    notes = {
        "document_kind": "the extraction's document kind vs truth receipt.document_kind",
        "reseller_name": f"right when the matched reseller id equals truth reseller_id, or the extracted name "
                         f"is >= {NAME_SIMILARITY} similar to the printed name",
        "reseller_vat": "digits only (country prefix, spaces, MVA dropped)",
        "purchase_date": "as calendar dates",
        "receipt_number": "upper-case alphanumerics",
        "total": "as numbers",
        "serial_handwritten": "vs truth serial.handwritten, upper-case alphanumerics; absent when null",
        "label_serial": "label barcode (else label OCR) vs truth serial.label, upper-case alphanumerics",
    }
    return Dataset(kind="claims", name=root.name, root=root, items=items, fields=fields, field_notes=notes,
                   jobs=jobs, worker=_claims_worker, job_items=lambda j: [Path(d).name for d in j[0]],
                   score=_score_claim)


def _score_claim(item: Item, res: dict[str, Any]) -> DocScore:
    from pipeline.match import similarity

    fields = tuple(f for f, _ in CLAIM_FIELDS)
    expected = _claim_expected(item.truth) if item.truth else {}
    usage = {"maxrss_kb": res.get("maxrss_kb"), "pid": res.get("pid")}
    exp_status = item.expected_status or "unknown"
    if item.problem or res.get("status") != "ok":
        why = item.problem or f"{res.get('reason', 'error')}: {res.get('message', '')}".strip()
        return DocScore(records=_error_records(item, fields, expected, why), timings={}, error=why,
                        status=(exp_status, "error"), match=(None, False), **usage)
    v = res["verdict"]
    vf: dict[str, dict[str, Any]] = v.get("fields") or {}

    def got(name: str) -> tuple[Any, Any]:
        fv = vf.get(name) or {}
        return fv.get("value"), fv.get("confidence")

    recs = []
    truth_reseller = item.truth.get("reseller_id")
    match = res.get("reseller_match") or {}
    for name, kind in CLAIM_FIELDS:
        exp = expected.get(name)
        note = ""
        if name == "document_kind":
            dk = res.get("document_kind") or {}
            g, c = dk.get("value"), dk.get("confidence")
            if g == "unknown":
                g = None
            ok = same("text", exp, g)
        elif name == "reseller_name":
            g, c = got("reseller_name")
            sim = similarity(str(g), str(exp)) if g and exp else 0.0
            by_id = truth_reseller is not None and v.get("matched_reseller") == truth_reseller
            ok = by_id or sim >= NAME_SIMILARITY
            note = f"similarity {sim:.2f}; matched {v.get('matched_reseller')}"
        elif name == "label_serial":
            g, c = got("label_serial_barcode")
            if g is None:
                g, c = got("label_serial_text")
            ok = same(kind, exp, g)
        else:
            g, c = got(name)
            ok = same(kind, exp, g)
        recs.append(_record(item.id, name, exp, g, c, ok, note))
    score = match.get("score") if match else None
    right = truth_reseller is not None and match.get("id") == truth_reseller
    timings = {k: float(x) for k, x in (v.get("timings") or {}).items()}
    forensic = sum(x for k, x in timings.items() if k.startswith("forensics."))
    timings = {k: x for k, x in timings.items() if not k.startswith("forensics.")}
    if forensic:
        timings["forensics"] = round(forensic, 4)
    timings["total"] = round(sum(x for k, x in timings.items()), 4)
    alterations = item.truth.get("alterations") or []
    tamper = TamperObs.from_signals(bool(alterations), [str(a.get("type")) for a in alterations if isinstance(a, dict)],
                                    v.get("signals") or [])
    return DocScore(records=recs, timings=timings,
                    status=(exp_status, str(v.get("status"))),
                    match=(score if match.get("id") else None, right), tamper=tamper, **usage)
