"""`desktop-asr demo` (what installer/run.sh and `make run` call): the bundled sample, captioned
by the real bundled tiny.en, on the command line without a display and in the window with one."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import srt
import webvtt
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop_asr import paths
from desktop_asr.cli import demo
from desktop_asr.cli.main import main
from desktop_asr.export import load_json

# What the bundled resources/samples/welcome.flac says (tiny.en hears it word for word).
SAMPLE_WORDS = ("welcome to desktop captions", "nothing leaves it", "drop a recording",
                "transcript with timestamps")
FORMATS = ("txt", "srt", "vtt", "json")
JOB_TIMEOUT_MS = 120_000


@pytest.fixture
def sample() -> Path:
    """The bundled sample recording the demo uses when given no files."""
    assert demo.SAMPLE.is_file(), f"the bundled sample {demo.SAMPLE} is missing"
    return demo.SAMPLE


def _env(**extra: str) -> dict[str, str]:
    """This process's environment (with the isolated home) minus any display, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return {**env, **extra}


def _has_words(text: str, words: tuple[str, ...]) -> None:
    flat = " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())
    for phrase in words:
        assert phrase in flat, (phrase, text)


def _check_outputs(out: Path, stem: str, words: tuple[str, ...]) -> None:
    """The four files the demo writes exist, parse, and hold the words, with sane times."""
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{stem}.{f}" for f in FORMATS)
    _has_words((out / f"{stem}.txt").read_text(encoding="utf-8"), words)
    subs = list(srt.parse((out / f"{stem}.srt").read_text(encoding="utf-8")))
    assert subs and subs[0].start.total_seconds() < 1.0
    assert all(s.end > s.start for s in subs)
    _has_words(" ".join(s.content for s in subs), words)
    cues = webvtt.from_buffer(io.StringIO((out / f"{stem}.vtt").read_text(encoding="utf-8")))
    _has_words(" ".join(c.text for c in cues), words)
    transcript = load_json((out / f"{stem}.json").read_text(encoding="utf-8"))
    assert transcript.language == "en" and transcript.segments
    _has_words(transcript.text, words)


def test_without_a_display_the_demo_prints_the_samples_captions_and_writes_them(sample
                                                                                ) -> None:
    """The console script exactly as installer/run.sh runs it, on a machine with no display."""
    exe = Path(sys.executable).with_name("desktop-asr")
    proc = subprocess.run([str(exe), "demo"], capture_output=True, text=True, env=_env(),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "no display found" in proc.stderr and "transcribing a sample" in proc.stderr
    # Captions are printed with their times as each file finishes.
    assert re.search(r"^\[00:00:00\.\d{3} --> 00:00:\d\d\.\d{3}\] Welcome to desktop captions",
                     proc.stdout, re.MULTILINE), proc.stdout
    _has_words(proc.stdout, SAMPLE_WORDS)
    out = paths.data_dir() / "demo"  # the isolated home, inherited by the child
    assert "transcribed 1 of 1 file(s)" in proc.stderr
    assert proc.stderr.rstrip().endswith(f"outputs in {out}"), proc.stderr
    _check_outputs(out, "welcome", SAMPLE_WORDS)


def test_headless_flag_never_opens_a_window_and_uses_the_given_file(spoken, tmp_path) -> None:
    """--headless with a display set: the child would abort if it tried to reach that (absent)
    X server, so a clean exit shows no window was opened; a given file replaces the sample."""
    wav = spoken("Please send the quarterly report to Margaret before Friday afternoon.")
    proc = subprocess.run([sys.executable, "-m", "desktop_asr", "demo", "--headless", str(wav)],
                          capture_output=True, text=True, env=_env(DISPLAY=":4242"),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "no display found" not in proc.stderr
    assert "welcome" not in proc.stdout.lower()
    words = ("quarterly report", "margaret", "friday afternoon")
    _has_words(proc.stdout, words)
    _check_outputs(paths.data_dir() / "demo", wav.stem, words)


def test_a_missing_sample_is_a_usage_error_with_the_path(monkeypatch, tmp_path, capsys) -> None:
    gone = tmp_path / "welcome.flac"
    monkeypatch.setattr(demo, "SAMPLE", gone)
    assert main(["demo", "--headless"]) == 2
    err = capsys.readouterr().err
    assert f"the sample recording {gone} is missing; pass a file instead" in err
    assert not (paths.data_dir() / "demo").exists()


def test_with_a_display_the_demo_opens_the_window_and_captions_the_sample(
        qtbot, monkeypatch, sample) -> None:
    """The window path of `desktop-asr demo`, with Qt drawing offscreen (DISPLAY is set so the
    demo believes a desktop is there): the real window opens with the sample queued and the
    bundled model picked, and its Transcribe button captions the sample."""
    from desktop_asr.ui import MainWindow

    monkeypatch.setenv("DISPLAY", ":4242")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    seen: dict[str, object] = {}

    def drive() -> None:
        wins = [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]
        try:
            seen["titles"] = [w.windowTitle() for w in wins]
            win = wins[0]
            seen["queued"] = win.files.queue.paths()
            seen["model"] = (win.files.options.model.currentData(),
                             win.files.options.model.currentText())
            qtbot.mouseClick(win.files.transcribe_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: not win.files.busy, timeout=JOB_TIMEOUT_MS)
            seen["banner"] = win.banner.messages()
            seen["text"] = win.files.transcript.plain_text()
        finally:
            for w in wins:
                w.close()

    QTimer.singleShot(200, drive)
    assert main(["demo"]) == 0
    assert seen.get("titles") == ["desktop-asr"], "the demo opened no window"
    assert seen["queued"] == [sample]
    model, label = seen["model"]
    assert model == "tiny.en" and "bundled" in label
    assert seen["banner"] == ()
    _has_words(str(seen["text"]), SAMPLE_WORDS)
    assert not (paths.data_dir() / "demo").exists()  # the window path writes no CLI outputs

