"""`claimcheck eval`: score the pipeline field by field on a labelled set.

    adapters (dataset -> items, worker, scorer) -> runner (run + score)
    -> report (summary.json, errors.csv, PNGs, report.html); compare (two runs)

See docs/eval.md for what every number means.
"""

from __future__ import annotations

__all__ = ["adapters", "metrics", "runner", "report", "compare", "cli"]
