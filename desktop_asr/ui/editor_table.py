"""The segment table of the transcript editor: a Qt model over a frozen Transcript, and its view.

The model only presents; an edit typed into a cell is handed to the editor as ``textEdited``
and comes back as a new Transcript through ``set_transcript``.
"""

from __future__ import annotations

from collections.abc import Sequence

import html

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontDatabase, QKeyEvent, QPainter, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from desktop_asr.types import Transcript
from desktop_asr.ui.progress import format_clock, format_stamp
from desktop_asr.ui.transcript_model import Match

COL_TIME, COL_SPEAKER, COL_TEXT = range(3)
# Distinct on white and for the common colour-vision deficiencies (Okabe-Ito, darkened).
SPEAKER_COLORS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9", "#6a3d9a",
                  "#b22222")
_MATCH_BG, _CURRENT_BG = "#fff3a3", "#ffb347"
_PAD = 6
_Index = QModelIndex | QPersistentModelIndex


# The two capture channels keep their own colours; diarized speakers take the palette from its
# third colour on, because its first two are close to these.
CHANNEL_COLORS = {"mic": "#0b63ce", "system": "#b4470b"}
_UNKNOWN_COLOR = "#6c757d"


def speaker_hex(speaker_id: str | None, order: Sequence[str]) -> str:
    """The colour of a speaker, by its place among the speakers of ``order`` (not channels).

    One rule for the live captions, the speakers strip and the editor, so a speaker has one
    colour everywhere.
    """
    if speaker_id in CHANNEL_COLORS:
        return CHANNEL_COLORS[speaker_id]
    others = [s for s in order if s not in CHANNEL_COLORS]
    if speaker_id not in others:
        return _UNKNOWN_COLOR
    return SPEAKER_COLORS[(others.index(speaker_id) + 2) % len(SPEAKER_COLORS)]


def speaker_color(transcript: Transcript, speaker_id: str | None) -> QColor:
    """The colour of a speaker: by its place in the transcript's speaker list."""
    return QColor(speaker_hex(speaker_id, [s.id for s in transcript.speakers]))


class SegmentTableModel(QAbstractTableModel):
    """Rows are segments: time, speaker label, text (the only editable column)."""

    textEdited = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._transcript = Transcript()
        self._matches: dict[int, list[tuple[int, int, bool]]] = {}
        self._playing: int | None = None
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._play_icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._stop_icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MediaStop)

    @property
    def transcript(self) -> Transcript:
        """The transcript shown."""
        return self._transcript

    def set_transcript(self, transcript: Transcript) -> None:
        """Show ``transcript``; same row count keeps the selection and the scroll position."""
        if len(transcript.segments) == len(self._transcript.segments):
            self._transcript = transcript
            if transcript.segments:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(self.rowCount() - 1, COL_TEXT))
            return
        self.beginResetModel()
        self._transcript = transcript
        self.endResetModel()

    def set_matches(self, matches: tuple[Match, ...], current: int | None) -> None:
        """Highlight search matches; ``current`` is the index of the one to stand out."""
        rows = set(self._matches)
        self._matches = {}
        for k, m in enumerate(matches):
            self._matches.setdefault(m.segment, []).append((m.start, m.end, k == current))
        for row in rows | set(self._matches):
            cell = self.index(row, COL_TEXT)
            self.dataChanged.emit(cell, cell)

    def matches_in(self, row: int) -> list[tuple[int, int, bool]]:
        """(start, end, is_current) spans to highlight in a row's text."""
        return self._matches.get(row, [])

    def set_playing(self, row: int | None) -> None:
        """Mark the row whose audio plays (its play icon becomes a stop icon)."""
        rows = {r for r in (self._playing, row) if r is not None}
        self._playing = row
        for r in rows:
            cell = self.index(r, COL_TIME)
            self.dataChanged.emit(cell, cell)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Number of segments."""
        return 0 if parent.isValid() else len(self._transcript.segments)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Time, speaker, text."""
        return 0 if parent.isValid() else 3

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Time", "Speaker", "Text")[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Only the text column can be edited."""
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.column() == COL_TEXT else base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """What a cell shows."""
        if not index.isValid():
            return None
        t, col, row = self._transcript, index.column(), index.row()
        seg = t.segments[row]
        R = Qt.ItemDataRole
        if role in (R.DisplayRole, R.EditRole):
            if col == COL_TIME:
                return format_stamp(seg.start)
            if col == COL_SPEAKER:
                return t.speaker_label(seg.speaker) or ""
            return seg.text.strip()
        if role == R.ForegroundRole:
            if col == COL_SPEAKER:
                return speaker_color(t, seg.speaker)
            return QColor("#6c757d") if col == COL_TIME else None
        if role == R.FontRole and col != COL_TEXT:
            if col == COL_TIME:
                return self._mono
            font = QFont()
            font.setBold(True)
            return font
        if role == R.DecorationRole and col == COL_TIME:
            return self._stop_icon if row == self._playing else self._play_icon
        if role == R.ToolTipRole:
            if col == COL_TIME:
                return f"Play {format_clock(seg.start)}–{format_clock(seg.end)} (click or Space)"
            if col == COL_TEXT:
                return "Double-click or press Enter to edit"
        if role == R.AccessibleTextRole:
            who = t.speaker_label(seg.speaker)
            return f"{format_clock(seg.start)}, {who + ': ' if who else ''}{seg.text.strip()}"
        return None

    def setData(self, index: _Index, value: object, role: int = Qt.ItemDataRole.EditRole
                ) -> bool:
        """Hand a typed edit to the editor; the model changes when the editor says so."""
        if role != Qt.ItemDataRole.EditRole or index.column() != COL_TEXT:
            return False
        self.textEdited.emit(index.row(), str(value))
        return True


