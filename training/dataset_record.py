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

from desktop_asr.capture import AudioSource, CaptureError
from desktop_asr.capture.take import record_take
from desktop_asr.datasets.dataset import Item, add_clip, create_dataset, write_wav16
from desktop_asr.datasets.levels import check_levels

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


def _record(source: AudioSource, out: TextIO, stop: Callable[[], bool]) -> np.ndarray:
    """Capture one take while drawing a level bar (the device failing ends the take)."""
    drawn = [0.0, 0]

    def show(mono: np.ndarray) -> None:
        drawn[1] += mono.size
        now = time.monotonic()
        if now - drawn[0] > 0.1:
            out.write(f"\r  recording {drawn[1] / 16000:5.1f} s  {level_bar(mono)}")
            out.flush()
            drawn[0] = now

    take = record_take(source, stop, on_block=show)
    out.write("\n")
    if take.interrupted:
        out.write(f"  the recording stopped: {take.interrupted}\n")
    return take.samples


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
                take = _record(source_factory(), out,
                               lambda: stop_on_enter and _enter_pressed(inp))
            except CaptureError as exc:
                out.write(f"  cannot record: {exc}\n")
                return RecordResult(tuple(saved), number - 1, True)
            report = check_levels(take)
            out.write(f"  {report.summary()}\n")
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
