"""Regenerate docs/screenshots/app-sessions.png: the Sessions page with real past sessions.

Each session is made by the real ``desktop-asr live`` replaying a clip of real speech from
``../shared/testdata/speech`` (with ``--record``), so the list, the durations and the opened
transcript are what the app itself saved. Needs a display, e.g.::

    Xvfb :99 -screen 0 1280x800x24 &  XVFB=$!
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/make_sessions.py
    kill $XVFB
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from demo_home import use_demo_home

HERE = Path(__file__).resolve().parent
SPEECH = HERE.parents[2] / "shared" / "testdata" / "speech"
CLIPS = ("librivox_sense_and_sensibility_0870.wav", "jfk.wav",
         "librivox_sense_and_sensibility_0920.wav")
OUT = HERE / "app-sessions.png"
log = logging.getLogger("make_sessions")


def _record_sessions(env: dict[str, str]) -> None:
    for clip in CLIPS:
        path = SPEECH / clip
        if not path.is_file():
            log.warning("%s is missing; skipped", path)
            continue
        subprocess.run([sys.executable, "-m", "desktop_asr", "live", "--source", str(path),
                        "--speed", "4", "--record", "-o", env["HOME"] + "/Documents/captions",
                        "--threads", "2"], env=env, check=True, capture_output=True)
        time.sleep(1.1)  # session folders are named by the second they start


def main() -> int:
    """Record the sessions, open the window on the Sessions page, save the screenshot."""
    logging.basicConfig(level=logging.INFO)
    home = use_demo_home()
    try:
        _record_sessions(dict(os.environ))
        from PySide6.QtCore import QTimer

        from desktop_asr.engines import EngineConfig
        from desktop_asr.ui import MainWindow
        from desktop_asr.ui.app import application

        app = application(sys.argv[:1])
        window = MainWindow(EngineConfig(device="cpu", cpu_threads=2))
        window.resize(1240, 700)
        window.show()
        window.show_sessions()
        panel = window.sessions.panel

        def open_newest() -> None:
            if panel.busy or not panel.sessions():
                QTimer.singleShot(100, open_newest)
                return
            panel.select(panel.sessions()[1].folder if len(panel.sessions()) > 1
                         else panel.sessions()[0].folder)
            panel.open_selected()
            QTimer.singleShot(1200, snap)

        def snap() -> None:
            window.grab().save(str(OUT))
            log.info("saved %s", OUT)
            window.shutdown()
            window.close()

        QTimer.singleShot(300, open_newest)
        return int(app.exec())
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
