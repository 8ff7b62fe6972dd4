"""A short text digest of one `claimcheck eval` run, for the data team's before/after notes.

    .venv/bin/python scripts/eval_digest.py runs/seed7-300-XXXX            # a run folder or summary.json
    .venv/bin/python scripts/eval_digest.py runs/sroie-dev-XXXX --halves   # SROIE: per half as well
    .venv/bin/python scripts/eval_digest.py runs/A --cells 0.98           # breakdown cells below 98%

Prints per field: accuracy, and how many values were accepted at the auto-approve
confidence (0.80) and how many of those were right; the breakdown cells (layout,
degradation, ...) under --cells; the verdict confusion off the diagonal; forensics
detection per alteration type. With --halves, SROIE-style per-document outcomes are split
into the fixed tune / held-out halves of `bench_sroie.split_of` (outcomes "tp"/"tn" right).
Nothing here re-scores anything: it reads summary.json as `claimcheck eval` wrote it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sroie import split_of  # noqa: E402

RIGHT = {"tp", "tn"}


def load(path: Path) -> dict:
    p = path / "summary.json" if path.is_dir() else path
    return json.loads(p.read_text())


def fields_lines(s: dict) -> list[str]:
    out = []
    for f, v in s.get("fields", {}).items():
        at = v.get("at_accept") or {}
        acc = v.get("accuracy")
        out.append(f"  {f:<20} acc {acc if acc is None else f'{acc:.3f}'}  n {v.get('n')}"
                   f"  at>={at.get('threshold')}: {at.get('right')}/{at.get('kept')}")
    return out


def halves_lines(s: dict) -> list[str]:
    per: dict[str, Counter] = {"tune": Counter(), "holdout": Counter()}
    tot: dict[str, Counter] = {"tune": Counter(), "holdout": Counter()}
    printed, exact, spurious = Counter(), Counter(), Counter()  # GST: "tp"/"wrong"/"fn" = one is printed
    for doc, d in s.get("documents", {}).items():
        half = split_of(Path(doc).stem)
        for f, outcome in (d.get("fields") or {}).items():
            tot[half][f] += 1
            per[half][f] += outcome in RIGHT
            if f == "gst_number":
                printed[half] += outcome in ("tp", "wrong", "fn")
                exact[half] += outcome == "tp"
                spurious[half] += outcome == "fp"
    out = []
    for half in ("tune", "holdout"):
        cells = "  ".join(f"{f} {per[half][f]}/{n} ({per[half][f] / n:.3f})" for f, n in sorted(tot[half].items()))
        out.append(f"  {half:<8} {cells}")
        if printed[half]:
            out.append(f"  {'':<8} gst_number exact where printed: {exact[half]}/{printed[half]}"
                       f" ({exact[half] / printed[half]:.3f}), found where none is printed: {spurious[half]}")
    return out


def cells_lines(s: dict, below: float) -> list[str]:
    out = []
    for dim, vals in s.get("breakdowns", {}).items():
        for v, cell in vals.items():
            for f, st in cell["fields"].items():
                if st["accuracy"] is not None and st["accuracy"] < below:
                    right = round(st["accuracy"] * st["n"])
                    out.append(f"  {dim}={v} {f}: {st['accuracy']:.3f} ({right}/{st['n']})")
    return out


def confusion_lines(s: dict) -> list[str]:
    conf = s.get("confusion")
    if not conf:
        return []
    out = [f"  verdict agreement {conf.get('agreement')} of {conf.get('n')}"]
    for expected, row in (conf.get("matrix") or {}).items():
        for got, n in row.items():
            if expected != got and n:
                out.append(f"    expected {expected} -> got {got}: {n}")
    return out


def forensics_lines(s: dict) -> list[str]:
    fz = s.get("forensics")
    if not fz:
        return []
    out = [f"  forensics: {fz['detected']}/{fz['altered']} altered flagged, "
           f"{fz['false_alarms']}/{fz['genuine']} genuine flagged, AUC {fz['roc'].get('auc')}"]
    for t, v in sorted(fz.get("per_type", {}).items()):
        out.append(f"    {t:<22} {v['detected']}/{v['n']}")
    if fz.get("false_alarm_documents"):
        out.append(f"    false alarms: {', '.join(fz['false_alarm_documents'])}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--halves", action="store_true", help="SROIE: split by bench_sroie.split_of")
    ap.add_argument("--cells", type=float, default=0.98, help="show breakdown cells below this accuracy")
    a = ap.parse_args(argv)
    s = load(a.run)
    ov = s.get("overall", {})
    lines = [f"{s.get('dataset', {}).get('name')}: {ov.get('documents')} documents, {ov.get('errors')} errors"]
    lines += fields_lines(s)
    if a.halves:
        lines += halves_lines(s)
    lines += cells_lines(s, a.cells)
    lines += confusion_lines(s)
    lines += forensics_lines(s)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
