"""The app's recording wizard and the training module check takes and write datasets on their
own (the app may not import ``training``); these tests keep the two in step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_asr.ui import dataset_store as app_side
from training import levels as training_side
from training.dataset import read_dataset
from training.validate import validate_dataset


def _signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 2) / 16000
    voice = (0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
             ).astype(np.float32)
    return {"speech-like": voice, "short": voice[:4000], "long": np.tile(voice, 16),
            "silent": np.zeros(32000, np.float32), "quiet": voice * 0.02,
            "clipped": np.clip(voice * 8, -1, 1), "noise": rng.normal(0, 0.1, 32000)}


@pytest.mark.parametrize("name", sorted(_signals()))
def test_both_checks_agree(name: str) -> None:
    x = _signals()[name]
    app = app_side.check_take(x)
    train = training_side.check_levels(x)
    assert app.ok == train.ok
    assert bool(app.warnings) == bool(train.warnings)
    assert abs(app.level_dbfs - train.peak_dbfs) < 1e-6
    assert abs(app.duration - train.duration) < 1e-9


def test_the_same_thresholds() -> None:
    for name in ("MIN_SECONDS", "MAX_SECONDS", "CLIP_LEVEL", "CLIP_FRACTION", "SILENCE_DBFS",
                 "QUIET_DBFS"):
        assert getattr(app_side, name) == getattr(training_side, name), name


def test_takes_saved_by_the_app_are_a_valid_training_dataset(tmp_path: Path) -> None:
    folder = app_side.create_dataset("voice", root=tmp_path, vocabulary=("Veltrion",))
    signals = _signals()
    app_side.save_take(folder, signals["speech-like"], "first  sentence")
    app_side.save_take(folder, signals["noise"], "second sentence")
    dataset = read_dataset(folder)
    assert [i.id for i in dataset.items] == ["0001", "0002"]
    assert [i.text for i in dataset.items] == ["first sentence", "second sentence"]
    assert dataset.vocabulary == ("Veltrion",) and dataset.items[0].origin == "wizard"
    result = validate_dataset(folder)
    assert result.errors == () and len(result.usable) == 2
    assert app_side.recorded_texts(folder) == {"first sentence", "second sentence"}
    assert app_side.list_datasets(tmp_path) == [folder]
