"""Prefect flows. Importing this package prepares Prefect's environment:
PREFECT_HOME under the project's data folder (its parent created first, or
Prefect fails confusingly) and a serverless start-up timeout long enough for
this machine (it takes 10-20 s; Prefect's default is 20 s)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CLAIMCHECK_DATA_DIR", PROJECT_ROOT / "data"))


def prepare_prefect_env() -> None:
    home = Path(os.environ.setdefault("PREFECT_HOME", str(DATA_DIR / "prefect")))
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


prepare_prefect_env()
