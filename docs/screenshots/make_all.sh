#!/usr/bin/env bash
# Regenerate every screenshot in docs/screenshots from the real window under Xvfb.
# Run from anywhere: docs/screenshots/make_all.sh   (needs the .venv that installer/setup-debian.sh makes)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PY:-.venv/bin/python}"
n=99
while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true; wait "$xvfb" 2>/dev/null || true' EXIT
sleep 1
for script in make_app_files make_app_editor make_dialogs make_sessions make_evaluate make_train; do
  echo "== $script"
  DISPLAY=":$n" QT_QPA_PLATFORM=xcb "$PY" "docs/screenshots/$script.py"
done
echo "== make_live (starts its own Xvfb)"
"$PY" docs/screenshots/make_live.py
echo "== make_live --speakers (starts its own Xvfb)"
"$PY" docs/screenshots/make_live.py --speakers
