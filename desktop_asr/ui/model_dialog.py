"""The model manager dialog: bundled, installed and downloadable models; download, import, delete."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QThread, Signal, Slot
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_asr.models import ModelEntry, ModelManager
from desktop_asr.ui.error_banner import ErrorBanner
from desktop_asr.ui.model_worker import ModelOpDone, ModelProgress, ModelWorker
from desktop_asr.ui.progress import short_path

log = logging.getLogger(__name__)

COLUMNS = ("Name", "Status", "Size", "Details")
_STATUS_TEXT = {"bundled": "Bundled", "installed": "Installed", "downloadable": "Available"}
_PAST = {"download": "Downloaded", "import": "Imported", "remove": "Deleted"}
_threads: set[QThread] = set()  # threads still finishing after their dialog closed


def format_size(size: int | None) -> str:
    """Bytes as '75 MB' or '1.5 GB'; '' when unknown."""
    if not size:
        return ""
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{max(1, round(size / 1e6))} MB"


class ModelManagerDialog(QDialog):
    """Lists models and runs one action at a time in a worker thread; errors go to the banner."""

    modelsChanged = Signal()
    _download = Signal(str)
    _import = Signal(str, str, bool)
    _remove = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setObjectName("modelManagerDialog")
        self.banner = ErrorBanner(self)
        self.intro = QLabel(f"Models are kept in {short_path(ModelManager().models_dir)}. Downloads come "
                            "from the model hub; offline, import a model folder instead.", self)
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Models")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        # Rows as tall as their text (the default is a fixed pixel height).
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.cellDoubleClicked.connect(lambda *_: self._download_selected())
        self.status = QLabel(self)
        self.status.setObjectName("modelStatus")
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Download progress")
        self.progress.hide()
        self.cancel_button = QPushButton("&Cancel download", self)
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        self.download_button = QPushButton("&Download", self)
        self.download_button.setToolTip("Download the selected model from the model hub")
        self.download_button.clicked.connect(self._download_selected)
        self.import_button = QPushButton("&Import folder…", self)
        self.import_button.setToolTip("Copy a CTranslate2 Whisper model folder into the app")
        self.import_button.clicked.connect(self._import_clicked)
        self.delete_button = QPushButton("De&lete", self)
        self.delete_button.setToolTip("Delete the selected installed model from this computer")
        self.delete_button.clicked.connect(self._delete_selected)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.status, 1)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.import_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(progress_row)
        layout.addLayout(buttons)
        self.busy = False
        self._entries: list[ModelEntry] = []
        self._thread = QThread()
        self._thread.setObjectName("model-manager")
        self.worker = ModelWorker()
        self.worker.moveToThread(self._thread)
        self._download.connect(self.worker.download)
        self._import.connect(self.worker.import_folder)
        self._remove.connect(self.worker.remove)
        self.worker.progress.connect(self._on_progress)
        self.worker.done.connect(self._on_done)
        self._thread.start()
        width = self.fontMetrics().horizontalAdvance("M") * 62
        self.resize(width, width * 3 // 5)
        self.refresh()

    def entries(self) -> list[ModelEntry]:
        """The rows shown now."""
        return list(self._entries)

    def refresh(self, select: str | None = None) -> None:
        """Re-read the model list (keeping or moving the selection)."""
        current = select or (self.selected().name if self.selected() else None)
        self._entries = ModelManager().list()
        self.table.setRowCount(len(self._entries))
        for row, e in enumerate(self._entries):
            details = e.description
            if e.status == "installed" and Path(e.description).is_absolute():
                details = f"imported from {short_path(e.description)}"
            values = (e.name, _STATUS_TEXT.get(e.status, e.status), format_size(e.size_bytes),
                      details or (str(e.path) if e.path else ""))
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(str(e.path) if e.path else e.description)
                if col == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
            if e.name == current and (select is None or e.status != "downloadable"):
                self.table.selectRow(row)
        self._update_buttons()

    def row_of(self, name: str, status: str | None = None) -> int:
        """Row of the first model called ``name`` (with ``status`` if given), or -1."""
        for row, e in enumerate(self._entries):
            if e.name == name and (status is None or e.status == status):
                return row
        return -1

    def selected(self) -> ModelEntry | None:
        """The selected model, if any."""
        rows = self.table.selectionModel().selectedRows()
        return self._entries[rows[0].row()] if rows and rows[0].row() < len(self._entries) else None

    def _update_buttons(self) -> None:
        entry = self.selected()
        self.download_button.setEnabled(not self.busy and entry is not None
                                        and entry.status == "downloadable")
        # The bundled model ships with the app: only installed copies can be deleted.
        self.delete_button.setEnabled(not self.busy and entry is not None
                                      and entry.status == "installed")
        self.import_button.setEnabled(not self.busy)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        self.status.setText(text)
        self.progress.setVisible(busy)
        self._update_buttons()

    def _download_selected(self) -> None:
        entry = self.selected()
        if self.busy or entry is None or entry.status != "downloadable":
            return
        self.banner.dismiss()
        self.progress.setRange(0, 0)  # busy until the first bytes arrive
        self.cancel_button.show()
        self._set_busy(True, f"Downloading {entry.name}…")
        self.worker.cancel.clear()  # before queuing, so a Cancel right after is kept
        self._download.emit(entry.name)

    def _import_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a CTranslate2 Whisper model folder")
        if folder:
            self.import_folder(Path(folder))

    def import_folder(self, folder: Path, name: str | None = None) -> None:
        """Copy ``folder`` in as a model (asks before replacing one of the same name)."""
        name = name or folder.name
        force = (ModelManager().models_dir / name).exists()
        if force and QMessageBox.question(
                self, "Replace model?", f"A model called {name} is already installed. "
                "Replace it with the copy from this folder?") != QMessageBox.StandardButton.Yes:
            return
        self.banner.dismiss()
        self.progress.setRange(0, 0)
        self._set_busy(True, f"Copying {folder} …")
        self._import.emit(str(folder), name, force)

    def _delete_selected(self) -> None:
        entry = self.selected()
        if self.busy or entry is None or entry.status != "installed":
            return
        answer = QMessageBox.question(
            self, "Delete model?", f"Delete the model {entry.name} ({format_size(entry.size_bytes)}"
            f") from this computer?\n{entry.path}")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.banner.dismiss()
        self.progress.setRange(0, 0)
        self._set_busy(True, f"Deleting {entry.name}…")
        self._remove.emit(entry.name)

    def cancel(self) -> None:
        """Stop a running download (what arrived is kept and resumed next time)."""
        self.worker.cancel.set()

    @Slot(object)
    def _on_progress(self, p: ModelProgress) -> None:
        if p.percent is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(p.percent)
        total = f" of {format_size(p.total)}" if p.total else ""
        self.status.setText(f"Downloading {p.model}: {p.file} {format_size(p.done)}{total}")

    @Slot(object)
    def _on_done(self, result: ModelOpDone) -> None:
        self.cancel_button.hide()
        if result.error:
            self._set_busy(False, f"{result.action.capitalize()} of {result.model} failed.")
            self.banner.show_error(result.error)
        elif result.cancelled:
            self._set_busy(False, f"Download of {result.model} cancelled; it resumes next time.")
        else:
            if result.action == "download":
                self.progress.setRange(0, 100)
                self.progress.setValue(100)
            self._set_busy(False, f"{_PAST[result.action]} {result.model}.")
            self.modelsChanged.emit()
        self.refresh(select=result.model if result.action != "remove" else None)

    def shutdown(self) -> None:
        """Cancel a download and let the worker thread end (without blocking for long)."""
        self.cancel()
        self._thread.quit()
        if not self._thread.wait(2000):
            # An import copy or a slow connect still runs: keep the thread alive until it ends.
            _threads.add(self._thread)
            self._thread.finished.connect(lambda t=self._thread: _threads.discard(t))
            self._thread.setParent(None)

    def showEvent(self, event: QShowEvent) -> None:
        """Restart the worker thread when a closed dialog is shown again."""
        if not self._thread.isRunning() and self._thread not in _threads:
            self._thread.start()
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the worker when the dialog closes."""
        self.shutdown()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        """Escape and Close end here too: stop the worker first."""
        self.shutdown()
        super().done(result)
