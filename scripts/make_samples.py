#!/usr/bin/env python
"""Regenerate sample_receipts/ (deterministic: running it twice gives identical bytes)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.samples import generate_sample_claims  # noqa: E402


def main() -> int:
    out = ROOT / "sample_receipts"
    folders = generate_sample_claims(out)
    total = 0
    for f in folders:
        size = sum(p.stat().st_size for p in f.iterdir() if p.is_file())
        total += size
        print(f"{f.name:48s} {size / 1024:8.1f} KiB")
    print(f"{len(folders)} claims, {total / 1024 / 1024:.2f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
