"""User settings: frozen dataclasses stored as JSON in the config folder.

Unknown keys are ignored and missing ones take defaults, so settings files survive upgrades and
downgrades; a corrupt file is set aside (``settings.json.bad``) instead of stopping the app.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from desktop_asr import paths
from desktop_asr.vad.base import VadOptions

log = logging.getLogger(__name__)

SETTINGS_NAME = "settings.json"

DEFAULT_SHORTCUTS = {
    "start_stop": "Ctrl+R", "pause": "Ctrl+P", "toggle_overlay": "Ctrl+Shift+O",
    "add_files": "Ctrl+O", "transcribe": "Ctrl+Return", "export": "Ctrl+E",
    "copy_text": "Ctrl+Shift+C", "find": "Ctrl+F", "settings": "Ctrl+,",
}


@dataclass(frozen=True)
class OverlayStyle:
    """Look and place of the always-on-top caption overlay."""

    font_size: int = 26
    text_color: str = "#ffffff"
    background: str = "#000000"
    opacity: float = 0.72
    lines: int = 2
    click_through: bool = False
    geometry: tuple[int, int, int, int] | None = None  # x, y, width, height; None = centred

    def __post_init__(self) -> None:
        if not 8 <= self.font_size <= 96:
            raise ValueError("overlay font size must be within 8..96")
        if not 0.1 <= self.opacity <= 1.0:
            raise ValueError("overlay opacity must be within 0.1..1")
        if not 1 <= self.lines <= 3:
            raise ValueError("the overlay shows 1 to 3 lines")
        if self.geometry is not None:
            object.__setattr__(self, "geometry", tuple(int(v) for v in self.geometry))


@dataclass(frozen=True)
class Settings:
    """Everything the app remembers between runs."""

    model: str = "tiny.en"
    device: str = "auto"
    compute_type: str = "auto"
    language: str | None = None
    hotwords: tuple[str, ...] = ()
    source: str = "mic"                 # mic | system | both | a device id
    vad_kind: str = "silero"
    vad_min_silence: float = 0.5
    vad_aggressiveness: int = 2         # webrtc only: 0 (lets most through) .. 3 (strictest)
    vad_max_utterance: float = 20.0     # a caption line is cut after this much speech
    record: bool = False
    sessions_dir: str | None = None     # None: the data folder's sessions/
    theme: str = "system"               # system | high-contrast
    overlay: OverlayStyle = field(default_factory=OverlayStyle)
    shortcuts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SHORTCUTS),
                                      compare=False, hash=False)
    # Speakers (diarization): live labels on the Live page, which diarizer files and the
    # finalise pass use, the pyannote model (a local folder or a hub id, with a hub token for
    # gated models), the user's own name for the microphone, the live speaker cap, naming from
    # enrolled voices, and dropping the far side's echo picked up by the microphone.
    live_speakers: bool = False
    diarizer: str = "embedded"          # embedded | pyannote
    pyannote_model: str = ""
    hf_token: str = field(default="", repr=False)
    user_name: str = "You"
    max_speakers: int = 8
    name_from_voices: bool = True
    echo_suppression: bool = True

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.vad_kind not in ("silero", "webrtc"):
            raise ValueError(f"VAD must be silero or webrtc, got {self.vad_kind!r}")
        if self.theme not in ("system", "high-contrast"):
            raise ValueError(f"theme must be system or high-contrast, got {self.theme!r}")
        if not 0.1 <= self.vad_min_silence <= 5.0:
            raise ValueError("the end-of-speech silence must be within 0.1..5 s")
        if self.vad_aggressiveness not in (0, 1, 2, 3):
            raise ValueError("the webrtc aggressiveness must be 0, 1, 2 or 3")
        if not 5.0 <= self.vad_max_utterance <= 30.0:
            raise ValueError("the longest utterance must be within 5..30 s")
        if self.diarizer not in ("embedded", "pyannote"):
            raise ValueError(f"diarizer must be embedded or pyannote, got {self.diarizer!r}")
        if not 1 <= self.max_speakers <= 20:
            raise ValueError("the live speaker cap must be within 1..20")
        if not " ".join(str(self.user_name).split()):
            raise ValueError("the microphone speaker needs a name")
        object.__setattr__(self, "user_name", " ".join(str(self.user_name).split()))
        object.__setattr__(self, "hotwords", tuple(self.hotwords))
        object.__setattr__(self, "shortcuts", {**DEFAULT_SHORTCUTS, **dict(self.shortcuts)})

    def vad_options(self) -> VadOptions:
        """The voice detection these settings ask for."""
        return VadOptions(kind=self.vad_kind, min_silence=self.vad_min_silence,
                          aggressiveness=self.vad_aggressiveness,
                          max_utterance=self.vad_max_utterance)

    def sessions_path(self) -> Path:
        """Where live sessions are stored."""
        return Path(self.sessions_dir).expanduser() if self.sessions_dir else paths.sessions_dir()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        data = dataclasses.asdict(self)
        data["hotwords"] = list(self.hotwords)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Build from JSON, ignoring unknown keys and keeping defaults for bad values."""
        known = {f.name for f in fields(cls)}
        base = cls()
        for key, value in data.items():
            if key not in known:
                continue
            try:
                if key == "overlay":
                    okeys = {f.name for f in fields(OverlayStyle)}
                    value = OverlayStyle(**{k: v for k, v in dict(value).items() if k in okeys})
                base = replace(base, **{key: value})
            except (TypeError, ValueError) as exc:
                log.warning("settings: ignoring %s=%r (%s)", key, value, exc)
        return base


def settings_path() -> Path:
    """The settings file."""
    return paths.config_dir() / SETTINGS_NAME


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings; defaults when absent; a corrupt file is renamed and reported."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        log.warning("cannot read %s (%s); using defaults", path, exc)
        return Settings()
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        bad = path.with_name(path.name + ".bad")
        os.replace(path, bad)
        log.warning("settings file %s was corrupt (%s); kept it as %s, using defaults",
                    path, exc, bad)
        return Settings()
    return Settings.from_dict(data)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(settings.to_dict(), fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
