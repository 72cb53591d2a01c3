"""Microphone and system audio together, as two channels kept apart and aligned in time."""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from desktop_asr.capture.base import (
    SAMPLE_RATE,
    AudioChunk,
    AudioSource,
    CaptureError,
    SourceEnded,
    SourceStats,
)

__all__ = ["MixedSource"]

logger = logging.getLogger(__name__)

# How long the mixer blocks on the lagging side per attempt, so the other side keeps draining.
_POLL_S = 0.02
# Reads per side per pump: enough to drain what is queued (0.5 s per read) without starving
# the caller when a side produces faster than real time.
_MAX_READS = 20


@dataclass(eq=False)
class _Side:
    name: str
    source: AudioSource
    pending: list[np.ndarray] = field(default_factory=list)
    end: int = 0                      # timeline frame just after this side's audio so far
    offset: int | None = None         # timeline frame of the side's stream time 0
    done: bool = False
    error: CaptureError | None = None
    stamps: deque = field(default_factory=deque)   # (end frame, captured_at) per chunk
    last_data: float | None = None    # time.monotonic() of the last chunk (or first attempt)


class MixedSource:
    """Two sources as channels ("mic", "system"), aligned by their stream times.

    Each side's stream time is placed on a common timeline starting at the earlier side's
    ``started_at`` (for file replays, the wall-clock gap times their ``speed``). A side's audio is appended as it comes; zeros are inserted only where
    that side is behind its own stream time by more than ``tolerance`` (it started later, or
    dropped frames), so no audio is lost or moved. A side that delivers nothing while the
    other gets more than ``max_lag`` seconds ahead is padded with zeros up to that lag, so one
    silent source (a loopback that only sends while something plays) cannot stall captions;
    such a side must also have sent nothing for ``max_lag`` seconds of wall-clock time.
    When one side fails, what is aligned so far is read out, then CaptureError names the side.
    """

    channel_labels = ("mic", "system")

    def __init__(self, mic: AudioSource, system: AudioSource, *, tolerance: float = 0.02,
                 max_lag: float = 1.0) -> None:
        self._sides = (_Side("mic", mic), _Side("system", system))
        self._tol = round(tolerance * SAMPLE_RATE)
        self._max_lag_s = float(max_lag)
        self._max_lag = round(max_lag * SAMPLE_RATE)
        self._t0: float | None = None
        self._emitted = 0
        self._padded = 0
        self._late = 0

    @property
    def label(self) -> str:
        """Both sources' labels."""
        return " + ".join(s.source.label for s in self._sides)

    @property
    def started_at(self) -> float | None:
        """The earlier of the two sources' first captured frame."""
        times = [s.source.started_at for s in self._sides if s.source.started_at is not None]
        return min(times) if times else None

    def start(self) -> None:
        """Start both sources (those not started yet); if the second fails, stop the first."""
        started = []
        for side in self._sides:
            if side.source.started_at is None:
                try:
                    side.source.start()
                except CaptureError as exc:
                    for other in started:
                        other.stop()
                    raise CaptureError(f"{side.name}: {exc}") from exc
                started.append(side.source)

    def stop(self) -> None:
        """Stop both sources; what they captured can still be read."""
        for side in self._sides:
            try:
                side.source.stop()
            except Exception as exc:  # stopping one must not leave the other running
                logger.warning("stopping %s: %s", side.name, exc)

    def read(self, timeout: float = 0.1) -> AudioChunk | None:
        """Next two-channel chunk; None after ``timeout``; SourceEnded / CaptureError at the end."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            self._pump(max(0.0, deadline - time.monotonic()))
            chunk = self._emit()
            if chunk is not None:
                return chunk
            failed = next((s for s in self._sides if s.error is not None), None)
            if failed is not None:
                raise CaptureError(f"{failed.name} capture failed: {failed.error}")
            if all(s.done for s in self._sides):
                raise SourceEnded()
            if time.monotonic() >= deadline:
                return None

    def _pump(self, wait: float) -> None:
        """Take what each side has; if nobody had anything, wait a little on the lagging one."""
        if any(s.error is not None for s in self._sides):
            return    # read out what is aligned, then report the failure; take no more
        got = False
        for side in self._sides:
            if side.last_data is None:
                side.last_data = time.monotonic()
            for _ in range(_MAX_READS):
                if not self._take(side, 0.0):
                    break
                got = True
        live = [s for s in self._sides if not s.done]
        if not got and live and wait > 0:
            self._take(min(live, key=lambda s: s.end), min(wait, _POLL_S))

    def _take(self, side: _Side, timeout: float) -> bool:
        if side.done:
            return False
        try:
            chunk = side.source.read(timeout)
        except SourceEnded:
            side.done = True
            return False
        except CaptureError as exc:
            side.done, side.error = True, exc
            return False
        if chunk is None:
            return False
        side.last_data = time.monotonic()
        self._place(side, chunk)
        return True

    def _place(self, side: _Side, chunk: AudioChunk) -> None:
        if side.offset is None:
            started = side.source.started_at
            if started is None:
                started = chunk.captured_at - chunk.end
            if self._t0 is None:
                known = [s.source.started_at for s in self._sides
                         if s.source.started_at is not None]
                self._t0 = min(known + [started])
            # Stream seconds per wall-clock second: 1 for devices; a FileSource replaying
            # at speed N covers N, and one replaying as fast as it is read has no clock.
            speed = float(getattr(side.source, "speed", 1.0))
            scale = speed if 0 < speed < math.inf else 0.0
            side.offset = max(0, round((started - self._t0) * scale * SAMPLE_RATE))
        target = side.offset + round(chunk.start * SAMPLE_RATE)
        if target - side.end > self._tol:
            self._pad(side, target - side.end)
        elif side.end - target > self._tol:
            # Audio for a stretch we already filled (after a stall): keep it, a little late.
            self._late += side.end - target
        samples = chunk.samples
        if samples.shape[1] != 1:
            samples = samples.mean(axis=1, dtype=np.float32, keepdims=True)
        side.pending.append(samples[:, 0])
        side.end += samples.shape[0]
        side.stamps.append((side.end, chunk.captured_at))

    def _pad(self, side: _Side, frames: int) -> None:
        side.pending.append(np.zeros(frames, dtype=np.float32))
        side.end += frames
        self._padded += frames

    def _emit(self) -> AudioChunk | None:
        live = [s for s in self._sides if not s.done]
        failed = any(s.error is not None for s in self._sides)
        if live and not failed:
            ahead = max(s.end for s in live)
            now = time.monotonic()
            for side in live:
                # Only a side that has really gone quiet (by the wall clock) is padded; one
                # whose audio is merely still queued is read on the next pump instead.
                quiet = side.last_data is not None and now - side.last_data > self._max_lag_s
                if ahead - side.end > self._max_lag and quiet:
                    self._pad(side, ahead - self._max_lag - side.end)
            end = min(s.end for s in live)
        else:
            end = max(s.end for s in self._sides)    # flush everything that is left
        frames = end - self._emitted
        if frames <= 0:
            return None
        for side in self._sides:
            if side.end < end:      # a finished side: silence after its end
                self._pad(side, end - side.end)
        columns = [self._pop(side, frames) for side in self._sides]
        stamps = [self._stamp(side, end) for side in self._sides]
        start = self._emitted
        self._emitted = end
        captured = [t for t in stamps if t is not None]
        return AudioChunk(samples=np.stack(columns, axis=1), start=start / SAMPLE_RATE,
                          captured_at=max(captured) if captured else time.monotonic())

    @staticmethod
    def _pop(side: _Side, frames: int) -> np.ndarray:
        data = side.pending[0] if len(side.pending) == 1 else np.concatenate(side.pending)
        side.pending = [data[frames:]] if data.shape[0] > frames else []
        return data[:frames]

    @staticmethod
    def _stamp(side: _Side, end: int) -> float | None:
        stamp = None
        while side.stamps and side.stamps[0][0] <= end:
            stamp = side.stamps.popleft()[1]
        return stamp

    def stats(self) -> SourceStats:
        """Both sources' counters summed; extra has the mixer's padded and late frames."""
        a, b = (s.source.stats() for s in self._sides)
        extra = dict(a.extra)
        for key, value in b.extra.items():
            extra[key] = extra.get(key, 0) + value
        extra["mixed_padded_frames"] = self._padded
        extra["mixed_late_frames"] = self._late
        return SourceStats(frames_captured=a.frames_captured + b.frames_captured,
                           overflows=a.overflows + b.overflows,
                           frames_dropped=a.frames_dropped + b.frames_dropped, extra=extra)
