"""Speakers on the Live page, driven like a person would: tick Speakers, replay a two-voice
conversation, watch labels appear and settle, rename a speaker; and the Speakers settings."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from diarization_fixtures import backend_or_skip, conversation  # noqa: F401  (fixtures)
from desktop_asr.engines import EngineConfig
from desktop_asr.settings import Settings
from desktop_asr.streaming.events import SpeakersSettled, SpeakerUpdate
from desktop_asr.ui import MainWindow

CONFIG = EngineConfig(device="cpu", compute_type="int8", cpu_threads=2)
SESSION_MS = 120_000


@pytest.fixture
def window(qtbot):
    """The real main window showing its Live page; threads are joined after the test."""
    win = MainWindow(CONFIG)
    win.show()
    win.show_live()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    assert not win.live.runner.thread_running
    win.close()
    win.deleteLater()


@pytest.mark.slow
def test_live_page_labels_speakers_settles_and_renames(qtbot, window, conversation) -> None:
    backend_or_skip()
    page = window.live
    assert page.options.speakers.isVisible()
    page.source.set_replay_file(conversation.path, speed=3.0)
    qtbot.mouseClick(page.options.speakers, Qt.MouseButton.LeftButton)
    assert page.options.speakers.isChecked()
    labelled, settled = [], []
    page.runner.update.connect(lambda e: labelled.append(page.captions.plain_text())
                               if isinstance(e, SpeakerUpdate) else None)
    page.runner.update.connect(lambda e: settled.append(e)
                               if isinstance(e, SpeakersSettled) else None)
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy and page.last is not None, timeout=SESSION_MS)
    # While captioning, committed lines got their speaker's name in front of them.
    assert labelled and any("SPEAKER_00:" in text for text in labelled)
    assert any("SPEAKER_01:" in text for text in labelled)
    assert len(settled) == 1
    folder, transcript = page.last
    lines = page.captions.plain_text().splitlines()
    assert len(lines) == len(transcript.segments)
    for line, seg in zip(lines, transcript.segments):
        assert f"{transcript.speaker_label(seg.speaker)}:" in line
    # The speakers strip lists both; renaming one there renames it everywhere.
    assert page.speakers.isVisible() and page.speakers.list.count() == 2
    first = transcript.segments[0].speaker
    page.speakers.renameRequested.emit(first, "Ada")
    assert "Ada:" in page.captions.plain_text().splitlines()[0]
    saved = json.loads((folder / "transcript.json").read_text(encoding="utf-8"))
    assert {s["id"]: s["name"] for s in saved["speakers"]}[first] == "Ada"
    assert page.last[1].speaker_label(first) == "Ada"


def test_settings_dialog_speakers_page_round_trip(qtbot) -> None:
    from desktop_asr.ui.settings_dialog import SettingsDialog

    base = Settings()
    dialog = SettingsDialog(base)
    qtbot.addWidget(dialog)
    page = dialog.speakers
    assert not page.pyannote_model.isEnabled()  # only for the pyannote diarizer
    page.diarizer.setCurrentIndex(page.diarizer.findData("pyannote"))
    assert page.pyannote_model.isEnabled() and page.hf_token.isEnabled()
    page.pyannote_model.setText("  /models/pyannote-community-1 ")
    page.hf_token.setText("hf_secret")
    page.user_name.setText("  Dana   K ")
    page.max_speakers.setValue(4)
    page.name_from_voices.setChecked(False)
    page.echo.setChecked(False)
    got = dialog.settings()
    assert (got.diarizer, got.pyannote_model, got.hf_token, got.user_name, got.max_speakers,
            got.name_from_voices, got.echo_suppression) == (
        "pyannote", "/models/pyannote-community-1", "hf_secret", "Dana K", 4, False, False)
    assert "hf_secret" not in repr(got)  # the token is not printed with the settings
    assert page.hf_token.echoMode() == page.hf_token.EchoMode.Password
    assert "No voices enrolled" in page.voices.text()
    assert Settings.from_dict(got.to_dict()) == got


def _caption_colour(page, name: str) -> str:
    """Colour of the bold ``name:`` label in the caption document."""
    block = page.captions.text.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.text().startswith(f"{name}:"):
                return frag.charFormat().foreground().color().name()
            it += 1
        block = block.next()
    raise AssertionError(f"no {name}: label in {page.captions.plain_text()!r}")


def _strip_colour(page, speaker: str) -> str:
    item = page.speakers.item_for(speaker)
    assert item is not None, speaker
    return item.icon().pixmap(12, 12).toImage().pixelColor(6, 6).name()


def test_a_speaker_has_one_colour_in_the_captions_and_the_speakers_strip(window) -> None:
    """Scripted live events (no model, no audio) sent through the runner's real signal."""
    from desktop_asr.streaming.events import TranscriptUpdate
    from desktop_asr.types import Segment

    page = window.live
    page.captions.begin(("system",), diarized=("system",))
    for n, (speaker, text) in enumerate([("SPEAKER_00", " Hello there."),
                                         ("SPEAKER_01", " Oh, hello."),
                                         ("SPEAKER_00", " How are you?")]):
        seg = Segment(start=2.0 * n, end=2.0 * n + 1.5, text=text)
        page.runner.update.emit(TranscriptUpdate("final", "system", n, seg, 2.0 * n + 2))
        page.runner.update.emit(SpeakerUpdate("system", n, seg.start, speaker, 2.0 * n + 2.5))
    first, second = (_caption_colour(page, s) for s in ("SPEAKER_00", "SPEAKER_01"))
    assert first != second
    assert _strip_colour(page, "SPEAKER_00") == first
    assert _strip_colour(page, "SPEAKER_01") == second
