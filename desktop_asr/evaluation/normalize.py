"""Whisper-style text normalisation, so transcripts and references compare fairly."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Callable

log = logging.getLogger(__name__)

Normalizer = Callable[[str], str]


def _basic(text: str) -> str:
    # Fallback when transformers is absent: case, accents on symbols, punctuation, spaces.
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


@lru_cache(maxsize=4)
def normalizer_for(language: str | None, *, raw: bool = False) -> Normalizer:
    """The normaliser for a language: transformers' Whisper English one for English.

    transformers ships the English normaliser's code but not OpenAI's British-to-American
    spelling table (that lives in each model repository's ``normalizer.json``), so it runs with
    an empty table here; the clips we score use American spelling.
    """
    if raw:
        return lambda s: " ".join(s.split())
    try:
        from transformers.models.whisper.english_normalizer import (BasicTextNormalizer,
                                                                    EnglishTextNormalizer)
    except ImportError:
        log.warning("transformers is not installed: using a basic text normaliser "
                    "(install desktop-asr[eval] for Whisper's)")
        return _basic
    if language in (None, "en") or (language or "").startswith("en"):
        return EnglishTextNormalizer({})
    return BasicTextNormalizer(remove_diacritics=False)
