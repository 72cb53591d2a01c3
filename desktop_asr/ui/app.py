"""Entry point of the desktop app: create the QApplication and the main window, then run."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop_asr import __version__
from desktop_asr.engines import EngineConfig
from desktop_asr.settings import load_settings
from desktop_asr.ui.main_window import MainWindow
from desktop_asr.ui.theme import apply_theme

log = logging.getLogger(__name__)

APP_NAME = "desktop-asr"


def application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, created (named desktop-asr) if there is none yet."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    return app


def run_app(argv: list[str] | None = None, *, files: Sequence[str | Path] = (),
            engine_config: EngineConfig | None = None) -> int:
    """Open the main window (with ``files`` queued) and run the event loop; returns its status."""
    app = application(argv)
    settings = load_settings()
    apply_theme(app, settings.theme)
    window = MainWindow(engine_config, settings=settings)
    # Quitting from elsewhere (session end, app.quit) must still join the worker thread.
    app.aboutToQuit.connect(window.shutdown)
    if files:
        window.add_files(list(files))
    window.show()
    log.info("desktop-asr window opened")
    # Once the window is on screen: offer to rebuild a live session that a crash interrupted.
    QTimer.singleShot(0, window.offer_recovery)
    return int(app.exec())
