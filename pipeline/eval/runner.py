"""Run the pipeline over a dataset and score every document.

    load dataset -> run jobs in worker processes -> score each result -> EvalRun

`EvalRun` holds the field records and per-document facts; `report.summarise`
turns it into numbers. A job that crashes or a document that cannot be read
becomes an error result, scored wrong for every field; the run goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
from dataclasses import dataclass, field
from typing import Any

from pipeline.batch import Progress, parallel_map
from pipeline.eval.adapters import Dataset, DocScore, error_result
from pipeline.eval.metrics import FieldRecord

log = logging.getLogger(__name__)


@dataclass
class EvalRun:
    dataset: Dataset
    docs: dict[str, DocScore]
    started: dt.datetime
    finished: dt.datetime
    workers: int
    limit: int
    raw: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def records(self) -> list[FieldRecord]:
        return [r for d in self.docs.values() for r in d.records]


def machine_info() -> dict[str, Any]:
    return {"node": platform.node(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform()}


def _tesseract_version() -> str | None:
    import shutil
    import subprocess

    exe = shutil.which("tesseract")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).splitlines()
    return text[0].strip() if text else None


def run(dataset: Dataset, *, workers: int = 1, progress: Progress | None = None, limit: int = 0) -> EvalRun:
    """Run and score every item of `dataset` (items whose labels are unreadable are scored as errors)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    started = dt.datetime.now(dt.UTC)
    raw: dict[str, dict[str, Any]] = {}

    def on_error(job: Any, exc: BaseException) -> list[dict[str, Any]]:
        return [error_result(i, type(exc).__name__, "worker failed") for i in dataset.job_items(job)]

    for _job, results in parallel_map(dataset.worker, dataset.jobs, workers=workers, on_error=on_error,
                                      progress=None, label=lambda j: ",".join(dataset.job_items(j))):
        for res in results:
            raw[str(res.get("id"))] = res
            if progress is not None:
                progress.advance(str(res.get("id")))
    docs: dict[str, DocScore] = {}
    for item in dataset.items:
        res = raw.get(item.id) or error_result(item.id, "NOT_RUN", item.problem or "no result")
        try:
            docs[item.id] = dataset.score(item, res)
        except Exception as exc:  # noqa: BLE001 - a malformed result is an error result, not a crash
            log.exception("scoring %s failed", item.id)
            docs[item.id] = dataset.score(item, error_result(item.id, type(exc).__name__, "result unreadable"))
    return EvalRun(dataset=dataset, docs=docs, started=started, finished=dt.datetime.now(dt.UTC),
                   workers=workers, limit=limit, raw=raw)


def tesseract_version() -> str | None:
    return _tesseract_version()
