"""Regenerate docs/screenshots/settings.png and models.png: the real dialogs, default state.

Needs a display, e.g.::

    Xvfb :99 -screen 0 1280x800x24 &  XVFB=$!
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/make_dialogs.py
    kill $XVFB
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

from demo_home import use_demo_home

log = logging.getLogger("make_dialogs")

HERE = Path(__file__).parent


def main() -> int:
    """Show each dialog, let it settle, save a PNG of it."""
    home = use_demo_home()  # keep the real settings and models out of it
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_asr.models import ModelManager, bundled_model_path
    from desktop_asr.settings import Settings
    from desktop_asr.ui.model_dialog import ModelManagerDialog
    from desktop_asr.ui.settings_dialog import SettingsDialog
    from desktop_asr.ui.theme import apply_theme

    app = QApplication(sys.argv[:1])

    def settle(ms: int = 400) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    try:
        # One imported model so the list shows all three kinds of rows.
        bundled = bundled_model_path()
        if bundled is not None:
            download = home / "Downloads" / "my-tiny.en-finetuned"
            shutil.copytree(bundled, download)
            ModelManager().import_folder(download, "my-tiny.en-finetuned")
        settings = SettingsDialog(Settings(language="en", record=True))
        settings.show()
        settle()
        settings.grab().save(str(HERE / "settings.png"))
        settings.tabs.setCurrentIndex(1)
        settle()
        settings.grab().save(str(HERE / "settings-overlay.png"))
        apply_theme(app, "high-contrast")
        settings.tabs.setCurrentIndex(3)
        settle()
        settings.grab().save(str(HERE / "settings-high-contrast.png"))
        apply_theme(app, "system")
        settings.close()
        models = ModelManagerDialog()
        models.show()
        models.table.selectRow(models.row_of("small.en", "downloadable"))
        settle()
        models.grab().save(str(HERE / "models.png"))
        models.close()
        log.info("screenshots written to %s", HERE)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    raise SystemExit(main())
