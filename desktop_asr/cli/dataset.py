"""``desktop-asr dataset record|import|import-edits|validate``: run by the training subprocess.

The app's core never imports the ``training`` package (an import-linter contract); these
commands start ``python -m training dataset ...`` with the same arguments and the same
terminal, so prompts, level meters and messages reach the user directly.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def training_command(*args: str) -> list[str]:
    """The command line that runs the training module with ``args``."""
    return [sys.executable, "-m", "training", *args]


def run_training(args: list[str]) -> int:
    """Run ``python -m training ARGS`` in the foreground; its exit status."""
    try:
        return subprocess.call(training_command(*args))
    except KeyboardInterrupt:
        return 130


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the dataset subcommand and its actions."""
    p = sub.add_parser("dataset", help="record, import and validate fine-tuning datasets",
                       description="Datasets for fine-tuning: a folder with manifest.jsonl "
                                   "and 16 kHz WAV files (docs/training.md).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = actions.add_parser("record", help="record prompts one at a time in the terminal")
    r.add_argument("folder", type=Path, help="dataset folder (created if missing)")
    r.add_argument("--prompts", default="general",
                   help="bundled list (general, meetings) or a text file, one sentence a line")
    r.add_argument("--vocabulary", default="",
                   help="comma-separated words or names to record in carrier sentences")
    r.add_argument("--device", default=None, help="input device id or name ('desktop-asr "
                                                  "devices' lists them)")
    r.add_argument("--source", default=None, help="replay an audio file instead of a device")
    r.add_argument("--limit", type=int, default=None, help="record at most this many prompts")
    r.add_argument("--speaker", default=None, help="speaker name stored with each clip")
    r.set_defaults(func=_record)
    i = actions.add_parser("import", help="import audio + .txt files or a manifest.jsonl")
    i.add_argument("source", type=Path)
    i.add_argument("folder", type=Path, help="dataset folder (created if missing)")
    i.add_argument("--speaker", default=None)
    i.set_defaults(func=_import)
    e = actions.add_parser("import-edits",
                           help="turn transcript-editor corrections into training pairs")
    e.add_argument("folder", type=Path, help="dataset folder (created if missing)")
    e.add_argument("--sessions", type=Path, default=None,
                   help="sessions folder (default: the one in Settings)")
    e.add_argument("--original", type=Path, action="append", default=[],
                   help="JSON export of the transcription an edited file was made from")
    e.add_argument("--all-segments", action="store_true",
                   help="take every segment of an edited transcript, not only changed ones")
    e.set_defaults(func=_import_edits)
    v = actions.add_parser("validate", help="check a dataset and list every problem")
    v.add_argument("folder", type=Path)
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_validate)


def _record(args: argparse.Namespace) -> int:
    cmd = ["dataset", "record", "--to", str(args.folder), "--prompts", args.prompts,
           "--vocabulary", args.vocabulary]
    for flag, value in (("--device", args.device), ("--source", args.source),
                        ("--limit", args.limit), ("--speaker", args.speaker)):
        if value is not None:
            cmd += [flag, str(value)]
    return run_training(cmd)


def _import(args: argparse.Namespace) -> int:
    cmd = ["dataset", "import", str(args.source), "--to", str(args.folder)]
    if args.speaker:
        cmd += ["--speaker", args.speaker]
    return run_training(cmd)


def _import_edits(args: argparse.Namespace) -> int:
    cmd = ["dataset", "import-edits", "--to", str(args.folder)]
    if args.sessions is not None:
        cmd += ["--sessions", str(args.sessions)]
    for original in args.original:
        cmd += ["--original", str(original)]
    if args.all_segments:
        cmd.append("--all-segments")
    return run_training(cmd)


def _validate(args: argparse.Namespace) -> int:
    return run_training(["dataset", "validate", str(args.folder), *(["--json"] if args.json
                                                                   else [])])
