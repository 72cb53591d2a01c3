"""The engine picker on the Files and Live pages, driven in the real window (Qt offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_asr import engines
from desktop_asr.engines import EngineCapabilities, EngineConfig, available_engines
from desktop_asr.ui import MainWindow
from desktop_asr.ui.options_bar import OptionsBar

JOB_TIMEOUT_MS = 180_000


@pytest.fixture
def window(qtbot, transformers_tiny_en: Path):
    """The main window on the CPU, its model the converted tiny.en folder."""
    win = MainWindow(EngineConfig(model=str(transformers_tiny_en), device="cpu",
                                  cpu_threads=2))
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    win.close()
    win.deleteLater()


def _pick(qtbot, combo, name: str) -> None:
    """Choose an engine the way a keyboard user does: focus the picker, step to it."""
    combo.setFocus()
    target = combo.findData(name)
    assert target >= 0, name
    while combo.currentIndex() != target:
        key = Qt.Key.Key_Down if combo.currentIndex() < target else Qt.Key.Key_Up
        before = combo.currentIndex()
        qtbot.keyClick(combo, key)
        assert combo.currentIndex() != before, "a disabled engine blocks the way"


def test_both_pages_offer_every_installed_engine_with_its_capabilities(qtbot, window) -> None:
    for bar in (window.files.options, window.live.options):
        names = [bar.engine.itemData(i) for i in range(bar.engine.count())]
        assert names == list(available_engines())
        assert "transformers-whisper" in names and bar.engine_name() == "faster-whisper"
        assert "word times" in bar.engine_capabilities.text()
        tip = bar.engine.itemData(names.index("transformers-whisper"),
                                  Qt.ItemDataRole.ToolTipRole)
        assert "live: re-decoding" in tip and "custom vocabulary" in tip
    _pick(qtbot, window.live.options.engine, "transformers-whisper")
    assert window.live.request().engine_name == "transformers-whisper"


def test_files_page_transcribes_with_the_picked_engine(qtbot, window, spoken) -> None:
    page = window.files
    (path,) = page.add_paths([spoken("Please send the quarterly report to Margaret before "
                                     "Friday.")])
    _pick(qtbot, page.options.engine, "transformers-whisper")
    qtbot.mouseClick(page.transcribe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.busy, timeout=10_000)
    qtbot.waitUntil(lambda: not page.busy, timeout=JOB_TIMEOUT_MS)
    result = page.queue.result(path)
    assert result is not None and result.ok, result
    assert "quarterly report" in result.transcript.text.lower()
    label = page.status_panel.engine_label
    assert label.toolTip().startswith("transformers-whisper") and "float32" in label.text()


def test_an_engine_that_cannot_caption_live_is_shown_but_not_offered_live(qtbot, monkeypatch
                                                                            ) -> None:
    """A registry entry for an engine without word times (a stand-in: every real engine here
    can caption live), to check what the picker does with such capabilities."""
    module = types.ModuleType("_engine_without_words")
    module.CAPABILITIES = EngineCapabilities(word_timestamps=False, hotwords=False)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(engines._REGISTRY, "no-words",
                        (module.__name__, "Unused", "numpy", "core"))
    live = OptionsBar(EngineConfig(device="cpu"), live=True, engine="no-words")
    files = OptionsBar(EngineConfig(device="cpu"), engine="no-words")
    qtbot.addWidget(live)
    qtbot.addWidget(files)
    index = live.engine.findData("no-words")
    assert not live.engine.model().item(index).isEnabled()
    assert "no live mode" in live.engine.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert live.engine_name() == "faster-whisper"  # the asked-for engine cannot run live
    assert files.engine_name() == "no-words"
    assert "no live mode" in files.engine_capabilities.text()
    # what the engine cannot do is not offered for it
    assert not files.word_timestamps.isEnabled() and not files.vocabulary.isEnabled()
    files.vocabulary.setText("Kubernetes, Dashwood")  # e.g. saved for another engine
    assert files.decode_options().hotwords == ()        # kept, but not sent to this engine
    _pick(qtbot, files.engine, "faster-whisper")
    assert files.word_timestamps.isEnabled() and files.vocabulary.isEnabled()
    assert files.decode_options().hotwords == ("Kubernetes", "Dashwood")


def test_listing_engines_in_the_picker_loads_no_ml_library(tmp_path) -> None:
    """The picker asks the core; building it must not pull torch or transformers in."""
    code = ("import sys\n"
            "from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "from desktop_asr.engines import EngineConfig\n"
            "from desktop_asr.ui.options_bar import OptionsBar\n"
            "bar = OptionsBar(EngineConfig(device='cpu'), live=True)\n"
            "assert bar.engine.count() >= 2, bar.engine.count()\n"
            "heavy = [m for m in ('torch', 'transformers', 'torchaudio') if m in sys.modules]\n"
            "print('heavy:', heavy)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ,
                                            "QT_QPA_PLATFORM": "offscreen",
                                            "DESKTOP_ASR_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "heavy: []" in proc.stdout, proc.stdout


def test_the_model_picker_follows_the_engine_and_lists_installed_checkpoints(qtbot) -> None:
    """A Conformer-CTC checkpoint (random weights, standing in for a user's fine-tune) installed
    in the models folder is offered to the conformer engine, not to Whisper, and switching the
    engine switches to a model that engine can load."""
    from desktop_asr.engines.ctc_random import build_random_conformer_ctc
    from desktop_asr.paths import models_dir

    build_random_conformer_ctc(models_dir() / "my-conformer", seed=1)
    bar = OptionsBar(EngineConfig(device="cpu"))
    qtbot.addWidget(bar)

    def offered() -> list[str]:
        return [bar.model.itemData(i) for i in range(bar.model.count())]

    assert bar.engine_config().model == "tiny.en"
    assert "my-conformer" not in offered()
    _pick(qtbot, bar.engine, "conformer")
    assert "my-conformer" in offered() and "tiny.en" not in offered()
    assert bar.engine_config().model == "my-conformer"  # the installed one, not the stock
    _pick(qtbot, bar.engine, "faster-whisper")
    assert bar.engine_config().model == "tiny.en" and "my-conformer" not in offered()
