"""Read-only view of one file's transcript: [mm:ss] timestamps, speaker labels, text."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from desktop_asr.batch import FileResult
from desktop_asr.types import Transcript
from desktop_asr.ui.progress import format_stamp

_PLACEHOLDER = "Select a transcribed file in the queue to see its transcript here."


def transcript_html(transcript: Transcript) -> str:
    """HTML for a transcript: one table row per segment, so wrapped text keeps its indent."""
    if not transcript.segments:
        return "<p style='color:#6c757d'><i>No speech was recognised in this file.</i></p>"
    rows = []
    for seg in transcript.segments:
        speaker = transcript.speaker_label(seg.speaker)
        who = f"<b>{html.escape(speaker)}:</b> " if speaker else ""
        rows.append(
            "<tr><td style='color:#6c757d; font-family:monospace; padding:0 12px 10px 0'>"
            f"{format_stamp(seg.start)}</td>"
            f"<td style='padding:0 0 10px 0'><p style='margin:0; line-height:130%'>{who}"
            f"{html.escape(seg.text.strip())}</p></td></tr>")
    return "<table width='100%' cellspacing='0' cellpadding='0'>" + "".join(rows) + "</table>"


class TranscriptView(QWidget):
    """A header with the file name and export/copy buttons above the transcript text."""

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
        self.text = QTextBrowser(self)
        self.text.setAccessibleName("Transcript")
        self.text.setOpenLinks(False)
        self.text.setAcceptDrops(False)  # drops go to the window's file queue
        self.text.setPlaceholderText(_PLACEHOLDER)
        self.text.document().setDocumentMargin(10)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.text, 1)

    @property
    def result(self) -> FileResult | None:
        """The result shown now, if it has a transcript."""
        return self._result

    def show_result(self, result: FileResult | None) -> None:
        """Show a finished file's transcript, or a hint when there is none."""
        if result is None or result.transcript is None:
            self._result = None
            self._title.setText("Transcript")
            self.text.clear()
            if result is not None:
                self.text.setPlaceholderText(f"{result.path.name}: "
                                             f"{result.error or 'no transcript'}")
            else:
                self.text.setPlaceholderText(_PLACEHOLDER)
            return
        self._result = result
        self._title.setText(f"Transcript — {result.path.name}")
        self._title.setToolTip(str(result.path))
        self.text.setHtml(transcript_html(result.transcript))

    def plain_text(self) -> str:
        """The visible transcript as plain text."""
        return self.text.toPlainText()
