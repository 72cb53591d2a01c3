"""Records the captured audio of a live session to FLAC as it arrives."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from desktop_asr.capture.base import AudioChunk

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
SYNC_EVERY = 2.0  # seconds of audio between pushes to the disk


class FlacRecorder:
    """Streams 16 kHz chunks (one or two channels) into a FLAC file.

    The encoder writes as it goes, so a crash loses only what is still in its small output
    buffer; the file stays decodable without its final header update.
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

    def write(self, chunk: AudioChunk) -> None:
        """Encode one chunk."""
        import av

        samples = np.clip(chunk.samples[:, :self.channels], -1.0, 1.0)
        pcm = (samples * 32767.0).astype(np.int16).reshape(1, -1)  # packed s16: interleaved
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout=self._layout)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        self._pts += samples.shape[0]
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += samples.shape[0]
        if self.frames_written - self._synced >= SYNC_EVERY * SAMPLE_RATE:
            self.sync()

    def sync(self) -> None:
        """Push what the encoder produced so far to the disk."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._synced = self.frames_written

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._container is None:
            return
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None  # type: ignore[assignment]
        self._file.close()
