"""Records the captured audio of a live session to FLAC as it arrives."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from desktop_asr.capture.base import AudioChunk

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
SYNC_EVERY = 2.0  # seconds of audio between pushes to the disk


class FlacRecorder:
    """Streams 16 kHz chunks (one or two channels) into a FLAC file.

    The encoder writes as it goes, so a crash loses only what is still in its small output
    buffer; the file stays decodable without its final header update.

    When the file cannot be written (a full disk, an I/O error) :meth:`write` raises that
    OSError once and the recording ends there for good (``error`` says why): the encoder
    cannot take up a stream its output lost bytes of, and a recording with a hole in it would
    no longer line up with the transcript's times. What reached the disk stays decodable; later
    writes do nothing and :meth:`close` only closes the file.
    """

    def __init__(self, path: Path, channels: int) -> None:
        import av

        if channels not in (1, 2):
            raise ValueError("the recorder takes 1 or 2 channels")
        self.path = Path(path)
        self.channels = channels
        self._layout = "mono" if channels == 1 else "stereo"
        # A Python file object with a small I/O buffer lets us push encoded audio to the disk
        # every few seconds; a plain path would sit in ffmpeg's buffers until close.
        self._file = open(self.path, "wb")
        self._container = av.open(self._file, "w", format="flac", buffer_size=4096)
        self._stream = self._container.add_stream("flac", rate=SAMPLE_RATE, layout=self._layout)
        self._stream.format = "s16"
        self._pts = 0
        self.frames_written = 0
        self._synced = 0
        self.error: OSError | None = None

    def write(self, chunk: AudioChunk) -> None:
        """Encode one chunk; raises OSError when the file cannot be written (then stops)."""
        import av

        if self.error is not None or self._container is None:
            return
        samples = np.clip(chunk.samples[:, :self.channels], -1.0, 1.0)
        pcm = (samples * 32767.0).astype(np.int16).reshape(1, -1)  # packed s16: interleaved
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout=self._layout)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        self._pts += samples.shape[0]
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            self.frames_written += samples.shape[0]
            if self.frames_written - self._synced >= SYNC_EVERY * SAMPLE_RATE:
                self.sync()
        except OSError as exc:
            self._fail(exc)
            raise

    def sync(self) -> None:
        """Push what the encoder produced so far to the disk."""
        if self.error is not None or self._file.closed:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._synced = self.frames_written

    def _fail(self, exc: OSError) -> None:
        self.error = exc
        log.info("cannot write the recording %s (%s): recording stopped", self.path,
                    exc.strerror or exc)

    def close(self) -> None:
        """Flush the encoder and finish the file; raises OSError when that cannot be written.

        After a failed write it only closes the file (the failure was already raised).
        """
        container, self._container = self._container, None
        if container is None:
            return
        if self.error is None:
            try:
                for packet in self._stream.encode(None):
                    container.mux(packet)
                container.close()
                self._file.close()
                return
            except OSError as exc:
                self._fail(exc)
                self._abandon(container)
                raise
        self._abandon(container)

    def _abandon(self, container: Any) -> None:
        """Close what is left after a failure; their errors only repeat it."""
        for close in (container.close, self._file.close):
            try:
                close()
            except Exception as exc:  # PyAV repeats the lost write as its own error type
                log.debug("closing the failed recording %s: %s", self.path, exc)
