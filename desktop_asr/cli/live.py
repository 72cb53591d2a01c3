"""``desktop-asr live``: captions of the microphone, system audio, both, or a replayed file."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from desktop_asr.capture.base import CaptureError
from desktop_asr.cli.live_printer import CaptionPrinter
from desktop_asr.cli.speaker_flags import (add_live_speaker_flags, check_diarizer,
                                            live_speaker_choices)
from desktop_asr.cli.transcribe import parse_formats, parse_hotwords
from desktop_asr.engines import DEFAULT_ENGINE, EngineConfig, engine_names, unsupported_options
from desktop_asr.errors import DesktopAsrError
from desktop_asr.models import BUNDLED_NAME
from desktop_asr.streaming import (LiveOptions, LiveSession, PipelineError, PipelineStatus,
                                   StreamOptions, streaming_decode_options)
from desktop_asr.vad.base import VadOptions


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the live subcommand."""
    p = sub.add_parser("live", help="live captions of the microphone and/or system audio",
                       description="Caption live audio. Committed words are final; tentative "
                                   "words (dimmed) may still change. Ctrl-C stops, captions "
                                   "what is still queued and writes the outputs.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--mic", dest="spec", action="store_const", const="mic",
                     help="the default microphone (default)")
    src.add_argument("--system", dest="spec", action="store_const", const="system",
                     help="what the computer plays (the other side of a call, a video...)")
    src.add_argument("--both", dest="spec", action="store_const", const="both",
                     help="microphone and system audio as two channels")
    src.add_argument("--device", dest="spec", metavar="ID",
                     help="an input id or name from 'desktop-asr devices'")
    src.add_argument("--source", dest="file", metavar="FILE",
                     help="replay a recording as if it were live")
    p.add_argument("--speed", type=float, default=1.0,
                   help="replay speed for --source (default 1 = real time)")
    p.add_argument("--engine", choices=engine_names(), default=DEFAULT_ENGINE,
                   help=f"speech engine (default: {DEFAULT_ENGINE}); the others need the "
                        "'torch' extra")
    p.add_argument("-m", "--model", default=BUNDLED_NAME, metavar="NAME|PATH")
    p.add_argument("-l", "--language", default=None, help="spoken language (default: the "
                                                          "model's, or detect)")
    p.add_argument("--hotwords", action="append", default=[], metavar="WORDS",
                   help="custom vocabulary, comma-separated; may be repeated")
    p.add_argument("--compute-device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: automatic)")
    p.add_argument("--vad", choices=("silero", "webrtc"), default="silero",
                   help="voice detection (default: silero)")
    p.add_argument("--vad-aggressiveness", type=int, choices=(0, 1, 2, 3), default=2,
                   metavar="0-3", help="webrtc only: 0 lets most sound through, 3 keeps only "
                                       "clear speech (default: 2)")
    p.add_argument("--min-silence", type=float, default=0.5, metavar="SECONDS",
                   help="a pause this long ends a caption line (default: 0.5)")
    p.add_argument("--max-utterance", type=float, default=20.0, metavar="SECONDS",
                   help="speech without a pause is cut into lines this long (default: 20)")
    p.add_argument("--beam-size", type=int, default=5)
    p.add_argument("-o", "--output-dir", default=None, metavar="DIR",
                   help="also write the transcript here (it is always kept in the session "
                        "folder)")
    p.add_argument("-f", "--format", default="txt,srt,vtt,json", metavar="LIST")
    p.add_argument("--record", action="store_true", help="save the audio as FLAC too")
    p.add_argument("--jsonl", action="store_true",
                   help="print one JSON event per line instead of captions")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="stop by itself after this many seconds")
    add_live_speaker_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``desktop-asr live``."""
    from desktop_asr.capture.devices import open_source
    from desktop_asr.cli.transcribe import load_engine

    try:
        formats = parse_formats(args.format)
        decode = streaming_decode_options(language=args.language, beam_size=args.beam_size,
                                          hotwords=parse_hotwords(args.hotwords))
        speakers, user_name, echo = live_speaker_choices(args)
        if speakers is not None:
            check_diarizer(speakers.diarization)
        vad = VadOptions(kind=args.vad, aggressiveness=args.vad_aggressiveness,
                         min_silence=args.min_silence, max_utterance=args.max_utterance)
        options = LiveOptions(stream=StreamOptions(decode=decode), vad=vad,
                              speakers=speakers, user_name=user_name, echo_suppression=echo)
        config = EngineConfig(model=args.model, device=args.compute_device,
                              cpu_threads=args.threads)
        spec = f"file:{args.file}" if args.file else (args.spec or "mic")
        source = open_source(spec, speed=args.speed)
    except (ValueError, DesktopAsrError, CaptureError) as exc:
        print(f"desktop-asr: error: {exc}", file=sys.stderr)
        return 2
    tty = sys.stdout.isatty()
    try:
        engine = load_engine(args.engine, config, download=True, show=sys.stderr.isatty())
    except DesktopAsrError as exc:
        print(f"desktop-asr: error: {exc}", file=sys.stderr)
        return 2
    problem = unsupported_options(args.engine, engine.capabilities, decode)
    if problem:
        print(f"desktop-asr: error: {problem}", file=sys.stderr)
        return 2
    if decode.language is None and not engine.capabilities.multilingual:
        options = replace(options, stream=replace(options.stream, decode=replace(
            decode, language=engine.capabilities.languages[0])))
    printer = CaptionPrinter(args.jsonl, tty, user_name=user_name, diarized=tuple(
        c for c in source.channel_labels if speakers is not None
        and not (c == "mic" and "system" in source.channel_labels)))
    errors: list[PipelineError] = []
    statuses: list[PipelineStatus] = []

    def on_status(status: PipelineStatus) -> None:
        statuses.append(status)
        printer.status(status)

    def on_error(error: PipelineError) -> None:
        errors.append(error)
        if not error.fatal:  # e.g. the session cannot be saved: say so now, captions go on
            lead = "\n" if tty and not args.jsonl else ""  # off the caption line being written
            print(f"{lead}desktop-asr: warning: {error.message}", file=sys.stderr, flush=True)

    try:
        session = LiveSession(source, engine, options, record=args.record, on_update=printer,
                              on_error=on_error, on_status=on_status)
    except OSError as exc:  # e.g. a full disk: not even the journal can be started
        print(f"desktop-asr: error: cannot start the session: {exc.strerror or exc}"
              f"{f' ({exc.filename})' if exc.filename else ''}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        session.start()
    except CaptureError as exc:
        signal.signal(signal.SIGINT, previous)
        print(f"desktop-asr: error: {exc}", file=sys.stderr)
        return 2
    if not args.jsonl:
        print(f"desktop-asr: captioning {source.label} with {engine.info.model} "
              f"({engine.info.device}/{engine.info.compute_type}); Ctrl-C to stop. "
              f"Session: {session.folder}", file=sys.stderr)
    try:
        while not stop.wait(0.2):
            if not session.pipeline.running or printer.closed.is_set():
                break
            if args.duration is not None and session.pipeline.audio_seconds >= args.duration:
                break
    finally:
        signal.signal(signal.SIGINT, previous)
    session.stop()
    if printer.closed.is_set():
        sys.stdout = open(os.devnull, "w")  # nobody reads: keep the exit quiet
    printer.close()
    out_dir = Path(args.output_dir).expanduser() if args.output_dir else None
    try:
        written = session.finish(formats, out_dir)
    except DesktopAsrError as exc:
        print(f"desktop-asr: error: {exc}", file=sys.stderr)
        written = session.saved or _save_elsewhere(session, formats)
        if written:
            print(f"desktop-asr: transcript: {', '.join(str(p) for p in written)}",
                  file=sys.stderr)
        return 1
    for err in errors:
        if err.fatal:  # the others were shown as they came
            print(f"desktop-asr: error: {err.message}", file=sys.stderr)
    last = statuses[-1] if statuses else None
    if not args.jsonl:
        lost = (f"; {last.overflows} overflow(s), {last.frames_dropped / 16000:.1f}s of audio "
                "lost" if last and last.overflows else "")
        settled = printer.settled
        if settled is not None and settled.backend != "none":
            print(f"desktop-asr: speaker labels settled ({settled.backend}, "
                  f"{settled.seconds:.1f}s): {len(settled.transcript.speakers)} speaker(s)",
                  file=sys.stderr)
        if settled is not None and settled.echo_dropped:
            print(f"desktop-asr: {settled.echo_dropped} microphone line(s) repeated the system "
                  "audio (echo) and were left out", file=sys.stderr)
        print(f"desktop-asr: {session.pipeline.audio_seconds:.1f}s captioned{lost}; "
              f"transcript: {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 1 if any(err.fatal for err in errors) else 0


def _save_elsewhere(session: LiveSession, formats: list[str]) -> list[Path]:
    """Nothing could be written where asked (a full disk): try the temporary folder instead.

    The transcript lives only in this process's memory, so it is written somewhere before the
    process ends; when that fails too, the captions printed on stdout are the only copy.
    """
    from desktop_asr.export import write_export

    folder = Path(tempfile.gettempdir()) / f"desktop-asr-{session.folder.name}"
    transcript = session.transcript()
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in dict.fromkeys(["json", *formats]):
            written.append(write_export(transcript, folder / f"{session.folder.name}.{fmt}",
                                        fmt))
    except (DesktopAsrError, OSError) as exc:
        print(f"desktop-asr: error: cannot save the transcript in {folder} either: {exc}; "
              "the captions printed above are the only copy", file=sys.stderr)
    return written
