"""Record a dataset in the terminal, one prompt at a time, through desktop-asr's capture sources.

For each prompt: Enter starts recording, Enter stops it (so does the end of a replayed file);
a level bar shows while recording; then the take is checked (clipping, silence, length) and the
user keeps it (Enter), plays it back (p), re-records it (r), skips the prompt (s) or quits (q).
Kept takes are saved at once, so quitting or a crash loses at most the take in progress.
"""

from __future__ import annotations

import logging
import select
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from desktop_asr.capture import AudioSource, CaptureError, SourceEnded
from desktop_asr.datasets.dataset import Item, add_clip, create_dataset, write_wav16
from desktop_asr.datasets.levels import LevelReport, check_levels

log = logging.getLogger(__name__)

BAR_WIDTH = 30


@dataclass(frozen=True)
class RecordResult:
    """What a recording session saved and how far through the prompts it got."""

    saved: tuple[Item, ...]
    prompts_done: int
    quit: bool


def level_bar(samples: np.ndarray, width: int = BAR_WIDTH) -> str:
    """A text meter of the last block's level (-60..0 dBFS), with a clip mark."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    db = 20 * np.log10(max(rms, 1e-6))
    filled = int(round(width * min(1.0, max(0.0, (db + 60) / 60))))
    clip = " CLIP" if x.size and float(np.max(np.abs(x))) >= 0.999 else "     "
    return f"[{'#' * filled}{'.' * (width - filled)}] {db:5.0f} dBFS{clip}"


def _enter_pressed(stream: TextIO) -> bool:
    # Only real terminals and pipes can be polled; a scripted reader is never "pressed".
    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (ValueError, OSError, TypeError):
        return False
    if ready:
        stream.readline()
        return True
    return False


def record_take(source: AudioSource, out: TextIO, stop: Callable[[], bool],
                max_seconds: float = 30.0) -> np.ndarray:
    """Capture from ``source`` until ``stop()`` is true, the source ends, or ``max_seconds``."""
    chunks: list[np.ndarray] = []
    frames = 0
    source.start()
    last_draw = 0.0
    try:
        while frames < max_seconds * 16000:
            if stop():
                break
            try:
                chunk = source.read(0.05)
            except SourceEnded:
                break
            if chunk is None:
                continue
            mono = chunk.samples.mean(axis=1) if chunk.samples.ndim == 2 else chunk.samples
            chunks.append(mono.astype(np.float32))
            frames += mono.size
            now = time.monotonic()
            if now - last_draw > 0.1:
                out.write(f"\r  recording {frames / 16000:5.1f} s  {level_bar(mono)}")
                out.flush()
                last_draw = now
    finally:
        source.stop()
    out.write("\n")
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def describe(report: LevelReport) -> str:
    """One line about a take: its length and level, then what is wrong with it."""
    head = f"  {report.duration:.1f} s, peak {20 * np.log10(max(report.peak, 1e-6)):.0f} dBFS"
    issues = [*report.errors, *report.warnings]
    return head + (": " + "; ".join(issues) if issues else ": OK")


def _ask(inp: TextIO, out: TextIO, usable: bool) -> str:
    out.write(f"  {'Enter: keep, ' if usable else ''}p: play, r: re-record, s: skip, q: quit > ")
    out.flush()
    raw = inp.readline()
    return "q" if raw == "" else raw.strip().lower()  # end of input: stop, keep what is saved


def record_prompts(dataset: Path, prompts: list[str], source_factory: Callable[[], AudioSource],
                   *, inp: TextIO | None = None, out: TextIO | None = None,
                   speaker: str | None = None, stop_on_enter: bool = True,
                   play: Callable[[Path], None] | None = None) -> RecordResult:
    """Walk through ``prompts``, recording, checking and saving one take per prompt."""
    inp = inp or sys.stdin
    out = out or sys.stdout
    create_dataset(dataset)
    saved: list[Item] = []
    for number, prompt in enumerate(prompts, 1):
        out.write(f"\n[{number}/{len(prompts)}] Say:\n    {prompt}\n")
        out.write("  Enter: start recording, s: skip, q: quit > ")
        out.flush()
        answer = inp.readline()
        if answer == "" or answer.strip().lower() == "q":
            return RecordResult(tuple(saved), number - 1, True)
        if answer.strip().lower() == "s":
            continue
        while True:
            out.write("  recording… press Enter to stop\n" if stop_on_enter else "  recording…\n")
            try:
                # A replayed file records until it ends; Enter stops a live microphone.
                take = record_take(source_factory(), out,
                                   lambda: stop_on_enter and _enter_pressed(inp))
            except CaptureError as exc:
                out.write(f"  cannot record: {exc}\n")
                return RecordResult(tuple(saved), number - 1, True)
            report = check_levels(take)
            out.write(describe(report) + "\n")
            answer = _ask(inp, out, report.ok)
            while answer == "p":
                if play is not None:
                    play(write_wav16(Path(dataset) / ".take.wav", take))
                answer = _ask(inp, out, report.ok)
            if answer == "q":
                return RecordResult(tuple(saved), number - 1, True)
            if answer == "s":
                break
            if answer == "r" or not report.ok:
                if answer != "r":
                    out.write("  this take cannot be used; recording it again\n")
                continue
            item = add_clip(dataset, take, prompt, origin="record", speaker=speaker)
            saved.append(item)
            out.write(f"  saved {item.audio}\n")
            break
    (Path(dataset) / ".take.wav").unlink(missing_ok=True)
    return RecordResult(tuple(saved), len(prompts), False)
