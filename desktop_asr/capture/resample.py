"""Streaming conversion of captured frames to 16 kHz float32, channels kept apart.

Built on ffmpeg's libswresample through PyAV. The resampler keeps its filter history between
calls, so audio fed in 10 ms pieces comes out the same as audio fed in one go (no clicks at
chunk boundaries), and its output length follows the input length exactly over any duration
(it buffers the fractional remainder instead of rounding each chunk).
"""

from __future__ import annotations

import logging

import av
import numpy as np

from desktop_asr.capture.base import SAMPLE_RATE

__all__ = ["StreamResampler", "to_float32"]

logger = logging.getLogger(__name__)

_INT_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0,
              np.dtype(np.int8): 128.0}


def to_float32(samples: np.ndarray) -> np.ndarray:
    """Samples as float32 in [-1, 1] with shape (frames, channels)."""
    data = np.asarray(samples)
    if data.ndim == 1:
        data = data[:, np.newaxis]
    if data.ndim != 2:
        raise ValueError(f"samples must have shape (frames, channels), got {data.shape}")
    if data.dtype == np.uint8:      # 8-bit PCM is unsigned, centred on 128
        return ((data.astype(np.float32) - 128.0) / 128.0)
    scale = _INT_SCALE.get(data.dtype)
    if scale is not None:
        return data.astype(np.float32) / np.float32(scale)
    return data.astype(np.float32, copy=False)


def _layout(channels: int) -> str:
    # "1c"/"2c"-style names are not parsed for every count by ffmpeg; "N channels" is.
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")


class StreamResampler:
    """Resample a stream of (frames, channels) blocks from ``in_rate`` to ``out_rate``."""

    def __init__(self, in_rate: float, channels: int, out_rate: int = SAMPLE_RATE) -> None:
        rate = round(in_rate)
        if rate <= 0 or abs(rate - in_rate) > 1e-6:
            raise ValueError(f"input rate must be a positive whole number of Hz, got {in_rate}")
        if channels <= 0:
            raise ValueError(f"channels must be positive, got {channels}")
        self.in_rate = rate
        self.out_rate = int(out_rate)
        self.channels = int(channels)
        self.passthrough = self.in_rate == self.out_rate
        self._layout = _layout(self.channels)
        self._resampler: av.AudioResampler | None = None
        self.frames_in = 0
        self.frames_out = 0

    def _new(self) -> av.AudioResampler:
        # Packed float both ways: PyAV 18 crashes on planar frames with 8+ channels.
        return av.AudioResampler(format="flt", layout=self._layout, rate=self.out_rate)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Resample the next block; returns float32 (frames, channels), possibly empty."""
        data = to_float32(samples)
        if data.shape[1] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {data.shape[1]}")
        self.frames_in += data.shape[0]
        if self.passthrough or data.shape[0] == 0:
            out = data if self.passthrough else self._empty()
            self.frames_out += out.shape[0]
            return out
        if self._resampler is None:
            self._resampler = self._new()
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data).reshape(1, -1),
                                           format="flt", layout=self._layout)
        frame.sample_rate = self.in_rate
        return self._collect(self._resampler.resample(frame))

    def flush(self) -> np.ndarray:
        """Output still held in the filter (call at the end of contiguous audio); then reset."""
        if self._resampler is None:
            return self._empty()
        resampler, self._resampler = self._resampler, None
        return self._collect(resampler.resample(None))

    def _collect(self, frames: list[av.AudioFrame]) -> np.ndarray:
        parts = [f.to_ndarray().reshape(-1, self.channels) for f in frames]
        out = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else self._empty())
        # Interpolation can overshoot full scale a little on clipped input.
        np.clip(out, -1.0, 1.0, out=out)
        self.frames_out += out.shape[0]
        return out

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.channels), dtype=np.float32)

    def output_position(self, input_frames: int) -> int:
        """Output frame at which input frame ``input_frames`` lands."""
        return (int(input_frames) * self.out_rate + self.in_rate // 2) // self.in_rate
