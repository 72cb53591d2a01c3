"""The Files page's transcript pane: file name, Export ▾ and Copy text above the editor."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_asr.batch import FileResult
from desktop_asr.types import Transcript
from desktop_asr.ui.transcript_editor import TranscriptEditor

_PLACEHOLDER = "Select a transcribed file in the queue to see its transcript here."
_EMPTY = "No speech was recognised in this file."


class TranscriptView(QWidget):
    """A header with the file name and export/copy buttons above the transcript editor."""

    def __init__(self, export_button: QToolButton, copy_action: QAction,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: FileResult | None = None
        self._title = QLabel("Transcript", self)
        self._title.setObjectName("transcriptTitle")
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        font = self._title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self._title.setFont(font)
        copy_button = QToolButton(self)
        copy_button.setDefaultAction(copy_action)
        copy_button.setAccessibleName("Copy text")
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self._title, 1)
        header.addWidget(export_button)
        header.addWidget(copy_button)
        self.editor = TranscriptEditor(self)
        self._hint = QLabel(_PLACEHOLDER, self)
        self._hint.setObjectName("transcriptHint")
        self._hint.setWordWrap(True)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setStyleSheet("color: #6c757d; padding: 24px;")
        self._stack = QStackedWidget(self)
        self._stack.addWidget(self._hint)
        self._stack.addWidget(self.editor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self._stack, 1)

    @property
    def text(self) -> QTableView:
        """The segment table (the widget named "Transcript" for screen readers)."""
        return self.editor.table

    @property
    def result(self) -> FileResult | None:
        """The result shown now, carrying the edited transcript; None without a transcript."""
        edited = self.editor.transcript()
        if self._result is None or edited is None:
            return None
        return dataclasses.replace(self._result, transcript=edited)

    def transcript(self) -> Transcript | None:
        """The shown transcript with its edits."""
        return self.editor.transcript()

    def show_result(self, result: FileResult | None) -> None:
        """Show a finished file's transcript in the editor, or a hint when there is none."""
        if result is None or result.transcript is None:
            self._result = None
            self.editor.set_transcript(None, None)
            self._title.setText("Transcript")
            self._title.setToolTip("")
            self._hint.setText(_PLACEHOLDER if result is None
                               else f"{result.path.name}: {result.error or 'no transcript'}")
            self._stack.setCurrentWidget(self._hint)
            return
        self._result = result
        self._title.setText(f"Transcript — {result.path.name}")
        self._title.setToolTip(str(result.path))
        self.editor.set_transcript(result.path, result.transcript)
        if result.transcript.segments:
            self._stack.setCurrentWidget(self.editor)
        else:
            self._hint.setText(_EMPTY)
            self._stack.setCurrentWidget(self._hint)

    def plain_text(self) -> str:
        """The visible transcript as plain text ("[mm:ss] Speaker: text" lines)."""
        return self.editor.plain_text() if self._stack.currentWidget() is self.editor else ""
