"""Receipt forensics: signals that a receipt was altered or sent before.

Each detector is a function `ForensicInput -> list[Signal]`, registered in
`DETECTORS` under a family. Detectors never raise for a strange file: they
return no signal. The screening stage runs them all, turns flagged signals
into review reasons (never a rejection: SIGMA 10/15 ask a human to judge a
changed receipt), and the verdict carries every signal with its regions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.documents import DocumentText, FileInfo
from models.forensics import Region, Signal, SignalFamily

if TYPE_CHECKING:
    import datetime as dt

    from models.campaign import Campaign
    from models.fields import ReceiptExtraction

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ForensicInput:
    """What a detector may look at. Images are decoded once, lazily."""

    file: FileInfo
    doc: DocumentText | None = None  # OCR/text-layer reading; boxes in uploaded pixels or PDF points
    extraction: ReceiptExtraction | None = None
    campaign: Campaign | None = None
    submitted_at: dt.datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return Path(self.file.path)

    @cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def images(self) -> list[np.ndarray | None]:
        """One BGR image per page as the OCR saw it before preprocessing (None for a
        text-layer PDF page). Same pixel grid as the OCR boxes."""
        from pipeline.render import render_file

        try:
            return [p.image for p in render_file(self.path, self.file.detected_type)]
        except Exception:  # noqa: BLE001 - an unreadable file has no image signals
            return []


Detector = Callable[[ForensicInput], list[Signal]]

#: (detector group name, family, function); filled by `register`
DETECTORS: list[tuple[str, SignalFamily, Detector]] = []


def register(name: str, family: SignalFamily) -> Callable[[Detector], Detector]:
    def deco(fn: Detector) -> Detector:
        DETECTORS[:] = [d for d in DETECTORS if d[0] != name]
        DETECTORS.append((name, family, fn))
        return fn
    return deco


def run_detectors(inp: ForensicInput, *, only: tuple[SignalFamily, ...] | None = None) -> tuple[list[Signal], dict[str, float]]:
    """All signals from all registered detectors, strongest first, and seconds per detector.
    A detector that crashes is logged (without the file's content) and skipped."""
    import time

    _load_builtin()
    signals: list[Signal] = []
    timings: dict[str, float] = {}
    for name, family, fn in DETECTORS:
        if only is not None and family not in only:
            continue
        t0 = time.perf_counter()
        try:
            signals.extend(fn(inp))
        except Exception as exc:  # noqa: BLE001 - forensics must never stop a claim
            log.warning("forensic detector %s failed on %s: %s", name, inp.file.role, type(exc).__name__)
        timings[name] = round(time.perf_counter() - t0, 4)
    signals.sort(key=lambda s: (not s.flagged, -s.score))
    return signals, timings


def _load_builtin() -> None:
    """Import the detector modules so they register themselves."""
    import importlib

    for mod in ("metadata", "content", "image", "layout", "jpeg"):
        try:
            importlib.import_module(f"pipeline.forensics.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pipeline.forensics.{mod}":
                raise


__all__ = ["DETECTORS", "ForensicInput", "Region", "Signal", "SignalFamily", "register", "run_detectors"]
