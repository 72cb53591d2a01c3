"""``desktop-asr speakers``: enrolled voice profiles that name speakers automatically."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop_asr.errors import DesktopAsrError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the speakers subcommand."""
    p = sub.add_parser(
        "speakers", help="enrolled voices that name speakers automatically",
        description="Enroll a short recording of one person speaking alone (10-30 s is plenty; "
                    "at least 3 s of speech); later transcripts and live sessions with speaker "
                    "labels then name that person's speaker when the voice matches "
                    "confidently. Profiles stay on this machine, in the data folder's voices/.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    enroll = actions.add_parser("enroll", help="make a voice profile from a recording")
    enroll.add_argument("name", metavar="NAME", help="the person's name, as it should appear")
    enroll.add_argument("file", metavar="FILE", help="audio or video of that person alone")
    enroll.add_argument("--channel", type=int, default=None, metavar="N",
                        help="use only channel N (0-based) of the file")
    enroll.add_argument("--replace", action="store_true",
                        help="replace an existing profile of that name")
    actions.add_parser("list", help="list the enrolled voices")
    remove = actions.add_parser("remove", help="delete a voice profile")
    remove.add_argument("name", metavar="NAME")
    p.set_defaults(func=run, speakers_parser=p)


def run(args: argparse.Namespace) -> int:
    """Execute ``desktop-asr speakers``."""
    from desktop_asr.diarization import profiles

    try:
        if args.action == "enroll":
            from desktop_asr.audio import decode_audio
            from desktop_asr.diarization import check_backend

            check_backend()
            audio = decode_audio(Path(args.file).expanduser(), channel=args.channel)
            made = profiles.enroll(args.name, audio, source=str(args.file),
                                   replace=args.replace)
            print(f"enrolled {made.name!r} ({made.speech_seconds:.1f} s of speech) in "
                  f"{profiles.voices_dir()}")
        elif args.action == "list":
            found = profiles.load_profiles()
            if not found:
                print(f"no voices enrolled (they would be in {profiles.voices_dir()})")
            for p in found:
                source = f"  from {p.source}" if p.source else ""
                print(f"{p.name}\t{p.speech_seconds:.1f} s of speech\t{p.created}{source}")
        elif args.action == "remove":
            profiles.remove_profile(args.name)
            print(f"removed {args.name!r}")
        else:
            args.speakers_parser.print_help()
            return 2
    except (DesktopAsrError, ValueError) as exc:
        print(f"desktop-asr: error: {exc}", file=sys.stderr)
        return 2 if args.action != "remove" else 1
    return 0
