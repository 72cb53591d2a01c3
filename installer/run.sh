#!/usr/bin/env bash
# Command (a) of the README: set everything up, then run the app's main job on the bundled
# model: the desktop app when a display is present, otherwise a command-line demo that
# transcribes a sample recording and prints its captions.
set -euo pipefail
cd "$(dirname "$0")/.."
installer/setup-debian.sh
exec "${VENV:-.venv}/bin/desktop-asr" demo "$@"
