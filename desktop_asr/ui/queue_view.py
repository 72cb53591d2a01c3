"""The file queue: one row per file with its status, length and a progress bar."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from desktop_asr.batch import FileResult
from desktop_asr.ui.progress import format_clock

COL_FILE, COL_LENGTH, COL_STATUS, COL_PROGRESS = range(4)
_PATH_ROLE = Qt.ItemDataRole.UserRole


class FileStatus(enum.Enum):
    """Where a queued file stands."""

    QUEUED = "Queued"
    WAITING = "Waiting"
    RUNNING = "Transcribing…"
    DONE = "Done"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


# Files that Transcribe picks up: everything not yet transcribed, including retries.
PENDING = frozenset({FileStatus.QUEUED, FileStatus.FAILED, FileStatus.CANCELLED})


_ROW_HEIGHT = 28
_FAILED_COLOR = QBrush(QColor("#b02a37"))


def _progress_cell(parent: QWidget, name: str) -> tuple[QWidget, QProgressBar]:
    # A slim bar centred in the cell reads better than one filling the whole row.
    cell = QWidget(parent)
    bar = QProgressBar(cell)
    bar.setRange(0, 1000)
    bar.setValue(0)
    bar.setTextVisible(False)
    bar.setFixedHeight(10)
    bar.setAccessibleName(f"Progress of {name}")
    layout = QHBoxLayout(cell)
    layout.setContentsMargins(6, 0, 8, 0)
    layout.addWidget(bar)
    return cell, bar


@dataclass
class _Row:
    item: QTreeWidgetItem
    bar: QProgressBar
    status: FileStatus = FileStatus.QUEUED
    result: FileResult | None = None


class QueueView(QTreeWidget):
    """Rows keyed by path; the page drives state changes, the view only shows them."""

    currentResultChanged = Signal(object)  # FileResult | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[Path, _Row] = {}
        self.setAccessibleName("File queue")
        self.setColumnCount(4)
        self.setHeaderLabels(["File", "Length", "Status", "Progress"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAcceptDrops(False)  # drops go to the window, which expands folders
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_LENGTH, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_PROGRESS, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_STATUS, 230)
        header.resizeSection(COL_PROGRESS, 110)
        self.currentItemChanged.connect(self._on_current_changed)

    def __len__(self) -> int:
        return len(self._rows)

    def paths(self) -> list[Path]:
        """All queued paths in row order."""
        return [self._path(self.topLevelItem(i)) for i in range(self.topLevelItemCount())]

    def add_paths(self, paths: list[Path]) -> list[Path]:
        """Append rows for paths not queued yet; returns the ones added."""
        added = []
        for path in paths:
            if path in self._rows:
                continue
            item = QTreeWidgetItem([path.name, "", FileStatus.QUEUED.value, ""])
            item.setData(COL_FILE, _PATH_ROLE, str(path))
            item.setToolTip(COL_FILE, str(path))
            item.setTextAlignment(COL_LENGTH, Qt.AlignmentFlag.AlignRight
                                  | Qt.AlignmentFlag.AlignVCenter)
            item.setSizeHint(COL_FILE, QSize(0, _ROW_HEIGHT))
            self.addTopLevelItem(item)
            cell, bar = _progress_cell(self, path.name)
            self.setItemWidget(item, COL_PROGRESS, cell)
            self._rows[path] = _Row(item, bar)
            added.append(path)
        return added

    def status(self, path: Path) -> FileStatus:
        """Status of a queued path."""
        return self._rows[path].status

    def status_text(self, path: Path) -> str:
        """What the status column shows for ``path`` (the error for failed files)."""
        return self._rows[path].item.text(COL_STATUS)

    def progress_value(self, path: Path) -> float:
        """The row's progress bar as a fraction."""
        return self._rows[path].bar.value() / 1000

    def result(self, path: Path) -> FileResult | None:
        """The finished result of ``path`` (also kept for failed files)."""
        return self._rows[path].result

    def pending(self) -> list[Path]:
        """Paths Transcribe would process, in row order."""
        return [p for p in self.paths() if self._rows[p].status in PENDING]

    def set_status(self, path: Path, status: FileStatus, detail: str = "") -> None:
        """Show ``status`` (with a one-line detail such as an error) in the row."""
        row = self._rows.get(path)
        if row is None:
            return
        row.status = status
        text = f"{status.value}: {detail}" if detail else status.value
        row.item.setText(COL_STATUS, text)
        row.item.setToolTip(COL_STATUS, text)
        row.item.setForeground(COL_STATUS, _FAILED_COLOR if status is FileStatus.FAILED
                               else self.palette().text())
        if status in (FileStatus.QUEUED, FileStatus.WAITING):
            row.bar.setValue(0)
        elif status is FileStatus.DONE:
            row.bar.setValue(1000)

    def set_length(self, path: Path, seconds: float) -> None:
        """Show the file's length once it is known."""
        row = self._rows.get(path)
        if row is not None and seconds > 0:
            row.item.setText(COL_LENGTH, format_clock(seconds))

    def set_progress(self, path: Path, fraction: float) -> None:
        """Move the row's progress bar."""
        row = self._rows.get(path)
        if row is not None:
            row.bar.setValue(round(1000 * min(1.0, max(0.0, fraction))))

    def set_result(self, result: FileResult) -> None:
        """Record a finished file: done, failed with its error, or cancelled."""
        row = self._rows.get(result.path)
        if row is None:
            return
        row.result = result
        self.set_length(result.path, result.audio_seconds)
        if result.ok:
            self.set_status(result.path, FileStatus.DONE)
        elif result.cancelled:
            self.set_status(result.path, FileStatus.CANCELLED)
        else:
            self.set_status(result.path, FileStatus.FAILED, result.error or "")
        if self.currentItem() is row.item:
            self.currentResultChanged.emit(result)

    def select(self, path: Path) -> None:
        """Make ``path`` the current row (which shows its transcript)."""
        row = self._rows.get(path)
        if row is not None:
            self.setCurrentItem(row.item)

    def current_path(self) -> Path | None:
        """Path of the current row, if any."""
        item = self.currentItem()
        return None if item is None else self._path(item)

    def remove_selected(self, keep: frozenset[FileStatus]) -> list[Path]:
        """Remove selected rows whose status is not in ``keep``; returns the removed paths."""
        removed = []
        for item in self.selectedItems():
            path = self._path(item)
            if self._rows[path].status in keep:
                continue
            del self._rows[path]
            self.takeTopLevelItem(self.indexOfTopLevelItem(item))
            removed.append(path)
        return removed

    @staticmethod
    def _path(item: QTreeWidgetItem) -> Path:
        return Path(item.data(COL_FILE, _PATH_ROLE))

    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        row = None if current is None else self._rows.get(self._path(current))
        self.currentResultChanged.emit(None if row is None else row.result)
