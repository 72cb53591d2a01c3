"""Regenerate docs/screenshots/app-editor.png: the transcript editor with two speakers, find open.

The conversation is spoken by two espeak-ng voices and its transcript is built by hand from
the lengths of the lines (so segment times match the audio). Needs espeak-ng and a display::

    Xvfb :99 -screen 0 1280x800x24 &  XVFB=$!
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/make_app_editor.py
    kill $XVFB
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

log = logging.getLogger("make_app_editor")

OUT = Path(__file__).with_name("app-editor.png")
PAUSE_S = 0.6
CONVERSATION = (
    ("SPEAKER_00", "en-us", "Good morning everyone. Let's start with the release plan."),
    ("SPEAKER_01", "en-gb", "The release candidate is ready. We fixed the login bug on Monday."),
    ("SPEAKER_00", "en-us", "Great. Did the new onboarding screens make it into the build?"),
    ("SPEAKER_01", "en-gb", ("They did. Margaret reviewed them on Friday afternoon, and the design team "
                            "signed off on the final copy and the illustrations.")),
    ("SPEAKER_00", "en-us", "Then we ship the release on Thursday, as planned."),
    ("SPEAKER_01", "en-gb", "I will update the changelog and tell the support team."),
    ("SPEAKER_00", "en-us", "Perfect. Thanks everyone, see you tomorrow."),
)
NAMES = {"SPEAKER_00": "Dana Whitfield", "SPEAKER_01": "Sam Ortega"}


def _conversation(folder: Path) -> tuple[Path, list[tuple[float, float]]]:
    """Speak every line, join them with pauses; returns the WAV and each line's span."""
    frames, spans, params, at = [], [], None, 0.0
    for i, (_, voice, text) in enumerate(CONVERSATION):
        part = folder / f"line{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(part), text],
                       check=True, capture_output=True)
        with wave.open(str(part), "rb") as src:
            params = src.getparams()
            frames.append(src.readframes(src.getnframes()))
            seconds = src.getnframes() / src.getframerate()
        spans.append((at, at + seconds))
        at += seconds + PAUSE_S
    assert params is not None
    out = folder / "release-sync.wav"
    with wave.open(str(out), "wb") as dst:
        dst.setparams(params)
        dst.writeframes((b"\0\0" * int(params.framerate * PAUSE_S)).join(frames))
    return out, spans


def main() -> int:
    """Make the audio and transcript, show them in the window, save the screenshot."""
    logging.basicConfig(level=logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="desktop-asr-shot-"))
    os.environ.setdefault("DESKTOP_ASR_HOME", str(folder / "home"))
    wav, spans = _conversation(folder)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QSplitter

    from desktop_asr.batch import FileResult
    from desktop_asr.engines import EngineConfig
    from desktop_asr.types import Segment, Speaker, Transcript
    from desktop_asr.ui import MainWindow
    from desktop_asr.ui.app import application

    segments = tuple(Segment(a, b, f" {text}", speaker=spk)
                     for (spk, _, text), (a, b) in zip(CONVERSATION, spans))
    transcript = Transcript(segments, tuple(Speaker(i) for i in NAMES), language="en",
                            duration=spans[-1][1])
    app = application(sys.argv[:1])
    window = MainWindow(EngineConfig(device="cpu", cpu_threads=2))
    window.resize(1240, 740)
    window.show()
    window.add_files([wav])
    window.files.queue.set_result(FileResult(wav, transcript, audio_seconds=spans[-1][1],
                                             elapsed_seconds=0.8))
    window.files.queue.select(wav)
    splitter = window.files.findChild(QSplitter)
    if splitter is not None:
        splitter.setSizes([520, 700])
    editor = window.files.transcript.editor
    editor.rename_speaker("SPEAKER_00", NAMES["SPEAKER_00"])
    editor.rename_speaker("SPEAKER_01", NAMES["SPEAKER_01"])
    editor.find_action.trigger()
    editor.find_bar.field.setText("release")
    editor.find_next()

    def snap() -> None:
        window.grab().save(str(OUT))
        log.info("saved %s", OUT)
        window.close()

    QTimer.singleShot(800, snap)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
