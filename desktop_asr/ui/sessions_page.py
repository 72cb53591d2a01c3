"""The Sessions page: past live sessions on the left, the opened one in the editor on the right."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_asr.errors import DesktopAsrError
from desktop_asr.export import FORMATS
from desktop_asr.settings import Settings
from desktop_asr.types import Transcript
from desktop_asr.ui.export_actions import FILTERS, ask_export_path, copy_text, write_transcript
from desktop_asr.ui.session_store import RECORDING_NAME, OpenedSession
from desktop_asr.ui.sessions_panel import SessionsPanel
from desktop_asr.ui.transcript_editor import TranscriptEditor

log = logging.getLogger(__name__)

_HINT = "Open a session on the left to read, edit, play back or export its transcript."


class SessionsPage(QWidget):
    """Lists the sessions folder and edits the session the user opens."""

    errorOccurred = Signal(str)
    message = Signal(str)
    busyChanged = Signal(bool)  # never busy: listing and loading run in the background

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionsPage")
        self.opened: OpenedSession | None = None
        self.panel = SessionsPanel(self, settings)
        self.panel.sessionOpened.connect(self.open_session)
        self.panel.errorOccurred.connect(self.errorOccurred)
        self.editor = TranscriptEditor(self)
        self.editor.errorOccurred.connect(self.errorOccurred)
        self.title = QLabel("Session", self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.export_menu = QMenu("&Export session", self)
        for fmt in FORMATS:
            act = self.export_menu.addAction(FILTERS[fmt])
            act.triggered.connect(partial(self.ask_export, fmt))
        self.export_button = QToolButton(self)
        self.export_button.setText("Export ▾")
        self.export_button.setMenu(self.export_menu)
        self.export_button.setAccessibleName("Export session")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.copy_action = QAction("Copy text", self)
        self.copy_action.triggered.connect(self.copy_text)
        copy_button = QToolButton(self)
        copy_button.setDefaultAction(self.copy_action)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.title, 1)
        header.addWidget(self.export_button)
        header.addWidget(copy_button)
        self.hint = QLabel(_HINT, self)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.editor)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(header)
        right_layout.addWidget(self.stack, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.panel)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._update_actions()

    def showEvent(self, event: QShowEvent) -> None:
        """List the folder afresh each time the page comes to the front."""
        super().showEvent(event)
        if not self.panel.busy:
            self.panel.refresh()

    @property
    def busy(self) -> bool:
        """False: nothing on this page has to finish before the window closes."""
        return False

    @Slot(object)
    def open_session(self, opened: OpenedSession) -> None:
        """Show a session's transcript (with its saved edits) and play from its recording."""
        self.opened = opened
        # Edits are kept under the recording's path; a session without one still gets a key.
        self.editor.set_transcript(opened.folder / RECORDING_NAME, opened.transcript)
        self.title.setText(f"Session — {opened.folder.name}")
        self.title.setToolTip(str(opened.folder))
        self.stack.setCurrentWidget(self.editor)
        self._update_actions()
        self.message.emit(f"Opened session {opened.folder.name}")

    def refresh(self) -> None:
        """Read the sessions folder again."""
        self.panel.refresh()

    def transcript(self) -> Transcript | None:
        """The opened session's transcript with its edits."""
        return self.editor.transcript() if self.opened is not None else None

    def export_session(self, fmt: str, path: Path) -> Path | None:
        """Write the opened (edited) transcript to ``path``; errors go to the banner."""
        transcript = self.transcript()
        if transcript is None:
            self.errorOccurred.emit("Open a session first.")
            return None
        try:
            written = write_transcript(transcript, path, fmt)
        except (DesktopAsrError, OSError) as exc:
            self.errorOccurred.emit(f"Cannot export to {path}: {exc}")
            return None
        self.message.emit(f"Exported {written.name}")
        return written

    def ask_export(self, fmt: str) -> Path | None:
        """Ask where to save, then export the opened session."""
        if self.opened is None:
            return None
        chosen = ask_export_path(self, self.opened.folder / self.opened.folder.name, fmt)
        return None if chosen is None else self.export_session(chosen[1], chosen[0])

    def copy_text(self) -> str:
        """Copy the opened transcript as plain text."""
        transcript = self.transcript()
        if transcript is None:
            return ""
        text = copy_text(transcript)
        self.message.emit("Copied the transcript")
        return text

    def shutdown(self) -> None:
        """Save pending edits and release the audio output."""
        self.editor.shutdown()

    def _update_actions(self) -> None:
        has = self.opened is not None
        self.export_button.setEnabled(has)
        self.copy_action.setEnabled(has)
