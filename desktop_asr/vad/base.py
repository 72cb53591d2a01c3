"""Voice activity detection: frame classifiers and the events of the utterance segmenter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class VoiceDetector(Protocol):
    """Classifies fixed-size 16 kHz mono float32 frames as speech or not."""

    frame_samples: int

    def speech_probability(self, frame: np.ndarray) -> float:
        """Probability (0..1; webrtcvad gives 0 or 1) that ``frame`` holds speech."""
        ...

    def reset(self) -> None:
        """Forget state carried between frames (start of a new stream)."""
        ...


@dataclass(frozen=True)
class VadOptions:
    """How speech regions are cut: detector, thresholds, endpointing, padding."""

    kind: str = "silero"             # "silero" (ONNX from faster-whisper) or "webrtc"
    aggressiveness: int = 2          # webrtcvad 0..3
    threshold: float = 0.5           # silero speech probability threshold
    min_speech: float = 0.15         # shorter blips are noise, not speech
    min_silence: float = 0.5         # silence that ends an utterance (endpoint)
    max_utterance: float = 20.0      # force an endpoint after this much speech
    pad: float = 0.2                 # audio kept before onset and after offset

    def __post_init__(self) -> None:
        if self.kind not in ("silero", "webrtc"):
            raise ValueError(f"VAD kind must be 'silero' or 'webrtc', got {self.kind!r}")
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError("webrtc aggressiveness must be 0, 1, 2 or 3")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be within (0, 1)")
        for name in ("min_speech", "min_silence", "pad"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.max_utterance <= max(1.0, self.min_silence):
            raise ValueError("max_utterance must be > 1 s and longer than min_silence")


@dataclass(frozen=True)
class SpeechStarted:
    """An utterance begins at ``start`` (stream seconds, padding included)."""

    start: float


@dataclass(frozen=True, eq=False)
class SpeechAudio:
    """Audio that belongs to the current utterance, starting at stream time ``start``."""

    start: float
    samples: np.ndarray


@dataclass(frozen=True)
class SpeechEnded:
    """The current utterance ends at ``end``; reason is 'silence', 'max_length' or 'flush'."""

    end: float
    reason: str


VadEvent = SpeechStarted | SpeechAudio | SpeechEnded
