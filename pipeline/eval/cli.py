"""Typer command of `claimcheck eval`; the lead registers it with
`app.command("eval")(eval_command)` in pipeline/cli.py."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

log = logging.getLogger(__name__)


def default_out(dataset: Path, now: dt.datetime | None = None) -> Path:
    now = now or dt.datetime.now(dt.UTC)
    return Path("runs") / f"{Path(dataset).resolve().name}-{now.strftime('%Y%m%d-%H%M%S')}"


def run_eval(dataset: Path, out: Path | None = None, *, workers: int = 1, limit: int = 0,
             resellers: Path | None = None, progress: bool | None = None) -> tuple[dict, Path]:
    """Run, score and write the report of one dataset; returns (summary, out folder)."""
    from pipeline.eval import adapters, report, runner

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    out = Path(out) if out is not None else default_out(dataset)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="claimcheck-eval-") as tmp:
        # claims are screened into a store private to the run, so cross-claim rules see only this set
        store_url = f"sqlite:///{Path(tmp) / 'claims.db'}"
        ds = adapters.load(Path(dataset), limit=limit, resellers=resellers, store_url=store_url)
        bar = None
        if progress if progress is not None else sys.stderr.isatty():
            from pipeline.batch import RichProgress

            bar = RichProgress(len(ds.items), description=f"eval {ds.name}")
        try:
            result = runner.run(ds, workers=max(1, workers), progress=bar, limit=limit)
        finally:
            if bar is not None:
                bar.close()
    summary = report.summarise(result)
    report.write_report(summary, out)
    return summary, out


def eval_command(
    dataset: Annotated[Path | None, typer.Argument(help="a SROIE folder (images/, labels/) or a folder of "
                                                        "claim folders with truth.json")] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default runs/<dataset>-<timestamp>)")] = None,
    workers: Annotated[int, typer.Option(help="worker processes (default: one per core)")] = 0,
    limit: Annotated[int, typer.Option(help="only the first N documents (0: all)")] = 0,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(
        help="compare two runs (run folders or summary.json files) instead of running")] = None,
    resellers: Annotated[Path | None, typer.Option(
        help="closed list of company names for SROIE (default: DATASET/companies.txt)")] = None,
) -> None:
    """Score the pipeline field by field on a labelled set, or compare two runs."""
    from pipeline.eval import compare as cmp
    from pipeline.eval import report

    if compare is not None:
        try:
            c = cmp.compare(cmp.load_summary(compare[0]), cmp.load_summary(compare[1]))
        except (OSError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(3) from None
        typer.echo(cmp.render_text(c))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "compare.json").write_text(json.dumps(c, indent=2), encoding="utf-8")
        return
    if dataset is None:
        typer.echo("error: give a DATASET folder, or --compare A B", err=True)
        raise typer.Exit(2)
    if not dataset.is_dir():
        typer.echo(f"error: {dataset}: no such folder", err=True)
        raise typer.Exit(3)
    from pipeline.batch import default_workers

    try:
        summary, out_dir = run_eval(dataset, out, workers=workers or default_workers(), limit=limit,
                                    resellers=resellers)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(report.headline(summary))
    typer.echo(f"report: {out_dir / 'report.html'}")


__all__ = ["eval_command", "run_eval", "default_out"]
