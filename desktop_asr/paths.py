"""Where desktop-asr keeps its files, from platformdirs, each overridable by environment.

``DESKTOP_ASR_HOME`` moves everything under one folder (the tests use it to stay out of the
real home directory); ``DESKTOP_ASR_CONFIG_DIR``, ``DESKTOP_ASR_DATA_DIR``,
``DESKTOP_ASR_CACHE_DIR`` and ``DESKTOP_ASR_MODELS_DIR`` move one kind of file each.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "desktop-asr"


def _override(var: str, home_sub: str) -> Path | None:
    value = os.environ.get(var)
    if value:
        return Path(value).expanduser()
    home = os.environ.get("DESKTOP_ASR_HOME")
    if home:
        return Path(home).expanduser() / home_sub
    return None


def config_dir() -> Path:
    """Folder for settings."""
    return _override("DESKTOP_ASR_CONFIG_DIR", "config") or Path(
        platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Folder for models, sessions and datasets."""
    return _override("DESKTOP_ASR_DATA_DIR", "data") or Path(
        platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Folder for things that can be recreated (partial downloads, converted audio)."""
    return _override("DESKTOP_ASR_CACHE_DIR", "cache") or Path(
        platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def models_dir() -> Path:
    """Folder holding downloaded, imported and fine-tuned models, one sub-folder each."""
    return _override("DESKTOP_ASR_MODELS_DIR", "data/models") or data_dir() / "models"


def sessions_dir() -> Path:
    """Folder holding live sessions: transcripts, recordings and autosave journals."""
    return data_dir() / "sessions"


def datasets_dir() -> Path:
    """Folder holding training datasets."""
    return data_dir() / "datasets"
