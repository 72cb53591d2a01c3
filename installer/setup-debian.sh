#!/usr/bin/env bash
# Set up desktop-asr on a fresh Debian/Ubuntu machine: system packages, a virtual environment in
# .venv, and the project with the extras named in EXTRAS (default: dev).
# Usage: installer/setup-debian.sh            (EXTRAS=dev)
#        EXTRAS=dev,eval installer/setup-debian.sh
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRAS="${EXTRAS:-dev}"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
RESEMBLYZER_VERSION=0.1.4

# Runtime libraries (PortAudio, PulseAudio for system-audio capture, Qt's xcb plugin), and the
# tools the tests and demos use (espeak-ng speaks test audio, ffmpeg/sox convert it, Xvfb gives
# a display to a headless machine).
APT_PACKAGES=(
  libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
  xvfb xauth espeak-ng sox ffmpeg
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libegl1 libgl1
  libfontconfig1 libdbus-1-3 fonts-dejavu-core python3-venv
)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  echo "setup: not a Debian/Ubuntu system; install the equivalents of: ${APT_PACKAGES[*]}" >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
fi
# Reinstall only when the project's requirements or this script changed since the last setup.
stamp="$VENV/.desktop-asr-setup-$(echo "$EXTRAS" | tr ',' '-')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$0" -nt "$stamp" ]; then
  echo "setup: installing desktop-asr[$EXTRAS] into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]"
  case ",$EXTRAS," in
    *,dev,*|*,diarization,*)
      # Speaker embeddings: resemblyzer's own requirement `webrtcvad` needs a compiler and
      # clashes with webrtcvad-wheels (already installed); its other needs come with the extra.
      echo "setup: installing resemblyzer (speaker embeddings) without its dependencies"
      "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
        "resemblyzer==$RESEMBLYZER_VERSION"
      ;;
  esac
  touch "$stamp"
fi
echo "setup: ready ($("$VENV/bin/desktop-asr" --version 2>/dev/null | head -n 1))"
