"""The Qt desktop app; the only package that imports PySide6, and it never touches ML libraries."""

from desktop_asr.ui.app import run_app
from desktop_asr.ui.main_window import MainWindow

__all__ = ["MainWindow", "run_app"]
