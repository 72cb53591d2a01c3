"""Command-line flags that choose the diarizer, shared by ``transcribe`` and ``live``."""

from __future__ import annotations

import argparse
from dataclasses import replace

from desktop_asr.diarization import DiarizationOptions
from desktop_asr.diarization.pipeline import check_diarizer, resolve_backend

__all__ = ["add_diarizer_flags", "add_live_speaker_flags", "check_diarizer",
           "diarizer_flags_given", "live_speaker_choices", "with_diarizer"]


def add_diarizer_flags(p: argparse.ArgumentParser, *, live: bool = False) -> None:
    """--diarizer and --pyannote-model."""
    where = (" (live labels always come from the embedded encoder; this chooses who runs the "
             "finalise pass)" if live else "")
    p.add_argument("--diarizer", choices=("embedded", "pyannote"), default=None,
                   help="who tells speakers apart: 'embedded' (offline, resemblyzer GE2E) or "
                        "'pyannote' (a pyannote.audio pipeline you have: --pyannote-model or "
                        f"Settings); default: the app's setting, else embedded{where}")
    p.add_argument("--pyannote-model", default=None, metavar="PATH_OR_ID",
                   help="the pyannote pipeline: a folder with its config.yaml (e.g. a download "
                        "of pyannote/speaker-diarization-community-1 or -3.1) or a hub id "
                        "(needs network, and a token for gated models: HF_TOKEN or Settings)")


def diarizer_flags_given(args: argparse.Namespace) -> list[str]:
    """The diarizer flags on the command line (they need --diarize)."""
    return [flag for flag, value in (("--diarizer", args.diarizer),
                                     ("--pyannote-model", args.pyannote_model))
            if value is not None]


def with_diarizer(options: DiarizationOptions, args: argparse.Namespace) -> DiarizationOptions:
    """``options`` with the diarizer the flags (or, without them, the settings) choose."""
    import os

    backend = args.diarizer or ("pyannote" if args.pyannote_model else "auto")
    chosen = replace(options, backend=backend,
                     pyannote_model=args.pyannote_model or options.pyannote_model,
                     hf_token=options.hf_token or os.environ.get("HF_TOKEN") or None)
    return resolve_backend(chosen)


def add_live_speaker_flags(p: argparse.ArgumentParser) -> None:
    """The live command's speaker flags."""
    p.add_argument("--diarize", action="store_true",
                   help="label speakers live (needs the 'diarization' extra): each committed "
                        "line gets its speaker a moment after its words, and at the end a "
                        "finalise pass re-diarizes the whole session and settles the labels "
                        "in the outputs; with --both the microphone is you and the system "
                        "audio is diarized")
    p.add_argument("--max-speakers", type=int, default=None, metavar="N",
                   help="with --diarize: at most this many live speakers (default 8)")
    p.add_argument("--no-finalise", action="store_true",
                   help="with --diarize: keep the live labels, no re-diarization at the end")
    p.add_argument("--me", default=None, metavar="NAME",
                   help="your name for the microphone with --both (default: the setting, 'You')")
    p.add_argument("--no-echo-filter", action="store_true",
                   help="with --both: keep microphone audio that echoes the system audio "
                        "(by default the far side heard by the microphone is not captioned "
                        "twice)")
    add_diarizer_flags(p, live=True)


def live_speaker_choices(args: argparse.Namespace) -> tuple[object, str, bool]:
    """(LiveSpeakerOptions or None, the microphone's name, echo filter on) from the flags and
    the settings; ValueError for flags that need --diarize."""
    from desktop_asr.diarization.live import LiveSpeakerOptions
    from desktop_asr.settings import load_settings

    settings = load_settings()
    user_name = " ".join((args.me or settings.user_name or "You").split())
    if not user_name:
        raise ValueError("--me needs a name")
    echo = settings.echo_suppression and not args.no_echo_filter
    given = diarizer_flags_given(args) + [flag for flag, on in (
        ("--max-speakers", args.max_speakers is not None), ("--no-finalise", args.no_finalise))
        if on]
    if not args.diarize:
        if given:
            raise ValueError(f"{', '.join(given)} needs --diarize")
        return None, user_name, echo
    cap = args.max_speakers if args.max_speakers is not None else settings.max_speakers
    base = with_diarizer(DiarizationOptions(name_from_profiles=settings.name_from_voices), args)
    speakers = LiveSpeakerOptions(diarization=base, max_speakers=cap,
                                  finalise=not args.no_finalise)
    return speakers, user_name, echo
