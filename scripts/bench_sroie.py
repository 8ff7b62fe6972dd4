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
    args = ap.parse_args()

    from pipeline.loose import ExtractJob, extract_many, load_reseller_names

    images = sorted((args.dataset / "images").glob("*.jpg"))
    if args.limit:
        images = images[: args.limit]
    names = load_reseller_names(args.dataset / "companies.txt")
    job = ExtractJob(country=None, languages=("eng",), names=names)
    results = {Path(r["file"]).stem: r for r in extract_many(images, job, workers=args.workers)}

    base_times = [] if args.no_baseline else [bare_tesseract(p) for p in images]

    score = {"company": 0, "date": 0, "total": 0}
    gst_found = 0
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
        if not ok:
            errors.append((img.name, "company", lab["company"], got_company))
        want_d = label_date(lab["date"])
        got_d = fields.get("purchase_date", {}).get("value")
        ok = want_d is not None and got_d == want_d.isoformat()
        score["date"] += ok
        if not ok:
            errors.append((img.name, "date", lab["date"], got_d))
        want_t = label_total(lab.get("total", ""))
        got_t = fields.get("total", {}).get("value")
        try:
            ok = want_t is not None and got_t is not None and Decimal(got_t) == want_t
        except InvalidOperation:
            ok = False
        score["total"] += ok
        if not ok:
            errors.append((img.name, "total", lab.get("total"), got_t))
        vat = fields.get("reseller_vat")
        gst_found += bool(vat)

    n = len(images)
    summary = {
        "dataset": str(args.dataset), "receipts": n,
        "accuracy": {k: round(v / n, 4) for k, v in score.items()},
        "gst_number_found": round(gst_found / n, 4),
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
