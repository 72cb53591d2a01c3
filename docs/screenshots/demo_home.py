"""A throwaway home folder for the screenshot scripts.

The app then keeps its settings, models and sessions where it would for a user
(``~/.config/desktop-asr``, ``~/.local/share/desktop-asr``), and the shots show those paths
instead of a temporary folder or the developer's checkout.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_OVERRIDES = ("DESKTOP_ASR_HOME", "DESKTOP_ASR_CONFIG_DIR", "DESKTOP_ASR_DATA_DIR",
              "DESKTOP_ASR_CACHE_DIR", "DESKTOP_ASR_MODELS_DIR", "XDG_CONFIG_HOME",
              "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


def use_demo_home() -> Path:
    """Point HOME at a new empty folder (for this process and its children); return it."""
    home = Path(tempfile.mkdtemp(prefix="desktop-asr-shots-"))
    os.environ["HOME"] = str(home)
    for var in _OVERRIDES:
        os.environ.pop(var, None)
    return home
