#!/usr/bin/env bash
# `make e2e-ui`: the provider in the Airflow UI, checked in headless Chromium (see docs/ui.md).
# Installs Debian's chromium and chromedriver when missing (never a downloaded browser), then runs
# pytest on e2e_ui/. Extra arguments go to pytest. PY picks the interpreter (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    if [[ "$(id -u)" -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo)
    else
        echo "e2e-ui needs Debian's chromium and chromium-driver: run as root, or install them first:" >&2
        echo "    apt-get install -y chromium chromium-driver" >&2
        exit 1
    fi
    echo "Installing chromium and chromium-driver with apt-get..."
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi

if ! "$PY" -c "import selenium" 2>/dev/null; then
    echo "selenium is missing from $PY: install the test extra (make install)" >&2
    exit 1
fi

exec "$PY" -m pytest e2e_ui "$@"
