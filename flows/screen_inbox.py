"""The pre-screen flow: every new claim in the inbox gets exactly one verdict.

Tasks are thin wrappers around pipeline functions (tested directly); this
flow is tested once end to end through a real serverless Prefect run.
A claim counts as screened when `<out>/<claim folder>.json` exists; it is
screened again only with `rescreen=True`. Claims run concurrently on a
thread pool: the OCR work happens in tesseract subprocesses, so threads
keep both cores busy without Prefect's process-pool start-up cost.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from prefect import flow, task, unmapped
from prefect.task_runners import ThreadPoolTaskRunner

import flows  # noqa: F401 - prepares PREFECT_HOME and the start-up timeout
from models.verdict import Verdict
from pipeline.batch import error_verdict
from pipeline.screen import open_store, screen_claim
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def pending_claims(inbox: Path, out: Path, rescreen: bool = False) -> list[Path]:
    """Claim folders in the inbox without a verdict yet (all of them with rescreen)."""
    if not inbox.is_dir():
        return []
    dirs = sorted(d for d in inbox.iterdir() if d.is_dir() and not d.name.startswith("."))
    if rescreen:
        return dirs
    return [d for d in dirs if not (out / f"{d.name}.json").exists()]


def write_verdict(out: Path, name: str, verdict: Verdict) -> Path:
    """Atomically write the verdict: a crash never leaves half a file that
    would make the claim look screened."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    tmp = out / f".{name}.json.tmp"
    tmp.write_text(verdict.model_dump_json(indent=2))
    os.replace(tmp, path)
    return path


def write_evidence(out: Path, claim_dir: Path, verdict: Verdict) -> list[Path]:
    """For a claim a handler will look at (not a plain approval), the receipt with its
    evidence and forensic regions drawn, in `<out>/evidence/`. Never fails the claim."""
    if verdict.status.value == "approve" and not any(g.flagged for g in verdict.signals):
        return []
    try:
        from pipeline.forensics.annotate import annotate_claim

        return annotate_claim(claim_dir, verdict, out / "evidence")
    except Exception as exc:  # noqa: BLE001 - the verdict matters more than its picture
        log.warning("claim %s: evidence image not written: %s", claim_dir.name, type(exc).__name__)
        return []


@task(name="screen-claim", retries=0)
def screen_claim_task(claim_dir: str, out: str) -> dict[str, object]:
    path = Path(claim_dir)
    try:
        verdict = screen_claim(path, Settings())
    except Exception as exc:  # noqa: BLE001 - recorded as the claim's verdict
        log.error("claim %s failed: %s", path.name, type(exc).__name__)
        verdict = error_verdict(path, f"{type(exc).__name__} while screening")
    write_evidence(Path(out), path, verdict)
    write_verdict(Path(out), path.name, verdict)
    return {"claim": path.name, "status": verdict.status.value, "codes": verdict.codes}


@flow(name="claimcheck-screen-inbox",
      task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count() or 2),  # type: ignore[arg-type]
      log_prints=False)
def screen_inbox(inbox: str = "data/inbox", out: str = "data/verdicts", rescreen: bool = False) -> dict[str, object]:
    inbox_p, out_p = Path(inbox), Path(out)
    todo = pending_claims(inbox_p, out_p, rescreen)
    if todo:
        open_store(Settings())  # migrate once before the threads share it
    futures = screen_claim_task.map([str(d) for d in todo], out=unmapped(str(out_p)))
    results: list[dict[str, object]] = []
    for d, fut in zip(todo, futures, strict=False):
        try:
            results.append(fut.result())
        except Exception as exc:  # noqa: BLE001 - the task itself crashed: record it, go on
            v = error_verdict(d, f"{type(exc).__name__} in the flow")
            write_verdict(out_p, d.name, v)
            results.append({"claim": d.name, "status": v.status.value, "codes": v.codes})
    counts: dict[str, int] = {}
    for r in results:
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    return {"screened": len(results), "statuses": counts, "claims": results}
