"""The desktop window driven like a person would, with the real bundled model on spoken audio."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import srt
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QTabWidget

from desktop_asr.engines import EngineConfig
from desktop_asr.ui import MainWindow, run_app
from desktop_asr.ui.export_actions import FILTERS
from desktop_asr.ui.progress import JobProgress, format_clock, format_stamp
from desktop_asr.ui.queue_view import FileStatus

SENTENCE_A = "Please send the quarterly report to Margaret before Friday afternoon."
SENTENCE_B = "Kubernetes clusters scale automatically when traffic grows."
MORE = ("Our garden needs rain after a long and very dry summer.",
        "The library opens early on Saturday and closes late on Sunday.",
        "Remember to water the plants and feed the cat while I am away.",
        "She painted the old wooden fence a bright shade of yellow.")
JOB_TIMEOUT_MS = 120_000
CONFIG = EngineConfig(device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture
def window(qtbot):
    """The real main window on the CPU; its worker thread is joined after the test."""
    win = MainWindow(CONFIG)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    win.close()
    assert not win.files.jobs.runner.thread_running
    win.deleteLater()


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    """A text file dressed up as a WAV."""
    path = tmp_path / "notes.wav"
    path.write_text("meeting notes, not a recording\n" * 20)
    return path


def _click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _transcribe(qtbot, win: MainWindow) -> None:
    _click(qtbot, win.files.transcribe_button)
    assert win.files.busy
    qtbot.waitUntil(lambda: not win.files.busy, timeout=JOB_TIMEOUT_MS)


def _click_row(qtbot, win: MainWindow, path: Path) -> None:
    queue = win.files.queue
    item = queue.findItems(path.name, Qt.MatchFlag.MatchExactly, 0)[0]
    queue.scrollToItem(item)
    qtbot.mouseClick(queue.viewport(), Qt.MouseButton.LeftButton,
                     pos=queue.visualItemRect(item).center())


def _drop(win: MainWindow, paths: list[Path]) -> bool:
    """Drag ``paths`` onto the window and drop them, as a file manager would; True if taken."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPoint(win.width() // 2, win.height() // 2)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(win, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(win, event)
    return event.isAccepted()


def test_transcribes_good_files_and_reports_the_bad_one(qtbot, window, spoken, bad_file,
                                                        monkeypatch) -> None:
    a, b = spoken(SENTENCE_A), spoken(SENTENCE_B)
    loaded_in: list[threading.Thread] = []
    import desktop_asr.ui.worker as worker_module
    real_create = worker_module.create_engine

    def spy_create(*args, **kwargs):
        loaded_in.append(threading.current_thread())
        return real_create(*args, **kwargs)

    monkeypatch.setattr(worker_module, "create_engine", spy_create)
    jobs = []
    real_start = window.files.jobs.runner.start
    monkeypatch.setattr(window.files.jobs.runner, "start",
                        lambda job: (jobs.append(job), real_start(job))[1])

    assert window.windowTitle() == "desktop-asr"
    assert window.add_files([a, bad_file, b]) == [a, bad_file, b]
    assert not window.banner.isVisible()
    options = window.files.options
    options.vocabulary.setText("Margaret,  quarterly report , ")
    _click(qtbot, options.word_timestamps)
    started = time.perf_counter()
    _click(qtbot, window.files.transcribe_button)
    # The click returns at once: the model loads and decodes in the worker thread.
    assert time.perf_counter() - started < 1.0
    assert window.files.busy and not options.isEnabled()
    assert window.files.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not window.files.busy, timeout=JOB_TIMEOUT_MS)

    assert loaded_in and loaded_in[0] is not threading.main_thread()
    assert jobs[0].options.hotwords == ("Margaret", "quarterly report")
    assert jobs[0].options.word_timestamps and jobs[0].options.language is None
    queue = window.files.queue
    assert queue.status(a) is FileStatus.DONE and queue.status(b) is FileStatus.DONE
    assert queue.progress_value(a) == queue.progress_value(b) == 1.0
    assert queue.status(bad_file) is FileStatus.FAILED
    assert "not an audio or video file" in queue.status_text(bad_file)
    assert window.banner.isVisible()
    assert window.banner.messages() == ("notes.wav: not an audio or video file",)
    assert queue.result(a).transcript.words  # word timestamps reached the engine

    # The latest finished file is shown; clicking another finished row shows that one.
    assert "traffic" in window.files.transcript.plain_text()
    _click_row(qtbot, window, a)
    text = window.files.transcript.plain_text()
    assert "Margaret" in text and "Friday" in text
    assert re.search(r"\[00:0\d\]\s+Please send", text)
    _click_row(qtbot, window, bad_file)
    assert window.files.transcript.plain_text() == ""
    assert not window.files.commands.export.isEnabled()

    status = window.files.status_panel
    assert "tiny.en" in status.engine_label.text() and "cpu / int8" in status.engine_label.text()
    assert re.fullmatch(r"RTF \d+\.\d\d", status.rtf_text())
    assert not status.overall.isVisible()
    assert window.files.transcribe_button.isEnabled()  # the failed file may be retried
    assert not window.files.cancel_button.isEnabled() and options.isEnabled()


