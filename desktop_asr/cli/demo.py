"""``desktop-asr demo``: the app's main job on the bundled model, with or without a display."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop_asr import paths
from desktop_asr.cli.app import display_available

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "welcome.flac"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the demo subcommand."""
    p = sub.add_parser("demo", help="open the app, or transcribe a sample without a display",
                       description="Open the desktop app with a sample recording queued; on a "
                                   "machine without a display, transcribe the sample with the "
                                   "bundled model and print its captions instead.")
    p.add_argument("--headless", action="store_true", help="never open a window")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="recordings to use instead of the bundled sample")
    p.set_defaults(func=run)


def sample_files(given: list[str]) -> list[str]:
    """The files to demonstrate with: the user's, else the bundled sample."""
    if given:
        return given
    if SAMPLE.is_file():
        return [str(SAMPLE)]
    raise FileNotFoundError(f"the sample recording {SAMPLE} is missing; pass a file instead")


def run(args: argparse.Namespace) -> int:
    """Execute ``desktop-asr demo``."""
    try:
        files = sample_files(args.files)
    except FileNotFoundError as exc:
        print(f"desktop-asr: error: {exc}", file=sys.stderr)
        return 2
    if not args.headless and display_available():
        from desktop_asr.ui.app import run_app

        return run_app([sys.argv[0]], files=files)
    if not args.headless:
        print("desktop-asr: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the "
              "window cannot open; transcribing a sample on the command line instead.\n",
              file=sys.stderr)
    from desktop_asr.cli.main import main

    out = paths.data_dir() / "demo"
    return main(["transcribe", *files, "-o", str(out), "-f", "txt,srt,vtt,json"])
