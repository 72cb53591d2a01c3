"""Speech engines behind one interface, created by name from a registry."""

from __future__ import annotations

import importlib

from desktop_asr.engines.base import (Cancelled, DecodeOptions, Engine, EngineCapabilities,
                                      EngineConfig, EngineInfo, ProgressCallback)
from desktop_asr.errors import MissingExtraError

DEFAULT_ENGINE = "faster-whisper"

# name -> (module, class, python module it needs, extra that provides it)
_REGISTRY: dict[str, tuple[str, str, str, str]] = {
    "faster-whisper": ("desktop_asr.engines.faster_whisper", "FasterWhisperEngine",
                       "faster_whisper", "core"),
    "transformers-whisper": ("desktop_asr.engines.transformers_whisper",
                             "TransformersWhisperEngine", "transformers", "torch"),
    "wav2vec2": ("desktop_asr.engines.wav2vec2", "Wav2Vec2Engine", "torch", "torch"),
    "conformer": ("desktop_asr.engines.conformer", "create_conformer_engine", "torchaudio",
                  "torch"),
}


def engine_names() -> tuple[str, ...]:
    """Names accepted by :func:`create_engine` (and the CLI's ``--engine``)."""
    return tuple(_REGISTRY)


def create_engine(name: str = DEFAULT_ENGINE, config: EngineConfig | None = None) -> Engine:
    """Load the named engine with ``config``; heavy libraries are imported only here."""
    try:
        module_name, class_name, needs, extra = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(_REGISTRY)}") from None
    try:
        importlib.import_module(needs)
    except ImportError as exc:
        raise MissingExtraError(f"the {name} engine", needs, extra) from exc
    cls = getattr(importlib.import_module(module_name), class_name)
    engine: Engine = cls(config or EngineConfig())
    return engine


__all__ = ["Cancelled", "DecodeOptions", "Engine", "EngineCapabilities", "EngineConfig",
           "EngineInfo", "ProgressCallback", "DEFAULT_ENGINE", "create_engine", "engine_names"]
