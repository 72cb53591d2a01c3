"""Validate a dataset before training: every problem gets one plain line naming the item."""

from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path

from desktop_asr.errors import AudioDecodeError
from desktop_asr.datasets.dataset import SAMPLE_RATE, Dataset, Item, read_dataset, read_wav16
from desktop_asr.datasets.levels import check_levels

log = logging.getLogger(__name__)

MAX_CHARS_PER_SECOND = 35.0   # faster than any speaker: the text belongs to another clip


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset; an ``error`` keeps the item out of training."""

    severity: str            # "error" | "warning"
    where: str               # "line 3" or "item 0007 (audio/0007.wav)"
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """JSON form (for ``--json`` and the app)."""
        return {"severity": self.severity, "where": self.where, "message": self.message}


@dataclass(frozen=True)
class Validation:
    """The dataset, the items fit for training, every problem found, and their length."""

    dataset: Dataset
    usable: tuple[Item, ...]
    problems: tuple[Problem, ...]
    seconds: float

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems that keep an item (or a manifest line) out."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems worth fixing that do not keep an item out."""
        return tuple(p for p in self.problems if p.severity == "warning")

    def summary(self) -> str:
        """One line: how many items are usable, how long, how many problems."""
        return (f"{len(self.usable)} of {len(self.dataset.items)} item(s) usable, "
                f"{self.seconds / 60:.1f} min of speech; {len(self.errors)} error(s), "
                f"{len(self.warnings)} warning(s)")


def _rate_and_channels(path: Path) -> tuple[int, int] | None:
    try:
        with wave.open(str(path), "rb") as src:
            return src.getframerate(), src.getnchannels()
    except (wave.Error, EOFError, OSError):
        pass
    try:
        from desktop_asr.audio import probe_audio

        info = probe_audio(path)
        return info.sample_rate, info.channels
    except AudioDecodeError:
        return None


def check_item(dataset: Dataset, item: Item) -> tuple[list[Problem], float]:
    """Problems of one item (audio missing/unreadable, rate, text, length, levels), seconds."""
    where = f"item {item.id} ({item.audio})"
    path = dataset.audio_path(item)
    if not item.text.strip():
        return [Problem("error", where, "the transcript is empty")], 0.0
    if not path.is_file():
        return [Problem("error", where, f"audio file {path} is missing")], 0.0
    found = _rate_and_channels(path)
    if found is None:
        return [Problem("error", where, "the audio file cannot be read (damaged or not "
                        "audio)")], 0.0
    rate, channels = found
    problems: list[Problem] = []
    if rate != SAMPLE_RATE or channels != 1:
        problems.append(Problem("error", where, f"audio is {rate} Hz, {channels} channel(s); "
                                "dataset audio must be 16 kHz mono (import the file with "
                                "'desktop-asr dataset import' to convert it)"))
        return problems, 0.0
    try:
        samples = read_wav16(path)
    except (AudioDecodeError, OSError) as exc:
        return [Problem("error", where, f"the audio file cannot be read: {exc}")], 0.0
    levels = check_levels(samples)
    problems += [Problem("error", where, m) for m in levels.errors]
    problems += [Problem("warning", where, m) for m in levels.warnings]
    rate_cps = len(item.text.strip()) / max(levels.duration, 1e-3)
    if levels.duration >= 0.5 and rate_cps > MAX_CHARS_PER_SECOND:
        problems.append(Problem("warning", where, f"the text is long for {levels.duration:.1f} s "
                                f"of audio ({rate_cps:.0f} characters/s): is it the right "
                                "transcript?"))
    if item.duration is not None and abs(item.duration - levels.duration) > 0.05:
        problems.append(Problem("warning", where, f"the manifest says {item.duration:.2f} s but "
                                f"the audio lasts {levels.duration:.2f} s"))
    return problems, levels.duration


def validate_dataset(folder: str | Path) -> Validation:
    """Check every item of a dataset folder; DatasetError only when there is no manifest."""
    dataset = read_dataset(folder)
    problems = [Problem("error", f"line {b.line}", b.message) for b in dataset.bad_lines]
    usable: list[Item] = []
    seconds = 0.0
    seen_audio: dict[Path, str] = {}
    for item in dataset.items:
        found, duration = check_item(dataset, item)
        path = dataset.audio_path(item).resolve()
        if path in seen_audio:
            found.append(Problem("warning", f"item {item.id} ({item.audio})",
                                 f"same audio file as item {seen_audio[path]}"))
        seen_audio.setdefault(path, item.id)
        problems += found
        if not any(p.severity == "error" for p in found):
            usable.append(item)
            seconds += duration
    if not dataset.items and not dataset.bad_lines:
        problems.append(Problem("error", str(dataset.folder / "manifest.jsonl"),
                                "the dataset is empty: record or import some clips first"))
    return Validation(dataset, tuple(usable), tuple(problems), seconds)
