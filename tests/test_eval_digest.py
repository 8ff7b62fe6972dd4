"""scripts/eval_digest.py reads a summary.json as `claimcheck eval` writes it (built here by
pipeline.eval.report.build_summary from hand-made scores, no OCR)."""

import importlib.util
import json
from pathlib import Path

from pipeline.eval.adapters import DocScore
from pipeline.eval.metrics import FieldRecord
from pipeline.eval.report import build_summary

ROOT = Path(__file__).resolve().parents[1]


def _digest():
    spec = importlib.util.spec_from_file_location("eval_digest", ROOT / "scripts" / "eval_digest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _rec(doc, field, outcome, conf):
    return FieldRecord(doc=doc, field=field, expected="x", got="x" if outcome == "tp" else "y",
                       outcome=outcome, confidence=conf)


def test_digest_splits_halves_and_counts_gst_where_printed(tmp_path, capsys):
    mod = _digest()
    stems = [f"X5100{i:07d}" for i in range(40)]
    docs = {}
    for i, s in enumerate(stems):
        gst = ("tp", "fn", "fp", "tn")[i % 4]
        docs[s] = DocScore(records=[_rec(s, "date", "tp" if i % 5 else "wrong", 0.9),
                                    _rec(s, "gst_number", gst, 0.85 if gst in ("tp", "fp") else None)],
                           timings={})
    summary = build_summary(docs, fields=["date", "gst_number"])
    (tmp_path / "summary.json").write_text(json.dumps(summary, default=str))
    assert mod.main([str(tmp_path), "--halves"]) == 0
    out = capsys.readouterr().out
    tune = [s for s in stems if mod.split_of(s) == "tune"]
    hold = [s for s in stems if mod.split_of(s) != "tune"]
    assert tune and hold
    for name, half in (("tune", tune), ("holdout", hold)):
        right = sum(1 for s in half if stems.index(s) % 5)
        assert f"date {right}/{len(half)}" in next(line for line in out.splitlines() if line.strip().startswith(name))
    # GST: tp, wrong and fn print one; fp was found where the label has none
    tp_tune = sum(1 for s in tune if stems.index(s) % 4 == 0)
    printed_tune = sum(1 for s in tune if stems.index(s) % 4 in (0, 1))
    fp_tune = sum(1 for s in tune if stems.index(s) % 4 == 2)
    assert f"exact where printed: {tp_tune}/{printed_tune}" in out
    assert f"found where none is printed: {fp_tune}" in out
    # at the accept threshold: date wrong values were at 0.9, so they are counted as accepted and wrong
    wrong_dates = sum(1 for i in range(40) if i % 5 == 0)
    assert f"at>=0.8: {40 - wrong_dates}/40" in out
