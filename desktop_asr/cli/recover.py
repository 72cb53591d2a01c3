"""``desktop-asr recover``: restore the transcript of a live session that did not close."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop_asr import paths
from desktop_asr.cli.transcribe import parse_formats
from desktop_asr.errors import DesktopAsrError
from desktop_asr.export import ExportOptions, export
from desktop_asr.streaming.journal import JOURNAL_NAME, recover_session, unfinished_sessions


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the recover subcommand."""
    p = sub.add_parser("recover", help="restore a live session after a crash",
                       description="Rebuild the transcript of a live session that was "
                                   "interrupted (crash, kill, power loss) from its autosave "
                                   "journal. Without PATH: the newest unfinished session.")
    p.add_argument("path", nargs="?", type=Path, metavar="PATH",
                   help="a session folder or its journal.jsonl")
    p.add_argument("--list", action="store_true", help="only list unfinished sessions")
    p.add_argument("-o", "--output-dir", type=Path, default=None, metavar="DIR",
                   help="where to write the outputs (default: the session folder)")
    p.add_argument("-f", "--format", default="txt,srt,vtt,json", metavar="LIST")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``desktop-asr recover``."""
    pending = unfinished_sessions(paths.sessions_dir())
    if args.list:
        if not pending:
            print("no unfinished sessions")
        for journal in pending:
            print(journal.parent)
        return 0
    if args.path is not None:
        journal = args.path / JOURNAL_NAME if args.path.is_dir() else args.path
    elif pending:
        journal = pending[0]
    else:
        print("desktop-asr: nothing to recover: every session closed cleanly", file=sys.stderr)
        return 0
    try:
        formats = parse_formats(args.format)
        recovery = recover_session(journal, formats=formats, out_dir=args.output_dir)
    except (OSError, ValueError) as exc:
        print(f"desktop-asr: error: cannot read {journal}: {exc}", file=sys.stderr)
        return 1
    except DesktopAsrError as exc:
        print(f"desktop-asr: error: {exc}", file=sys.stderr)
        return 1
    transcript = recovery.transcript
    state = "closed cleanly" if recovery.closed else "was interrupted"
    print(export(transcript, "txt", options=ExportOptions(txt_timestamps=True)), end="")
    print(f"desktop-asr: session {journal.parent.name} {state}; recovered "
          f"{len(transcript.segments)} segment(s) into {', '.join(map(str, recovery.written))}",
          file=sys.stderr)
    return 0
