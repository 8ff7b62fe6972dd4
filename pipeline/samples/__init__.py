"""Sample-claim generator: realistic receipts, serial-label photos and claim.json
files for every rule the pre-screen checks (see sample_receipts/README.md)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["generate_sample_claims"]


def generate_sample_claims(out_dir: Path, *, seed: int = 2022) -> list[Path]:
    """Write one folder per scenario under `out_dir` and return the folders.

    Deterministic: the same seed gives byte-identical files."""
    from pipeline.samples.scenarios import generate

    return generate(Path(out_dir), seed=seed)
