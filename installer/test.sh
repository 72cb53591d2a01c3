#!/usr/bin/env bash
# Command (b) of the README: set everything up, then run the whole test suite headless.
# Extra arguments go to pytest (e.g. installer/test.sh -k export -x).
set -euo pipefail
cd "$(dirname "$0")/.."
installer/setup-debian.sh
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec "${VENV:-.venv}/bin/python" -m pytest "$@"
