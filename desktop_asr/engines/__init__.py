"""Speech engines behind one interface, created by name from a registry."""

from __future__ import annotations

import importlib
import importlib.util

from desktop_asr.engines.base import (Cancelled, DecodeOptions, Engine, EngineCapabilities,
                                      EngineConfig, EngineInfo, ProgressCallback,
                                      unsupported_options)
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


def _entry(name: str) -> tuple[str, str, str, str]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(_REGISTRY)}") from None


def engine_extra(name: str) -> str:
    """The desktop-asr extra that installs what the named engine needs."""
    return _entry(name)[3]


def engine_backend(name: str) -> str:
    """The Python package the named engine is built on (imported when it is created)."""
    return _entry(name)[2]


def engine_available(name: str) -> bool:
    """Whether the package the engine needs is installed (found without importing it)."""
    try:
        return importlib.util.find_spec(_entry(name)[2]) is not None
    except (ImportError, ValueError):
        return False


def available_engines() -> tuple[str, ...]:
    """Registered engines whose backend is installed, in registry order."""
    return tuple(name for name in _REGISTRY if engine_available(name))


# An engine module may define, beside its class:
#   CAPABILITIES: EngineCapabilities  -- what it can do before a model is loaded (the loaded
#                                        engine's own .capabilities are authoritative);
#   default_model() -> str            -- a checkpoint that exists on this machine, for
#                                        benchmarks and the app's first choice.
# Reading them imports the engine module only: heavy libraries load when the engine is created.
def engine_capabilities(name: str) -> EngineCapabilities:
    """What the named engine can do, before loading any model (defaults where not declared)."""
    declared = getattr(importlib.import_module(_entry(name)[0]), "CAPABILITIES", None)
    return declared if isinstance(declared, EngineCapabilities) else EngineCapabilities()


def engine_default_model(name: str) -> str | None:
    """The engine's own default checkpoint, or None when it needs one to be named."""
    hook = getattr(importlib.import_module(_entry(name)[0]), "default_model", None)
    if callable(hook):
        return str(hook())
    return EngineConfig().model if name == DEFAULT_ENGINE else None


def supports_live(capabilities: EngineCapabilities) -> bool:
    """Whether live captions can run on an engine: they are built from timed words."""
    return capabilities.streaming_native or capabilities.word_timestamps


def create_engine(name: str = DEFAULT_ENGINE, config: EngineConfig | None = None) -> Engine:
    """Load the named engine with ``config``; heavy libraries are imported only here."""
    module_name, class_name, needs, extra = _entry(name)
    try:
        importlib.import_module(needs)
    except ImportError as exc:
        raise MissingExtraError(f"the {name} engine", needs, extra) from exc
    cls = getattr(importlib.import_module(module_name), class_name)
    engine: Engine = cls(config or EngineConfig())
    return engine


__all__ = ["Cancelled", "DecodeOptions", "Engine", "EngineCapabilities", "EngineConfig",
           "EngineInfo", "ProgressCallback", "DEFAULT_ENGINE", "available_engines",
           "create_engine", "engine_available", "engine_backend", "engine_capabilities",
           "engine_default_model", "engine_extra", "engine_names", "supports_live",
           "unsupported_options"]
