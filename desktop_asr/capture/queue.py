"""A bounded, thread-safe queue of raw frames between a capture thread and its reader.

The capture side (a PortAudio callback, a file replay thread) calls :meth:`FrameQueue.put_nowait`,
which never waits for the reader. When the queue is full the **oldest** frames are dropped:

* The queue is bounded, so either policy bounds latency at the queue's capacity; what differs is
  which audio survives. Dropping the oldest keeps the freshest audio, which is what live captions
  are for: words the reader would only get to seconds late are worth less than what is being said
  now, and a user who stops the session gets the last words they spoke, not stale ones.
* The loss is never silent: every block carries the stream index of its first frame (assigned
  here, counting dropped frames too), so the reader sees the hole in stream time, and the
  counters feed :class:`~desktop_asr.capture.base.SourceStats`.

The reader gets blocks in order with :meth:`get`; once the producer has called :meth:`close`
and everything queued was read, ``get`` raises :class:`SourceEnded`, or the
:class:`CaptureError` the producer closed with, so audio captured before a failure is never lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from desktop_asr.capture.base import CaptureError, SourceEnded, SourceStats

__all__ = ["Block", "FrameQueue"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Block:
    """Frames as captured: ``frames`` (n, channels) at the source's rate, in stream order."""

    frames: np.ndarray
    index: int          # stream position of the first frame, in source frames
    captured_at: float  # time.monotonic() when the last frame was captured

    @property
    def end(self) -> int:
        """Stream position just after the last frame."""
        return self.index + int(self.frames.shape[0])


class FrameQueue:
    """Bounded FIFO of frame blocks; the producer never blocks, the oldest frames give way."""

    def __init__(self, max_frames: int) -> None:
        if max_frames <= 0:
            raise ValueError(f"max_frames must be positive, got {max_frames}")
        self.max_frames = int(max_frames)
        self._cond = threading.Condition(threading.Lock())
        self._blocks: deque[Block] = deque()
        self._size = 0
        self._next_index = 0
        self._closed = False
        self._error: CaptureError | None = None
        self._captured = 0
        self._overflows = 0
        self._dropped = 0
        self._overflowing = False   # inside one overflow episode (reset when the reader reads)

    def put_nowait(self, frames: np.ndarray, captured_at: float) -> bool:
        """Queue ``frames`` without waiting; returns False when older frames had to be dropped."""
        n = int(frames.shape[0])
        if n == 0:
            return True
        with self._cond:
            if self._closed:
                return True
            index = self._next_index
            self._next_index += n
            self._captured += n
            dropped = 0
            if n > self.max_frames:
                # A block larger than the whole queue: keep its newest part.
                cut = n - self.max_frames
                frames, index, n, dropped = frames[cut:], index + cut, self.max_frames, cut
            while self._size + n > self.max_frames:
                dropped += self._drop_oldest(self._size + n - self.max_frames)
            self._blocks.append(Block(frames, index, captured_at))
            self._size += n
            if dropped:
                self._dropped += dropped
                if not self._overflowing:
                    self._overflows += 1
                    self._overflowing = True
                    logger.warning("capture queue full: dropping the oldest audio")
            self._cond.notify_all()
        return dropped == 0

    def _drop_oldest(self, wanted: int) -> int:
        """Remove up to ``wanted`` frames from the head; returns how many went (lock held)."""
        head = self._blocks[0]
        size = int(head.frames.shape[0])
        if size <= wanted:
            self._blocks.popleft()
            self._size -= size
            return size
        # Trim the head block in place (a view, no copy) so no more is lost than needed.
        self._blocks[0] = Block(head.frames[wanted:], head.index + wanted, head.captured_at)
        self._size -= wanted
        return wanted

    def wait_for_room(self, frames: int, timeout: float) -> bool:
        """Wait until ``frames`` fit without dropping; for producers that may wait (file replay)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed and self._size + frames > self.max_frames:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def count_overflow(self, frames_lost: int = 0) -> None:
        """Record an overflow that happened before the queue (e.g. the device's own buffer)."""
        with self._cond:
            self._overflows += 1
            self._dropped += frames_lost

    def close(self, error: CaptureError | None = None) -> None:
        """No more frames will come; ``error`` (if any) is raised after the queue is drained."""
        with self._cond:
            if not self._closed:
                self._closed = True
                self._error = error
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """Whether the producer has finished (frames may still be queued)."""
        return self._closed

    def get(self, timeout: float = 0.1) -> Block | None:
        """Oldest queued block, or None after ``timeout``; raises when closed and drained."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while not self._blocks:
                if self._closed:
                    if self._error is not None:
                        raise self._error
                    raise SourceEnded()
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            block = self._blocks.popleft()
            self._size -= int(block.frames.shape[0])
            self._overflowing = False
            self._cond.notify_all()     # a producer may be waiting for room
            return block

    def peek_index(self) -> int | None:
        """Stream index of the next block to be read, or None when empty."""
        with self._cond:
            return self._blocks[0].index if self._blocks else None

    @property
    def queued_frames(self) -> int:
        """Frames waiting to be read."""
        return self._size

    def stats(self) -> SourceStats:
        """Counters so far (frames in stream order, overflow episodes, frames lost)."""
        with self._cond:
            return SourceStats(frames_captured=self._captured, overflows=self._overflows,
                               frames_dropped=self._dropped)
