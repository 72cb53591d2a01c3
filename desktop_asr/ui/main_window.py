"""The main window: error banner on top, pages in the middle, status bar below."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from desktop_asr.engines import EngineConfig
from desktop_asr.ui.error_banner import ErrorBanner
from desktop_asr.ui.files_page import FilesPage
from desktop_asr.ui.style import STYLE_SHEET

log = logging.getLogger(__name__)

WINDOW_TITLE = "desktop-asr"


class MainWindow(QMainWindow):
    """Hosts the app's pages (only Files for now) and the one error banner they all report to."""

    def __init__(self, engine_config: EngineConfig | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(WINDOW_TITLE)
        self.setObjectName("mainWindow")
        self.setStyleSheet(STYLE_SHEET)
        self.setAcceptDrops(True)
        self.resize(1180, 720)
        self._close_when_idle = False
        self.banner = ErrorBanner(self)
        self.pages = QStackedWidget(self)
        self.files = FilesPage(engine_config, self)
        self.pages.addWidget(self.files)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.setSpacing(8)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.statusBar().addPermanentWidget(self.files.status_panel)
        self.statusBar().setSizeGripEnabled(True)
        self.files.errorOccurred.connect(self.show_error)
        self.files.message.connect(self._show_message)
        self.files.busyChanged.connect(self._on_busy_changed)
        self._build_menus()

    def _build_menus(self) -> None:
        a = self.files.commands
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([a.add_files, a.add_folder, a.remove])
        file_menu.addSeparator()
        file_menu.addAction(a.export)
        file_menu.addMenu(a.export_menu)
        file_menu.addAction(a.copy_text)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        run_menu = self.menuBar().addMenu("&Transcription")
        run_menu.addActions([a.transcribe, a.cancel])

    @Slot(str)
    def show_error(self, message: str) -> None:
        """Show an error in the window's banner (the one place errors appear)."""
        self.banner.show_error(message)

    def add_files(self, paths: list[str | Path]) -> list[Path]:
        """Queue files or folders on the Files page."""
        return self.files.add_paths(paths)

    def shutdown(self) -> None:
        """Stop any job and join the worker thread; safe to call more than once."""
        self.files.shutdown()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept drags that carry local files or folders."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Queue dropped files; folders are expanded to their media files."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files.add_paths(paths)
        else:
            event.ignore()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel a running job first and close once it has stopped, without blocking."""
        if self.files.busy:
            self._close_when_idle = True
            self.files.cancel()
            self._show_message("Stopping the transcription before closing…")
            event.ignore()
            return
        self.shutdown()
        event.accept()

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy and self._close_when_idle:
            self._close_when_idle = False
            self.close()

    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)
