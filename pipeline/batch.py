"""Screen many claims: one process per core, a progress bar, and a verdict
for every claim even when a worker dies."""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from models.verdict import Status, Verdict
from pipeline import __version__
from pipeline.reasons import reason
from pipeline.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Progress(Protocol):
    def advance(self, label: str) -> None: ...
    def close(self) -> None: ...


class NullProgress:
    def advance(self, label: str) -> None:  # noqa: D102
        pass

    def close(self) -> None:  # noqa: D102
        pass


class RichProgress:
    """A progress bar on stderr (rich), for batches in a terminal."""

    def __init__(self, total: int, description: str = "screening"):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as _P

        self._p = _P(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                     console=Console(stderr=True), transient=False)
        self._p.start()
        self._task = self._p.add_task(description, total=total)

    def advance(self, label: str) -> None:
        self._p.update(self._task, advance=1)

    def close(self) -> None:
        self._p.stop()


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, int(os.environ.get("CLAIMCHECK_WORKERS", "0") or 0) or (os.cpu_count() or 1)))


def error_verdict(claim_dir: Path, detail: str) -> Verdict:
    """The verdict of a claim whose screening itself failed (a worker crash)."""
    r = reason("INTERNAL_ERROR", detail=detail)
    return Verdict(claim_id=Path(claim_dir).name, status=Status.REVIEW, reasons=(r,),
                   screened_at=dt.datetime.now(dt.UTC), pipeline_version=__version__)


def parallel_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int, on_error: Callable[[T, BaseException], R],
                 progress: Progress | None = None, label: Callable[[T], str] = str) -> Iterator[tuple[T, R]]:
    """Run fn over items in worker processes (in-process when workers == 1),
    yielding (item, result) as each finishes; a failure becomes on_error's result."""
    progress = progress or NullProgress()
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            try:
                result = fn(item)
            except Exception as exc:  # noqa: BLE001
                result = on_error(item, exc)
            progress.advance(label(item))
            yield item, result
        return
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(fn, item): item for item in items}
        for fut in cf.as_completed(futures):
            item = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - includes BrokenProcessPool
                log.error("worker failed on %s: %s", label(item), type(exc).__name__)
                result = on_error(item, exc)
            progress.advance(label(item))
            yield item, result


def _peek(claim_dir: Path) -> tuple[str, list[str]]:
    """(submission time, identity keys) of a claim, read cheaply; ("", []) when unreadable."""
    from pipeline.intake import load_claim
    from pipeline.store.identity import normalise_bank_details, normalise_email, normalise_serial

    try:
        claim = load_claim(claim_dir)
    except Exception:  # noqa: BLE001 - screening reports it properly
        return "", []
    keys = [f"email:{normalise_email(claim.claimant.email)}",
            f"serial:{normalise_serial(claim.declared.serial_number)}"]
    bank = normalise_bank_details(claim.claimant.bank)
    if bank:
        keys.append(f"bank:{bank}")
    return claim.submitted_at.isoformat(), keys


def chains(claim_dirs: list[Path]) -> list[list[Path]]:
    """Group claims that share a claimant (e-mail or bank account) or a serial
    number into chains screened one after another in submission order, so the
    store's cross-claim rules (claim limits, serial already claimed) decide the
    same way however the batch is spread over workers. Unrelated claims still
    run in parallel."""
    parent = list(range(len(claim_dirs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    when: list[str] = []
    for i, d in enumerate(claim_dirs):
        submitted, keys = _peek(d)
        when.append(submitted)
        for key in keys:
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(claim_dirs)):
        groups.setdefault(find(i), []).append(i)
    return [[claim_dirs[i] for i in sorted(g, key=lambda i: (when[i], claim_dirs[i].name))]
            for g in sorted(groups.values(), key=min)]


def _screen_chain(args: tuple[list[Path], Settings]) -> list[Verdict]:
    from pipeline.screen import screen_claim

    claim_dirs, settings = args
    out = []
    for d in claim_dirs:
        try:
            out.append(screen_claim(d, settings))
        except Exception as exc:  # noqa: BLE001 - the rest of the chain goes on
            out.append(error_verdict(d, f"{type(exc).__name__} while screening"))
    return out


def screen_many(claim_dirs: Iterable[Path], settings: Settings | None = None, *, workers: int = 1,
                progress: Progress | None = None) -> Iterator[Verdict]:
    settings = settings or Settings()
    if settings.use_store and workers > 1:
        from pipeline.screen import open_store

        open_store(settings)  # migrate once here, not racing in every worker
        settings = settings.model_copy(update={"migrate_store": False})
    dirs = [Path(d) for d in claim_dirs]
    jobs = [(chain, settings) for chain in (chains(dirs) if settings.use_store else [[d] for d in dirs])]
    progress = progress or NullProgress()
    for (_chain, _), verdicts in parallel_map(
            _screen_chain, jobs, workers=workers, label=lambda j: j[0][0].name,
            on_error=lambda j, exc: [error_verdict(d, f"{type(exc).__name__} while screening") for d in j[0]]):
        for v in verdicts:
            progress.advance(v.claim_id)  # one step per claim, not per chain
            yield v
