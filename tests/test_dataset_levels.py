"""Take checks (desktop_asr.datasets.levels) on signals with known levels, and the wizard's
dataset writing read back by the training module's validator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_asr.datasets.dataset import read_dataset
from desktop_asr.datasets.levels import check_levels
from desktop_asr.ui import dataset_store as app_side
from training.validate import validate_dataset

SR = 16000


def _voice(seconds: float = 2.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
            ).astype(np.float32)


def test_a_speech_like_take_is_fine_and_its_level_is_measured() -> None:
    report = check_levels(_voice(amplitude=0.3))
    assert report.ok and not report.warnings
    # loudest 50-ms RMS of a 0.3-peak tone under a slow envelope: a little under 0.3/sqrt(2)
    expected = 20 * np.log10(0.3 / np.sqrt(2))
    assert expected - 1.0 < report.peak_dbfs <= expected + 0.01
    assert report.duration == pytest.approx(2.0)
    assert "sounds good" in report.summary()


@pytest.mark.parametrize(("samples", "kind", "words"), [
    (np.zeros(2 * SR, np.float32), "error", "silent"),
    (_voice(0.3), "error", "too short"),
    (_voice(31.0), "error", "too long"),
    (_voice(amplitude=0.006), "warning", "very quiet"),
    (np.clip(_voice(amplitude=2.4), -1, 1), "warning", "clipped"),
])
def test_bad_takes_say_what_is_wrong(samples: np.ndarray, kind: str, words: str) -> None:
    report = check_levels(samples)
    found = report.errors if kind == "error" else report.warnings
    assert any(words in message for message in found), (report.errors, report.warnings)
    assert report.ok == (kind == "warning")
    assert words in report.summary()


def test_takes_saved_by_the_app_are_a_valid_training_dataset(tmp_path: Path) -> None:
    folder = app_side.create_dataset("voice", root=tmp_path, vocabulary=("Veltrion",))
    rng = np.random.default_rng(0)
    app_side.save_take(folder, _voice(), "first  sentence")
    app_side.save_take(folder, rng.normal(0, 0.1, 2 * SR).astype(np.float32), "second sentence")
    dataset = read_dataset(folder)
    assert [i.id for i in dataset.items] == ["0001", "0002"]
    assert [i.text for i in dataset.items] == ["first sentence", "second sentence"]
    assert dataset.vocabulary == ("Veltrion",) and dataset.items[0].origin == "wizard"
    result = validate_dataset(folder)
    assert result.errors == () and len(result.usable) == 2
    assert app_side.recorded_texts(folder) == {"first sentence", "second sentence"}
    assert app_side.list_datasets(tmp_path) == [folder]
    assert app_side.add_vocabulary(folder, ("Zorbex", "Veltrion")) == ("Veltrion", "Zorbex")
    assert read_dataset(folder).vocabulary == ("Veltrion", "Zorbex")
