"""Regenerate docs/screenshots/app-evaluate.png: the Evaluate page after a real evaluation.

The bundled tiny.en is evaluated on the real speech in ``../shared/testdata/speech`` (English
clips; the Spanish, German and French ones are skipped by the English-only model, and the two
clips with an RTTM are diarized), exactly as a user would run it. Needs a display, e.g.::

    Xvfb :99 -screen 0 1280x800x24 &  XVFB=$!
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/make_evaluate.py
    kill $XVFB
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from demo_home import use_demo_home

HERE = Path(__file__).resolve().parent
MANIFEST = HERE.parents[2] / "shared" / "testdata" / "speech" / "manifest.jsonl"
OUT = HERE / "app-evaluate.png"
log = logging.getLogger("make_evaluate")


def main() -> int:
    """Run the evaluation in the window, scroll the report to its summary, save the shot."""
    logging.basicConfig(level=logging.INFO)
    if not MANIFEST.is_file():
        log.error("real speech not found at %s", MANIFEST)
        return 1
    use_demo_home()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QSplitter

    from desktop_asr.engines import EngineConfig
    from desktop_asr.ui import MainWindow
    from desktop_asr.ui.app import application

    app = application(sys.argv[:1])
    window = MainWindow(EngineConfig(device="cpu", cpu_threads=2))
    # Wide enough for the report's summary table (its widest part) beside the model list.
    window.resize(1400, 760)
    window.show()
    window.show_evaluate()
    page = window.evaluate
    page.findChild(QSplitter).setSizes([410, 966])
    page.set_manifest(MANIFEST)
    page.start()
    started = time.monotonic()

    def snap() -> None:
        window.grab().save(str(OUT))
        log.info("saved %s", OUT)
        window.shutdown()
        window.close()

    def wait() -> None:
        if page.busy and time.monotonic() - started < 600:
            QTimer.singleShot(300, wait)
            return
        # Start the view at the summary table, below the run's header lines.
        page.report.scrollToAnchor("summary")
        page.report.find("Summary")
        cursor = page.report.textCursor()
        cursor.clearSelection()
        page.report.setTextCursor(cursor)
        bar = page.report.verticalScrollBar()
        bar.setValue(bar.value() + 10)
        QTimer.singleShot(800, snap)

    QTimer.singleShot(300, wait)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
