"""Report files and --compare of `claimcheck eval`, from fake scored documents."""

from __future__ import annotations

import csv
import json
import re
import struct

import pytest
from typer.testing import CliRunner

from pipeline.eval.adapters import DocScore
from pipeline.eval.compare import compare, load_summary, render_text
from pipeline.eval.metrics import FieldRecord
from pipeline.eval.report import build_summary, write_report

FIELDS = ("date", "total", "serial_handwritten")


def doc(name, outcomes, *, status=None, error=None, pid=11, rss=204800, conf=0.9, score=0.9):
    recs = [FieldRecord(name, f, o, expected=None if o in ("fp", "tn") else "e",
                        got=None if o in ("fn", "tn", "error") else "g",
                        confidence=conf if o in ("tp", "wrong", "fp") else None)
            for f, o in zip(FIELDS, outcomes, strict=True)]
    return DocScore(records=recs, timings={} if error else {"ocr": 1.0, "extract": 0.5, "total": 1.5},
                    status=status, match=(score, outcomes[0] == "tp"), maxrss_kb=rss, pid=pid, error=error)


def fake_docs(variant="a"):
    docs = {
        "d1": doc("d1", ("tp", "tp", "tn"), status=("approve", "approve")),
        "d2": doc("d2", ("tp", "wrong", "fp"), status=("incomplete", "review"), conf=0.6, score=0.6),
        "d3": doc("d3", ("error", "error", "error"), status=("reject", "error"), error="FILE_EMPTY", pid=12),
    }
    if variant == "b":
        docs["d1"] = doc("d1", ("wrong", "tp", "tn"), status=("approve", "review"))
        docs["d2"] = doc("d2", ("tp", "tp", "fp"), status=("incomplete", "review"), conf=0.6)
    return docs


def summary(variant="a"):
    groups = {"d1": {"layout": ["till"]}, "d2": {"layout": ["invoice"]}, "d3": {"layout": ["till"]}}
    meta = {"dataset": {"name": f"fake-{variant}", "path": "/x", "kind": "claims", "documents": 3},
            "run": {"date": "2026-11-23", "workers": 1, "machine": {"cpus": 2}}}
    return build_summary(fake_docs(variant), fields=FIELDS, field_notes={"date": "as dates"}, groups=groups,
                         meta=meta, unlabelled={})


def test_summary_numbers():
    s = summary()
    assert s["overall"]["documents"] == 3 and s["overall"]["errors"] == 1
    assert s["fields"]["date"]["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["fields"]["total"]["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["fields"]["serial_handwritten"]["precision"] == 0.0  # one extracted, spurious
    assert s["confusion"]["matrix"]["incomplete"]["review"] == 1
    assert s["confusion"]["matrix"]["reject"]["other"] == 1  # the unreadable claim
    assert s["memory"]["peak_mb_per_worker"] == {"11": 200.0, "12": 200.0}
    assert s["timings"]["ocr"]["median"] == 1.0 and s["timings"]["ocr"]["n"] == 2
    assert s["breakdowns"]["layout"]["till"]["documents"] == 2
    assert s["documents"]["d3"]["error"] == "FILE_EMPTY"
    assert len(s["wrong"]) == 5  # wrong total, spurious serial, three errors


def test_report_files(tmp_path):
    paths = write_report(summary(), tmp_path)
    s = json.loads((tmp_path / "summary.json").read_text())
    for key in ("schema", "dataset", "run", "overall", "fields", "calibration_all", "breakdowns", "confusion",
                "timings", "memory", "sweep", "documents", "wrong"):
        assert key in s, key
    assert s["run"]["date"] == "2026-11-23" and s["run"]["machine"] == {"cpus": 2}
    for f in FIELDS:
        assert {"accuracy", "precision", "recall", "calibration", "auto_approve"} <= set(s["fields"][f])

    rows = list(csv.DictReader((tmp_path / "errors.csv").open()))
    assert {(r["document"], r["field"], r["outcome"]) for r in rows} >= {("d2", "total", "wrong"),
                                                                         ("d3", "date", "error")}
    assert rows[0].keys() >= {"document", "field", "expected", "got", "confidence"}

    html = (tmp_path / "report.html").read_text()
    referenced = set(re.findall(r'<img src="([^"]+\.png)"', html))
    assert referenced == {"field_accuracy.png", "calibration.png", "timings.png", "confusion.png", "sweep.png"}
    for name in referenced:
        assert name in paths
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width > 100 and height > 100
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # self-contained


def test_report_without_claims_has_no_confusion_png(tmp_path):
    docs = {k: DocScore(records=d.records, timings=d.timings) for k, d in fake_docs().items()}
    s = build_summary(docs, fields=FIELDS)
    write_report(s, tmp_path)
    assert s["confusion"] is None and s["sweep"] is None
    assert not (tmp_path / "confusion.png").exists()
    assert "confusion.png" not in (tmp_path / "report.html").read_text()


def test_compare_two_summaries(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.json").write_text(json.dumps(summary("a")))
    (tmp_path / "b.json").write_text(json.dumps(summary("b")))
    c = compare(load_summary(tmp_path / "a"), load_summary(tmp_path / "b.json"))
    assert c["fields"]["date"]["delta"] == pytest.approx(-1 / 3, abs=1e-3)
    assert c["fields"]["total"]["delta"] == pytest.approx(1 / 3, abs=1e-3)
    assert c["fields"]["serial_handwritten"]["delta"] == 0.0
    assert c["flips"] == {"d1": {"right_to_wrong": ["date"], "wrong_to_right": []},
                          "d2": {"right_to_wrong": [], "wrong_to_right": ["total"]}}
    assert c["verdict_changes"] == {"d1": {"expected": "approve", "a": "approve", "b": "review"}}
    text = render_text(c)
    assert "d1: now wrong: date" in text and "d2: now right: total" in text


def test_compare_rejects_a_file_that_is_no_summary(tmp_path):
    (tmp_path / "x.json").write_text("[1, 2]")
    with pytest.raises(ValueError):
        load_summary(tmp_path / "x.json")


def test_eval_command_compare(tmp_path):
    import typer

    from pipeline.eval.cli import eval_command

    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("other")(lambda: None)  # two commands, so "eval" is a sub-command as in claimcheck
    (tmp_path / "a.json").write_text(json.dumps(summary("a")))
    (tmp_path / "b.json").write_text(json.dumps(summary("b")))
    res = CliRunner().invoke(app, ["eval", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                                   "--out", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    assert "d1: now wrong: date" in res.output
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())["right_to_wrong"] == 1
    res = CliRunner().invoke(app, ["eval"])
    assert res.exit_code == 2
