"""Measure extraction alone on the SROIE ground-truth text lines.

Builds a DocumentText from each receipt's `ocr_lines/<ID>.txt` (perfect text,
so OCR errors are excluded: an upper bound for the end-to-end numbers) and
scores, field by field: company (match_names against companies.txt), date (as
a calendar date, day-first) and total (as a number); counts receipts with a
GST number. `--explain` prints every miss with what was found.

    .venv/bin/python scripts/extract_gt_probe.py [--data DIR] [--explain]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.extract import extract_receipt  # noqa: E402
from pipeline.extract.dates import parse_date  # noqa: E402
from pipeline.match import match_names  # noqa: E402
from tests.docbuild import doc_from_quads  # noqa: E402

_SLIPS = {"O": "0", "0": "O", "I": "1", "1": "I", "S": "5", "5": "S", "B": "8", "8": "B", "l": "1", "o": "0"}


def garble(text: str, p: float, rnd: random.Random) -> str:
    """Simulated OCR slips: each confusable character flips with probability p."""
    return "".join(_SLIPS[c] if c in _SLIPS and rnd.random() < p else c for c in text)


def load_doc(path: Path, noise: float = 0.0, seed: int = 0):  # type: ignore[no-untyped-def]
    rnd = random.Random(f"{path.stem}:{seed}")
    items = []
    maxx = maxy = 1.0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(",", 8)
        if len(parts) < 9:
            continue
        try:
            quad = tuple(float(p) for p in parts[:8])
        except ValueError:
            continue
        maxx = max(maxx, *quad[0::2])
        maxy = max(maxy, *quad[1::2])
        items.append((quad, garble(parts[8], noise, rnd) if noise else parts[8]))
    return doc_from_quads(items, width=maxx + 10, height=maxy + 10, name=path.name)


def num(s: str) -> Decimal | None:
    t = "".join(ch for ch in s if ch.isdigit() or ch in ".,-")
    t = t.replace(",", "")
    try:
        return Decimal(t).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "sroie-dev"))
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--noise", type=float, default=0.0,
                    help="probability that a confusable character (O/0, I/1, S/5, B/8) is flipped")
    args = ap.parse_args()
    data = Path(args.data)
    names = [n.strip() for n in (data / "companies.txt").read_text(encoding="utf-8").splitlines() if n.strip()]
    ids = sorted(p.stem for p in (data / "labels").glob("*.json"))
    ok = {"company": 0, "date": 0, "total": 0}
    found = {"company": 0, "date": 0, "total": 0}
    gst = 0
    t0 = time.time()
    for rid in ids:
        label = json.loads((data / "labels" / f"{rid}.json").read_text(encoding="utf-8"))
        doc = load_doc(data / "ocr_lines" / f"{rid}.txt", args.noise)
        ex = extract_receipt(doc)
        nm = match_names(ex, names)
        want_company = " ".join(label.get("company", "").split())
        got = {
            "company": (nm.name or "", nm.name is not None and nm.name == want_company),
            "date": (ex.purchase_date.value if ex.purchase_date else "",
                     ex.purchase_date is not None and parse_date(label.get("date", "")) is not None
                     and ex.purchase_date.value == parse_date(label["date"]).isoformat()),  # type: ignore[union-attr]
            "total": (ex.total.value if ex.total else "",
                      ex.total is not None and num(label.get("total", "")) == Decimal(ex.total.value)),
        }
        for k, (val, good) in got.items():
            found[k] += bool(val)
            ok[k] += bool(good)
            if args.explain and not good:
                want = {"company": want_company, "date": label.get("date"), "total": label.get("total")}[k]
                print(f"{rid} {k:8s} want={want!r} got={val!r}")
        if ex.reseller_vat is not None and ex.reseller_vat.meta.get("kind") == "gst":
            gst += 1
    n = len(ids)
    extra = f", simulated OCR slips p={args.noise}" if args.noise else ""
    print(f"SROIE ground-truth text{extra}, {n} receipts, {time.time() - t0:.1f} s")
    for k in ok:
        print(f"  {k:8s} correct {ok[k]:3d}/{n} = {ok[k] / n:6.1%}   (a value returned for {found[k]})")
    print(f"  GST number found on {gst}/{n} receipts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
