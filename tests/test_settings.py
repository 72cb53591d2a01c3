"""Settings persist as JSON in the config folder and survive bad or foreign files."""

from __future__ import annotations

import json

import pytest

from desktop_asr.settings import (OverlayStyle, Settings, load_settings, save_settings,
                                  settings_path)


def test_defaults_round_trip_and_live_in_the_config_folder(isolated_home) -> None:
    assert load_settings() == Settings()
    custom = Settings(model="small.en", hotwords=("Dashwood",), theme="high-contrast",
                      overlay=OverlayStyle(font_size=40, geometry=(10, 20, 800, 120)))
    path = save_settings(custom)
    assert path == settings_path() and str(path).startswith(str(isolated_home))
    again = load_settings()
    assert again == custom and again.overlay.geometry == (10, 20, 800, 120)
    assert again.shortcuts["toggle_overlay"] == "Ctrl+Shift+O"


def test_unknown_keys_are_ignored_and_bad_values_fall_back(isolated_home) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"model": "base.en", "device": "tpu", "from_the_future": 1,
                                "overlay": {"font_size": 500, "lines": 3}}))
    loaded = load_settings()
    assert loaded.model == "base.en"
    assert loaded.device == "auto"                 # invalid value: default kept
    assert loaded.overlay == OverlayStyle()        # invalid overlay: default kept


def test_corrupt_file_is_set_aside_not_fatal(isolated_home) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("{ not json")
    assert load_settings() == Settings()
    assert not path.exists() and path.with_name("settings.json.bad").read_text() == "{ not json"


def test_validation() -> None:
    with pytest.raises(ValueError):
        Settings(vad_kind="magic")
    with pytest.raises(ValueError):
        Settings(vad_aggressiveness=4)
    with pytest.raises(ValueError):
        Settings(vad_max_utterance=2.0)
    with pytest.raises(ValueError):
        OverlayStyle(lines=4)
