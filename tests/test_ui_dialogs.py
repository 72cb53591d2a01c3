"""Settings, model manager, sessions panel, crash recovery and theme, driven like a person would."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QColorDialog, QFileDialog, QMessageBox
from test_models import _RangeHandler

from desktop_asr.cli.main import main
from desktop_asr.models import ModelManager, bundled_model_path
from desktop_asr.settings import OverlayStyle, Settings, load_settings, save_settings, settings_path
from desktop_asr.streaming.events import TranscriptUpdate
from desktop_asr.streaming.journal import Journal, unfinished_sessions
from desktop_asr.types import Segment, Word
from desktop_asr.ui.model_dialog import ModelManagerDialog
from desktop_asr.ui.recovery import offer_recovery
from desktop_asr.ui.sessions_panel import SessionsPanel
from desktop_asr.ui.settings_dialog import SettingsDialog, open_settings
from desktop_asr.ui.theme import apply_theme, current_theme

WAIT_MS = 30_000


def _click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _when_modal(action) -> None:
    """Run ``action(dialog)`` on the modal dialog once exec() has shown it."""
    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, poll)
        else:
            action(dialog)
    QTimer.singleShot(0, poll)


# --- settings -------------------------------------------------------------------------------

def test_settings_dialog_saves_every_kind_of_field(qtbot, tmp_path, monkeypatch) -> None:
    store = tmp_path / "my sessions"
    store.mkdir()
    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: QColor("#ffff00"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(store))
    dialog = SettingsDialog(Settings(overlay=OverlayStyle(geometry=(1, 2, 300, 80))))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.model.currentData() == "tiny.en" and "bundled" in dialog.model.currentText()
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.compute_type.setCurrentIndex(dialog.compute_type.findData("int8"))
    dialog.language.setCurrentIndex(dialog.language.findData("de"))
    assert "German" in dialog.language.currentText()
    dialog.vad_kind.setCurrentIndex(dialog.vad_kind.findData("webrtc"))
    dialog.vad_silence.setValue(0.8)
    dialog.vad_silence.setValue(99)  # the spin box range stops invalid values
    assert dialog.vad_silence.value() == 5.0
    dialog.vad_silence.setValue(0.8)
    assert dialog.vad_aggressiveness.isEnabled()  # only webrtc has a strictness
    dialog.vad_aggressiveness.setValue(3)
    dialog.vad_max_utterance.setValue(12)
    dialog.font_size.setValue(40)
    _click(qtbot, dialog.text_color)
    dialog.opacity.setValue(55)
    dialog.lines.setValue(3)
    dialog.click_through.setChecked(True)
    dialog.shortcuts.edits["toggle_overlay"].setKeySequence(QKeySequence("Ctrl+Alt+C"))
    dialog.tabs.setCurrentIndex(3)
    _click(qtbot, dialog.choose_sessions_button)
    dialog.record.setChecked(True)
    dialog.theme.setCurrentIndex(dialog.theme.findData("high-contrast"))
    _click(qtbot, dialog.ok_button)
    saved = load_settings()
    assert saved == dialog.saved
    assert (saved.device, saved.compute_type, saved.language) == ("cpu", "int8", "de")
    assert (saved.vad_kind, saved.vad_min_silence) == ("webrtc", 0.8)
    assert (saved.vad_aggressiveness, saved.vad_max_utterance) == (3, 12.0)
    vad = saved.vad_options()
    assert (vad.kind, vad.aggressiveness, vad.min_silence, vad.max_utterance) == (
        "webrtc", 3, 0.8, 12.0)
    assert saved.overlay == OverlayStyle(font_size=40, text_color="#ffff00", opacity=0.55,
                                         lines=3, click_through=True, geometry=(1, 2, 300, 80))
    assert saved.shortcuts["toggle_overlay"] == "Ctrl+Alt+C"
    assert saved.shortcuts["start_stop"] == "Ctrl+R"
    assert saved.sessions_path() == store and saved.record and saved.theme == "high-contrast"


def test_cancel_saves_nothing_and_ok_returns_the_saved_settings(qtbot) -> None:
    def change_then_cancel(dialog) -> None:
        dialog.font_size.setValue(60)
        dialog.reject()
    _when_modal(change_then_cancel)
    assert open_settings(None, Settings()) is None
    assert not settings_path().exists()

    def change_then_ok(dialog) -> None:
        dialog.record.setChecked(True)
        dialog.accept()
    _when_modal(change_then_ok)
    result = open_settings(None, Settings())
    assert result is not None and result.record and load_settings() == result


def test_restore_defaults_and_clashing_shortcuts(qtbot) -> None:
    custom = Settings(device="cuda", theme="high-contrast", record=True, sessions_dir="/tmp/x",
                      overlay=OverlayStyle(font_size=50, lines=1, geometry=(5, 5, 500, 90)),
                      shortcuts={"find": "Ctrl+G"})
    save_settings(custom)
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    assert dialog.sessions_dir.text() == "/tmp/x"
    _click(qtbot, dialog.restore_button)
    assert dialog.sessions_dir.text() == "" and "(default)" in dialog.sessions_dir.placeholderText()
    find = dialog.shortcuts.edits["find"]
    assert find.keySequence().toString() == "Ctrl+F"
    find.setKeySequence(QKeySequence("Ctrl+R"))  # already starts/stops live captions
    assert not dialog.ok_button.isEnabled()
    assert "Ctrl+R is used by more than one action" in dialog.shortcuts.problem.text()
    find.setKeySequence(QKeySequence("Ctrl+F"))
    assert dialog.ok_button.isEnabled()
    _click(qtbot, dialog.ok_button)
    assert load_settings() == Settings(overlay=OverlayStyle(geometry=(5, 5, 500, 90)))


# --- model manager --------------------------------------------------------------------------

@pytest.fixture
def model_dialog(qtbot):
    """The real model dialog; its worker thread is stopped after the test."""
    dialog = ModelManagerDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    dialog.close()
    assert not dialog._thread.isRunning()


def _select(dialog: ModelManagerDialog, name: str, status: str) -> None:
    row = dialog.row_of(name, status)
    assert row >= 0, [(e.name, e.status) for e in dialog.entries()]
    dialog.table.selectRow(row)


def test_import_then_delete_a_model_folder(qtbot, model_dialog, tmp_path, monkeypatch) -> None:
    _select(model_dialog, "tiny.en", "bundled")
    assert model_dialog.table.item(model_dialog.row_of("tiny.en"), 1).text() == "Bundled"
    assert not model_dialog.delete_button.isEnabled()
    assert not model_dialog.download_button.isEnabled()
    folder = tmp_path / "my-whisper"
    shutil.copytree(bundled_model_path(), folder)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    _click(qtbot, model_dialog.import_button)
    qtbot.waitUntil(lambda: not model_dialog.busy, timeout=WAIT_MS)
    assert not model_dialog.banner.isVisible(), model_dialog.banner.text()
    row = model_dialog.row_of("my-whisper", "installed")
    assert row >= 0 and model_dialog.selected().name == "my-whisper"
    size = sum(f.stat().st_size for f in folder.iterdir())
    assert model_dialog.table.item(row, 2).text() == f"{round(size / 1e6)} MB"
    assert model_dialog.delete_button.isEnabled()
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda _p, _t, text, *a: asked.append(text)
                        or QMessageBox.StandardButton.Yes)
    _click(qtbot, model_dialog.delete_button)
    qtbot.waitUntil(lambda: not model_dialog.busy, timeout=WAIT_MS)
    assert "my-whisper" in asked[0]
    assert model_dialog.row_of("my-whisper") == -1
    assert ModelManager().installed_path("my-whisper") is None


def test_import_of_a_folder_that_is_not_a_model_says_why(qtbot, model_dialog, tmp_path) -> None:
    (tmp_path / "notes").mkdir()
    model_dialog.import_folder(tmp_path / "notes")
    qtbot.waitUntil(lambda: not model_dialog.busy, timeout=WAIT_MS)
    assert "not a CTranslate2 Whisper model folder (missing config.json" in \
        model_dialog.banner.text()


def test_failed_download_shows_the_error_and_the_dialog_stays_usable(qtbot, model_dialog,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("DESKTOP_ASR_HUB_ENDPOINT", "http://127.0.0.1:9")  # nothing listens
    _select(model_dialog, "small.en", "downloadable")
    _click(qtbot, model_dialog.download_button)
    assert model_dialog.busy and not model_dialog.import_button.isEnabled()
    qtbot.waitUntil(lambda: not model_dialog.busy, timeout=WAIT_MS)
    assert model_dialog.banner.isVisible()
    assert "cannot download Systran/faster-whisper-small.en" in model_dialog.banner.text()
    assert "failed" in model_dialog.status.text()
    assert model_dialog.import_button.isEnabled() and model_dialog.download_button.isEnabled()
    assert model_dialog.row_of("small.en", "downloadable") >= 0


@pytest.fixture
def loopback_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A loopback hub serving the bundled tiny.en files as Systran/faster-whisper-base.en."""
    root = tmp_path / "hub"
    repo = root / "Systran" / "faster-whisper-base.en" / "resolve" / "main"
    repo.mkdir(parents=True)
    for f in bundled_model_path().iterdir():
        os.symlink(f, repo / f.name)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: _RangeHandler(*a, directory=str(root), **k))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DESKTOP_ASR_HUB_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield repo
    server.shutdown()
    server.server_close()


