"""Regenerate docs/screenshots/app-files.png: the Files page after transcribing a few files.

Needs espeak-ng and a display, e.g.::

    Xvfb :99 -screen 0 1280x800x24 &  XVFB=$!
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/make_app_files.py
    kill $XVFB
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

log = logging.getLogger("make_app_files")

OUT = Path(__file__).with_name("app-files.png")
STANDUP = ("Good morning everyone. Let's start with a quick round of updates.",
           ("Margaret finished the quarterly report on Friday afternoon, and it is ready for "
            "review."),
           "The design team shipped the new onboarding screens last week.",
           "We still need to fix the login bug before the release on Thursday.",
           "Daniel will follow up with the customer about the invoice.",
           "That's all for today. Thanks everyone, see you tomorrow.")
SINGLE = {
    "product-call.wav": "Kubernetes clusters scale automatically when traffic grows. We moved "
                        "the database to a larger instance, and the response time dropped by "
                        "half.",
    "budget-review.wav": "The budget for next quarter includes two new hires and a larger "
                         "cloud bill.",
    "interview.wav": "Tell me about a project you are proud of, and what you would do "
                     "differently.",
    "lecture-notes.wav": "The library opens early on Saturday and closes late on Sunday. "
                         "Remember to water the plants while I am away.",
}


def _espeak(text: str, path: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), text],
                   check=True, capture_output=True)
    return path


def _standup(folder: Path) -> Path:
    """Several sentences with pauses between them, so the transcript has several segments."""
    frames, params = [], None
    for i, sentence in enumerate(STANDUP):
        with wave.open(str(_espeak(sentence, folder / f"part{i}.wav")), "rb") as src:
            params = src.getparams()
            frames.append(src.readframes(src.getnframes()))
    assert params is not None
    pause = b"\0\0" * int(params.framerate * 1.5)
    out = folder / "team-standup.wav"
    with wave.open(str(out), "wb") as dst:
        dst.setparams(params)
        dst.writeframes(pause.join(frames))
    return out


def main() -> int:
    """Make the audio, run the window, save the screenshot."""
    logging.basicConfig(level=logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="desktop-asr-shot-"))
    os.environ.setdefault("DESKTOP_ASR_HOME", str(folder / "home"))
    files = [_standup(folder)]
    files += [_espeak(text, folder / name) for name, text in SINGLE.items()]
    bad = folder / "voice-memo.m4a"
    bad.write_text("meeting notes, not a recording\n")
    files.insert(3, bad)

    from PySide6.QtCore import QTimer

    from desktop_asr.engines import EngineConfig
    from desktop_asr.ui import MainWindow
    from desktop_asr.ui.app import application

    app = application(sys.argv[:1])
    window = MainWindow(EngineConfig(device="cpu", cpu_threads=2))
    window.resize(1240, 740)
    window.show()
    window.add_files(files)
    window.files.options.vocabulary.setText("Margaret, Kubernetes")
    window.files.start()
    started = time.monotonic()

    def snap() -> None:
        window.grab().save(str(OUT))
        log.info("saved %s", OUT)
        window.close()

    def wait() -> None:
        if window.files.busy and time.monotonic() - started < 300:
            QTimer.singleShot(200, wait)
            return
        window.files.queue.select(files[0])
        QTimer.singleShot(800, snap)

    QTimer.singleShot(200, wait)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
