"""The accuracy regression guard: fixed small subsets scored against recorded figures.

Two subsets, chosen once and never tuned on: the first `SROIE_N` receipts of
the SROIE dev set (by file name) and `GEN_N` claims generated with seed
`GEN_SEED`. `measure()` runs `claimcheck eval` on both; `check()` names every
field whose number of right documents fell below the recorded figure
(`tests/accuracy_floor.json`, written by `scripts/record_accuracy_floor.py`
after an intended change). One document of slack per field absorbs OCR's
run-to-run differences between machines (tesseract picks its SIMD code path
at run time); anything more is a regression.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
FLOOR_FILE = ROOT / "tests" / "accuracy_floor.json"
SROIE_DIR = ROOT.parent / "shared" / "datasets" / "sroie-dev"
SROIE_N = 20
GEN_N = 24
GEN_SEED = 5
SLACK_DOCUMENTS = 1


def _fields(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f: {"n": s["n"], "right": s["tp"] + s["tn"], "accuracy": s["accuracy"]}
            for f, s in summary["fields"].items()}


def measure(workers: int = 2, sroie_dir: Path = SROIE_DIR) -> dict[str, Any]:
    """Per-field right counts on both subsets (about a minute on two cores)."""
    from pipeline.eval.cli import run_eval
    from pipeline.samples.generator import generate_dataset

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="claimcheck-regress-") as tmp:
        t = Path(tmp)
        sroie, _ = run_eval(sroie_dir, t / "sroie-run", workers=workers, limit=SROIE_N, progress=False)
        out["sroie"] = {"subset": f"first {SROIE_N} images of {sroie_dir.name}", "fields": _fields(sroie)}
        generate_dataset(t / "gen", n=GEN_N, seed=GEN_SEED)
        gen, _ = run_eval(t / "gen", t / "gen-run", workers=workers, progress=False)
        out["generated"] = {"subset": f"{GEN_N} claims, seed {GEN_SEED}", "fields": _fields(gen)}
        fz = gen.get("forensics")
        if fz:
            out["generated"]["forensics"] = {"altered": fz["altered"], "detected": fz["detected"],
                                             "genuine": fz["genuine"], "false_alarms": fz["false_alarms"]}
    return out


def check(measured: dict[str, Any], floor: dict[str, Any], slack: int = SLACK_DOCUMENTS) -> list[str]:
    """Every field (and the forensic detection count) that fell below its recorded figure."""
    problems = []
    for subset, rec in floor.items():
        if not isinstance(rec, dict) or "fields" not in rec:
            continue
        got = measured.get(subset, {}).get("fields", {})
        for f, want in rec["fields"].items():
            have = got.get(f)
            if have is None:
                problems.append(f"{subset}/{f}: not measured")
            elif have["right"] < want["right"] - slack:
                problems.append(f"{subset}/{f}: {have['right']} of {have['n']} right, recorded {want['right']} "
                                f"of {want['n']}")
        fz, gz = rec.get("forensics"), measured.get(subset, {}).get("forensics")
        if fz and gz:
            if gz["detected"] < fz["detected"] - slack:
                problems.append(f"{subset}/forensics: {gz['detected']} altered flagged, recorded {fz['detected']}")
            if gz["false_alarms"] > fz["false_alarms"] + slack:
                problems.append(f"{subset}/forensics: {gz['false_alarms']} false alarms, recorded {fz['false_alarms']}")
    return problems


def load_floor(path: Path = FLOOR_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
