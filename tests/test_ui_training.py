"""The Train page in a real (offscreen) window: the recording wizard, whose "microphone" is a
file-replay source (FileSource over espeak speech), playback on a private PulseAudio server,
and a real training subprocess on a random-weights Whisper (tests/test_training_helpers.py)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
import test_training_helpers as helpers
from audio_fixtures import write_wav
from PySide6.QtCore import Qt

from desktop_asr.capture import FileSource
from desktop_asr.models import ModelManager
from desktop_asr.settings import load_settings
from desktop_asr.ui.main_window import MainWindow
from desktop_asr.ui.training_wizard import RecordingWizard

pytest_plugins = ("pulse_fixtures",)

SENTENCE = "Please deploy the new build tonight."


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def _record(qtbot, wizard: RecordingWizard) -> None:
    with qtbot.waitSignal(wizard.takeChecked, timeout=30000):
        qtbot.mouseClick(wizard.record_button, Qt.MouseButton.LeftButton)


def test_wizard_records_checks_plays_rerecords_and_saves(qtbot, spoken, tmp_path: Path,
                                                         pulse_server) -> None:
    speech = spoken(SENTENCE)
    replay = {"path": speech}
    wizard = RecordingWizard(source_factory=lambda: FileSource(replay["path"], speed=0))
    qtbot.addWidget(wizard)
    wizard.vocabulary.setText("Veltrion")
    folder = wizard.create_dataset("my voice")
    assert folder is not None and wizard.dataset == folder
    wizard.set_prompts([SENTENCE, "A second prompt.", "A third prompt."])
    assert wizard.position.text() == "Prompt 1 of 3" and wizard.prompt.text() == SENTENCE
    assert not wizard.keep_button.isEnabled()
    # A silent "microphone": the take is refused with the reason.
    replay["path"] = write_wav(tmp_path / "silence.wav", np.zeros(32000), 16000)
    _record(qtbot, wizard)
    assert "silent" in wizard.verdict.text() and not wizard.keep_button.isEnabled()
    # Re-record with speech: accepted, and it plays back.
    replay["path"] = speech
    _record(qtbot, wizard)
    assert "sounds good" in wizard.verdict.text(), wizard.verdict.text()
    assert wizard.keep_button.isEnabled() and wizard.play_button.isEnabled()
    qtbot.mouseClick(wizard.play_button, Qt.MouseButton.LeftButton)
    assert wizard.player is not None and wizard.player.last_range is not None
    first, last, rate = wizard.player.last_range
    assert abs((last - first) / rate - wizard.take.size / 16000) < 0.05
    assert wizard.player.wait(15)
    with qtbot.waitSignal(wizard.saved) as saved:
        qtbot.mouseClick(wizard.keep_button, Qt.MouseButton.LeftButton)
    kept = saved.args[0]
    assert kept.text == SENTENCE and wizard.position.text() == "Prompt 2 of 3"
    lines = (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["text"] for x in lines] == [SENTENCE]
    with wave.open(str(folder / kept.audio), "rb") as w:
        assert (w.getframerate(), w.getnchannels()) == (16000, 1)
    assert json.loads((folder / "dataset.json").read_text())["vocabulary"] == ["Veltrion"]
    wizard.vocabulary.setText("Veltrion, Zorbex")  # terms typed later join the list
    _record(qtbot, wizard)
    qtbot.mouseClick(wizard.keep_button, Qt.MouseButton.LeftButton)
    assert json.loads((folder / "dataset.json").read_text())["vocabulary"] == ["Veltrion",
                                                                               "Zorbex"]
    qtbot.mouseClick(wizard.skip_button, Qt.MouseButton.LeftButton)
    assert wizard.position.text() == "All 3 prompts done"
    assert not wizard.record_button.isEnabled()
    # Reopening the dataset leaves out what is already recorded; vocabulary comes first.
    wizard.reload_datasets(folder)
    wizard.list_combo.setCurrentIndex(wizard.list_combo.findData("meetings"))
    assert SENTENCE not in wizard.prompts and "Veltrion" in wizard.prompts[0]
    wizard.shutdown()


def test_train_page_runs_shows_progress_and_one_click_makes_it_live(
        qtbot, window: MainWindow, spoken, tmp_path_factory, isolated_home: Path) -> None:
    base = helpers.random_whisper(tmp_path_factory)
    data = helpers.small_dataset(isolated_home / "data" / "datasets" / "demo", spoken)
    page = window.training
    window.pages.setCurrentWidget(page)
    page.tabs.setCurrentWidget(page.train)
    panel = page.train
    panel.reload()
    panel.select_dataset(data)
    panel.base.addItem("random", str(base))
    panel.base.setCurrentIndex(panel.base.findData(str(base)))
    panel.method.setCurrentIndex(panel.method.findData("freeze-encoder"))
    panel.epochs.setValue(1)
    panel.name.setText("demo-tuned")
    with qtbot.waitSignal(panel.job.finished, timeout=600000) as finished:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        assert not panel.start_button.isEnabled() and panel.cancel_button.isEnabled()
    assert finished.args[0]["event"] == "done", finished.args[0]
    assert panel.progress.maximum() == panel.progress.value() == 1
    assert panel.loss_plot.points and len(panel.wer_plot.points) >= 2
    assert "WER" in panel.results.text() and "vocabulary errors" in panel.results.text()
    assert ModelManager().installed_path("demo-tuned") is not None
    assert panel.use_button.isEnabled() and panel.start_button.isEnabled()
    qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)
    assert load_settings().model == "demo-tuned"
    assert window.live.options.model.currentData() == "demo-tuned"
    assert window.files.options.model.currentData() == "demo-tuned"
    assert window.live.options.engine_config().model == "demo-tuned"


def test_cancel_from_the_page_installs_nothing(qtbot, window: MainWindow, spoken,
                                               tmp_path_factory, isolated_home: Path) -> None:
    base = helpers.random_whisper(tmp_path_factory)
    data = helpers.small_dataset(isolated_home / "data" / "datasets" / "demo2", spoken)
    panel = window.training.train
    panel.reload()
    panel.select_dataset(data)
    panel.base.addItem("random", str(base))
    panel.base.setCurrentIndex(panel.base.findData(str(base)))
    panel.method.setCurrentIndex(panel.method.findData("full"))
    panel.epochs.setValue(100)
    panel.name.setText("never")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(panel.loss_plot.points), timeout=300000)
    with qtbot.waitSignal(panel.job.finished, timeout=60000) as finished:
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args[0]["event"] == "cancelled"
    assert "Cancelled" in panel.status.text()
    assert ModelManager().installed_path("never") is None
    assert not panel.use_button.isEnabled()


def test_editor_corrections_button_adds_them_to_the_dataset(qtbot, window: MainWindow, spoken,
                                                            isolated_home: Path) -> None:
    from test_dataset import _session_with_edit

    from desktop_asr.settings import load_settings as settings_now

    _session_with_edit(settings_now().sessions_path(), spoken(SENTENCE))
    folder = window.training.wizard.create_dataset("corrections")
    panel = window.training.train
    panel.reload()
    panel.select_dataset(folder)
    with qtbot.waitSignal(panel.message, timeout=120000) as said:
        qtbot.mouseClick(panel.add_edits, Qt.MouseButton.LeftButton)
    assert said.args[0].startswith("imported 1 clip(s)"), said.args[0]
    rows = [json.loads(x) for x in (folder / "manifest.jsonl").read_text().splitlines()]
    assert [(r["text"], r["origin"]) for r in rows] == [(SENTENCE, "editor")]
