"""desktop-asr: private, local live captions, transcription and fine-tuning."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
