"""The main window's Sessions page and Tools menu, on a real offscreen window: sessions written by
the real Journal are listed, opened in the editor, edited, exported (read back by the JSON/SRT
parsers), recovered after a crash, and saved settings take effect at once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication
from test_ui_dialogs import WAIT_MS, _session, _when_modal

from desktop_asr.export.jsonfmt import load_json
from desktop_asr.settings import Settings, load_settings
from desktop_asr.streaming.journal import unfinished_sessions
from desktop_asr.ui import MainWindow
from desktop_asr.ui.editor_table import COL_TEXT
from desktop_asr.ui.theme import apply_theme, current_theme


@pytest.fixture
def window(qtbot):
    win = MainWindow(settings=load_settings())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()  # joins the worker threads before Qt deletes them


def test_sessions_page_opens_edits_and_exports_a_past_session(qtbot, window, tmp_path) -> None:
    root = Settings().sessions_path()
    folder = _session(root, "20240301-090000", "2024-03-01T09:00:00+0000",
                      ["Good morning everyone", "Let us review the budget"], close=True)
    window.show_sessions()
    page = window.sessions
    assert window.pages.currentWidget() is page
    qtbot.waitUntil(lambda: not page.panel.busy and len(page.panel.sessions()) == 1,
                    timeout=WAIT_MS)
    assert not page.export_button.isEnabled()  # nothing opened yet
    page.panel.select(folder)
    page.panel.open_selected()
    qtbot.waitUntil(lambda: page.opened is not None, timeout=WAIT_MS)
    assert page.stack.currentWidget() is page.editor and page.export_button.isEnabled()
    assert page.editor.model.rowCount() == 2
    index = page.editor.model.index(1, COL_TEXT)
    assert page.editor.model.setData(index, "Let us review the new budget",
                                     Qt.ItemDataRole.EditRole)
    written = page.export_session("json", tmp_path / "out.json")
    assert written is not None
    saved = load_json(written.read_text(encoding="utf-8"))
    assert [s.text.strip() for s in saved.segments] == ["Good morning everyone",
                                                        "Let us review the new budget"]
    srt = page.export_session("srt", tmp_path / "out.srt")
    blocks = srt.read_text(encoding="utf-8").strip().split("\n\n")
    assert len(blocks) == 2 and blocks[1].splitlines()[0] == "2"
    assert " --> " in blocks[1].splitlines()[1] and "new budget" in blocks[1]
    assert page.copy_text().splitlines()[1].endswith("Let us review the new budget")


def test_export_failure_is_reported_and_nothing_is_lost(qtbot, window, tmp_path) -> None:
    root = Settings().sessions_path()
    folder = _session(root, "20240301-090000", "2024-03-01T09:00:00+0000", ["hello there"],
                      close=True)
    window.show_sessions()
    page = window.sessions
    qtbot.waitUntil(lambda: not page.panel.busy and len(page.panel.sessions()) == 1,
                    timeout=WAIT_MS)
    page.panel.select(folder)
    page.panel.open_selected()
    qtbot.waitUntil(lambda: page.opened is not None, timeout=WAIT_MS)
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    assert page.export_session("txt", blocker / "out.txt") is None  # parent is not a folder
    assert window.banner.isVisible() and "Cannot export" in window.banner.text()
    assert page.transcript().text == "hello there"


def test_interrupted_session_is_offered_and_opens_on_the_sessions_page(qtbot, window) -> None:
    root = Settings().sessions_path()
    folder = _session(root, "20240305-140000", "2024-03-05T14:00:00+0000",
                      ["Please send the report to Margaret", "before Friday"], close=False)
    assert window.pages.currentWidget() is window.files
    _when_modal(lambda dialog: (qtbot.waitUntil(lambda: dialog.words is not None,
                                                timeout=WAIT_MS),
                                dialog.recover_button.click()))
    opened = window.offer_recovery()
    assert opened is not None and opened.folder == folder
    assert window.pages.currentWidget() is window.sessions
    assert "Margaret before Friday" in window.sessions.transcript().text
    assert unfinished_sessions(root) == []
    qtbot.waitUntil(lambda: not window.sessions.panel.busy, timeout=WAIT_MS)
    (info,) = window.sessions.panel.sessions()
    assert info.folder == folder and not info.unfinished


def test_saved_settings_take_effect_without_a_restart(qtbot, window, tmp_path) -> None:
    app = QApplication.instance()
    elsewhere = tmp_path / "other sessions"
    elsewhere.mkdir()
    new = replace(window.settings, theme="high-contrast", sessions_dir=str(elsewhere))
    try:
        window.apply_settings(new)
        assert current_theme(app) == "high-contrast"
        assert app.palette().color(QPalette.ColorRole.Window) == QColor("#000000")
        assert window.live.settings is new and window.sessions.panel.root == elsewhere
        assert window.live.request().sessions_dir == elsewhere
    finally:
        apply_theme(app, "system")


def test_delete_and_esc_act_on_the_files_queue_only_while_it_is_shown(qtbot, window) -> None:
    remove, cancel = window.files.commands.remove, window.files.commands.cancel
    assert remove.shortcuts() and cancel.shortcuts()
    window.show_sessions()
    assert remove.shortcuts() == [] and cancel.shortcuts() == []
    window.show_live()
    assert remove.shortcuts() == [] and cancel.shortcuts() == []
    window.pages.setCurrentWidget(window.files)
    assert [k.toString() for k in cancel.shortcuts()] == ["Esc"]
    assert remove.shortcuts()


def test_deleting_a_session_also_deletes_its_saved_edits(qtbot, window, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from desktop_asr import transcript_store

    root = Settings().sessions_path()
    folder = _session(root, "20240301-090000", "2024-03-01T09:00:00+0000", ["hello there"],
                      close=True)
    window.show_sessions()
    page = window.sessions
    qtbot.waitUntil(lambda: not page.panel.busy and len(page.panel.sessions()) == 1,
                    timeout=WAIT_MS)
    page.panel.select(folder)
    page.panel.open_selected()
    qtbot.waitUntil(lambda: page.opened is not None, timeout=WAIT_MS)
    index = page.editor.model.index(0, COL_TEXT)
    assert page.editor.model.setData(index, "hello over there", Qt.ItemDataRole.EditRole)
    saved = page.editor.flush()
    assert saved is not None and saved.is_file()
    assert saved == transcript_store.edited_path(folder / "recording.flac")
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    page.panel.delete_selected()
    qtbot.waitUntil(lambda: not page.panel.busy and page.panel.sessions() == [],
                    timeout=WAIT_MS)
    assert not folder.exists() and not saved.exists()


def test_a_failed_autosave_is_reported_and_retried_simulated_disk_full(qtbot, window,
                                                                       monkeypatch) -> None:
    """The full disk is simulated (save_edited raises ENOSPC); the rest is the real editor."""
    import errno

    from desktop_asr import transcript_store

    root = Settings().sessions_path()
    folder = _session(root, "20240301-090000", "2024-03-01T09:00:00+0000", ["hello there"],
                      close=True)
    window.show_sessions()
    page = window.sessions
    qtbot.waitUntil(lambda: not page.panel.busy and len(page.panel.sessions()) == 1,
                    timeout=WAIT_MS)
    page.panel.select(folder)
    page.panel.open_selected()
    qtbot.waitUntil(lambda: page.opened is not None, timeout=WAIT_MS)
    real_save = transcript_store.save_edited

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(transcript_store, "save_edited", full_disk)
    assert page.editor.model.setData(page.editor.model.index(0, COL_TEXT), "hello over there",
                                     Qt.ItemDataRole.EditRole)
    assert page.editor.flush() is None
    assert window.banner.isVisible() and "No space left on device" in window.banner.text()
    monkeypatch.setattr(transcript_store, "save_edited", real_save)
    saved = page.editor.flush()  # the edit is still pending and goes out on the next try
    assert saved is not None and "hello over there" in saved.read_text(encoding="utf-8")