def test_export_srt_and_copy_text_of_the_selected_transcript(qtbot, window, spoken, tmp_path,
                                                             monkeypatch) -> None:
    a = spoken(SENTENCE_A)
    window.add_files([a])
    _transcribe(qtbot, window)
    asked = []

    def fake_save(parent, caption, directory, filters, selected):
        asked.append((directory, filters, selected))
        return str(tmp_path / "meeting"), FILTERS["srt"]  # no extension typed

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    window.files.commands.export_formats["srt"].trigger()  # what the Export ▸ SRT… item does
    out = tmp_path / "meeting.srt"
    assert out.is_file()
    assert asked[0][0].endswith(f"{a.stem}.srt") and asked[0][2] == FILTERS["srt"]
    subs = list(srt.parse(out.read_text(encoding="utf-8")))
    assert subs and subs[0].start.total_seconds() < 1.0
    assert "Margaret" in " ".join(s.content for s in subs)
    assert not window.banner.isVisible()

    QGuiApplication.clipboard().clear()
    window.files.commands.copy_text.trigger()
    assert "Margaret" in QGuiApplication.clipboard().text()


def test_cancel_stops_the_job_and_the_next_job_reuses_the_engine(qtbot, window, spoken) -> None:
    files = [spoken(s) for s in (SENTENCE_A, SENTENCE_B, *MORE)]
    window.add_files(files)
    runner = window.files.jobs.runner
    with qtbot.waitSignal(runner.fileDone, timeout=JOB_TIMEOUT_MS):
        _click(qtbot, window.files.transcribe_button)
    window.files.commands.cancel.trigger()
    assert not window.files.cancel_button.isEnabled()  # no second cancel while winding down
    qtbot.waitUntil(lambda: not window.files.busy, timeout=30_000)

    queue = window.files.queue
    statuses = [queue.status(p) for p in files]
    assert statuses[0] is FileStatus.DONE
    assert statuses.count(FileStatus.DONE) <= 2
    assert all(s in (FileStatus.DONE, FileStatus.CANCELLED, FileStatus.QUEUED) for s in statuses)
    assert statuses[-1] is FileStatus.QUEUED  # never reached
    assert not window.banner.isVisible()  # cancelling is not an error
    assert window.files.transcribe_button.isEnabled() and window.files.options.isEnabled()
    assert not window.files.status_panel.overall.isVisible()
    assert runner.thread_running and not runner.busy  # idle worker, engine kept

    _transcribe(qtbot, window)  # picks up the cancelled and queued files
    assert [queue.status(p) for p in files] == [FileStatus.DONE] * len(files)
    assert runner.engine_loads == 1


