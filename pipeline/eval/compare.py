"""`claimcheck eval --compare A B`: what changed between two runs.

A and B are run folders (holding summary.json) or summary.json files. Per
field: accuracy in A, in B and the delta (B - A). Per document: the fields
that flipped right -> wrong (regressions) or wrong -> right (fixes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.eval.metrics import RIGHT


def load_summary(path: Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        path = path / "summary.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "fields" not in data:
        raise ValueError(f"{path}: not a claimcheck eval summary")
    data.setdefault("_path", str(path))
    return data


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    fa, fb = a.get("fields", {}), b.get("fields", {})
    fields = list(dict.fromkeys([*fa, *fb]))
    per_field = {}
    for f in fields:
        acc_a = (fa.get(f) or {}).get("accuracy")
        acc_b = (fb.get(f) or {}).get("accuracy")
        per_field[f] = {"a": acc_a, "b": acc_b,
                        "delta": round(acc_b - acc_a, 4) if acc_a is not None and acc_b is not None else None,
                        "n_a": (fa.get(f) or {}).get("n"), "n_b": (fb.get(f) or {}).get("n")}
    da, db = a.get("documents", {}), b.get("documents", {})
    flips: dict[str, dict[str, list[str]]] = {}
    fixed = broken = 0
    for doc in sorted(set(da) & set(db)):
        oa, ob = da[doc].get("fields", {}), db[doc].get("fields", {})
        to_wrong = [f for f in fields if f in oa and f in ob and oa[f] in RIGHT and ob[f] not in RIGHT]
        to_right = [f for f in fields if f in oa and f in ob and oa[f] not in RIGHT and ob[f] in RIGHT]
        if to_wrong or to_right:
            flips[doc] = {"right_to_wrong": to_wrong, "wrong_to_right": to_right}
            broken += len(to_wrong)
            fixed += len(to_right)
    status_flips = {}
    for doc in sorted(set(da) & set(db)):
        sa, sb = da[doc].get("status"), db[doc].get("status")
        if sa and sb and sa[1] != sb[1]:
            status_flips[doc] = {"expected": sb[0], "a": sa[1], "b": sb[1]}
    return {"a": a.get("_path", ""), "b": b.get("_path", ""), "fields": per_field, "flips": flips,
            "right_to_wrong": broken, "wrong_to_right": fixed, "verdict_changes": status_flips,
            "only_in_a": sorted(set(da) - set(db)), "only_in_b": sorted(set(db) - set(da))}


def render_text(c: dict[str, Any]) -> str:
    lines = [f"A = {c['a']}", f"B = {c['b']}", "", f"{'field':<20} {'A':>7} {'B':>7} {'delta':>7}"]
    for name, r in c["fields"].items():
        d = "-" if r["delta"] is None else f"{r['delta']:+.3f}"
        a = "-" if r["a"] is None else f"{r['a']:.3f}"
        b = "-" if r["b"] is None else f"{r['b']:.3f}"
        lines.append(f"{name:<20} {a:>7} {b:>7} {d:>7}")
    lines.append("")
    lines.append(f"fields right -> wrong: {c['right_to_wrong']}, wrong -> right: {c['wrong_to_right']}")
    for doc, fl in c["flips"].items():
        bits = []
        if fl["right_to_wrong"]:
            bits.append("now wrong: " + ", ".join(fl["right_to_wrong"]))
        if fl["wrong_to_right"]:
            bits.append("now right: " + ", ".join(fl["wrong_to_right"]))
        lines.append(f"  {doc}: " + "; ".join(bits))
    for doc, s in c["verdict_changes"].items():
        lines.append(f"  {doc}: verdict {s['a']} -> {s['b']} (expected {s['expected']})")
    if c["only_in_a"] or c["only_in_b"]:
        lines.append(f"documents only in A: {len(c['only_in_a'])}, only in B: {len(c['only_in_b'])}")
    return "\n".join(lines)
