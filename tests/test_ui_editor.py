"""The transcript editor on the Files page, driven with the mouse and keyboard like a person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import srt
import webvtt
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QFileDialog, QLineEdit

from desktop_asr import transcript_store
from desktop_asr.batch import FileResult
from desktop_asr.engines import EngineConfig
from desktop_asr.export import load_json
from desktop_asr.types import Segment, Speaker, Transcript, Word
from desktop_asr.ui import MainWindow
from desktop_asr.ui import transcript_model as edits
from desktop_asr.ui.editor_table import COL_TEXT, COL_TIME
from desktop_asr.ui.export_actions import FILTERS

pytest_plugins = ("pulse_fixtures",)

CONFIG = EngineConfig(device="cpu", compute_type="int8", cpu_threads=2)
SENTENCE = "Please send the quarterly report to Margaret before Friday afternoon."


def _words(start: float, text: str) -> tuple[Word, ...]:
    return tuple(Word(start + 0.4 * i, start + 0.4 * i + 0.3, f" {w}", 0.9)
                 for i, w in enumerate(text.split()))


def meeting() -> Transcript:
    """Two speakers, four segments with word timings."""
    lines = [(0.0, 2.0, "S1", "Good morning, let's start the standup."),
             (2.5, 5.0, "S2", "I fixed the login bug yesterday."),
             (5.5, 8.0, "S1", "Great, the release is on Thursday."),
             (8.5, 11.0, "S2", "Then I will update the changelog.")]
    segs = [Segment(a, b, f" {t}", _words(a, t), speaker=s) for a, b, s, t in lines]
    return Transcript(tuple(segs), (Speaker("S1"), Speaker("S2")), language="en",
                      duration=11.0)


@pytest.fixture
def window(qtbot):
    """The real main window; shut down after the test."""
    win = MainWindow(CONFIG)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    win.close()
    win.deleteLater()


@pytest.fixture
def recording(spoken, tmp_path: Path) -> Path:
    """A real WAV the hand-made transcript stands for (so playback has audio to play)."""
    path = tmp_path / "standup.wav"
    path.write_bytes(spoken(SENTENCE).read_bytes())
    return path


def show(win: MainWindow, path: Path, transcript: Transcript) -> None:
    """Queue ``path`` as transcribed into ``transcript`` and select its row."""
    win.add_files([path])
    win.files.queue.set_result(FileResult(path, transcript, audio_seconds=11.0))
    win.files.queue.select(path)


def cell_center(win: MainWindow, row: int, col: int):
    table = win.files.transcript.text
    return table.visualRect(table.model().index(row, col)).center()


def type_into_cell(qtbot, win: MainWindow, row: int, text: str, key=Qt.Key.Key_Return) -> None:
    """Double-click a segment's text, replace it with ``text`` and press ``key``."""
    table = win.files.transcript.text
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=cell_center(win, row, COL_TEXT))
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton,
                      pos=cell_center(win, row, COL_TEXT))
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.accessibleName() == "Segment text"
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, key)
    # The delegate commits (or reverts) and closes its editor through a queued call.
    qtbot.waitUntil(lambda: table.state() != QAbstractItemView.State.EditingState)


def export_as(win: MainWindow, monkeypatch, tmp_path: Path, fmt: str) -> str:
    """Export the shown transcript through the Export ▾ menu; returns the file's text."""
    out = tmp_path / f"out.{fmt}"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args: (str(out), FILTERS[fmt])))
    win.files.commands.export_formats[fmt].trigger()
    return out.read_text(encoding="utf-8")


def test_edit_text_in_place_reaches_view_export_and_autosave(qtbot, window, recording,
                                                             tmp_path, monkeypatch) -> None:
    show(window, recording, meeting())
    editor = window.files.transcript.editor
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    # Escape cancels an edit: nothing changes, nothing is saved.
    type_into_cell(qtbot, window, 0, "Thrown away", Qt.Key.Key_Escape)
    assert "Good morning" in window.files.transcript.plain_text()
    assert editor.transcript() == meeting()

    type_into_cell(qtbot, window, 1, "I finally fixed the nasty login bug")
    text = window.files.transcript.plain_text()
    assert "[00:02] S2: I finally fixed the nasty login bug" in text.splitlines()
    seg = editor.transcript().segments[1]
    assert (seg.start, seg.end, seg.speaker) == (2.5, 5.0, "S2")
    assert seg.words == ()  # the word count changed: the old word timings were dropped

    subs = list(srt.parse(export_as(window, monkeypatch, tmp_path, "srt")))
    assert any(s.content == "S2: I finally fixed the nasty login bug" for s in subs)
    assert not any("yesterday" in s.content for s in subs)

    saved = transcript_store.edited_path(recording)
    assert saved.parent == Path(transcript_store.store_dir())
    assert not saved.exists()  # debounced: not written while the user is still typing
    qtbot.waitUntil(saved.exists, timeout=3000)
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["segments"][1]["text"].strip() == "I finally fixed the nasty login bug"
    assert load_json(saved.read_text(encoding="utf-8")).segments[0].text == meeting().segments[
        0].text
    assert not window.banner.isVisible()


