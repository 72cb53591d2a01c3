"""The main window: error banner on top, pages in the middle, status bar below."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from desktop_asr.engines import EngineConfig
from desktop_asr.settings import Settings, load_settings, save_settings
from desktop_asr.ui.error_banner import ErrorBanner
from desktop_asr.ui.evaluate_page import EvaluatePage
from desktop_asr.ui.files_page import FilesPage
from desktop_asr.ui.live_page import LivePage
from desktop_asr.ui.model_dialog import ModelManagerDialog
from desktop_asr.ui.recovery import offer_recovery
from desktop_asr.ui.session_store import OpenedSession
from desktop_asr.ui.sessions_page import SessionsPage
from desktop_asr.ui.settings_dialog import open_settings
from desktop_asr.ui.style import STYLE_SHEET
from desktop_asr.ui.theme import apply_theme
from desktop_asr.ui.training_page import TrainingPage

log = logging.getLogger(__name__)

WINDOW_TITLE = "desktop-asr"


class MainWindow(QMainWindow):
    """Hosts the Files and Live pages and the one error banner they all report to."""

    def __init__(self, engine_config: EngineConfig | None = None,
                 parent: QWidget | None = None, *, settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(WINDOW_TITLE)
        self.setObjectName("mainWindow")
        self.setStyleSheet(STYLE_SHEET)
        self.setAcceptDrops(True)
        self.resize(1180, 720)
        self._close_when_idle = False
        self.banner = ErrorBanner(self)
        self.settings = settings or load_settings()
        self.pages = QTabWidget(self)
        self.pages.setDocumentMode(True)
        self.pages.setAccessibleName("Pages")
        self.files = FilesPage(engine_config, self)
        self.live = LivePage(self.settings, engine_config, self)
        self.sessions = SessionsPage(self.settings, self)
        self.pages.addTab(self.files, "Files")
        self.pages.addTab(self.live, "Live captions")
        self.pages.addTab(self.sessions, "Sessions")
        self.evaluate = EvaluatePage(engine_config, self)
        self.pages.addTab(self.evaluate, "Evaluate")
        self.training = TrainingPage(self)
        self.pages.addTab(self.training, "Train")
        self.training.useModelRequested.connect(self.use_model)
        self._resolve_shortcut_clashes()
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.setSpacing(8)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.statusBar().addPermanentWidget(self.files.status_panel)
        self.statusBar().addPermanentWidget(self.live.status_panel)
        self.statusBar().setSizeGripEnabled(True)
        self.live.runner.started.connect(
            lambda event: self.sessions.panel.set_live_folder(event.folder))
        self.live.busyChanged.connect(self._on_live_busy)
        for page in (self.files, self.live, self.sessions, self.evaluate, self.training):
            page.errorOccurred.connect(self.show_error)
            page.message.connect(self._show_message)
            page.busyChanged.connect(self._on_busy_changed)
        self.pages.currentChanged.connect(self._on_page_changed)
        self._on_page_changed(self.pages.currentIndex())
        self._build_menus()

    def _resolve_shortcut_clashes(self) -> None:
        # The user's live shortcuts (Settings.shortcuts) win over the Files page's defaults:
        # two actions with one key in a window would make Qt ignore the key for both.
        taken = {k.toString() for act in self.live.commands.all() for k in act.shortcuts()}
        for action in self.files.findChildren(QAction):
            keys = [k for k in action.shortcuts() if k.toString() not in taken]
            if len(keys) != len(action.shortcuts()):
                log.info("shortcut of %r given to the Live page", action.text())
                action.setShortcuts(keys)

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
        live = self.live.commands
        live_menu = self.menuBar().addMenu("&Live")
        live_menu.addActions([live.start_stop, live.pause])
        live_menu.addSeparator()
        live_menu.addMenu(self.live.export_menu)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addActions([live.toggle_overlay, live.click_through])
        tools = self.menuBar().addMenu("T&ools")
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence(self.settings.shortcuts.get("settings",
                                                                                  "Ctrl+,")))
        self.settings_action.triggered.connect(self.open_settings)
        self.models_action = QAction("&Models…", self)
        self.models_action.triggered.connect(self.open_models)
        self.recover_action = QAction("&Recover interrupted session…", self)
        self.recover_action.triggered.connect(self.offer_recovery)
        tools.addActions([self.settings_action, self.models_action, self.recover_action])

    @Slot(str)
    def show_error(self, message: str) -> None:
        """Show an error in the window's banner (the one place errors appear)."""
        self.banner.show_error(message)

    def add_files(self, paths: list[str | Path]) -> list[Path]:
        """Queue files or folders on the Files page."""
        return self.files.add_paths(paths)

    def show_live(self) -> None:
        """Bring the Live page to the front."""
        self.pages.setCurrentWidget(self.live)

    def show_sessions(self) -> None:
        """Bring the Sessions page to the front."""
        self.pages.setCurrentWidget(self.sessions)

    def show_evaluate(self) -> None:
        """Bring the Evaluate page to the front."""
        self.pages.setCurrentWidget(self.evaluate)

    @Slot()
    def open_settings(self) -> Settings | None:
        """Edit the settings; saved ones take effect at once (theme, overlay, next session)."""
        # From disk: the Live page and the overlay save their own choices (source, vocabulary,
        # overlay position) as they change, and OK must not undo those.
        new = open_settings(self, load_settings())
        if new is not None:
            self.apply_settings(new)
        return new

    def apply_settings(self, new: Settings) -> None:
        """Use ``new`` from now on: theme and caption style now, the rest on the next start."""
        self.settings = new
        self.live.settings = new
        self.live.overlay.set_style(new.overlay)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, new.theme)
        self.sessions.panel.set_root(new.sessions_path())
        self._show_message("Settings saved")

    @Slot(str, str)
    def use_model(self, name: str, engine: str = "faster-whisper") -> None:
        """Make ``name`` the model of live captions and files, now and from the next start."""
        try:
            self.settings = replace(load_settings(), model=name)
            save_settings(self.settings)
        except (OSError, ValueError) as exc:
            self.show_error(f"cannot save the model choice: {exc}")
        self.live.settings = self.settings
        for options in (self.live.options, self.files.options):
            index = options.engine.findData(engine)
            if index >= 0:
                options.engine.setCurrentIndex(index)
            options.reload_models()
            options.model.setCurrentIndex(max(0, options.model.findData(name)))
        self._show_message(f"{name} is now the model for live captions and files")

    @Slot()
    def open_models(self) -> None:
        """The model manager: list, download, import and remove models."""
        dialog = ModelManagerDialog(self)
        try:
            dialog.exec()  # done() stops its worker thread
        finally:
            dialog.deleteLater()

    @Slot()
    def offer_recovery(self) -> OpenedSession | None:
        """Offer to rebuild an interrupted live session; a recovered one opens on Sessions."""
        opened = offer_recovery(self, self.settings)
        if opened is not None:
            self.sessions.refresh()
            self.sessions.open_session(opened)
            self.show_sessions()
        return opened

    @Slot(bool)
    def _on_live_busy(self, busy: bool) -> None:
        if not busy:
            self.sessions.panel.set_live_folder(None)  # the session just finished is listed

    def shutdown(self) -> None:
        """Stop any job or live session and join the worker threads; safe to call again."""
        self.files.shutdown()
        self.live.shutdown()
        self.sessions.shutdown()
        self.evaluate.shutdown()
        self.training.shutdown()

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
        if self.files.busy or self.live.busy or self.evaluate.busy:
            self._close_when_idle = True
            self.evaluate.cancel()
            if self.files.busy:
                self.files.cancel()
            if self.live.busy:
                self.live.stop()  # the session is captioned to the end and saved first
            self._show_message("Stopping before closing…")
            event.ignore()
            return
        self.shutdown()
        event.accept()

    @Slot(int)
    def _on_page_changed(self, index: int) -> None:
        page = self.pages.widget(index)
        live = page is self.live
        self.files.status_panel.setVisible(not live)
        self.live.status_panel.setVisible(live)
        # Delete and Esc act on the Files queue only while it is shown: on another page they
        # would silently drop queued files or cancel a transcription the user cannot see.
        a = self.files.commands
        if not hasattr(self, "_page_keys"):
            self._page_keys = {act: act.shortcuts() for act in (a.remove, a.cancel)}
        for act, keys in self._page_keys.items():
            act.setShortcuts(keys if page is self.files else [])

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy and self._close_when_idle and not (self.files.busy or self.live.busy
                                                       or self.evaluate.busy):
            self._close_when_idle = False
            self.close()

    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)
