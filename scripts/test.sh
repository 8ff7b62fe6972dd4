#!/usr/bin/env bash
# The test command. Fast suite by default; `--all` (CI) also runs the slow
# OCR/end-to-end suites and the real Prefect run.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_THREAD_LIMIT=1
PY=.venv/bin/python
if [ "${1:-}" = "--all" ] || [ "${CI:-}" = "true" ]; then
  $PY -m pytest -q -m "not slow and not prefect" -p no:cacheprovider
  $PY -m pytest -q -m "slow or prefect" -p no:cacheprovider
else
  $PY -m pytest -q -m "not slow and not prefect" "$@"
fi
