#!/usr/bin/env bash
# Installs everything claimcheck needs on a fresh Debian machine (run as root or
# with sudo): Debian packages (tesseract with its language data, PostgreSQL,
# handwriting fonts, poppler) and a virtualenv in .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-dan tesseract-ocr-nor
  tesseract-ocr-swe tesseract-ocr-fin tesseract-ocr-ron tesseract-ocr-osd
  poppler-utils
  libzbar0
  postgresql
  fonts-dejavu-core fonts-liberation fonts-dkg-handwriting fonts-breip
  fonts-femkeklaver fonts-dancingscript
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# constraints.txt: the exact versions the benchmarks were measured with (reproducible figures)
.venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'
# PostgreSQL (the claims store's second backend) is not started here; tests and
# CI start a throwaway cluster with: export CLAIMCHECK_TEST_PG_URL=$(bash scripts/start_postgres.sh)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "setup: PostgreSQL server binaries missing" >&2; exit 1; }
echo "setup: done"
