"""The transcript editor's speakers strip: one chip per speaker to rename in place or merge."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QWidget,
)

from desktop_asr.types import Transcript
from desktop_asr.ui.editor_table import speaker_color
from desktop_asr.ui.transcript_model import speaker_segment_counts

_ID_ROLE = Qt.ItemDataRole.UserRole
_STYLE = """
QListWidget#speakerList { background: transparent; border: none; }
QListWidget#speakerList::item { border: 1px solid palette(mid); border-radius: 10px;
                                padding: 1px 8px 1px 4px; margin-right: 6px; }
QListWidget#speakerList::item:selected { background: palette(highlight);
                                         color: palette(highlighted-text); }
"""


def _dot(color: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(color)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


class SpeakersBar(QWidget):
    """Double-click (or F2) a speaker to rename it; its context menu merges it into another."""

    renameRequested = Signal(str, str)   # speaker id, new name
    mergeRequested = Signal(str, str)    # keep id, drop id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._transcript = Transcript()
        self._updating = False
        label = QLabel("Speakers:", self)
        self.list = QListWidget(self)
        self.list.setObjectName("speakerList")
        self.list.setStyleSheet(_STYLE)
        self.list.setAccessibleName("Speakers")
        self.list.setToolTip("Double-click or press F2 to rename; right-click to merge")
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setIconSize(QSize(12, 12))
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setFixedHeight(self.list.fontMetrics().height() + 14)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.customContextMenuRequested.connect(self._show_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(label)
        layout.addWidget(self.list, 1)

    def set_transcript(self, transcript: Transcript) -> None:
        """List the transcript's speakers; hidden when it has none."""
        self._transcript = transcript
        current = self.current_id()
        self._updating = True
        try:
            self.list.clear()
            counts = speaker_segment_counts(transcript)
            for spk in transcript.speakers:
                item = QListWidgetItem(_dot(speaker_color(transcript, spk.id)), spk.label)
                item.setData(_ID_ROLE, spk.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                n = counts.get(spk.id, 0)
                item.setToolTip(f"{spk.label} ({spk.id}): {n} segment(s). Double-click to "
                                "rename; right-click to merge into another speaker")
                self.list.addItem(item)
                if spk.id == current:
                    self.list.setCurrentItem(item)
        finally:
            self._updating = False
        self.setVisible(bool(transcript.speakers))

    def item_for(self, speaker_id: str) -> QListWidgetItem | None:
        """The chip of a speaker."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_ID_ROLE) == speaker_id:
                return item
        return None

    def current_id(self) -> str | None:
        """Id of the selected speaker."""
        item = self.list.currentItem()
        return None if item is None else item.data(_ID_ROLE)

    def start_rename(self, speaker_id: str) -> None:
        """Open the in-place name editor of a speaker."""
        item = self.item_for(speaker_id)
        if item is not None:
            self.list.setCurrentItem(item)
            self.list.setFocus()
            self.list.editItem(item)

    def merge_menu(self, drop: str, parent: QWidget) -> QMenu:
        """A "Merge … into" menu listing the other speakers."""
        menu = QMenu(f"Merge {self._transcript.speaker_label(drop)} into", parent)
        for spk in self._transcript.speakers:
            if spk.id != drop:
                action = menu.addAction(_dot(speaker_color(self._transcript, spk.id)), spk.label)
                action.triggered.connect(lambda _=False, k=spk.id: self.mergeRequested.emit(k,
                                                                                           drop))
        menu.setEnabled(len(self._transcript.speakers) > 1)
        return menu

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if not self._updating:
            self.renameRequested.emit(item.data(_ID_ROLE), item.text())

    def _show_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        speaker_id = item.data(_ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.start_rename(speaker_id))
        menu.addMenu(self.merge_menu(speaker_id, menu))
        menu.exec(self.list.viewport().mapToGlobal(pos))