def test_download_from_a_loopback_hub_reaches_100_percent(qtbot, model_dialog,
                                                          loopback_hub) -> None:
    seen: list[tuple[str, int | None, int]] = []
    model_dialog.worker.progress.connect(
        lambda p: seen.append((p.file, p.percent, model_dialog.progress.value())))
    _select(model_dialog, "base.en", "downloadable")
    _click(qtbot, model_dialog.download_button)
    qtbot.waitUntil(lambda: not model_dialog.busy, timeout=WAIT_MS)
    assert not model_dialog.banner.isVisible(), model_dialog.banner.text()
    model_bin = [s for s in seen if s[0] == "model.bin"]
    # the bar moved while the file arrived (sampled from the worker's thread, so it trails the
    # reported percentage) and stands at 100 once the download is done
    assert model_bin and model_bin[-1][1] == 100 and max(s[2] for s in model_bin) > 0
    assert model_dialog.progress.value() == 100
    assert model_dialog.progress.value() == 100
    assert model_dialog.status.text() == "Downloaded base.en."
    assert model_dialog.row_of("base.en", "installed") >= 0
    assert model_dialog.row_of("base.en", "downloadable") == -1
    assert ModelManager().resolve("base.en").source == "installed"


# --- sessions and recovery ------------------------------------------------------------------

