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
import time
from pathlib import Path

from demo_home import use_demo_home

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


def _live_page(speech: Path, vocabulary: str, *, speakers: bool = False):
    """The real main window on its Live page, replaying ``speech`` in real time, started."""
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
    page.options.vocabulary.setText(vocabulary)
    page.options.speakers.setChecked(speakers)
    return app, window, page


def _run(app, window, page, shoot, limit: float) -> None:
    """Call ``shoot()`` every 0.1 s until it has taken its shots (it returns True) and the
    session has stopped, or ``limit`` seconds have passed."""
    from PySide6.QtCore import QTimer

    began = time.monotonic()
    done: list[bool] = []

    def poll() -> None:
        if not done and shoot():
            done.append(True)
            page.stop()
        if (done and not page.busy) or time.monotonic() - began > limit:
            timer.stop()
            window.shutdown()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    page.start()
    app.exec()
    if not done:
        raise SystemExit("the moment to take the screenshot was not seen")


def _shoot(speech: Path) -> None:
    app, window, page = _live_page(speech, "Americans, fellow citizens")
    page.overlay.setGeometry(280, 520, 720, 108)
    page.commands.toggle_overlay.setChecked(True)

    def shoot() -> bool:
        captions = page.captions
        mid = (len(captions.committed_text().split()) >= 12 and captions.tentative_text()
               and page.status_panel.lag_label.text())
        if not mid:
            return False
        app.processEvents()
        window.grab().save(str(HERE / "app-live.png"))
        _desktop(window, page.overlay).save(str(HERE / "overlay.png"))
        log.info("screenshots saved")
        return True

    _run(app, window, page, shoot, 120)


def _shoot_speakers(speech: Path) -> None:
    app, window, page = _live_page(speech, "Diane, Sheila, New Jersey", speakers=True)
    replay_began: list[float] = []

    def labelled() -> set[str]:
        found: set[str] = set()
        for n in range(len(page.captions._lines)):
            found.update(s for s in page.captions.speaker_of_line(n) if s)
        return found

    def shoot() -> bool:
        if not replay_began and page.status_panel.lag_label.text():
            replay_began.append(time.monotonic())  # the model is loaded, the replay runs
        played = time.monotonic() - replay_began[0] if replay_began else 0.0
        if played < SPEAKERS_SHOT_AT or len(labelled()) < 2:
            return False
        app.processEvents()
        window.grab().save(str(HERE / "app-live-speakers.png"))
        log.info("screenshot saved %.1f s into the call; speakers labelled: %s",
                 played, sorted(labelled()))
        return True

    _run(app, window, page, shoot, 180)


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
        use_demo_home()
        (_shoot_speakers if args.speakers else _shoot)(speech)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
