"""Regenerate docs/screenshots/app-editor.png: the transcript editor with two speakers, find open.

The conversation is spoken by two espeak-ng voices; the Files page transcribes it with the
bundled model and the "Speakers" option (real diarization), then the two speakers found are
renamed in the editor, as a user would. Needs espeak-ng and a display::

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
    ("SPEAKER_00", "en-us+m3", "Good morning everyone. Let's start with the release plan."),
    ("SPEAKER_01", "en-us+f4", "The release candidate is ready. We fixed the login bug on Monday."),
    ("SPEAKER_00", "en-us+m3", "Great. Did the new onboarding screens make it into the build?"),
    ("SPEAKER_01", "en-us+f4", ("They did. Margaret reviewed them on Friday afternoon, and the design "
                               "team signed off on the final copy and the illustrations.")),
    ("SPEAKER_00", "en-us+m3", "Then we ship the release on Thursday, as planned."),
    ("SPEAKER_01", "en-us+f4", "I will update the changelog and tell the support team."),
    ("SPEAKER_00", "en-us+m3", "Perfect. Thanks everyone, see you tomorrow."),
)


def _conversation(folder: Path) -> tuple[Path, list[tuple[float, float]]]:
    """Speak every line, join them with pauses; returns the WAV and each line's span."""
    frames, spans, params, at = [], [], None, 0.0
    for i, (_, voice, text) in enumerate(CONVERSATION):
        part = folder / f"line{i}.wav"
        pitch = "30" if voice.endswith("m3") else "85"  # a low and a high voice
        subprocess.run(["espeak-ng", "-v", voice, "-p", pitch, "-s", "160", "-w", str(part),
                        text],
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
    wav, _ = _conversation(folder)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QSplitter

    from desktop_asr.engines import EngineConfig
    from desktop_asr.ui import MainWindow
    from desktop_asr.ui.app import application

    app = application(sys.argv[:1])
    window = MainWindow(EngineConfig(device="cpu", cpu_threads=2))
    window.resize(1240, 740)
    window.show()
    window.add_files([wav])
    splitter = window.files.findChild(QSplitter)
    if splitter is not None:
        splitter.setSizes([520, 700])
    window.files.options.speakers.setChecked(True)
    window.files.start()  # the real model and the real speaker diarization
    editor = window.files.transcript.editor

    def when_done() -> None:
        if window.files.busy:
            QTimer.singleShot(200, when_done)
            return
        window.files.queue.select(wav)
        transcript = editor.transcript()
        found = [s.id for s in transcript.speakers] if transcript else []
        log.info("speakers found: %s", found)
        # Name them in order of first appearance, as the user would after listening.
        for sid, name in zip(found, ("Dana Whitfield", "Sam Ortega")):
            editor.rename_speaker(sid, name)
        editor.find_action.trigger()
        editor.find_bar.field.setText("release")
        editor.find_next()
        QTimer.singleShot(800, snap)

    def snap() -> None:
        window.grab().save(str(OUT))
        log.info("saved %s", OUT)
        window.shutdown()
        window.close()

    QTimer.singleShot(200, when_done)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
