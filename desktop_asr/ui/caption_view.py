"""Live captions: one text block per utterance, rewritten in place as its words settle.

Only the block of the utterance that changed is rewritten, so an hour-long session costs the
same per update as the first minute. Committed words are normal text, tentative words dimmed
italic; a "Jump to live" button appears when the user scrolls away from the newest captions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QFont, QResizeEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from desktop_asr.streaming import TranscriptUpdate
from desktop_asr.types import Transcript
from desktop_asr.ui.progress import format_stamp

log = logging.getLogger(__name__)

SPEAKER_NAMES = {"mic": "You", "system": "System audio"}
SPEAKER_COLOURS = {"mic": "#0b63ce", "system": "#b4470b"}
TENTATIVE_COLOUR = "#8a9099"


@dataclass
class _Line:
    block: int
    channel: str
    start: float
    committed: str = ""
    tentative: str = ""


def _fmt(colour: str | None = None, *, bold: bool = False, italic: bool = False
         ) -> QTextCharFormat:
    f = QTextCharFormat()
    if colour:
        f.setForeground(QColor(colour))
    if bold:
        f.setFontWeight(QFont.Weight.DemiBold)
    f.setFontItalic(italic)
    return f


class CaptionView(QWidget):
    """Shows TranscriptUpdates as they arrive; ``show_transcript`` shows a finished session."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setObjectName("captionText")
        self.text.setAccessibleName("Live captions")
        self.text.setPlaceholderText("Captions appear here once you press Start.")
        self.text.document().setDocumentMargin(10)
        font = self.text.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.text.setFont(font)
        self.jump_button = QPushButton("↓  Jump to live", self)
        self.jump_button.setObjectName("jumpButton")
        self.jump_button.setAccessibleName("Jump to live")
        self.jump_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_button.clicked.connect(self.jump_to_live)
        self.jump_button.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        self._formats = {"stamp": _fmt("#6c757d"), "text": _fmt(),
                         "tentative": _fmt(TENTATIVE_COLOUR, italic=True)}
        self._lines: dict[tuple[str, int], _Line] = {}
        self._multi = False
        self.follow = True
        bar = self.text.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)

    # -- feeding --------------------------------------------------------------------------
    def begin(self, channels: tuple[str, ...]) -> None:
        """Start a new session: clear, and label speakers when there are several channels."""
        self.text.clear()
        self._lines.clear()
        self._multi = len(channels) > 1
        self.follow = True
        self.jump_button.hide()

    @Slot(object)
    def apply(self, update: TranscriptUpdate) -> None:
        """Append committed words or replace the channel's tentative words, in place."""
        key = (update.channel, update.utterance)
        text = update.segment.text
        line = self._lines.get(key)
        if line is None:
            if not text.strip():
                return
            line = self._new_line(update.channel, update.segment.start)
            self._lines[key] = line
        if update.kind == "final":
            line.committed += text
            line.tentative = ""
        else:
            line.tentative = text
        if not line.committed.strip() and not line.tentative.strip():
            self._drop(key, line)
            return
        self._render(line)

    def show_transcript(self, transcript: Transcript) -> None:
        """Replace the live captions by the saved transcript (no tentative words left)."""
        self.text.clear()
        self._lines.clear()
        self._multi = any(seg.speaker for seg in transcript.segments)
        for n, seg in enumerate(transcript.segments):
            line = self._new_line(seg.speaker or "", seg.start)
            line.committed = seg.text
            self._lines[("final", n)] = line
            self._render(line)

    # -- reading (tests, accessibility) ---------------------------------------------------
    def plain_text(self) -> str:
        """Everything shown."""
        return self.text.toPlainText()

    def committed_text(self) -> str:
        """The committed words of every utterance, in order."""
        return " ".join(ln.committed.strip() for ln in self._lines.values() if ln.committed.strip())

    def tentative_text(self) -> str:
        """The tentative words shown now."""
        return " ".join(ln.tentative.strip() for ln in self._lines.values() if ln.tentative.strip())

    def tentative_format(self) -> QTextCharFormat:
        """How tentative words are drawn."""
        return QTextCharFormat(self._formats["tentative"])

    # -- scrolling ------------------------------------------------------------------------
    @Slot()
    def jump_to_live(self) -> None:
        """Scroll to the newest captions and keep following them."""
        self.follow = True
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.jump_button.hide()

    def _on_scrolled(self, value: int) -> None:
        bar = self.text.verticalScrollBar()
        self.follow = value >= bar.maximum() - 1
        self.jump_button.setVisible(not self.follow)
        if not self.follow:
            self._place_button()

    def _on_range(self, _low: int, high: int) -> None:
        if self.follow:
            self.text.verticalScrollBar().setValue(high)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the jump button floating at the bottom centre."""
        super().resizeEvent(event)
        self._place_button()

    def _place_button(self) -> None:
        hint = self.jump_button.sizeHint()
        self.jump_button.resize(hint)
        self.jump_button.move((self.width() - hint.width()) // 2,
                              self.height() - hint.height() - 14)
        self.jump_button.raise_()

    # -- blocks ---------------------------------------------------------------------------
    def _new_line(self, channel: str, start: float) -> _Line:
        doc = self.text.document()
        cursor = QTextCursor(doc)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if doc.characterCount() > 1:
            cursor.insertBlock()
        return _Line(cursor.block().blockNumber(), channel, start)

    def _render(self, line: _Line) -> None:
        block = self.text.document().findBlockByNumber(line.block)
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock,
                            QTextCursor.MoveMode.KeepAnchor)
        cursor.beginEditBlock()
        cursor.removeSelectedText()
        cursor.insertText(f"{format_stamp(line.start)}  ", self._formats["stamp"])
        if self._multi:
            name = SPEAKER_NAMES.get(line.channel, line.channel)
            colour = SPEAKER_COLOURS.get(line.channel, "#495057")
            cursor.insertText(f"{name}:  ", _fmt(colour, bold=True))
        cursor.insertText(line.committed.strip(), self._formats["text"])
        if line.tentative.strip():
            sep = " " if line.committed.strip() else ""
            cursor.insertText(sep + line.tentative.strip(), self._formats["tentative"])
        cursor.endEditBlock()

    def _drop(self, key: tuple[str, int], line: _Line) -> None:
        del self._lines[key]
        doc = self.text.document()
        cursor = QTextCursor(doc.findBlockByNumber(line.block))
        if line.block == doc.blockCount() - 1 and line.block > 0:
            # The newest line: remove it with its line break, nothing after it moves.
            cursor.movePosition(QTextCursor.MoveOperation.PreviousBlock)
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        else:
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock,
                                QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