def test_same_length_correction_keeps_word_timings() -> None:
    t = edits.edit_segment_text(meeting(), 1, "I fixed the logon bug yesterday.")
    words = t.segments[1].words
    assert [w.text for w in words] == [" I", " fixed", " the", " logon", " bug", " yesterday."]
    assert words[3].start == meeting().segments[1].words[3].start
    assert words[3].probability is None and words[2].probability == 0.9


def test_rename_speaker_in_place_follows_into_txt_and_vtt(qtbot, window, recording, tmp_path,
                                                          monkeypatch) -> None:
    show(window, recording, meeting())
    speakers = window.files.transcript.editor.speakers
    assert speakers.isVisible()
    assert [speakers.list.item(i).text() for i in range(speakers.list.count())] == ["S1", "S2"]
    speakers.start_rename("S2")
    field = QApplication.focusWidget()
    assert isinstance(field, QLineEdit)
    field.selectAll()
    qtbot.keyClicks(field, "Alice Chen")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: speakers.item_for("S2").text() == "Alice Chen")
    assert speakers.item_for("S2").text() == "Alice Chen"
    lines = window.files.transcript.plain_text().splitlines()
    assert lines[1].startswith("[00:02] Alice Chen: I fixed") and lines[0].startswith(
        "[00:00] S1: ")

    txt = export_as(window, monkeypatch, tmp_path, "txt")
    assert "Alice Chen: I fixed the login bug yesterday." in txt
    assert "Alice Chen: Then I will update the changelog." in txt and "S2" not in txt
    vtt = export_as(window, monkeypatch, tmp_path, "vtt")
    import io
    voices = [c.voice for c in webvtt.from_buffer(io.StringIO(vtt)).captions]
    assert voices and set(voices) == {"S1", "Alice Chen"}


def test_merge_speakers_and_undo_redo(qtbot, window, recording) -> None:
    show(window, recording, meeting())
    editor = window.files.transcript.editor
    menu = editor.speakers.merge_menu("S2", window)
    assert [a.text() for a in menu.actions()] == ["S1"]
    menu.actions()[0].trigger()  # "Merge S2 into ▸ S1"
    t = editor.transcript()
    assert [s.speaker for s in t.segments] == ["S1"] * 4
    assert [s.id for s in t.speakers] == ["S1"]
    assert editor.speakers.list.count() == 1
    assert "S2" not in window.files.transcript.plain_text()

    table = window.files.transcript.text
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.transcript() == meeting()
    assert editor.speakers.list.count() == 2
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert [s.id for s in editor.transcript().speakers] == ["S1"]
    with pytest.raises(KeyError):
        edits.merge_speakers(meeting(), "S1", "S9")


