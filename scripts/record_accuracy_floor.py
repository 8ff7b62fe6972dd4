#!/usr/bin/env python3
"""Record the accuracy regression guard's figures (tests/accuracy_floor.json).

    .venv/bin/python scripts/record_accuracy_floor.py [--workers 2] [--check]

Run it after a change that is meant to move the numbers, and commit the file
with the change; `--check` only compares (what the slow test does).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def main() -> int:
    from pipeline.eval import regression

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="compare with the recorded figures, write nothing")
    args = ap.parse_args()
    measured = regression.measure(workers=args.workers)
    if args.check:
        problems = regression.check(measured, regression.load_floor())
        print("\n".join(problems) or "every field at or above its recorded figure")
        return 1 if problems else 0
    measured["recorded"] = dt.date.today().isoformat()
    regression.FLOOR_FILE.write_text(json.dumps(measured, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(measured, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
