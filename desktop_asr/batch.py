"""File transcription: decode, transcribe, build a Transcript, export. No Qt, no printing.

The CLI and the app both drive :func:`transcribe_files`; they see progress through callbacks
and get one :class:`FileResult` per input, so one bad file never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from desktop_asr.audio import SAMPLE_RATE, decode_audio
from desktop_asr.diarization import DiarizationOptions
from desktop_asr.diarization.label import label_transcript
from desktop_asr.engines import Cancelled, DecodeOptions, Engine
from desktop_asr.errors import DesktopAsrError
from desktop_asr.export import FORMATS, ExportOptions, write_export
from desktop_asr.types import Transcript

log = logging.getLogger(__name__)

MEDIA_SUFFIXES = frozenset({
    ".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".webm", ".mp4",
    ".mkv", ".mov", ".avi", ".wma", ".aiff", ".aif", ".amr", ".3gp", ".mka", ".m4v", ".caf",
})

FileProgress = Callable[[Path, float, float], None]
"""Called as (file, seconds of audio done, seconds of audio in the file)."""


@dataclass(frozen=True)
class FileResult:
    """What happened to one input file."""

    path: Path
    transcript: Transcript | None = None
    outputs: tuple[Path, ...] = ()
    error: str | None = None
    cancelled: bool = False
    audio_seconds: float = 0.0
    elapsed_seconds: float = 0.0
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the file was transcribed and every requested output was written."""
        return self.error is None


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand folders into the media files they hold (recursively, sorted); keep files as given."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
            out.extend(found if found else [path])
        else:
            out.append(path)
    return out


def transcribe_audio(engine: Engine, audio: np.ndarray, options: DecodeOptions | None = None,
                     *, prompt: str = "", source: str | None = None,
                     progress: Callable[[float], None] | None = None,
                     cancel: threading.Event | None = None) -> Transcript:
    """Transcribe samples with ``engine`` and wrap the segments in a Transcript."""
    opts = options or DecodeOptions()
    language = opts.language
    if language is None:
        if engine.capabilities.multilingual:
            language, probability = engine.detect_language(audio)
            log.info("detected language %s (p=%.2f) for %s", language, probability, source)
        else:
            language = engine.capabilities.languages[0]
    segments = engine.transcribe(audio, prompt=prompt, options=replace(opts, language=language),
                                 progress=progress, cancel=cancel)
    return Transcript.from_segments(segments, language=language,
                                    duration=audio.size / SAMPLE_RATE, source=source,
                                    model=engine.info.model)


def output_paths(inputs: Sequence[Path], out_dir: Path, formats: Sequence[str]
                 ) -> list[dict[str, Path]]:
    """Output file per input and format; inputs sharing a name get -2, -3... suffixes."""
    used: set[str] = set()
    result = []
    for path in inputs:
        stem, n = path.stem or "audio", 1
        candidate = stem
        while candidate in used:
            n += 1
            candidate = f"{stem}-{n}"
        used.add(candidate)
        result.append({fmt: out_dir / f"{candidate}.{fmt}" for fmt in formats})
    return result


def transcribe_files(engine: Engine, inputs: Sequence[Path], *, out_dir: Path | None,
                     formats: Sequence[str], options: DecodeOptions | None = None,
                     export_options: ExportOptions | None = None, prompt: str = "",
                     channel: int | None = None, on_start: Callable[[Path, float], None] | None = None,
                     on_progress: FileProgress | None = None,
                     on_done: Callable[[FileResult], None] | None = None,
                     cancel: threading.Event | None = None,
                     diarization: DiarizationOptions | None = None) -> list[FileResult]:
    """Transcribe each file and export it; failures become FileResults with a one-line error.

    With ``diarization`` options, each transcript's segments are labelled with speakers.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown output format(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(FORMATS)}")
    if options is not None and options.language is not None and (
            options.language not in engine.capabilities.languages):
        raise ValueError(f"model {engine.info.model} does not know language "
                         f"{options.language!r}")
    targets = output_paths(inputs, out_dir or Path("."), formats)
    results: list[FileResult] = []
    for path, target in zip(inputs, targets):
        if cancel is not None and cancel.is_set():
            break
        result = _one_file(engine, path, target if out_dir is not None else {}, options,
                           export_options, prompt, channel, on_start, on_progress, cancel,
                           diarization)
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results


def _one_file(engine: Engine, path: Path, target: dict[str, Path], options: DecodeOptions | None,
              export_options: ExportOptions | None, prompt: str, channel: int | None,
              on_start: Callable[[Path, float], None] | None, on_progress: FileProgress | None,
              cancel: threading.Event | None,
              diarization: DiarizationOptions | None = None) -> FileResult:
    started = time.perf_counter()
    try:
        audio = decode_audio(path, channel=channel)
    except DesktopAsrError as exc:
        return FileResult(path, error=getattr(exc, "detail", None) or str(exc))
    except ValueError as exc:  # e.g. a channel the file does not have
        return FileResult(path, error=str(exc))
    seconds = audio.size / SAMPLE_RATE
    if on_start is not None:
        on_start(path, seconds)
    report = None if on_progress is None else (lambda done: on_progress(path, done, seconds))
    try:
        transcript = transcribe_audio(engine, audio, options, prompt=prompt, source=str(path),
                                      progress=report, cancel=cancel)
    except Cancelled:
        return FileResult(path, error="cancelled", cancelled=True, audio_seconds=seconds,
                          elapsed_seconds=time.perf_counter() - started)
    if diarization is not None:
        try:
            transcript = label_transcript(transcript, audio, diarization)
        except DesktopAsrError as exc:
            return FileResult(path, transcript=transcript, error=str(exc), audio_seconds=seconds,
                              elapsed_seconds=time.perf_counter() - started)
    del audio
    written: list[Path] = []
    errors: list[str] = []
    for fmt, out in target.items():
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            written.append(write_export(transcript, out, fmt, options=export_options))
        except DesktopAsrError as exc:
            errors.append(str(exc))
        except OSError as exc:
            errors.append(f"cannot write {out}: {exc.strerror or exc}")
    return FileResult(path, transcript=transcript, outputs=tuple(written),
                      error="; ".join(errors) or None, audio_seconds=seconds,
                      elapsed_seconds=time.perf_counter() - started)
