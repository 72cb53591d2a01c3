"""The sessions panel: past live sessions, newest first; open, show the folder, delete."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_asr.settings import Settings, load_settings
from desktop_asr.ui.background import BackgroundCalls, CallResult
from desktop_asr.ui.progress import short_path
from desktop_asr.ui.session_store import (
    OpenedSession,
    SessionInfo,
    delete_session,
    load_session,
    scan_sessions,
)

log = logging.getLogger(__name__)

COLUMNS = ("Started", "Length", "Transcript", "")


def format_duration(seconds: float | None) -> str:
    """'1:02:03' / '4:05'; '' when unknown."""
    if seconds is None:
        return ""
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def badges(info: SessionInfo) -> list[str]:
    """Short labels for a session: recording, unfinished, recovered, unreadable."""
    out = ["recording"] if info.has_recording else []
    if info.unfinished:
        out.append("unfinished")
    if info.recovered:
        out.append("recovered")
    if info.error:
        out.append("unreadable")
    return out


class SessionsPanel(QWidget):
    """Lists the sessions folder; ``sessionOpened`` carries an OpenedSession."""

    sessionOpened = Signal(object)
    errorOccurred = Signal(str)

    def __init__(self, parent: QWidget | None = None, settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionsPanel")
        self._root = (settings or load_settings()).sessions_path()
        self._sessions: list[SessionInfo] = []
        self._live: Path | None = None
        self.calls = BackgroundCalls(self._on_result, self)
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName("Live sessions")
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemActivated.connect(lambda *_: self.open_selected())
        self.open_button = QPushButton("&Open", self)
        self.open_button.clicked.connect(self.open_selected)
        self.reveal_button = QPushButton("Show &folder", self)
        self.reveal_button.clicked.connect(self.reveal_selected)
        self.delete_button = QPushButton("&Delete…", self)
        self.delete_button.clicked.connect(self.delete_selected)
        self.refresh_button = QPushButton("&Refresh", self)
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for b in (self.open_button, self.reveal_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._update_buttons()
        self.refresh()

    @property
    def root(self) -> Path:
        """The sessions folder listed."""
        return self._root

    def set_root(self, root: Path) -> None:
        """List another sessions folder (after the setting changed)."""
        self._root = Path(root)
        self.refresh()

    def set_live_folder(self, folder: Path | None) -> None:
        """The folder of the session being captioned now: not listed (it is still being
        written, so it can be neither opened nor deleted) until it ends."""
        self._live = folder
        self.refresh()

    def sessions(self) -> list[SessionInfo]:
        """The sessions shown, newest first."""
        return list(self._sessions)

    @property
    def busy(self) -> bool:
        """True while a scan, open or delete runs in the background."""
        return self.calls.pending > 0

    def refresh(self) -> None:
        """Re-scan the sessions folder in the background."""
        self.title.setText(f"Live sessions in {self._root}  (reading…)")
        self.calls.start("scan", partial(scan_sessions, self._root))

    def select(self, folder: Path) -> None:
        """Select the row of ``folder``."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == str(folder):
                self.tree.setCurrentItem(item)

    def selected(self) -> SessionInfo | None:
        """The selected session, if any."""
        item = self.tree.currentItem()
        if item is None or not item.isSelected():
            return None
        folder = item.data(0, Qt.ItemDataRole.UserRole)
        return next((s for s in self._sessions if str(s.folder) == folder), None)

    def open_selected(self) -> None:
        """Load the selected session's transcript (in the background) and emit it."""
        info = self.selected()
        if info is not None:
            folder = info.folder
            self.calls.start("open", lambda: OpenedSession(load_session(folder), folder))

    def reveal_selected(self) -> None:
        """Show the selected session's folder in the file manager."""
        info = self.selected()
        if info is not None and not QDesktopServices.openUrl(QUrl.fromLocalFile(str(info.folder))):
            self.errorOccurred.emit(f"cannot open the folder {info.folder}")

    def delete_selected(self) -> None:
        """Delete the selected session after the user confirms."""
        info = self.selected()
        if info is None:
            return
        what = "its transcript, its recording" if info.has_recording else "its transcript"
        answer = QMessageBox.question(
            self, "Delete session?", f"Delete the session of {info.started:%d %b %Y %H:%M} "
            f"with {what} and its journal?\n{info.folder}")
        if answer == QMessageBox.StandardButton.Yes:
            folder = info.folder
            self.calls.start("delete", lambda: delete_session(folder))

    @Slot(object)
    def _on_result(self, result: CallResult) -> None:
        if result.error:
            self.errorOccurred.emit(f"{result.tag} failed: {result.error}")
        if result.tag == "scan":
            self._show([s for s in result.value or [] if s.folder != self._live])
        elif result.tag == "open" and result.value is not None:
            self.sessionOpened.emit(result.value)
        elif result.tag == "delete":
            self.refresh()

    def _show(self, sessions: list[SessionInfo]) -> None:
        previous = self.selected()
        self._sessions = sessions
        self.tree.clear()
        for info in sessions:
            preview = info.preview or (info.error and f"cannot read: {info.error}") or "(no words)"
            item = QTreeWidgetItem([f"{info.started:%Y-%m-%d %H:%M}",
                                    format_duration(info.duration), preview,
                                    "  ".join(f"[{b}]" for b in badges(info))])
            item.setData(0, Qt.ItemDataRole.UserRole, str(info.folder))
            item.setToolTip(2, f"{info.words} words\n{info.folder}")
            self.tree.addTopLevelItem(item)
        self.title.setText(f"{len(sessions)} live session(s) in {short_path(self._root)}")
        if previous is not None:
            self.select(previous.folder)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        for b in (self.open_button, self.reveal_button, self.delete_button):
            b.setEnabled(has)