def test_closing_while_transcribing_cancels_and_joins_the_thread(qtbot, window, spoken) -> None:
    files = [spoken(s) for s in (SENTENCE_A, *MORE)]
    window.add_files(files)
    runner = window.files.jobs.runner
    with qtbot.waitSignal(runner.fileStarted, timeout=JOB_TIMEOUT_MS):
        _click(qtbot, window.files.transcribe_button)
    assert window.close() is False  # deferred until the worker has stopped, never blocking
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert not runner.thread_running and not runner.busy
    assert sum(window.files.queue.status(p) is FileStatus.DONE for p in files) <= 2


def test_dropping_files_and_folders_queues_media_files(qtbot, window, spoken, tmp_path) -> None:
    folder = tmp_path / "recordings"
    (folder / "day2").mkdir(parents=True)
    one = folder / "one.wav"
    one.write_bytes(spoken(SENTENCE_A).read_bytes())
    two = folder / "day2" / "two.wav"
    two.write_bytes(spoken(SENTENCE_B).read_bytes())
    (folder / "notes.txt").write_text("not media")
    empty = tmp_path / "empty"
    empty.mkdir()
    single = spoken(MORE[0])

    assert _drop(window, [folder, single])
    assert window.files.queue.paths() == [two, one, single]
    assert _drop(window, [single])  # already queued: not added twice
    assert len(window.files.queue) == 3
    assert not window.banner.isVisible()
    assert _drop(window, [empty])
    assert window.banner.isVisible() and "empty" in window.banner.text()
    assert len(window.files.queue) == 3
    _click(qtbot, window.banner.close_button)
    assert not window.banner.isVisible() and window.banner.messages() == ()


TICK_MS = 50
MAX_TICK_GAP_S = 1.0


def test_a_dropped_recording_is_transcribed_while_the_event_loop_keeps_running(
        qtbot, window, speech_dir) -> None:
    """Issue 4's must-show: a real recording (35 s of Harvard sentences, 8 kHz telephone speech)
    dropped on the window is transcribed by the real tiny.en while a 50 ms timer keeps firing.

    The bound is on the longest wait between two ticks, from the click until the job is done:
    the worker thread decodes, loads the model and runs it while the UI thread only paints
    progress. Measured on the shared 2-core development machine at load averages of 5 to 6.5:
    jobs of 3-10 s, largest gaps 0.15-0.65 s over ten runs; a separate process that only slept
    in 10 ms steps saw 0.49 s gaps at the same time, so those are the CPU being shared, not the
    app. A loop that ran the job would show one gap as long as the job (3 s or more here), and
    hardly any ticks. 1 s leaves room for a slower or busier machine.
    """
    wav = speech_dir / "OSR_us_000_0034_8k.wav"
    if not wav.is_file():
        pytest.skip(f"{wav.name} is not in {speech_dir}")
    assert _drop(window, [wav])
    assert window.files.queue.paths() == [wav]
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    started = time.perf_counter()
    _click(qtbot, window.files.transcribe_button)
    qtbot.waitUntil(lambda: not window.files.busy, timeout=JOB_TIMEOUT_MS)
    finished = time.perf_counter()
    timer.stop()

    stamps = [started, *ticks, finished]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    worst = sorted(round(g, 3) for g in gaps)[-5:]
    assert max(gaps) < MAX_TICK_GAP_S, f"job {finished - started:.1f} s, largest gaps {worst}"
    assert len(ticks) >= 5, f"only {len(ticks)} ticks in a {finished - started:.1f} s job"
    assert window.files.queue.status(wav) is FileStatus.DONE
    assert not window.banner.isVisible(), window.banner.messages()
    text = window.files.transcript.plain_text().lower()
    for words in ("ring will please", "journey home", "pink shell", "storm tore down the barn",
                  "hear the bell"):
        assert words in text, text


