"""Outputs of `claimcheck eval`: summary.json (machine-readable), errors.csv
(every wrong field), PNG charts (matplotlib, Agg) and report.html, which
references the PNGs next to it and is otherwise self-contained."""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.eval.adapters import STATUSES, DocScore
from pipeline.eval.metrics import (
    RIGHT,
    FieldRecord,
    at_threshold,
    auto_threshold,
    breakdown,
    calibration,
    confusion,
    per_field,
    sweep,
    timing_stats,
)
from pipeline.eval.tamper import tamper_summary
from pipeline.settings import Settings

log = logging.getLogger(__name__)

SCHEMA = "claimcheck-eval/1"
ACCEPT = Settings.model_fields["accept_confidence"].default  # the confidence rules act on alone
ERROR_COLUMNS = ("document", "field", "outcome", "expected", "got", "confidence", "note")


def build_summary(docs: Mapping[str, DocScore], *, fields: Sequence[str], field_notes: Mapping[str, str] | None = None,
                  groups: Mapping[str, Mapping[str, list[str]]] | None = None, meta: Mapping[str, Any] | None = None,
                  unlabelled: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every number of a run, from the scored documents. `groups` is doc -> dimension -> values."""
    records = [r for d in docs.values() for r in d.records]
    stats = per_field(records, fields)
    by_field: dict[str, list[FieldRecord]] = {f: [] for f in fields}
    for r in records:
        by_field.setdefault(r.field, []).append(r)
    field_out: dict[str, Any] = {}
    for f in fields:
        field_out[f] = {**stats[f], "note": (field_notes or {}).get(f, ""),
                        "calibration": calibration(by_field[f]), "auto_approve": auto_threshold(by_field[f]),
                        "at_accept": at_threshold(by_field[f], ACCEPT)}
    n_docs = len(docs)
    errors = [d for d in docs.values() if d.error]
    accs = [s["accuracy"] for s in stats.values() if s["accuracy"] is not None]
    all_right = sum(1 for d in docs.values() if d.records and all(r.outcome in RIGHT for r in d.records))
    dims: dict[str, dict[str, list[str]]] = {}
    for doc, g in (groups or {}).items():
        for dim, values in g.items():
            dims.setdefault(dim, {})[doc] = list(values)
    status_pairs = [d.status for d in docs.values() if d.status is not None]
    match_pairs = [d.match for d in docs.values() if d.match is not None]
    mem: dict[str, float] = {}
    for d in docs.values():
        if d.pid is not None and d.maxrss_kb is not None:
            mem[str(d.pid)] = max(mem.get(str(d.pid), 0.0), round(d.maxrss_kb / 1024, 1))
    wrong = [r for r in records if r.outcome not in RIGHT]
    summary: dict[str, Any] = {
        "schema": SCHEMA,
        **dict(meta or {}),
        "overall": {
            "documents": n_docs,
            "errors": len(errors),
            "fields_scored": len(records),
            "fields_right": sum(r.outcome in RIGHT for r in records),
            "mean_field_accuracy": round(sum(accs) / len(accs), 4) if accs else None,
            "documents_all_right": all_right,
            "documents_all_right_rate": round(all_right / n_docs, 4) if n_docs else None,
        },
        "fields": field_out,
        "calibration_all": calibration([r for r in records if r.field in fields]),
        "breakdowns": breakdown(records, dims, fields) if dims else {},
        "confusion": confusion(status_pairs, STATUSES) if status_pairs else None,
        "timings": timing_stats(d.timings for d in docs.values() if d.timings),
        "memory": {"peak_mb_per_worker": mem, "peak_mb": max(mem.values()) if mem else None},
        "sweep": ({"score": "reseller match score", **sweep(match_pairs)} if match_pairs else None),
        "unlabelled": dict(unlabelled or {}),
        "documents": {k: {"error": d.error, "status": list(d.status) if d.status else None,
                          "fields": {r.field: r.outcome for r in d.records}} for k, d in sorted(docs.items())},
        "wrong": [_err_row(r) for r in wrong],
    }
    tamper = {k: d.tamper for k, d in docs.items() if d.tamper is not None}
    if tamper:
        summary["forensics"] = tamper_summary(tamper)
    return summary


def summarise(run: Any) -> dict[str, Any]:
    """The summary of a runner.EvalRun, with machine info and date."""
    from pipeline import __version__
    from pipeline.eval.runner import machine_info, tesseract_version

    ds = run.dataset
    meta = {
        "dataset": {"name": ds.name, "path": str(ds.root), "kind": ds.kind, "documents": len(ds.items),
                    "limit": run.limit or None},
        "run": {"date": run.started.date().isoformat(), "started": run.started.isoformat(),
                "finished": run.finished.isoformat(),
                "seconds": round((run.finished - run.started).total_seconds(), 2), "workers": run.workers,
                "pipeline_version": __version__, "tesseract": tesseract_version(), "machine": machine_info()},
    }
    unl = dict(ds.unlabelled)
    if "gst_number" in unl:  # how often a GST number was found at all (no label needed)
        found = sum(1 for k, r in run.raw.items() if ((r.get("fields") or {}).get("reseller_vat") or {}).get("value"))
        n = len(ds.items)
        gst = [r for d in run.docs.values() for r in d.records if r.field == "gst_number" and r.got is not None]
        confirmed = sum(r.outcome == "tp" for r in gst)
        unl["gst_number"] = {**unl["gst_number"], "found": found, "documents": n,
                             "found_rate": round(found / n, 4) if n else None}
        if "gst_number" in ds.fields:
            unl["gst_number"].update(confirmed=confirmed,
                                     confirmed_rate_of_found=round(confirmed / len(gst), 4) if gst else None)
    return build_summary(run.docs, fields=ds.fields, field_notes=ds.field_notes,
                         groups={it.id: it.groups for it in ds.items if it.groups}, meta=meta, unlabelled=unl)


def _err_row(r: FieldRecord) -> dict[str, Any]:
    return {"document": r.doc, "field": r.field, "outcome": r.outcome, "expected": r.expected, "got": r.got,
            "confidence": r.confidence, "note": r.note}


# --------------------------------------------------------------------------- files

def write_errors_csv(summary: Mapping[str, Any], path: Path) -> Path:
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ERROR_COLUMNS))
        w.writeheader()
        for row in summary.get("wrong", []):
            w.writerow({k: "" if row.get(k) is None else row.get(k) for k in ERROR_COLUMNS})
    return Path(path)


def write_pngs(summary: Mapping[str, Any], out: Path) -> list[str]:
    """The charts; returns the file names written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    written: list[str] = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        written.append(name)

    fields = summary.get("fields", {})
    if fields:
        names = list(fields)
        fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(names) + 2), 3.6))
        acc = [fields[f]["accuracy"] or 0.0 for f in names]
        ax.bar(names, acc, color="#4c72b0", label="accuracy")
        prec = [fields[f]["precision"] if fields[f]["precision"] is not None else float("nan") for f in names]
        rec = [fields[f]["recall"] if fields[f]["recall"] is not None else float("nan") for f in names]
        ax.plot(names, prec, "o", color="#dd8452", label="precision")
        ax.plot(names, rec, "s", color="#55a868", label="recall")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("share")
        ax.set_title("per-field accuracy")
        ax.tick_params(axis="x", rotation=30)
        ax.legend(loc="lower right", fontsize=8)
        save(fig, "field_accuracy.png")

        fig, ax = plt.subplots(figsize=(5.5, 4.2))
        ax.plot([0, 1], [0, 1], ":", color="grey", label="perfect calibration")
        for f in names:
            pts = [(b["mean_confidence"], b["accuracy"]) for b in fields[f]["calibration"] if b["n"]]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=f, markersize=4)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("mean confidence in band")
        ax.set_ylabel("accuracy in band")
        ax.set_title("calibration")
        ax.legend(fontsize=7)
        save(fig, "calibration.png")

    timings = summary.get("timings", {})
    if timings:
        stages = list(timings)
        fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(stages) + 2), 3.4))
        x = range(len(stages))
        ax.bar([i - 0.2 for i in x], [timings[s]["median"] for s in stages], width=0.4, label="median")
        ax.bar([i + 0.2 for i in x], [timings[s]["p90"] for s in stages], width=0.4, label="p90")
        ax.set_xticks(list(x), stages, rotation=30)
        ax.set_ylabel("seconds")
        ax.set_title("time per stage")
        ax.legend(fontsize=8)
        save(fig, "timings.png")

    conf = summary.get("confusion")
    if conf:
        rows = list(conf["matrix"])
        cols = conf["labels"]
        data = [[conf["matrix"][r][c] for c in cols] for r in rows]
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.imshow(data, cmap="Blues")
        ax.set_xticks(range(len(cols)), cols, rotation=30)
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlabel("verdict")
        ax.set_ylabel("expected")
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                ax.text(j, i, str(v), ha="center", va="center", color="black")
        ax.set_title("verdict confusion matrix")
        save(fig, "confusion.png")

    sw = summary.get("sweep")
    if sw and sw.get("rows"):
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        cut = [r["cutoff"] for r in sw["rows"]]
        ax.plot(cut, [r["precision"] if r["precision"] is not None else float("nan") for r in sw["rows"]], "o-",
                label="precision of accepted")
        ax.plot(cut, [r["coverage"] or 0 for r in sw["rows"]], "s-", label="coverage")
        if sw.get("recommended") is not None:
            ax.axvline(sw["recommended"], color="red", linestyle="--", label=f"recommended {sw['recommended']}")
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("cut-off")
        ax.set_title(sw.get("score", "match score") + " sweep")
        ax.legend(fontsize=8)
        save(fig, "sweep.png")
    fz = summary.get("forensics")
    if fz and fz.get("altered") and fz.get("genuine"):
        fig, ax = plt.subplots(figsize=(5.5, 4.6))
        curves = [("any alteration signal", fz["roc"], "k", 2.2)]
        curves += [(d, v["roc"], None, 1.0) for d, v in fz["per_signal"].items() if v.get("family") != "duplicate"]
        for name, r, colour, width in curves:
            pts = [(p["fpr"], p["tpr"]) for p in r["points"] if p["fpr"] is not None and p["tpr"] is not None]
            pts = sorted(set(pts + [(0.0, 0.0), (1.0, 1.0)]))
            ax.plot([p[0] for p in pts], [p[1] for p in pts], drawstyle="steps-post", color=colour, lw=width,
                    label=f"{name} (AUC {_fmt(r['auc'])})")
        ax.plot([0, 1], [0, 1], ":", color="#999")
        ax.set_xlabel("false-alarm rate (genuine receipts flagged)")
        ax.set_ylabel("detection rate (altered receipts flagged)")
        ax.set_title("forensic signals: ROC")
        ax.legend(fontsize=7, loc="lower right")
        save(fig, "roc.png")
    return written


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return html.escape(str(v))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_html(summary: Mapping[str, Any], pngs: Sequence[str]) -> str:
    ds = summary.get("dataset", {})
    run = summary.get("run", {})
    ov = summary.get("overall", {})
    fields = summary.get("fields", {})
    parts = [f"<h1>claimcheck eval: {html.escape(str(ds.get('name', '')))}</h1>",
             f"<p>{html.escape(str(ds.get('kind', '')))} set at <code>{html.escape(str(ds.get('path', '')))}</code>, "
             f"{ov.get('documents')} documents ({ov.get('errors')} unreadable), run {html.escape(str(run.get('started', '')))}"
             f" with {run.get('workers')} worker(s) in {run.get('seconds')} s on "
             f"{html.escape(json.dumps(run.get('machine', {})))}; pipeline {html.escape(str(run.get('pipeline_version')))}, "
             f"{html.escape(str(run.get('tesseract')))}.</p>",
             "<h2>Per field</h2>",
             _table(["field", "n", "accuracy", "precision", "recall", "right", "wrong value", "missed", "spurious",
                     "errors", "auto-approve ≥", "coverage", "right at accept_confidence", "how it is scored"],
                    [[f, s["n"], s["accuracy"], s["precision"], s["recall"], s["tp"] + s["tn"], s["wrong"], s["fn"],
                      s["fp"], s["error"], s["auto_approve"]["threshold"], s["auto_approve"]["coverage"],
                      f"{s['at_accept']['right']}/{s['at_accept']['kept']}" if s.get("at_accept") else "", s["note"]]
                     for f, s in fields.items()]),
             f"<p>Documents with every field right: {ov.get('documents_all_right')} of {ov.get('documents')}. "
             f"Mean field accuracy {_fmt(ov.get('mean_field_accuracy'))}.</p>"]
    for name, title in (("field_accuracy.png", "per-field accuracy"), ("calibration.png", "calibration")):
        if name in pngs:
            parts.append(f'<img src="{name}" alt="{title}">')
    parts.append("<h2>Calibration (accuracy of extracted values per confidence band)</h2>")
    bands = [b["band"] for b in summary.get("calibration_all", [])]
    rows = [["all fields", *[f"{_fmt(b['accuracy'])} ({b['n']})" for b in summary.get("calibration_all", [])]]]
    rows += [[f, *[f"{_fmt(b['accuracy'])} ({b['n']})" for b in s["calibration"]]] for f, s in fields.items()]
    parts.append(_table(["field", *bands], rows))
    for title, key in (("Unlabelled fields", "unlabelled"),):
        if summary.get(key):
            parts.append(f"<h2>{title}</h2>")
            parts.append(_table(["field", "facts"], [[k, json.dumps(v)] for k, v in summary[key].items()]))
    if summary.get("breakdowns"):
        parts.append("<h2>Breakdowns (accuracy per field)</h2>")
        for dim, groups in summary["breakdowns"].items():
            names = list(fields)
            parts.append(f"<h3>{html.escape(dim)}</h3>")
            parts.append(_table([dim, "documents", *names],
                                [[g, v["documents"], *[v["fields"][f]["accuracy"] for f in names]]
                                 for g, v in groups.items()]))
    conf = summary.get("confusion")
    if conf:
        parts.append(f"<h2>Verdicts: expected (rows) vs got (columns)</h2><p>agreement {_fmt(conf['agreement'])}"
                     f" of {conf['n']}</p>")
        parts.append(_table(["expected \\ got", *conf["labels"]],
                            [[e, *[row[c] for c in conf["labels"]]] for e, row in conf["matrix"].items()]))
        if "confusion.png" in pngs:
            parts.append('<img src="confusion.png" alt="confusion matrix">')
    timings = summary.get("timings", {})
    if timings:
        parts.append("<h2>Time per stage (seconds)</h2>")
        parts.append(_table(["stage", "n", "median", "p90", "total"],
                            [[k, v["n"], v["median"], v["p90"], v["total"]] for k, v in timings.items()]))
        if "timings.png" in pngs:
            parts.append('<img src="timings.png" alt="time per stage">')
    mem = summary.get("memory", {})
    if mem.get("peak_mb_per_worker"):
        parts.append("<h2>Peak memory per worker (MB, ru_maxrss)</h2>")
        parts.append(_table(["worker pid", "peak MB"], list(mem["peak_mb_per_worker"].items())))
    sw = summary.get("sweep")
    if sw:
        parts.append(f"<h2>Threshold sweep: {html.escape(sw.get('score', ''))}</h2><p>recommended cut-off "
                     f"(lowest with precision ≥ {sw['target']}): {_fmt(sw.get('recommended'))}</p>")
        parts.append(_table(["cut-off", "accepted", "right", "precision", "coverage"],
                            [[r["cutoff"], r["accepted"], r["right"], r["precision"], r["coverage"]]
                             for r in sw["rows"]]))
        if "sweep.png" in pngs:
            parts.append('<img src="sweep.png" alt="sweep">')
    fz = summary.get("forensics")
    if fz:
        parts.append(f"<h2>Forensics: altered and genuine receipts</h2><p>{fz['altered']} altered, {fz['genuine']} "
                     f"genuine. Flagged (any alteration signal at its threshold): {fz['detected']} altered "
                     f"(detection {_fmt(fz['detection_rate'])}), {fz['false_alarms']} genuine (false alarms "
                     f"{_fmt(fz['false_alarm_rate'])}); ROC AUC {_fmt(fz['roc']['auc'])}.</p>")
        parts.append(_table(["alteration type", "n", "flagged", "detection", "flagged by"],
                            [[t, v["n"], v["detected"], v["detection_rate"], json.dumps(v["by_signal"])]
                             for t, v in fz["per_type"].items()]))
        parts.append(_table(["signal", "family", "altered flagged", "detection", "genuine flagged", "false alarms",
                             "AUC"],
                            [[d, v["family"], v["detected"], v["detection_rate"], v["false_alarms"],
                              v["false_alarm_rate"], v["roc"]["auc"]] for d, v in fz["per_signal"].items()]))
        if "roc.png" in pngs:
            parts.append('<img src="roc.png" alt="ROC of the forensic signals">')
        parts.append(f"<p>Missed: {html.escape(', '.join(fz['missed_documents']) or 'none')}. False alarms: "
                     f"{html.escape(', '.join(fz['false_alarm_documents']) or 'none')}.</p>")
    wrong = summary.get("wrong", [])
    parts.append(f"<h2>Every wrong field ({len(wrong)})</h2>")
    parts.append(_table(list(ERROR_COLUMNS), [[r.get(k) for k in ERROR_COLUMNS] for r in wrong]))
    css = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0;"
           "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f0f0f0}"
           "img{max-width:100%;margin:0.5em 0;display:block}code{background:#f4f4f4}")
    title = html.escape(f"claimcheck eval {ds.get('name', '')}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>{css}</style></head>"
            f"<body>{''.join(parts)}</body></html>")


