"""``desktop-asr app``: open the desktop window, optionally with files already queued."""

from __future__ import annotations

import argparse
import logging
import os
import sys

log = logging.getLogger(__name__)


_HEADLESS_QPA = ("offscreen", "minimal")


def display_available(*, headless_ok: bool = False) -> bool:
    """Whether a window can be shown to a person (or, with ``headless_ok``, rendered offscreen)."""
    if sys.platform == "win32" or sys.platform == "darwin":
        return True
    qpa = os.environ.get("QT_QPA_PLATFORM", "")
    if qpa and (headless_ok or qpa.split(":")[0] not in _HEADLESS_QPA):
        return True
    return any(os.environ.get(var) for var in ("DISPLAY", "WAYLAND_DISPLAY"))


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the app subcommand."""
    p = sub.add_parser(
        "app", help="open the desktop app",
        description="Open the desktop-asr window; FILEs (or folders) are added to the queue.")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="audio/video files or folders to queue for transcription")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``desktop-asr app``."""
    # Asking for the app by name with an offscreen Qt platform is deliberate (tests, scripts).
    if not display_available(headless_ok=True):
        print("desktop-asr: error: no display found (set DISPLAY or WAYLAND_DISPLAY, or use "
              "QT_QPA_PLATFORM=offscreen); 'desktop-asr transcribe' works without one",
              file=sys.stderr)
        return 2
    # Imported here so that every other subcommand starts without loading Qt.
    from desktop_asr.ui import run_app

    return run_app(sys.argv[:1], files=list(args.files))
