"""The AudioSource interface: where live audio comes from, and how it reaches the pipeline.

A source owns its capture thread (PortAudio callback, file replay thread...). That thread never
blocks: it copies raw frames into a bounded queue and counts what did not fit. ``read`` runs on
the consumer's thread, converts to 16 kHz float32 and hands out :class:`AudioChunk` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

SAMPLE_RATE = 16000


class CaptureError(Exception):
    """Capture cannot go on (no device, device unplugged, server gone); message is plain."""


class SourceEnded(Exception):
    """The source has no more audio (end of file, or stopped) and everything was read."""


@dataclass(frozen=True, eq=False)
class AudioChunk:
    """Consecutive frames from a source at 16 kHz.

    ``samples`` has shape (frames, channels), float32 in [-1, 1]; ``start`` is the stream time of
    the first frame in seconds since the stream's first captured frame; ``captured_at`` is the
    ``time.monotonic()`` at which the last frame of the chunk was captured (used for latency).
    """

    samples: np.ndarray
    start: float
    captured_at: float

    @property
    def frames(self) -> int:
        """Number of frames in the chunk."""
        return int(self.samples.shape[0])

    @property
    def end(self) -> float:
        """Stream time just after the last frame."""
        return self.start + self.frames / SAMPLE_RATE


@dataclass(frozen=True)
class SourceStats:
    """Counters a source keeps so that lost audio is never silent."""

    frames_captured: int = 0
    overflows: int = 0          # times the device or the queue could not keep up
    frames_dropped: int = 0     # frames lost to those overflows
    extra: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


@runtime_checkable
class AudioSource(Protocol):
    """Live audio: mic, system loopback, both, or a file replayed in real time."""

    label: str                          # shown to the user, e.g. "Microphone (USB)"
    channel_labels: tuple[str, ...]     # one per channel, e.g. ("mic",), ("mic", "system")
    started_at: float | None            # time.monotonic() of the first captured frame

    def start(self) -> None:
        """Open the device / start the replay thread; raises CaptureError with a plain reason."""
        ...

    def read(self, timeout: float = 0.1) -> AudioChunk | None:
        """Next chunk at 16 kHz, None after ``timeout`` seconds without audio.

        Raises SourceEnded when the source is finished and drained, CaptureError when capture
        broke (the audio read so far stays valid).
        """
        ...

    def stop(self) -> None:
        """Stop capturing; frames already captured can still be read until SourceEnded."""
        ...

    def stats(self) -> SourceStats:
        """Counters so far."""
        ...
