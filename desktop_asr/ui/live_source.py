"""A wrapper around a live AudioSource that meters levels and can pause (mute) the input.

Pause replaces the captured audio by silence before it reaches the VAD, the decoder and the
recording: capture keeps running, so the session's timeline stays continuous and nothing queues
up, while the words already spoken are committed by the VAD's end-of-speech as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from desktop_asr.capture.base import AudioChunk, AudioSource, SourceStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Levels:
    """RMS and peak (linear, 0..1) per channel since the previous report."""

    channels: tuple[str, ...]
    rms: tuple[float, ...]
    peak: tuple[float, ...]
    paused: bool = False


class MeteredSource:
    """Delegates to ``inner``; ``read`` (on the pipeline thread) meters and gates the chunks."""

    def __init__(self, inner: AudioSource, on_levels: Callable[[Levels], None] | None = None,
                 interval: float = 0.05) -> None:
        self.inner = inner
        self.label = inner.label
        self._on_levels = on_levels
        self._interval = interval
        self._paused = threading.Event()
        self._last_report = 0.0
        self._sum_sq: np.ndarray | None = None
        self._peak: np.ndarray | None = None
        self._frames = 0
        self._metered_paused = False

    # The pipeline reads these attributes; a FileSource sets channel_labels in start().
    @property
    def channel_labels(self) -> tuple[str, ...]:
        """The wrapped source's channel labels."""
        return tuple(self.inner.channel_labels)

    @property
    def started_at(self) -> float | None:
        """When the wrapped source captured its first frame."""
        return self.inner.started_at

    @property
    def paused(self) -> bool:
        """True while the input is muted."""
        return self._paused.is_set()

    def set_paused(self, paused: bool) -> None:
        """Mute or unmute the input (thread-safe, takes effect with the next chunk)."""
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    def start(self) -> None:
        """Start the wrapped source."""
        self.inner.start()

    def stop(self) -> None:
        """Stop the wrapped source."""
        self.inner.stop()

    def stats(self) -> SourceStats:
        """The wrapped source's counters."""
        return self.inner.stats()

    def read(self, timeout: float = 0.1) -> AudioChunk | None:
        """The next chunk, silenced while paused; levels are reported at most every interval."""
        chunk = self.inner.read(timeout)
        if chunk is None:
            return None
        paused = self._paused.is_set()
        if paused:
            chunk = AudioChunk(np.zeros_like(chunk.samples), chunk.start, chunk.captured_at)
        if self._on_levels is not None and chunk.frames:
            self._meter(chunk.samples, paused)
        return chunk

    def _meter(self, samples: np.ndarray, paused: bool) -> None:
        sq = np.einsum("ij,ij->j", samples, samples, dtype=np.float64)
        peak = np.max(np.abs(samples), axis=0)
        # A report never mixes audio from before and after a pause toggles.
        if (self._sum_sq is None or self._sum_sq.shape != sq.shape
                or paused != self._metered_paused):
            self._metered_paused = paused
            self._sum_sq, self._peak, self._frames = sq, peak, samples.shape[0]
        else:
            self._sum_sq = self._sum_sq + sq
            self._peak = np.maximum(self._peak, peak)
            self._frames += samples.shape[0]
        now = time.monotonic()
        if now - self._last_report < self._interval:
            return
        self._last_report = now
        rms = np.sqrt(self._sum_sq / max(1, self._frames))
        levels = Levels(self.channel_labels, tuple(float(v) for v in rms),
                        tuple(float(v) for v in self._peak), paused)
        self._sum_sq, self._peak, self._frames = None, None, 0
        assert self._on_levels is not None
        try:
            self._on_levels(levels)
        except Exception:  # a meter must never stop the captions
            log.exception("level listener failed")