def _session(root: Path, name: str, started: str, texts: list[str], *, close: bool,
             recording: bool = False) -> Path:
    """A session folder written by the real Journal (closed or left as after a crash)."""
    folder = root / name
    journal = Journal(folder, channel_labels=("mono",), model="tiny.en", source="mic")
    t = 0.0
    for i, text in enumerate(texts):
        words = tuple(Word(t + k * 0.4, t + k * 0.4 + 0.3, f" {w}")
                      for k, w in enumerate(text.split()))
        seg = Segment(t, words[-1].end, " " + text, words)
        journal.append(TranscriptUpdate("final", "mono", i, seg, seg.end + 0.5))
        t = seg.end + 1.0
    if close:
        journal.close(transcript_file=None)
    else:
        journal.sync()  # a crash: the file stays open-ended
        journal._file.close()
    lines = journal.path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["started"] = started
    journal.path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    if recording:
        (folder / "recording.flac").write_bytes(b"fLaC")
    return folder


def test_sessions_panel_lists_opens_and_deletes(qtbot, monkeypatch) -> None:
    root = Settings().sessions_path()
    old = _session(root, "20240301-090000", "2024-03-01T09:00:00+0000",
                   ["Good morning everyone", "Let us review the budget"], close=True,
                   recording=True)
    new = _session(root, "20240302-100000", "2024-03-02T10:00:00+0000",
                   ["Kubernetes clusters scale automatically"], close=False)
    panel = SessionsPanel()
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert [s.folder for s in panel.sessions()] == [new, old]
    first, second = (panel.tree.topLevelItem(i) for i in range(2))
    assert first.text(0) == "2024-03-02 10:00" and "[unfinished]" in first.text(3)
    assert second.text(2).startswith("Good morning everyone Let us")
    assert second.text(3) == "[recording]" and second.text(1) == "0:04"
    assert not panel.open_button.isEnabled()
    opened: list = []
    panel.sessionOpened.connect(opened.append)
    panel.select(new)
    _click(qtbot, panel.open_button)
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT_MS)
    assert opened[0].folder == new
    assert opened[0].transcript.text == "Kubernetes clusters scale automatically"
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    panel.select(old)
    _click(qtbot, panel.delete_button)
    qtbot.waitUntil(lambda: len(panel.sessions()) == 1 and not panel.busy, timeout=WAIT_MS)
    assert not old.exists() and new.exists()


