"""Live captions: one text block per utterance, rewritten in place as its words settle.

Only the block of the utterance that changed is rewritten, so an hour-long session costs the
same per update as the first minute. Committed words are normal text, tentative words dimmed
italic; a "Jump to live" button appears when the user scrolls away from the newest captions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QFont, QResizeEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from desktop_asr.streaming import TranscriptUpdate
from desktop_asr.streaming.events import SpeakerNamed, SpeakersSettled, SpeakerUpdate
from desktop_asr.types import Transcript
from desktop_asr.ui.editor_table import speaker_hex
from desktop_asr.ui.progress import format_stamp

log = logging.getLogger(__name__)

SPEAKER_NAMES = {"mic": "You", "system": "System audio"}
TENTATIVE_COLOUR = "#8a9099"
PENDING = "…"  # a diarized line whose speaker is not known yet


@dataclass
class _Piece:
    start: float
    text: str
    speaker: str | None
    known: bool


@dataclass
class _Line:
    block: int
    channel: str
    start: float
    pieces: list[_Piece] = field(default_factory=list)
    tentative: str = ""

    @property
    def committed(self) -> str:
        return "".join(p.text for p in self.pieces)


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
        self._diarized: tuple[str, ...] = ()
        self._names: dict[str, str] = dict(SPEAKER_NAMES)
        self._order: list[str] = []  # speakers in the order they first got a name
        self.follow = True
        bar = self.text.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)

    # -- feeding --------------------------------------------------------------------------
    def begin(self, channels: tuple[str, ...], diarized: tuple[str, ...] = (),
              names: dict[str, str] | None = None) -> None:
        """Start a new session: clear; label speakers when there are several channels or some
        are diarized (``names`` renames speaker ids, e.g. "mic" to the user's name)."""
        self.text.clear()
        self._lines.clear()
        self._multi = len(channels) > 1 or bool(diarized)
        self._diarized = tuple(diarized)
        self._names = {**SPEAKER_NAMES, **(names or {})}
        self._order = []
        self.follow = True
        self.jump_button.hide()

    @Slot(object)
    def apply(self, update: object) -> None:
        """Show one live event: committed or tentative words (rewritten in place), a speaker
        label or name, or the settled transcript of the finalise pass."""
        if isinstance(update, SpeakerUpdate):
            self._label(update)
        elif isinstance(update, SpeakerNamed):
            self.set_name(update.speaker, update.name)
        elif isinstance(update, SpeakersSettled):
            self.show_transcript(update.transcript)
        elif isinstance(update, TranscriptUpdate):
            self._words(update)

    def set_name(self, speaker: str, name: str) -> None:
        """Show ``speaker`` as ``name`` on every line (blank: its id or channel name again)."""
        if name.strip():
            self._names[speaker] = name.strip()
        else:
            self._names.pop(speaker, None)
            self._names.update({k: v for k, v in SPEAKER_NAMES.items() if k == speaker})
        for line in self._lines.values():
            if any(p.speaker == speaker for p in line.pieces):
                self._render(line)

    def _words(self, update: TranscriptUpdate) -> None:
        key = (update.channel, update.utterance)
        text = update.segment.text
        line = self._lines.get(key)
        if line is None:
            if not text.strip():
                return
            line = self._new_line(update.channel, update.segment.start)
            self._lines[key] = line
        if update.kind == "final":
            if text.strip():
                known = update.channel not in self._diarized
                line.pieces.append(_Piece(update.segment.start, text, update.speaker, known))
            line.tentative = ""
        else:
            line.tentative = text
        if not line.committed.strip() and not line.tentative.strip():
            self._drop(key, line)
            return
        self._render(line)

    def _label(self, update: SpeakerUpdate) -> None:
        line = self._lines.get((update.channel, update.utterance))
        if line is None:
            return
        for piece in line.pieces:
            if not piece.known and abs(piece.start - update.start) < 1e-6:
                piece.speaker, piece.known = update.speaker, True
                self._render(line)
                return

    def show_transcript(self, transcript: Transcript) -> None:
        """Replace the live captions by the saved (or settled) transcript."""
        self.text.clear()
        self._lines.clear()
        self._multi = any(seg.speaker for seg in transcript.segments)
        self._order = [spk.id for spk in transcript.speakers]
        for spk in transcript.speakers:
            self._names[spk.id] = spk.name or SPEAKER_NAMES.get(spk.id, spk.id)
        for n, seg in enumerate(transcript.segments):
            line = self._new_line(seg.speaker or "", seg.start)
            line.pieces.append(_Piece(seg.start, seg.text, seg.speaker, True))
            self._lines[("final", n)] = line
            self._render(line)

    def speaker_of_line(self, index: int) -> list[str | None]:
        """The speaker ids shown on the index-th line, in order (None: not known yet)."""
        line = list(self._lines.values())[index]
        return [p.speaker if p.known else None for p in line.pieces]

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

    def _name_colour(self, speaker: str | None, channel: str) -> tuple[str, str]:
        who = speaker if speaker is not None else channel
        if who not in self._order:
            self._order.append(who)
        return self._names.get(who, who), speaker_hex(who, self._order)

    def _render(self, line: _Line) -> None:
        block = self.text.document().findBlockByNumber(line.block)
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock,
                            QTextCursor.MoveMode.KeepAnchor)
        cursor.beginEditBlock()
        cursor.removeSelectedText()
        cursor.insertText(f"{format_stamp(line.start)}  ", self._formats["stamp"])
        diarized = line.channel in self._diarized
        # Runs of pieces with one speaker each get one name; pieces whose speaker is still
        # being worked out show no name until it comes.
        runs: list[tuple[object, str]] = []
        for piece in line.pieces:
            key: object = piece.speaker if piece.known else PENDING
            if runs and runs[-1][0] == key:
                runs[-1] = (key, runs[-1][1] + piece.text)
            else:
                runs.append((key, piece.text))
        if not runs and line.tentative.strip():
            runs.append((PENDING if diarized else None, ""))
        first = True
        for key, text in runs:
            if not first:
                cursor.insertText("  ", self._formats["text"])
            first = False
            if key is PENDING:
                if self._multi:
                    cursor.insertText(f"{PENDING}  ", self._formats["tentative"])
            elif self._multi and (key is not None or not diarized):
                name, colour = self._name_colour(key, line.channel)  # type: ignore[arg-type]
                cursor.insertText(f"{name}:  ", _fmt(colour, bold=True))
            cursor.insertText(text.strip(), self._formats["text"])
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