class CellEditor(QLineEdit):
    """The in-place text editor; keeps Escape for itself (the window uses Esc for Cancel)."""

    def event(self, event: QEvent) -> bool:
        """Claim Escape and Return before window shortcuts see them."""
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            event.accept()
            return True
        return super().event(event)


class TextDelegate(QStyledItemDelegate):
    """Draws segment text wrapped, with search matches highlighted; edits it in a line edit."""

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self._view = view

    def _document(self, index: _Index, option: QStyleOptionViewItem, width: int
                  ) -> QTextDocument:
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        model = index.model()
        spans = model.matches_in(index.row()) if isinstance(model, SegmentTableModel) else []
        parts, at = [], 0
        for start, end, current in spans:
            parts.append(html.escape(text[at:start]))
            parts.append(f"<span style='background:{_CURRENT_BG if current else _MATCH_BG};"
                         f" color:#000'>{html.escape(text[start:end])}</span>")
            at = end
        parts.append(html.escape(text[at:]))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        color = option.palette.highlightedText() if selected else option.palette.text()
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(0)
        doc.setHtml(f"<div style='color:{color.color().name()}'>{''.join(parts)}</div>")
        doc.setTextWidth(max(40, width - 2 * _PAD))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        """Background and selection from the style, then the highlighted text."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        doc = self._document(index, option, option.rect.width())
        painter.save()
        painter.translate(option.rect.left() + _PAD, option.rect.top() + _PAD)
        doc.drawContents(painter)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        """Tall enough for the wrapped text at the column's width."""
        width = self._view.columnWidth(index.column())
        doc = self._document(index, option, width)
        return QSize(width, int(doc.size().height()) + 2 * _PAD)

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index
                     ) -> QWidget:
        """A line edit named for screen readers."""
        editor = CellEditor(parent)
        editor.setAccessibleName("Segment text")
        editor.setFrame(False)
        return editor


class SegmentTable(QTableView):
    """The segment list: Enter edits the text; a click on the time plays the audio."""

    playRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Transcript")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setWordWrap(True)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setAcceptDrops(False)  # drops go to the window's file queue
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                                    | Qt.AlignmentFlag.AlignVCenter)
        self.setItemDelegateForColumn(COL_TEXT, TextDelegate(self))
        self.clicked.connect(self._on_clicked)

    def setModel(self, model: QAbstractTableModel | None) -> None:  # type: ignore[override]
        """Attach the model and size the columns: time and speaker fit, text takes the rest."""
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(COL_TIME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_SPEAKER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter starts editing the text of the current segment."""
        index = self.currentIndex()
        if (index.isValid() and self.state() != QAbstractItemView.State.EditingState
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self.edit(index.siblingAtColumn(COL_TEXT))
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: object) -> None:
        """Re-measure wrapped rows when the width changes."""
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.resizeRowsToContents()

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() == COL_TIME:
            self.playRequested.emit(index.row())
