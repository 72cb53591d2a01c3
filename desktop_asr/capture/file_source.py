"""Replay an audio or video file as if it were being captured live (tests, demos, benchmarks)."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from pathlib import Path

import numpy as np

from desktop_asr.audio.decode import decode_audio, probe_audio
from desktop_asr.capture._queued import QueuedSource
from desktop_asr.capture.base import SAMPLE_RATE, CaptureError
from desktop_asr.capture.queue import FrameQueue
from desktop_asr.errors import AudioDecodeError

__all__ = ["FileSource"]

logger = logging.getLogger(__name__)


class FileSource(QueuedSource):
    """A file replayed in real time (or ``speed`` times faster) through a capture thread.

    The replay thread pushes ``chunk_seconds`` blocks into the bounded queue on a real-time
    schedule, exactly as a device callback would, so a slow reader causes counted overflows.
    ``speed`` 0 or ``inf`` replays as fast as the reader reads (the thread waits for room
    instead of dropping). ``channels="all"`` keeps the file's channels apart; the default
    ``"mono"`` averages them. ``captured_at`` of a chunk is when its last frame would have
    been captured: ``started_at + chunk_end / speed`` (the moment it was queued when fast).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        speed: float = 1.0,
        chunk_seconds: float = 0.02,
        loop: bool = False,
        channels: str = "mono",
        queue_seconds: float = 10.0,
    ) -> None:
        if not (speed == 0 or speed > 0):    # also rejects NaN
            raise ValueError(f"speed must be positive, 0 or inf, got {speed}")
        if not chunk_seconds > 0:
            raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds}")
        if channels not in ("mono", "all"):
            raise ValueError(f"channels must be 'mono' or 'all', got {channels!r}")
        self.path = os.fspath(path)
        super().__init__(f"File: {Path(self.path).name}", ("file",), queue_seconds)
        self.speed = float(speed)
        self.realtime = 0 < self.speed < math.inf
        self.chunk_frames = max(1, round(chunk_seconds * SAMPLE_RATE))
        self.loop = loop
        self.channels = channels
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _decode(self) -> np.ndarray:
        try:
            if self.channels == "mono":
                return decode_audio(self.path)[:, np.newaxis]
            count = max(1, probe_audio(self.path).channels)
            return np.stack([decode_audio(self.path, channel=k) for k in range(count)], axis=1)
        except AudioDecodeError as exc:
            raise CaptureError(str(exc)) from exc

    def start(self) -> None:
        """Decode the file and start the replay thread; CaptureError if it cannot be decoded."""
        if self._thread is not None:
            return
        audio = self._decode()
        if self.channels == "all":
            self.channel_labels = tuple(f"channel {k + 1}" for k in range(audio.shape[1]))
        queue = self._prepare(SAMPLE_RATE, audio.shape[1], downmix=False)
        self._stop.clear()
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._replay, args=(audio, queue, self.started_at),
                                        name=f"replay {Path(self.path).name}", daemon=True)
        self._thread.start()
        logger.info("replaying %s (%.1f s, speed %g)", self.path, len(audio) / SAMPLE_RATE,
                    self.speed)

    def _replay(self, audio: np.ndarray, queue: FrameQueue, t0: float) -> None:
        total = audio.shape[0]
        pos = 0        # position in the file
        played = 0     # frames replayed so far (keeps growing across loops)
        try:
            while not self._stop.is_set():
                if pos >= total:
                    if not (self.loop and total):
                        break
                    pos = 0
                block = audio[pos:pos + self.chunk_frames]
                n = block.shape[0]
                if self.realtime:
                    due = t0 + (played + n) / SAMPLE_RATE / self.speed
                    delay = due - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        break
                    captured_at = due
                else:
                    # Fast replay: wait for the reader rather than flood the queue.
                    while not queue.wait_for_room(n, 0.05):
                        if self._stop.is_set():
                            return
                    captured_at = time.monotonic()
                # A copy, as a device hands over fresh buffers; readers may keep or modify it.
                queue.put_nowait(block.copy(), captured_at)
                pos += n
                played += n
        except Exception as exc:  # the reader must hear about any failure, not hang
            logger.exception("file replay failed")
            queue.close(CaptureError(f"replay of {self.path} failed: {exc}"))
        finally:
            queue.close()

    def stop(self) -> None:
        """Stop the replay; audio already queued can still be read until SourceEnded."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if self._queue is not None:
            self._queue.close()
