"""The reader half every queue-fed source shares: blocks in, 16 kHz AudioChunks out."""

from __future__ import annotations

import logging
import time

import numpy as np

from desktop_asr.capture.base import SAMPLE_RATE, AudioChunk, CaptureError, SourceEnded, SourceStats
from desktop_asr.capture.queue import Block, FrameQueue
from desktop_asr.capture.resample import StreamResampler

logger = logging.getLogger(__name__)

# One read hands out at most this much audio, so a reader that fell behind catches up in
# steps the pipeline can digest instead of one huge array.
_MAX_CHUNK_S = 0.5


class QueuedSource:
    """Base for sources whose capture thread fills a :class:`FrameQueue`.

    Subclasses call :meth:`_prepare` before capture begins, push blocks into ``self._queue``
    from their capture thread, and set ``started_at``. Stream time advances over frames the
    queue had to drop, so a hole in the audio shows up as a jump in ``AudioChunk.start``.
    """

    label: str
    channel_labels: tuple[str, ...]
    started_at: float | None

    def __init__(self, label: str, channel_labels: tuple[str, ...], queue_seconds: float) -> None:
        if queue_seconds <= 0:
            raise ValueError(f"queue_seconds must be positive, got {queue_seconds}")
        self.label = label
        self.channel_labels = channel_labels
        self.started_at = None
        self.queue_seconds = float(queue_seconds)
        self._queue: FrameQueue | None = None
        self._resampler: StreamResampler | None = None
        self._downmix = False
        self._held: Block | None = None       # the block after a gap, kept for the next read
        self._next_index = 0                  # expected stream index of the next block
        self._out_pos = 0                     # 16 kHz frames handed out (holes included)
        self._pending_exc: BaseException | None = None
        self._last_captured_at = 0.0

    def _prepare(self, rate: float, channels: int, *, downmix: bool) -> FrameQueue:
        """Create the queue and resampler for ``channels`` frames at ``rate``."""
        self._queue = FrameQueue(max(1, round(rate * self.queue_seconds)))
        self._downmix = downmix and channels > 1
        self._resampler = StreamResampler(rate, 1 if self._downmix else channels)
        self._held, self._next_index, self._out_pos, self._pending_exc = None, 0, 0, None
        return self._queue

    def _convert(self, frames: np.ndarray) -> np.ndarray:
        assert self._resampler is not None
        if self._downmix:
            # A plain average: what a mono microphone stream would have carried.
            frames = frames.mean(axis=1, dtype=np.float32, keepdims=True)
        return self._resampler.process(frames)

    def read(self, timeout: float = 0.1) -> AudioChunk | None:
        """Next chunk at 16 kHz, None after ``timeout``; SourceEnded / CaptureError at the end."""
        if self._queue is None:
            raise CaptureError(f"{self.label} was not started")
        if self._pending_exc is not None:
            raise self._pending_exc
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            chunk = self._read_once(max(0.0, deadline - time.monotonic()))
            if chunk is not None or time.monotonic() >= deadline:
                return chunk

    def _read_once(self, timeout: float) -> AudioChunk | None:
        assert self._queue is not None and self._resampler is not None
        parts: list[np.ndarray] = []
        start = self._out_pos
        captured_at = 0.0
        limit = int(self._resampler.in_rate * _MAX_CHUNK_S)
        taken = 0
        wait = timeout
        while taken < limit:
            try:
                block = self._held if self._held is not None else self._queue.get(wait)
            except (SourceEnded, CaptureError) as exc:
                # The filter still holds the last few milliseconds; hand them out first.
                tail = self._resampler.flush()
                if tail.shape[0] or parts:
                    parts.append(tail)
                    self._pending_exc = exc
                    break
                raise
            self._held = None
            if block is None:
                break
            if block.index > self._next_index:
                if parts or taken:
                    self._held = block    # end this chunk at the hole
                    break
                # Frames were dropped: finish the audio before the hole, then skip stream time.
                tail = self._resampler.flush()
                if tail.shape[0]:
                    self._held = block
                    parts.append(tail)
                    break
                self._out_pos = max(self._out_pos,
                                    self._resampler.output_position(block.index))
                start = self._out_pos
            parts.append(self._convert(block.frames))
            self._next_index = block.end
            captured_at = block.captured_at
            taken += block.frames.shape[0]
            wait = 0.0    # gather what is already queued, never wait for more
        samples = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else None)
        if samples is None or samples.shape[0] == 0:
            return None
        self._out_pos = start + samples.shape[0]
        self._last_captured_at = captured_at or self._last_captured_at or time.monotonic()
        return AudioChunk(samples=samples, start=start / SAMPLE_RATE,
                          captured_at=self._last_captured_at)

    def stats(self) -> SourceStats:
        """Counters so far."""
        if self._queue is None:
            return SourceStats()
        return self._queue.stats()
