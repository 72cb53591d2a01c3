"""Play a stretch of a media file on an audio output: decode once, then play [start, end).

No Qt here: the transcript editor calls :class:`Player` from the UI thread, and the PortAudio
callback only copies samples that were decoded beforehand, so it never blocks.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from desktop_asr.audio.decode import decode_audio
from desktop_asr.errors import DesktopAsrError

__all__ = ["PlaybackError", "Player", "sample_range"]

log = logging.getLogger(__name__)

_WHAT = "the audio output"


class PlaybackError(DesktopAsrError):
    """Audio cannot be played (no output device, device busy, no PortAudio); message is plain."""


def sample_range(start: float, end: float, rate: int, length: int) -> tuple[int, int]:
    """Sample indices [first, last) of the span [start, end) seconds, clamped to ``length``."""
    if not (np.isfinite(start) and np.isfinite(end)) or end < start:
        raise ValueError(f"cannot play from {start!r} s to {end!r} s")
    first = min(length, max(0, round(start * rate)))
    last = min(length, max(first, round(end * rate)))
    return first, last


def _portaudio() -> Any:
    # Capture and playback share one PortAudio: its open-stream count keeps device re-scans
    # from closing a stream that is still playing.
    from desktop_asr.capture import _portaudio as pa
    from desktop_asr.capture.base import CaptureError

    try:
        pa.sounddevice()
    except CaptureError as exc:
        raise PlaybackError(str(exc).replace("audio capture", "audio playback")) from exc
    return pa


class Player:
    """Plays parts of one file on the default output (or ``device``); one part at a time."""

    def __init__(self, source: str | os.PathLike[str], *, device: int | str | None = None
                 ) -> None:
        self.source = Path(source)
        self.device = device
        self._decoded: dict[int, np.ndarray] = {}
        self._stream: Any = None
        self._audio = np.zeros(0, dtype=np.float32)
        self._pos = 0
        self._stop_at = 0
        self._done = threading.Event()
        self._done.set()
        self.last_range: tuple[int, int, int] | None = None  # (first, last, rate) last played

    @property
    def is_playing(self) -> bool:
        """True from play() until the part has been played or stop() was called."""
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current part has finished; False on timeout."""
        return self._done.wait(timeout)

    def audio(self, rate: int) -> np.ndarray:
        """The whole file as mono float32 at ``rate`` Hz, decoded on first use only."""
        if rate not in self._decoded:
            log.info("decoding %s at %d Hz for playback", self.source, rate)
            self._decoded = {rate: decode_audio(self.source, sample_rate=rate)}
        return self._decoded[rate]

    def play(self, start: float, end: float) -> None:
        """Start playing [start, end) seconds and return at once; stops any part playing."""
        self.stop()
        pa = _portaudio()
        sd = pa.sounddevice()
        info = self._output_device(sd)
        rate = int(info["default_samplerate"])
        audio = self.audio(rate)
        first, last = sample_range(start, end, rate, audio.size)
        self.last_range = (first, last, rate)
        if last <= first:
            return
        self._audio, self._pos, self._stop_at = audio, first, last
        self._done.clear()
        stream = None
        for channels in (1, 2):  # mono first; some outputs only open in stereo
            try:
                # High latency: nobody notices 0.1 s before a segment starts, but underruns
                # (gaps) on a busy machine are heard.
                stream = sd.OutputStream(device=info["index"], channels=channels, samplerate=rate,
                                         dtype="float32", latency="high", blocksize=2048,
                                         callback=self._callback,
                                         finished_callback=self._done.set)
                break
            except sd.PortAudioError as exc:
                if pa.error_code(exc) == pa.PA_INVALID_CHANNEL_COUNT and channels == 1:
                    continue
                self._done.set()
                raise self._explain(pa, exc) from exc
        pa.stream_opened()
        try:
            stream.start()
        except sd.PortAudioError as exc:
            stream.close(ignore_errors=True)
            pa.stream_closed()
            self._done.set()
            raise self._explain(pa, exc) from exc
        self._stream = stream
        log.info("playing %s from %.2f s to %.2f s on %s", self.source.name, first / rate,
                 last / rate, info["name"])

    def stop(self) -> None:
        """Stop playing (if anything plays) and release the output device."""
        stream, self._stream = self._stream, None
        if stream is not None:
            _portaudio().close_stream(stream, _WHAT)
        self._done.set()

    def close(self) -> None:
        """Stop and forget the decoded audio."""
        self.stop()
        self._decoded.clear()

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy the next samples and go; never wait here.
        n = max(0, min(frames, self._stop_at - self._pos))
        outdata[:n] = self._audio[self._pos:self._pos + n, np.newaxis]
        outdata[n:] = 0.0
        self._pos += n
        if self._pos >= self._stop_at:
            import sounddevice

            raise sounddevice.CallbackStop

    def _output_device(self, sd: ModuleType) -> dict[str, Any]:
        try:
            info = dict(sd.query_devices(self.device, "output"))
        except (sd.PortAudioError, ValueError) as exc:
            if self.device is None:
                raise PlaybackError("no audio output device found: connect speakers or "
                                    "headphones, or start the sound server, to play audio"
                                    ) from exc
            raise PlaybackError(f"audio output device {self.device!r} not found") from exc
        if int(info.get("max_output_channels", 0)) < 1:
            raise PlaybackError(f"{info['name']} cannot play audio (it is an input device)")
        return info

    @staticmethod
    def _explain(pa: Any, exc: BaseException) -> PlaybackError:
        return PlaybackError(str(pa.explain(exc, _WHAT)).replace("the inputs", "the devices"))