def write_report(summary: Mapping[str, Any], out: Path) -> dict[str, Path]:
    """summary.json, errors.csv, the PNGs and report.html into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default), encoding="utf-8")
    write_errors_csv(summary, out / "errors.csv")
    pngs = write_pngs(summary, out)
    (out / "report.html").write_text(render_html(summary, pngs), encoding="utf-8")
    return {"summary": out / "summary.json", "errors": out / "errors.csv", "html": out / "report.html",
            **{p: out / p for p in pngs}}


def _json_default(o: Any) -> Any:
    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    return str(o)


def headline(summary: Mapping[str, Any]) -> str:
    """A few lines for the terminal."""
    ov = summary.get("overall", {})
    lines = [f"{summary.get('dataset', {}).get('name')}: {ov.get('documents')} documents, {ov.get('errors')} unreadable, "
             f"{ov.get('documents_all_right')} with every field right"]
    for f, s in summary.get("fields", {}).items():
        aa = s["auto_approve"]
        at = s.get("at_accept") or {}
        lines.append(f"  {f:<20} acc {_fmt(s['accuracy'])}  prec {_fmt(s['precision'])}  rec {_fmt(s['recall'])}"
                     f"  auto-approve >= {_fmt(aa['threshold'])} keeps {_fmt(aa['coverage'])}"
                     f"  at conf >= {at.get('threshold')}: {at.get('right')}/{at.get('kept')} right")
    conf = summary.get("confusion")
    if conf:
        lines.append(f"  verdict agreement {_fmt(conf['agreement'])} of {conf['n']}")
    sw = summary.get("sweep")
    if sw:
        lines.append(f"  {sw.get('score')}: recommended cut-off {_fmt(sw.get('recommended'))}")
    for k, v in summary.get("unlabelled", {}).items():
        lines.append(f"  {k} (unlabelled): found {v.get('found')} of {v.get('documents')} ({v.get('check')})")
    fz = summary.get("forensics")
    if fz:
        lines.append(f"  forensics: {fz['detected']} of {fz['altered']} altered flagged ({_fmt(fz['detection_rate'])}), "
                     f"{fz['false_alarms']} of {fz['genuine']} genuine ({_fmt(fz['false_alarm_rate'])}), "
                     f"AUC {_fmt(fz['roc']['auc'])}")
    t = summary.get("timings", {})
    if "total" in t:
        lines.append(f"  seconds per document: median {t['total']['median']}, p90 {t['total']['p90']}")
    if summary.get("memory", {}).get("peak_mb"):
        lines.append(f"  peak memory per worker {summary['memory']['peak_mb']} MB")
    return "\n".join(lines)