def test_controls_have_accessible_names_and_shortcuts(qtbot, window, spoken, monkeypatch
                                                      ) -> None:
    f = window.files
    for widget, name in ((f.add_files_button, "Add files"), (f.add_folder_button, "Add folder"),
                         (f.transcribe_button, "Transcribe"), (f.cancel_button, "Cancel"),
                         (f.export_button, "Export"), (f.options.model, "Model"),
                         (f.options.language, "Language"),
                         (f.options.vocabulary, "Custom vocabulary"),
                         (f.options.word_timestamps, "Word timestamps"),
                         (f.queue, "File queue"), (f.transcript.text, "Transcript")):
        assert widget.accessibleName() == name
    keys = {a: [s.toString() for s in a.shortcuts()] for a in
            (f.commands.add_files, f.commands.transcribe, f.commands.cancel, f.commands.export,
             f.commands.copy_text)}
    assert keys[f.commands.add_files] == ["Ctrl+O"]
    assert "Ctrl+Return" in keys[f.commands.transcribe]
    assert keys[f.commands.cancel] == ["Esc"]
    assert keys[f.commands.export] == ["Ctrl+E"]
    assert keys[f.commands.copy_text] == ["Ctrl+Shift+C"]
    # Ctrl+O really opens the file dialog and queues what it returns.
    wav = spoken(SENTENCE_A)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        staticmethod(lambda *args: ([str(wav)], "")))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(f.queue, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert f.queue.paths() == [wav]
    # The model picker lists the bundled model first and selects it; language offers auto + en.
    assert f.options.model.currentData() == "tiny.en"
    assert "bundled" in f.options.model.currentText()
    langs = [f.options.language.itemText(i) for i in range(f.options.language.count())]
    assert langs == ["auto", "en"]


def test_progress_helpers() -> None:
    assert format_stamp(5.9) == "[00:05]" and format_stamp(3725) == "[1:02:05]"
    assert format_clock(65) == "1:05" and format_clock(3600) == "1:00:00"
    now = [0.0]
    a, b = Path("a.wav"), Path("b.wav")
    progress = JobProgress((a, b), (10.0, 30.0), clock=lambda: now[0])
    assert progress.fraction == 0.0 and progress.eta_seconds() is None
    progress.file_started(a, 10.0)
    now[0] = 2.0
    progress.file_progress(a, 5.0)
    assert progress.fraction == pytest.approx(5 / 40)
    assert progress.eta_seconds() == pytest.approx(35 * 2 / 5)
    progress.file_finished(a)
    assert progress.fraction == pytest.approx(10 / 40)


def test_run_app_opens_the_window_with_files_queued(qtbot, spoken) -> None:
    wav = spoken(SENTENCE_A)
    seen = {}

    def inspect_and_close() -> None:
        wins = [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]
        seen["titles"] = [w.windowTitle() for w in wins]
        seen["queued"] = [w.files.queue.paths() for w in wins]
        for w in wins:
            w.close()

    QTimer.singleShot(200, inspect_and_close)
    assert run_app([], files=[str(wav)], engine_config=CONFIG) == 0
    assert seen == {"titles": ["desktop-asr"], "queued": [[wav]]}
    assert QApplication.applicationName() == "desktop-asr"


def test_cli_app_subcommand(monkeypatch, tmp_path) -> None:
    import argparse

    import desktop_asr.ui
    from desktop_asr.cli import app as app_cmd

    parser = argparse.ArgumentParser()
    app_cmd.add_parser(parser.add_subparsers(dest="command"))
    calls = []
    monkeypatch.setattr(desktop_asr.ui, "run_app",
                        lambda argv, files=(): calls.append(list(files)) or 7)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    args = parser.parse_args(["app", "a.wav", "folder"])
    assert args.func(args) == 7 and calls == [["a.wav", "folder"]]
    assert parser.parse_args(["app"]).files == []
    if sys.platform.startswith("linux"):
        for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
            monkeypatch.delenv(var, raising=False)
        assert not app_cmd.display_available()
        assert args.func(args) == 2 and len(calls) == 1
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
        assert app_cmd.display_available()
    # The CLI module itself must not pull in Qt.
    code = ("import sys, desktop_asr.cli.app; "
            "sys.exit(1 if any(m.startswith('PySide6') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=False).returncode == 0


@pytest.mark.slow
def test_speakers_option_labels_who_spoke_in_the_editor(qtbot, window, tmp_path) -> None:
    """The Files page with "Speakers" on: a real two-voice espeak conversation, the real model
    and the real speaker encoder; each line's segment must carry its own voice's label."""
    import numpy as np
    from audio_fixtures import espeak_wav, write_wav
    from test_diarization import CONVERSATION, PAUSE_S, SAMPLE_RATE, VOICES, _backend_or_skip

    from desktop_asr.audio import decode_audio

    _backend_or_skip()

    pieces, truth, at = [], [], 0.0
    gap = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
    for i, (who, text) in enumerate(CONVERSATION):
        samples = decode_audio(espeak_wav(text, tmp_path / f"l{i}.wav", voice=VOICES[who][0],
                                          pitch=VOICES[who][1], speed=160))
        pieces += [samples, gap]
        truth.append((at + samples.size / SAMPLE_RATE / 2, who))  # the middle of each line
        at += (samples.size + gap.size) / SAMPLE_RATE
    wav = write_wav(tmp_path / "meeting.wav", np.concatenate(pieces), SAMPLE_RATE)
    window.add_files([wav])
    _click(qtbot, window.files.options.speakers)
    _click(qtbot, window.files.transcribe_button)
    qtbot.waitUntil(lambda: not window.files.busy, timeout=JOB_TIMEOUT_MS)
    assert not window.banner.isVisible(), window.banner.messages()
    transcript = window.files.queue.result(wav).transcript
    assert len(transcript.speakers) == 2
    found = {}
    for middle, who in truth:
        seg = next(s for s in transcript.segments if s.start <= middle <= s.end + 0.3)
        found.setdefault(who, set()).add(seg.speaker)
    assert all(len(ids) == 1 for ids in found.values()), found  # one label per voice...
    assert found["A"] != found["B"]                               # ...and not the same one
    shown = window.files.transcript.plain_text()
    assert transcript.speaker_label(transcript.speakers[0].id) in shown


def test_the_window_fits_a_1280_pixel_wide_screen_on_every_page(window) -> None:
    """Every page's controls fit a common laptop screen (1280x720 at 100 % scaling)."""
    tabs = window.findChild(QTabWidget)
    assert tabs is not None and tabs.count() >= 5
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 720, (tabs.tabText(i), hint)


def test_a_model_gone_from_disk_gives_a_clear_banner_and_loses_no_file(qtbot, window, spoken,
                                                                        tmp_path) -> None:
    """An imported model whose folder disappears after it was chosen (a removed drive): the
    job fails with a banner naming the model, the queued file stays queued, and choosing the
    bundled model again transcribes it."""
    import shutil

    from desktop_asr.models import ModelManager, bundled_model_path

    folder = tmp_path / "my-model"
    shutil.copytree(bundled_model_path(), folder)
    ModelManager().import_folder(folder, "gone-model")
    try:
        options = window.files.options
        options.reload_models()
        options.model.setCurrentIndex(options.model.findData("gone-model"))
        assert options.model.currentData() == "gone-model"
        shutil.rmtree(ModelManager().installed_path("gone-model"))
        audio = spoken(SENTENCE_A)
        window.add_files([audio])
        _transcribe(qtbot, window)
        assert window.banner.isVisible()
        message = " ".join(window.banner.messages())
        assert "unknown model 'gone-model'" in message and "imported again" in message, message
        queue = window.files.queue
        assert queue.status(audio) is not FileStatus.DONE
        options.model.setCurrentIndex(options.model.findData("tiny.en"))
        if queue.status(audio) is FileStatus.FAILED:
            window.add_files([audio])  # the user queues it again
        _transcribe(qtbot, window)
        assert queue.status(audio) is FileStatus.DONE
        assert "quarterly report" in queue.result(audio).transcript.text.lower()
    finally:
        shutil.rmtree(ModelManager().models_dir / "gone-model", ignore_errors=True)