def test_find_bar_highlights_counts_and_steps_through_matches(qtbot, window, recording) -> None:
    show(window, recording, meeting())
    editor = window.files.transcript.editor
    bar = editor.find_bar
    assert not bar.isVisible()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.files.queue, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert bar.isVisible() and QApplication.focusWidget() is bar.field
    qtbot.keyClicks(bar.field, "THE")  # case-insensitive
    # "the standup", "the login", "the release", "Then", "the changelog"
    assert editor.match_count() == (0, 5) and bar.count.text() == "1 of 5"
    assert editor.model.matches_in(1) == [(8, 11, False)]
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    assert bar.count.text() == "2 of 5"
    assert window.files.transcript.text.currentIndex().row() == 1
    assert editor.model.matches_in(1) == [(8, 11, True)]
    qtbot.keyClick(bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert bar.count.text() == "5 of 5"  # wraps around
    bar.field.setText("kubernetes")
    assert bar.count.text() == "No matches" and not bar.next_button.isEnabled()
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible() and editor.match_count() == (None, 0)


def test_edits_are_reloaded_in_a_new_window(qtbot, recording) -> None:
    first = MainWindow(CONFIG)
    show(first, recording, meeting())
    first.files.transcript.editor.edit_text(2, "Great, the release moves to Friday.")
    first.files.transcript.editor.rename_speaker("S1", "Dana")
    first.close()  # closing saves at once, without waiting for the debounce
    first.deleteLater()

    second = MainWindow(CONFIG)
    try:
        messages = []
        second.files.message.connect(messages.append)
        show(second, recording, meeting())
        editor = second.files.transcript.editor
        assert editor.restored
        assert "[00:05] Dana: Great, the release moves to Friday." in (
            second.files.transcript.plain_text().splitlines())
        assert any("edited transcript" in m for m in messages)
        assert second.files.selected_result().transcript == editor.transcript()
        # A different transcription of the same file (another model) is shown as it is.
        other = edits.edit_segment_text(meeting(), 0, "Morning all.")
        second.files.queue.set_result(FileResult(recording, other))
        assert not editor.restored and "Dana" not in second.files.transcript.plain_text()
    finally:
        second.shutdown()
        second.close()
        second.deleteLater()


def test_clicking_a_time_plays_that_segment(qtbot, window, recording, pulse_server) -> None:
    show(window, recording, meeting())
    editor = window.files.transcript.editor
    table = window.files.transcript.text
    play_icon = editor.model.data(editor.model.index(1, COL_TIME), Qt.ItemDataRole.DecorationRole)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=cell_center(window, 1, COL_TIME))
    player = editor.player
    assert player is not None and player.is_playing
    first, last, rate = player.last_range
    assert (first / rate, last / rate) == (pytest.approx(2.5), pytest.approx(4.6, abs=0.1))
    icon = editor.model.data(editor.model.index(1, COL_TIME), Qt.ItemDataRole.DecorationRole)
    assert icon.cacheKey() != play_icon.cacheKey()  # the playing row shows a stop icon
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=cell_center(window, 1, COL_TIME))  # again: stop
    assert not player.is_playing
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    table.setFocus()
    table.setCurrentIndex(editor.model.index(0, COL_TEXT))
    qtbot.keyClick(table, Qt.Key.Key_Space)  # Space plays the current segment
    assert player.is_playing and player.last_range[:2] == (0, 2 * rate)
    qtbot.waitUntil(lambda: not player.is_playing, timeout=5000)
    qtbot.waitUntil(lambda: editor.model.data(editor.model.index(0, COL_TIME),
                                              Qt.ItemDataRole.DecorationRole).cacheKey()
                    == play_icon.cacheKey(), timeout=1000)
    assert not window.banner.isVisible()


def test_playing_without_an_output_device_shows_the_error(qtbot, window, recording,
                                                          no_pulse_server) -> None:
    import sounddevice as sd

    if any(d["max_output_channels"] > 0 for d in sd.query_devices()):
        pytest.skip("this machine has a sound card besides PulseAudio")
    show(window, recording, meeting())
    qtbot.mouseClick(window.files.transcript.text.viewport(), Qt.MouseButton.LeftButton,
                     pos=cell_center(window, 0, COL_TIME))
    assert window.banner.isVisible()
    assert window.banner.messages() == (
        ("cannot play the audio: no audio output device found: connect speakers or "
         "headphones, or start the sound server, to play audio"),)


def test_editor_controls_are_named_and_have_shortcuts(window, recording) -> None:
    show(window, recording, meeting())
    editor = window.files.transcript.editor
    assert window.files.transcript.text.accessibleName() == "Transcript"
    assert editor.find_bar.field.accessibleName() == "Find in transcript"
    assert editor.speakers.list.accessibleName() == "Speakers"
    assert editor.find_bar.next_button.accessibleName() == "Next match"
    keys = {a.text(): [s.toString() for s in a.shortcuts()]
            for a in (editor.find_action, editor.undo_action, editor.redo_action,
                      editor.play_action)}
    assert keys == {"Find…": ["Ctrl+F"], "Undo edit": ["Ctrl+Z"],
                    "Redo edit": ["Ctrl+Shift+Z", "Ctrl+Y"], "Play segment": ["Space"]}


@pytest.mark.slow
def test_transcribe_a_real_file_then_edit_it(qtbot, window, spoken, tmp_path,
                                             monkeypatch) -> None:
    wav = spoken(SENTENCE)
    window.add_files([wav])
    qtbot.mouseClick(window.files.transcribe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.files.busy, timeout=120_000)
    assert "Margaret" in window.files.transcript.plain_text()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    fixed = "Please send the quarterly report to Margarethe before Friday noon."
    type_into_cell(qtbot, window, 0, fixed)
    assert window.files.transcript.plain_text().endswith(fixed)
    subs = list(srt.parse(export_as(window, monkeypatch, tmp_path, "srt")))
    assert " ".join(s.content for s in subs).replace("\n", " ") == fixed
    saved = transcript_store.edited_path(wav)
    qtbot.waitUntil(saved.exists, timeout=3000)
    assert load_json(saved.read_text(encoding="utf-8")).segments[0].text.strip() == fixed