def test_recovery_rebuilds_the_interrupted_session(qtbot) -> None:
    root = Settings().sessions_path()
    folder = _session(root, "20240305-140000", "2024-03-05T14:00:00+0000",
                      ["Please send the report to Margaret", "before Friday"], close=False)
    _session(root, "20240304-140000", "2024-03-04T14:00:00+0000", ["done"], close=True)
    texts: list[str] = []

    def recover(dialog) -> None:
        qtbot.waitUntil(lambda: dialog.words is not None, timeout=WAIT_MS)
        texts.append(dialog.message.text())
        dialog.recover_button.click()
    _when_modal(recover)
    opened = offer_recovery(None)
    assert opened is not None and opened.folder == folder
    transcript = opened.transcript
    assert texts[0].startswith("The last live session (05 Mar 2024 14:00, 8 words) was "
                               "interrupted. Recover it?")
    assert transcript is not None and "Margaret before Friday" in transcript.text
    saved = json.loads((folder / "transcript.json").read_text(encoding="utf-8"))
    assert "Margaret" in " ".join(s["text"] for s in saved["segments"])
    assert (folder / ".recovered").exists() and unfinished_sessions(root) == []
    assert offer_recovery(None) is None  # nothing left to offer


def test_discard_stops_asking_and_later_asks_again(qtbot) -> None:
    root = Settings().sessions_path()
    folder = _session(root, "20240306-080000", "2024-03-06T08:00:00+0000", ["hello there"],
                      close=False)
    _when_modal(lambda dialog: dialog.later_button.click())
    assert offer_recovery(None) is None and unfinished_sessions(root) == [folder / "journal.jsonl"]
    _when_modal(lambda dialog: dialog.discard_button.click())
    assert offer_recovery(None) is None and unfinished_sessions(root) == []
    assert (folder / "journal.jsonl").exists() and not (folder / "transcript.json").exists()


def test_cli_recover_uses_the_same_recovery(capsys) -> None:
    root = Settings().sessions_path()
    folder = _session(root, "20240307-080000", "2024-03-07T08:00:00+0000",
                      ["the quarterly numbers look good"], close=False)
    assert main(["recover", "-f", "txt"]) == 0
    err = capsys.readouterr().err
    assert "was interrupted" in err and "transcript.json" in err
    assert "quarterly" in (folder / "20240307-080000.txt").read_text(encoding="utf-8")
    assert (folder / ".recovered").exists()


# --- theme ----------------------------------------------------------------------------------

def test_high_contrast_theme_and_back(qtbot) -> None:
    app = QApplication.instance()
    before = QPalette(app.palette())
    try:
        apply_theme(app, "high-contrast")
        pal = app.palette()
        assert pal.color(QPalette.ColorRole.Window) == QColor("#000000")
        assert pal.color(QPalette.ColorRole.WindowText) == QColor("#ffffff")
        assert pal.color(QPalette.ColorRole.Highlight) == QColor("#ffff00")
        assert pal.color(QPalette.ColorRole.HighlightedText) == QColor("#000000")
        assert "*:focus { border: 4px solid #ffff00" in app.styleSheet()
        assert "font-size" not in app.styleSheet() and current_theme(app) == "high-contrast"
        with pytest.raises(ValueError, match="theme must be one of"):
            apply_theme(app, "neon")
    finally:
        apply_theme(app, "system")
    assert app.palette().color(QPalette.ColorRole.Window) == before.color(QPalette.ColorRole.Window)
    assert "focus" not in app.styleSheet() and current_theme(app) == "system"
