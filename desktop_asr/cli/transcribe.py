"""``desktop-asr transcribe``: files in, transcripts out, one line per bad file."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from desktop_asr.audio import probe_audio
from desktop_asr.batch import FileResult, expand_inputs, transcribe_files
from desktop_asr.cli.progress import DownloadBars, bar
from desktop_asr.cli.speaker_flags import (add_diarizer_flags, check_diarizer,
                                            diarizer_flags_given, with_diarizer)
from desktop_asr.diarization import DiarizationOptions
from desktop_asr.engines import (DEFAULT_ENGINE, DecodeOptions, Engine, EngineConfig,
                                 create_engine, engine_names, unsupported_options)
from desktop_asr.errors import DesktopAsrError
from desktop_asr.export import FORMATS, ExportOptions, export
from desktop_asr.models import BUNDLED_NAME, ModelManager

DEFAULT_FORMATS = "txt,srt,vtt,json"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the transcribe subcommand."""
    p = sub.add_parser(
        "transcribe", help="transcribe audio or video files",
        description="Transcribe audio or video files (or folders of them) and write "
                    "TXT / SRT / VTT / JSON / RTTM next to each other in the output folder.")
    p.add_argument("files", nargs="+", metavar="FILE", help="audio/video files or folders")
    p.add_argument("-o", "--output-dir", default=".", metavar="DIR",
                   help="folder for the outputs (default: current folder)")
    p.add_argument("-f", "--format", default=DEFAULT_FORMATS, metavar="LIST",
                   help=f"comma-separated output formats from {','.join(FORMATS)}, or 'all' "
                        f"(default: {DEFAULT_FORMATS})")
    p.add_argument("--engine", choices=engine_names(), default=DEFAULT_ENGINE,
                   help=f"speech engine (default: {DEFAULT_ENGINE}); transformers-whisper and "
                        "the others need the 'torch' extra")
    p.add_argument("-m", "--model", default=BUNDLED_NAME, metavar="NAME|PATH",
                   help=f"model name or model folder (default: bundled {BUNDLED_NAME})")
    p.add_argument("--no-download", action="store_true",
                   help="never download a model; fail if it is not installed")
    p.add_argument("-l", "--language", default=None,
                   help="spoken language code, e.g. en, de (default: detect)")
    p.add_argument("--hotwords", action="append", default=[], metavar="WORDS",
                   help="custom vocabulary: comma-separated words or names the model should "
                        "prefer; may be repeated")
    p.add_argument("--initial-prompt", default="", metavar="TEXT",
                   help="text that sets the style and vocabulary of the first window")
    p.add_argument("--word-timestamps", action="store_true",
                   help="compute a start and end time for every word")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where to run the model (default: auto = CUDA if present)")
    p.add_argument("--compute-type", default="auto",
                   help="precision: auto (GPU float16, CPU int8), int8, float16, float32, ...")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: automatic)")
    p.add_argument("--beam-size", type=int, default=5, help="beam size (default: 5)")
    p.add_argument("--no-vad", action="store_true",
                   help="decode silence too instead of skipping it with voice activity detection")
    p.add_argument("--no-repetition-filter", action="store_true",
                   help="keep looping or repeated text the decoder produced")
    p.add_argument("--channel", type=int, default=None, metavar="N",
                   help="transcribe only channel N (0-based) instead of the downmix")
    p.add_argument("--diarize", action="store_true",
                   help="label speakers (needs the 'diarization' extra; implies word timestamps, "
                        "so a segment is split where the speaker changes); the outputs carry "
                        "the labels (SRT/TXT prefixes, VTT voice tags, JSON, RTTM)")
    p.add_argument("--num-speakers", type=int, default=None, metavar="N",
                   help="with --diarize: the exact number of speakers, when known")
    p.add_argument("--min-speakers", type=int, default=None, metavar="A",
                   help="with --diarize: at least this many speakers")
    p.add_argument("--max-speakers", type=int, default=None, metavar="B",
                   help="with --diarize: at most this many speakers")
    add_diarizer_flags(p)
    p.add_argument("--txt-timestamps", action="store_true",
                   help="put [start --> end] before each line of the TXT output")
    p.add_argument("--print", dest="print_captions", action=argparse.BooleanOptionalAction,
                   default=True, help="print the captions of each file when it is done")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or captions")
    p.set_defaults(func=run)


def parse_formats(spec: str) -> list[str]:
    """Turn 'txt,srt' or 'all' into a list of known formats, or raise ValueError."""
    if spec.strip().lower() == "all":
        return list(FORMATS)
    formats = [f.strip().lower().lstrip(".") for f in spec.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown output format {', '.join(unknown) or spec!r}; "
                         f"choose from {', '.join(FORMATS)} or 'all'")
    return list(dict.fromkeys(formats))


def parse_hotwords(values: list[str]) -> tuple[str, ...]:
    """Split repeated, comma-separated --hotwords values into a clean tuple."""
    return tuple(w.strip() for v in values for w in v.split(",") if w.strip())


def diarization_options(args: argparse.Namespace) -> DiarizationOptions | None:
    """DiarizationOptions from --diarize and the speaker-count flags, or ValueError."""
    counts = {"--num-speakers": args.num_speakers, "--min-speakers": args.min_speakers,
              "--max-speakers": args.max_speakers}
    given = [flag for flag, value in counts.items() if value is not None]
    given += diarizer_flags_given(args)
    if not args.diarize:
        if given:
            raise ValueError(f"{', '.join(given)} needs --diarize")
        return None
    if args.num_speakers is not None and (args.min_speakers is not None
                                          or args.max_speakers is not None):
        raise ValueError("give either --num-speakers or --min-speakers/--max-speakers, not both")
    return with_diarizer(DiarizationOptions(num_speakers=args.num_speakers,
                                            min_speakers=args.min_speakers or 1,
                                            max_speakers=args.max_speakers), args)


