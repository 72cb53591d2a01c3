"""Capture from a PortAudio input device (microphone, line in, virtual device) via sounddevice."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from desktop_asr.capture import _portaudio as pa
from desktop_asr.capture._queued import QueuedSource
from desktop_asr.capture.base import AudioChunk, CaptureError, SourceStats
from desktop_asr.capture.queue import FrameQueue

__all__ = ["DeviceSource"]

logger = logging.getLogger(__name__)

# Device blocks of 20 ms: small enough for live captions, large enough that the callback
# (and the GIL it needs) runs only 50 times a second.
_BLOCK_S = 0.02


class DeviceSource(QueuedSource):
    """An input device; ``device`` is None (the default input), an id, or a name (substring).

    The PortAudio callback only copies each block into the bounded queue; ``read`` converts
    to 16 kHz float32. ``channels=None`` records one channel ("mic"; PortAudio/the host mixes
    down, or we average when the device insists on two); an explicit count keeps them apart.
    If the device goes away mid-session, ``read`` hands out everything captured so far and
    then raises CaptureError. So does a stream that sends nothing for ``stall_timeout``
    seconds: some PortAudio ALSA versions never report a vanished device (PortAudio #1037).
    """

    def __init__(
        self,
        device: int | str | None = None,
        *,
        channels: int | None = None,
        samplerate: float | None = None,
        blocksize: int | None = None,
        queue_seconds: float = 10.0,
        label: str | None = None,
        stall_timeout: float | None = 5.0,
    ) -> None:
        if channels is not None and channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        labels = ("mic",) if channels in (None, 1) else tuple(f"mic {k + 1}"
                                                              for k in range(channels or 0))
        super().__init__(label or "Microphone", labels, queue_seconds)
        self.device = device
        self.channels = channels
        self.samplerate = samplerate
        self.blocksize = blocksize
        self._fixed_label = label is not None
        self._stream: Any = None
        self._stopping = False
        self._rate = 0.0
        self._cb_queue: FrameQueue | None = None
        self._device_overflows = 0
        self._extra_settings: Any = None
        self.stall_timeout = stall_timeout
        self._last_audio_at = 0.0

    # -- choosing the device ------------------------------------------------------------

    def _resolve(self, sd: ModuleType) -> dict[str, Any]:
        """The PortAudio device to open; CaptureError with a plain reason when there is none."""
        dev = self.device
        if isinstance(dev, str) and dev.strip().lstrip("-").isdigit():
            dev = int(dev)
        if dev is None:
            index = pa.default_input_index(sd)
            if index is None:
                inputs = pa.input_devices(sd)
                if not inputs:
                    raise CaptureError("no microphone or input device found")
                index = int(inputs[0]["index"])
                logger.info("no default input device; using %s", inputs[0]["name"])
            return dict(sd.query_devices(index))
        if isinstance(dev, int):
            try:
                info = dict(sd.query_devices(dev))
            except (sd.PortAudioError, ValueError, IndexError) as exc:
                raise CaptureError(f"input device {dev} not found; run 'desktop-asr devices' "
                                   "to list the inputs") from exc
            if info["max_input_channels"] < 1:
                raise CaptureError(f"device {dev} ({info['name']}) is not an input device; "
                                   "run 'desktop-asr devices' to list the inputs")
            return info
        try:
            return dict(sd.query_devices(dev, "input"))
        except ValueError as exc:
            if "ultiple" in str(exc):
                raise CaptureError(f"more than one input device matches {dev!r}; use its id "
                                   "from 'desktop-asr devices'") from exc
            raise CaptureError(f"input device {dev!r} not found; run 'desktop-asr devices' to "
                               "list the inputs") from exc

    @contextlib.contextmanager
    def _open_context(self) -> Iterator[None]:
        """Hook around opening the stream (system audio sets PULSE_SOURCE here)."""
        yield

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        """Open and start the device; CaptureError with a plain reason when it cannot."""
        if self._stream is not None:
            return
        sd = pa.sounddevice()
        info = self._resolve(sd)
        if not self._fixed_label and self.label == "Microphone":
            self.label = f"Microphone ({info['name']})"
        rate = float(self.samplerate or info["default_samplerate"])
        available = int(info["max_input_channels"])
        if self.channels is not None and self.channels > available:
            raise CaptureError(f"{self.label} has {available} input channel(s); "
                               f"{self.channels} were requested")
        # Mono first; some hardware only opens in stereo, which we then average.
        attempts = [self.channels] if self.channels else [1] + ([2] if available >= 2 else [])
        stream = None
        for count in attempts:
            self._cb_queue = self._prepare(rate, count, downmix=self.channels is None)
            self._rate, self.started_at, self._stopping = rate, None, False
            try:
                with self._open_context():
                    stream = sd.InputStream(
                        device=info["index"], channels=count, samplerate=rate, dtype="float32",
                        blocksize=self.blocksize or round(rate * _BLOCK_S),
                        callback=self._callback, finished_callback=self._finished,
                        extra_settings=self._extra_settings)
                break
            except sd.PortAudioError as exc:
                if pa.error_code(exc) == pa.PA_INVALID_CHANNEL_COUNT and count != attempts[-1]:
                    continue
                raise pa.explain(exc, self.label) from exc
        assert stream is not None
        pa.stream_opened()
        try:
            stream.start()
        except sd.PortAudioError as exc:
            stream.close(ignore_errors=True)
            pa.stream_closed()
            raise pa.explain(exc, self.label) from exc
        self._stream = stream
        self._last_audio_at = time.monotonic()
        logger.info("capturing %s at %g Hz, %d channel(s)", self.label, rate, stream.channels)

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy and go. Nothing here may wait or allocate much.
        now = time.monotonic()
        queue = self._cb_queue
        if queue is None:
            return
        if self.started_at is None:
            self.started_at = now - frames / self._rate
        self._last_audio_at = now
        if status.input_overflow:
            self._device_overflows += 1
            queue.count_overflow()
        queue.put_nowait(indata.copy(), now)

    def _finished(self) -> None:
        # Called when the stream ends: by our stop(), or because the device/server went away.
        if not self._stopping:
            self._lost()

    def _lost(self) -> None:
        queue = self._cb_queue
        if queue is not None and not queue.closed:
            logger.warning("%s stopped delivering audio", self.label)
            queue.close(CaptureError(
                f"{self.label} stopped delivering audio (it was unplugged or disabled, or the "
                "sound server stopped); the audio captured until then was kept"))

    def read(self, timeout: float = 0.1) -> AudioChunk | None:
        """Next chunk at 16 kHz; CaptureError (after the audio so far) if the device went away."""
        stream = self._stream
        if stream is not None and not self._stopping:
            try:
                alive = bool(stream.active)
            except Exception:  # a stream whose device vanished may not even answer
                alive = False
            quiet = time.monotonic() - self._last_audio_at
            if not alive or (self.stall_timeout is not None and quiet > self.stall_timeout):
                self._lost()
        return super().read(timeout)

    def stop(self) -> None:
        """Stop capturing; frames already captured can still be read until SourceEnded."""
        self._stopping = True
        stream, self._stream = self._stream, None
        if stream is not None:
            pa.close_stream(stream, self.label)
        if self._cb_queue is not None:
            self._cb_queue.close()

    def stats(self) -> SourceStats:
        """Counters so far; ``extra["device_overflows"]``: overflows PortAudio reported."""
        base = super().stats()
        return dataclasses.replace(base, extra={"device_overflows": self._device_overflows})
