"""The one small engine interface, its options and its capabilities.

An engine loads its model once and then turns 16 kHz mono float32 audio into segments. Streaming
logic lives outside the engines; per-stream state never lives inside them.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from desktop_asr.types import Segment, Word

ProgressCallback = Callable[[float], None]
"""Called with the number of seconds of audio processed so far."""

_DEVICES = ("auto", "cpu", "cuda")


class Cancelled(Exception):
    """Raised by an engine when the caller's cancel event was set."""


@dataclass(frozen=True)
class EngineConfig:
    """What to load and where: model name or path, device, precision, CPU threads."""

    model: str = "tiny.en"
    device: str = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0
    device_index: int = 0

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("EngineConfig.model must name a model or a folder")
        if self.device not in _DEVICES:
            raise ValueError(f"device must be one of {_DEVICES}, got {self.device!r}")
        if self.cpu_threads < 0:
            raise ValueError(f"cpu_threads must be >= 0 (0 = automatic), got {self.cpu_threads}")
        if self.device_index < 0:
            raise ValueError(f"device_index must be >= 0, got {self.device_index}")


@dataclass(frozen=True)
class DecodeOptions:
    """How to decode; defaults match faster-whisper's so results are comparable with it."""

    language: str | None = None
    task: str = "transcribe"
    beam_size: int = 5
    best_of: int = 5
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    word_timestamps: bool = False
    hotwords: tuple[str, ...] = ()
    vad_filter: bool = True
    condition_on_previous_text: bool = True
    # Hallucination guards: a window whose no-speech probability is above no_speech_threshold
    # *and* whose mean log-probability is below log_prob_threshold is treated as silence;
    # compression_ratio_threshold re-decodes repetitive (highly compressible) output.
    no_speech_threshold: float | None = 0.6
    log_prob_threshold: float | None = -1.0
    compression_ratio_threshold: float | None = 2.4
    hallucination_silence_threshold: float | None = None
    repetition_filter: bool = True
    # Encode only the audio (plus a little silence) instead of a padded 30-s window: several
    # times faster for the short buffers of live captioning; ignored for long audio.
    fit_window: bool = False

    def __post_init__(self) -> None:
        if self.task not in ("transcribe", "translate"):
            raise ValueError(f"task must be 'transcribe' or 'translate', got {self.task!r}")
        if self.beam_size < 1 or self.best_of < 1:
            raise ValueError("beam_size and best_of must be >= 1")
        if not isinstance(self.temperature, tuple):
            object.__setattr__(self, "temperature", tuple(self.temperature))
        if not self.temperature or any(not (0.0 <= t <= 2.0) for t in self.temperature):
            raise ValueError(f"temperatures must be within [0, 2], got {self.temperature}")
        if isinstance(self.hotwords, str):
            raise ValueError("hotwords must be a sequence of words/phrases, not one string")
        object.__setattr__(self, "hotwords",
                           tuple(h.strip() for h in self.hotwords if h and h.strip()))
        if self.no_speech_threshold is not None and not 0.0 <= self.no_speech_threshold <= 1.0:
            raise ValueError("no_speech_threshold must be within [0, 1]")
        for name in ("log_prob_threshold", "compression_ratio_threshold",
                     "hallucination_silence_threshold"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be finite or None")
        if self.hallucination_silence_threshold is not None and not self.word_timestamps:
            raise ValueError("hallucination_silence_threshold needs word_timestamps=True")


@dataclass(frozen=True)
class EngineCapabilities:
    """What an engine can do, so callers only offer what works."""

    streaming_native: bool = False
    word_timestamps: bool = True
    languages: tuple[str, ...] = ()
    translate: bool = False
    hotwords: bool = True
    needs_gpu: bool = False

    @property
    def multilingual(self) -> bool:
        """True when the model knows more than one language."""
        return len(self.languages) != 1


@dataclass(frozen=True)
class EngineInfo:
    """What was actually loaded: resolved model, device and precision."""

    engine: str
    model: str
    model_path: str
    device: str
    compute_type: str
    cpu_threads: int
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@runtime_checkable
class Engine(Protocol):
    """Speech recogniser: load once in the constructor, then transcribe many times."""

    name: str
    capabilities: EngineCapabilities
    info: EngineInfo

    def transcribe(self, audio: np.ndarray, *, prompt: str = "",
                   options: DecodeOptions | None = None,
                   progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None) -> list[Segment]:
        """Transcribe 16 kHz mono float32 audio; times are relative to its first sample."""
        ...

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """Return the most likely language code and its probability."""
        ...


@runtime_checkable
class EngineStream(Protocol):
    """Per-stream incremental decoding state of a streaming-native engine.

    A streaming-native engine (``capabilities.streaming_native``) has ``create_stream()``
    returning one of these (cf. sherpa-onnx ``create_stream()`` / ``reset()``): the model stays
    in the engine, each stream holds only its own state. Word times are relative to the
    stream's first sample since the last reset.
    """

    def accept(self, samples: np.ndarray) -> None:
        """Decode the next 16 kHz mono float32 samples (as far as the model can yet)."""
        ...

    def finish(self) -> None:
        """End of input: decode what is left; nothing more is accepted until reset."""
        ...

    def reset(self) -> None:
        """Start over (a new utterance), keeping the shared model."""
        ...

    def split_words(self) -> tuple[list[Word], list[Word]]:
        """(fixed words, tentative words) of the best hypothesis; fixed words never change."""
        ...


def unsupported_options(engine: str, capabilities: EngineCapabilities,
                        options: DecodeOptions) -> str | None:
    """Why ``options`` ask for something the engine cannot do, or None when they fit."""
    if options.hotwords and not capabilities.hotwords:
        return (f"the {engine} engine has no custom vocabulary (hotwords); leave it out or "
                "use a Whisper engine")
    if options.task == "translate" and not capabilities.translate:
        return f"the {engine} engine cannot translate"
    if options.language and capabilities.languages and \
            options.language not in capabilities.languages:
        shown = ", ".join(capabilities.languages[:12])
        more = "..." if len(capabilities.languages) > 12 else ""
        return f"the {engine} engine's model does not know language {options.language!r} " \
               f"(it knows {shown}{more})"
    return None


def decode_language(info: EngineInfo, capabilities: EngineCapabilities,
                    language: str | None) -> str | None:
    """The language to decode in: the asked one if the model knows it (else ValueError), an
    English-only model's own, or None to detect it."""
    if language is not None and language not in capabilities.languages:
        raise ValueError(f"model {info.model} does not know language {language!r}; "
                         f"it knows: {', '.join(capabilities.languages)}")
    return language if capabilities.multilingual else capabilities.languages[0]


def check_audio(audio: np.ndarray) -> np.ndarray:
    """Validate engine input and return it as contiguous 1-D float32."""
    arr = np.asarray(audio)
    if arr.ndim != 1:
        raise ValueError(f"engines take 1-D mono audio, got shape {arr.shape}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float32)
    return np.ascontiguousarray(arr)