def _error(message: str) -> None:
    print(f"desktop-asr: error: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Execute ``desktop-asr transcribe``."""
    try:
        formats = parse_formats(args.format)
        options = DecodeOptions(language=args.language, beam_size=args.beam_size,
                                best_of=max(5, args.beam_size),
                                # --diarize splits segments where the speaker changes: by word
                                word_timestamps=args.word_timestamps or args.diarize,
                                hotwords=parse_hotwords(args.hotwords),
                                vad_filter=not args.no_vad,
                                repetition_filter=not args.no_repetition_filter)
        config = EngineConfig(model=args.model, device=args.device,
                              compute_type=args.compute_type, cpu_threads=args.threads)
        diarization = diarization_options(args)
    except ValueError as exc:
        _error(str(exc))
        return 2
    if diarization is not None:
        try:
            check_diarizer(diarization)
        except DesktopAsrError as exc:
            _error(str(exc))
            return 2
    inputs = expand_inputs(args.files)
    out_dir = Path(args.output_dir).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _error(f"cannot create output folder {out_dir}: {exc.strerror or exc}")
        return 2
    show = not args.quiet
    bars = show and sys.stderr.isatty()  # progress bars only for a person at a terminal
    try:
        engine = load_engine(args.engine, config, download=not args.no_download, show=bars)
    except DesktopAsrError as exc:
        _error(str(exc))
        return 2
    problem = unsupported_options(args.engine, engine.capabilities, options)
    if problem:
        _error(problem)
        return 2
    return _transcribe_all(engine, inputs, out_dir, formats, options, args, show, bars,
                           diarization)


def load_engine(name: str, config: EngineConfig, *, download: bool, show: bool) -> Engine:
    """Resolve the model (downloading with progress bars if allowed) and load the engine."""
    bars = DownloadBars(disable=not show)
    try:
        model = ModelManager().model_for_engine(name, config.model, download=download,
                                                progress=bars)
    finally:
        bars.close()
    engine = create_engine(name, replace(config, model=model))
    if not Path(config.model).expanduser().exists() and engine.info.model != config.model:
        # Loaded from the folder the name resolved to (the bundled one is called "model"):
        # messages and reports name the model as the user did.
        engine.info = replace(engine.info, model=config.model)
    return engine


def _transcribe_all(engine: Engine, inputs: list[Path], out_dir: Path, formats: list[str],
                    options: DecodeOptions, args: argparse.Namespace, show: bool,
                    bars: bool, diarization: DiarizationOptions | None = None) -> int:
    durations = []
    for path in inputs:
        try:
            durations.append(probe_audio(path).duration or 0.0)
        except (DesktopAsrError, ValueError):
            durations.append(0.0)
    overall = bar(desc="all files", total=round(sum(durations), 1), unit="s", disable=not bars,
                  position=0, leave=True, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}s "
                                                     "audio [{elapsed}<{remaining}]")
    done_before = 0.0
    current: dict[str, tqdm] = {}

    def on_start(path: Path, seconds: float) -> None:
        current["bar"] = bar(desc=path.name[:30], total=round(seconds, 1), unit="s",
                             disable=not bars, position=1,
                             bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f}s [{remaining}]")

    def on_progress(path: Path, done: float, total: float) -> None:
        file_bar = current.get("bar")
        if file_bar is not None:
            file_bar.update(max(0.0, min(done, file_bar.total or done) - file_bar.n))
        overall.update(max(0.0, min(done_before + done, overall.total or 0) - overall.n))

    def on_done(result: FileResult) -> None:
        nonlocal done_before
        file_bar = current.pop("bar", None)
        if file_bar is not None:
            file_bar.close()
        done_before += result.audio_seconds
        overall.update(max(0.0, min(done_before, overall.total or 0) - overall.n))
        # tqdm.write keeps messages from tearing through the bars on a terminal.
        if result.error is not None:
            tqdm.write(f"desktop-asr: error: {result.path}: {result.error}", file=sys.stderr)
        elif show and args.print_captions and result.transcript is not None:
            text = export(result.transcript, "txt", options=ExportOptions(txt_timestamps=True))
            header = f"==> {result.path} <==\n" if len(inputs) > 1 else ""
            tqdm.write((header + text).rstrip("\n"), file=sys.stdout)
            sys.stdout.flush()

    started = time.perf_counter()
    results = transcribe_files(engine, inputs, out_dir=out_dir, formats=formats,
                               options=options, prompt=args.initial_prompt,
                               channel=args.channel, export_options=ExportOptions(
                                   txt_timestamps=args.txt_timestamps),
                               on_start=on_start, on_progress=on_progress, on_done=on_done,
                               diarization=diarization)
    overall.close()
    failed = [r for r in results if not r.ok]
    audio = sum(r.audio_seconds for r in results)
    elapsed = time.perf_counter() - started
    if show:
        rtf = f", RTF {elapsed / audio:.3f}" if audio > 0 else ""
        print(f"desktop-asr: transcribed {len(results) - len(failed)} of {len(results)} "
              f"file(s), {audio:.1f}s of audio in {elapsed:.1f}s{rtf}; outputs in {out_dir}",
              file=sys.stderr)
    return 1 if failed else 0
