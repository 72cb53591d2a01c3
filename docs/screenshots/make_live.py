"""Screenshots of live captions: the main window mid-session and the caption overlay.

Run from the repository root:
``.venv/bin/python docs/screenshots/make_live.py [--speakers] [AUDIO]``.
It starts its own Xvfb (:99 or the next free display, 1280x800) and replays real speech on the
Live page in real time, through the real live pipeline.

- Without ``--speakers``: ``../shared/testdata/speech/jfk.wav`` (when present, else the bundled
  ``resources/samples/welcome.flac``); writes ``app-live.png`` and ``overlay.png`` beside this
  script. Xvfb has no compositing manager, so the translucent overlay is composited onto the
  screen grab here, as a compositing desktop would show it.
- With ``--speakers``: ``../shared/testdata/speech/pyannote_sample.wav`` (two people on a phone
  call), "Speakers" ticked, so the live diarizer labels each line as it is committed; writes
  ``app-live-speakers.png`` late in the call, once both voices have been labelled. The labels
  and the words are the app's own; nothing is typed in but the custom vocabulary.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SPEECH = REPO.parent / "shared" / "testdata" / "speech"
log = logging.getLogger("make_live")

# The two-speaker shot is taken once the replay has passed this point (the call is 30 s).
SPEAKERS_SHOT_AT = 27.0


def _speech(audio: str | None, speakers: bool) -> Path:
    if audio:
        return Path(audio).resolve()
    if speakers:
        call = SPEECH / "pyannote_sample.wav"
        if not call.is_file():
            raise SystemExit(f"two-speaker speech not found at {call}")
        return call
    jfk = SPEECH / "jfk.wav"
    return jfk if jfk.is_file() else REPO / "resources" / "samples" / "welcome.flac"


def _shoot(speech: Path) -> None:
    from PySide6.QtCore import QTimer

    from desktop_asr.engines import EngineConfig
    from desktop_asr.ui.app import application
    from desktop_asr.ui.main_window import MainWindow

    app = application([])
    window = MainWindow(EngineConfig(device="cpu", compute_type="int8"))
    window.setGeometry(60, 40, 1160, 620)
    window.show()
    window.show_live()
    page = window.live
    page.source.set_replay_file(speech, speed=1.0)
    page.options.vocabulary.setText("Americans, fellow citizens")
    page.overlay.setGeometry(280, 520, 720, 108)
    page.commands.toggle_overlay.setChecked(True)
    page.start()
    shots: dict[str, bool] = {}
    began = time.monotonic()

    def poll() -> None:
        captions = page.captions
        mid = (len(captions.committed_text().split()) >= 12 and captions.tentative_text()
               and page.status_panel.lag_label.text())
        if mid and "live" not in shots:
            app.processEvents()
            window.grab().save(str(HERE / "app-live.png"))
            _desktop(window, page.overlay).save(str(HERE / "overlay.png"))
            shots["live"] = True
            log.info("screenshots saved")
            page.stop()
        if (shots and not page.busy) or time.monotonic() - began > 120:
            timer.stop()
            window.shutdown()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    app.exec()
    if not shots:
        raise SystemExit("no mid-session moment with committed and tentative text was seen")


def _shoot_speakers(speech: Path) -> None:
    from PySide6.QtCore import QTimer

    from desktop_asr.engines import EngineConfig
    from desktop_asr.ui.app import application
    from desktop_asr.ui.main_window import MainWindow

    app = application([])
    window = MainWindow(EngineConfig(device="cpu", compute_type="int8"))
    window.setGeometry(60, 40, 1160, 620)
    window.show()
    window.show_live()
    page = window.live
    page.source.set_replay_file(speech, speed=1.0)
    page.options.vocabulary.setText("Diane, Sheila, New Jersey")
    page.options.speakers.setChecked(True)
    page.start()
    shots: dict[str, float] = {}
    began = time.monotonic()
    replay_began: list[float] = []

    def labelled() -> set[str]:
        found: set[str] = set()
        for n in range(len(page.captions._lines)):
            found.update(s for s in page.captions.speaker_of_line(n) if s)
        return found

    def poll() -> None:
        if not replay_began and page.status_panel.lag_label.text():
            replay_began.append(time.monotonic())  # the model is loaded, the replay runs
        played = time.monotonic() - replay_began[0] if replay_began else 0.0
        if "speakers" not in shots and played >= SPEAKERS_SHOT_AT and len(labelled()) >= 2:
            app.processEvents()
            window.grab().save(str(HERE / "app-live-speakers.png"))
            shots["speakers"] = played
            log.info("screenshot saved %.1f s into the call; speakers labelled: %s",
                     played, sorted(labelled()))
            page.stop()
        if (shots and not page.busy) or time.monotonic() - began > 180:
            timer.stop()
            window.shutdown()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    app.exec()
    if not shots:
        raise SystemExit("two labelled speakers were not seen late in the call")


def _desktop(window, overlay):
    """A 1280x800 desktop: gradient wallpaper, the main window, the overlay blended on top."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPixmap

    shot = QPixmap(1280, 800)
    p = QPainter(shot)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    wallpaper = QLinearGradient(0, 0, 1280, 800)
    wallpaper.setColorAt(0.0, QColor("#2b4c6f"))
    wallpaper.setColorAt(1.0, QColor("#6b8fb3"))
    p.fillRect(shot.rect(), wallpaper)
    frame = QRectF(window.geometry())
    for spread in range(12, 0, -3):  # a soft shadow, as a window manager would draw
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 14))
        p.drawRoundedRect(frame.adjusted(-spread, -spread + 4, spread, spread + 4), 10, 10)
    p.drawPixmap(window.geometry().topLeft(), window.grab())
    # Xvfb has no compositor, so the translucent overlay is blended here from its own grab.
    p.drawPixmap(overlay.geometry().topLeft(), overlay.grab())
    p.end()
    return shot


def _free_display() -> str:
    number = 99
    while Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
        number += 1  # another Xvfb (another screenshot script) holds this one
    return f":{number}"


def main(argv: list[str]) -> int:
    """Start Xvfb, take the screenshots, stop Xvfb."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", action="store_true",
                        help="live speaker labels on a two-speaker call: app-live-speakers.png")
    parser.add_argument("audio", nargs="?", help="the speech to replay")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    speech = _speech(args.audio, args.speakers)
    display = _free_display()
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        os.environ.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
        # Keep the demo session out of the user's real sessions folder.
        os.environ["DESKTOP_ASR_HOME"] = tempfile.mkdtemp(prefix="desktop-asr-shots-")
        (_shoot_speakers if args.speakers else _shoot)(speech)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
