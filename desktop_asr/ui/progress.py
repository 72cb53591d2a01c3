"""Overall job progress and ETA, and time formatting: plain Python, no widgets."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def short_path(path: Path | str) -> str:
    """``path`` with the home folder written as ~, as a user reads it."""
    path = Path(path)
    try:
        return str(Path("~") / path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def format_clock(seconds: float) -> str:
    """Format seconds as m:ss, or h:mm:ss from one hour on."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_stamp(seconds: float) -> str:
    """Transcript timestamp: [mm:ss], or [h:mm:ss] from one hour on."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"[{hours}:{minutes:02d}:{secs:02d}]" if hours else f"[{minutes:02d}:{secs:02d}]"


class JobProgress:
    """Fraction of a job's audio done and the time left, measured from the first file's start.

    Model loading is excluded from the rate so the ETA does not swing with it. When no
    duration is known (every probe failed) the fraction counts files instead.
    """

    def __init__(self, files: tuple[Path, ...], durations: tuple[float, ...],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._durations = dict(zip(files, durations))
        self._total = sum(durations)
        self._finished: set[Path] = set()
        self._current: Path | None = None
        self._current_done = 0.0
        self._clock = clock
        self._t0: float | None = None

    def file_started(self, path: Path, seconds: float) -> None:
        """A file's decode finished and its real length is known."""
        if self._t0 is None:
            self._t0 = self._clock()
        old = self._durations.get(path, 0.0)
        if seconds > 0 and abs(seconds - old) > 0.01:
            self._total += seconds - old
            self._durations[path] = seconds
        self._current, self._current_done = path, 0.0

    def file_progress(self, path: Path, done: float) -> None:
        """Seconds of the current file done."""
        if path == self._current:
            self._current_done = done

    def file_finished(self, path: Path) -> None:
        """The file is done, failed or cancelled: its whole length counts as processed."""
        self._finished.add(path)
        if path == self._current:
            self._current, self._current_done = None, 0.0

    @property
    def audio_done(self) -> float:
        """Seconds of audio processed so far."""
        return (sum(self._durations.get(p, 0.0) for p in self._finished)
                + self._current_done)

    @property
    def fraction(self) -> float:
        """Progress of the whole job in [0, 1]."""
        if self._total <= 0:
            return len(self._finished) / max(1, len(self._durations))
        return min(1.0, self.audio_done / self._total)

    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far, or None until there is a rate to go by."""
        if self._t0 is None or self._total <= 0:
            return None
        elapsed, done = self._clock() - self._t0, self.audio_done
        if done <= 0 or elapsed <= 0:
            return None
        return max(0.0, (self._total - done) * elapsed / done)
