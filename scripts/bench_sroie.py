#!/usr/bin/env python3
"""Score `claimcheck extract` on a SROIE-format set (images/, labels/, companies.txt).

    .venv/bin/python scripts/bench_sroie.py ../shared/datasets/sroie-dev [--limit N] [--workers 1] [--json out.json]

Prints per-field accuracy (company via the closed list, date as a calendar
date, total as a number, GST number found), the median seconds per receipt
of the whole extraction, and, measured in the same run on the same images,
the median of a bare `tesseract` call, with their ratio. Label values are
normalised here with dateparser, independently of the pipeline's parsers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def norm_company(s: str) -> str:
    return re.sub(r"\s+", " ", s.upper()).strip()


def label_date(s: str):
    import dateparser

    d = dateparser.parse(s, settings={"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first"}, languages=["en"])
    return d.date() if d else None


def label_total(s: str) -> Decimal | None:
    m = re.search(r"\d[\d,]*\.?\d*", s.replace(" ", ""))
    if not m:
        return None
    try:
        return Decimal(m.group(0).replace(",", ""))
    except InvalidOperation:
        return None


def split_of(stem: str) -> str:
    """Fixed development split: sha1(stem) first byte even -> "tune", odd -> "holdout"."""
    return "tune" if hashlib.sha1(stem.encode()).digest()[0] % 2 == 0 else "holdout"


def bare_tesseract(path: Path) -> float:
    t = time.perf_counter()
    subprocess.run(["tesseract", str(path), "-", "--psm", "3"], capture_output=True, check=False,
                   env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="1 measures seconds per receipt on one core")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-baseline", action="store_true", help="skip the bare tesseract timing")
    ap.add_argument("--errors", action="store_true", help="list every wrong field")
    ap.add_argument("--split", choices=("all", "tune", "holdout"), default="all",
                    help="tune = sha1(stem) first byte even, holdout = odd (develop on tune only)")
    ap.add_argument("--accept", type=float, default=0.80, help="auto-approve confidence threshold")
    ap.add_argument("--dump", type=Path, default=None, help="write every raw result (JSON lines) here")
    ap.add_argument("--save-docs", type=Path, default=None,
                    help="pickle each OCR reading (DocumentText) here, to iterate on extraction offline")
    ap.add_argument("--only", default="", help="comma-separated stems to run (debugging)")
    args = ap.parse_args()

    from pipeline.loose import ExtractJob, extract_many, load_reseller_names

    images = sorted((args.dataset / "images").glob("*.jpg"))
    if args.split != "all":
        images = [p for p in images if split_of(p.stem) == args.split]
    if args.only:
        keep = set(args.only.split(","))
        images = [p for p in images if p.stem in keep]
    if args.limit:
        images = images[: args.limit]
    names = load_reseller_names(args.dataset / "companies.txt")
    if args.save_docs:
        import pickle

        import pipeline.ocr as ocr_mod

        args.save_docs.mkdir(parents=True, exist_ok=True)
        _orig_read = ocr_mod.read_document

        def _saving_read(info, **kw):  # type: ignore[no-untyped-def]
            doc = _orig_read(info, **kw)
            (args.save_docs / f"{Path(info.path).stem}.pkl").write_bytes(pickle.dumps(doc))
            return doc

        ocr_mod.read_document = _saving_read  # type: ignore[assignment]
    job = ExtractJob(country=None, languages=("eng",), names=names)
    results = {Path(r["file"]).stem: r for r in extract_many(images, job, workers=args.workers)}

    if args.dump:
        with args.dump.open("w") as fh:
            for r in results.values():
                fh.write(json.dumps(r) + "\n")
    base_times = [] if args.no_baseline else [bare_tesseract(p) for p in images]

    from pipeline.eval.adapters import _read_transcript, sroie_gst_numbers

    accept = float(args.accept)
    score = {"company": 0, "date": 0, "total": 0}
    acc_n = {"company": 0, "date": 0, "total": 0, "gst": 0}
    acc_ok = {"company": 0, "date": 0, "total": 0, "gst": 0}

    def accepted(field: str, fv: dict, ok: bool) -> None:
        if fv and float(fv.get("confidence", 0)) >= accept:
            acc_n[field] += 1
            acc_ok[field] += bool(ok)

    gst_found = 0
    gst_printed = gst_exact = gst_spurious = 0
    times, errors = [], []
    for img in images:
        lab = json.loads((args.dataset / "labels" / f"{img.stem}.json").read_text())
        r = results[img.stem]
        fields = r.get("fields", {}) if r.get("status") == "ok" else {}
        if r.get("status") == "ok":
            times.append(r["timings"]["total"])
        got_company = fields.get("reseller_match", {}).get("value")
        ok = got_company is not None and norm_company(got_company) == norm_company(lab["company"])
        score["company"] += ok
        accepted("company", fields.get("reseller_match", {}), ok)
        if not ok:
            errors.append((img.name, "company", lab["company"], got_company,
                           fields.get("reseller_match", {}).get("confidence")))
        want_d = label_date(lab["date"])
        got_d = fields.get("purchase_date", {}).get("value")
        ok = want_d is not None and got_d == want_d.isoformat()
        score["date"] += ok
        accepted("date", fields.get("purchase_date", {}), ok)
        if not ok:
            errors.append((img.name, "date", lab["date"], got_d, fields.get("purchase_date", {}).get("confidence")))
        want_t = label_total(lab.get("total", ""))
        got_t = fields.get("total", {}).get("value")
        try:
            ok = want_t is not None and got_t is not None and Decimal(got_t) == want_t
        except InvalidOperation:
            ok = False
        score["total"] += ok
        accepted("total", fields.get("total", {}), ok)
        if not ok:
            errors.append((img.name, "total", lab.get("total"), got_t, fields.get("total", {}).get("confidence")))
        vat = fields.get("reseller_vat")
        gst_found += bool(vat)
        tpath = args.dataset / "ocr_lines" / f"{img.stem}.txt"
        want_g = sroie_gst_numbers(_read_transcript(tpath)) if tpath.is_file() else []
        got_g = re.sub(r"\D", "", str(vat.get("value", ""))) if vat else ""
        if want_g:
            gst_printed += 1
            gst_exact += bool(got_g) and got_g in want_g
            if not (got_g and got_g in want_g):
                errors.append((img.name, "gst", want_g[0], got_g or None))
        elif got_g:
            gst_spurious += 1
        if vat:
            accepted("gst", vat, bool(got_g) and got_g in want_g)

    n = len(images)
    summary = {
        "dataset": str(args.dataset), "split": args.split, "receipts": n,
        "accuracy": {k: round(v / n, 4) for k, v in score.items()},
        "gst_number_found": round(gst_found / n, 4),
        "gst_exact_of_printed": round(gst_exact / gst_printed, 4) if gst_printed else None,
        "gst_printed": gst_printed, "gst_spurious": gst_spurious,
        f"accepted_at_{accept:.2f}": {k: {"kept": acc_n[k], "right": acc_ok[k],
                                           "precision": round(acc_ok[k] / acc_n[k], 4) if acc_n[k] else None,
                                           "coverage": round(acc_n[k] / n, 4)} for k in acc_n},
        "median_s_per_receipt": round(statistics.median(times), 3) if times else None,
        "p90_s_per_receipt": round(statistics.quantiles(times, n=10)[-1], 3) if len(times) > 1 else None,
        "median_bare_tesseract_s": round(statistics.median(base_times), 3) if base_times else None,
        "workers": args.workers,
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    if base_times and times:
        summary["ratio_to_bare_tesseract"] = round(statistics.median(times) / statistics.median(base_times), 2)
    print(json.dumps(summary, indent=2))
    if args.errors:
        for e in errors:
            print("\t".join(str(x) for x in e))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "errors": errors}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
