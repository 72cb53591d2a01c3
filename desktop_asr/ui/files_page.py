"""The Files page: queue files, transcribe them in the worker thread, edit and export results."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QSplitter, QToolButton, QVBoxLayout, QWidget

from desktop_asr.batch import MEDIA_SUFFIXES, FileResult, expand_inputs
from desktop_asr.engines import EngineConfig
from desktop_asr.errors import DesktopAsrError
from desktop_asr.ui import export_actions
from desktop_asr.ui.files_actions import make_actions
from desktop_asr.ui.job_controller import ACTIVE, JobController
from desktop_asr.ui.options_bar import OptionsBar
from desktop_asr.ui.queue_view import QueueView
from desktop_asr.ui.status_panel import StatusPanel
from desktop_asr.ui.transcript_view import TranscriptView

log = logging.getLogger(__name__)

_MEDIA_FILTER = ("Audio and video (" + " ".join(f"*{s}" for s in sorted(MEDIA_SUFFIXES))
                 + ");;All files (*)")


def _tool_button(parent: QWidget, action: QAction, name: str) -> QToolButton:
    button = QToolButton(parent)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setAccessibleName(name)
    return button


class FilesPage(QWidget):
    """File transcription: the top bar, the queue and the transcript of the selected file."""

    errorOccurred = Signal(str)
    message = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, engine_config: EngineConfig | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.commands = make_actions(self)
        a = self.commands
        self.addActions([a.add_files, a.add_folder, a.remove, a.transcribe, a.cancel, a.export,
                         a.copy_text])
        self.options = OptionsBar(engine_config or EngineConfig(), self)
        self.queue = QueueView(self)
        self.status_panel = StatusPanel()
        self.jobs = JobController(self.queue, self.options, self.status_panel, self)
        self._last_dir: Path | None = None
        self._export_dir: Path | None = None
        self._last_format = "srt"
        self.add_files_button = _tool_button(self, a.add_files, "Add files")
        self.add_folder_button = _tool_button(self, a.add_folder, "Add folder")
        self.transcribe_button = _tool_button(self, a.transcribe, "Transcribe")
        self.transcribe_button.setObjectName("primaryButton")
        self.cancel_button = _tool_button(self, a.cancel, "Cancel")
        self.export_button = QToolButton(self)
        self.export_button.setObjectName("exportButton")
        self.export_button.setText("Export ▾")
        self.export_button.setAccessibleName("Export")
        self.export_button.setToolTip("Save the transcript as TXT, SRT, VTT, JSON or RTTM")
        self.export_button.setMenu(a.export_menu)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.transcript = TranscriptView(self.export_button, a.copy_text, self)
        self._build_layout()
        self._connect()
        self._update_actions()

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.add_files_button)
        top.addWidget(self.add_folder_button)
        top.addStretch(1)
        top.addWidget(self.transcribe_button)
        top.addWidget(self.cancel_button)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.queue)
        splitter.addWidget(self.transcript)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([540, 460])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.options)
        layout.addWidget(splitter, 1)

    def _connect(self) -> None:
        a = self.commands
        a.add_files.triggered.connect(self.ask_add_files)
        a.add_folder.triggered.connect(self.ask_add_folder)
        a.remove.triggered.connect(self.remove_selected)
        a.transcribe.triggered.connect(self.start)
        a.cancel.triggered.connect(self.cancel)
        a.export.triggered.connect(lambda: self.export_selected(self._last_format))
        for fmt, action in a.export_formats.items():
            action.triggered.connect(lambda _=False, f=fmt: self.export_selected(f))
        a.copy_text.triggered.connect(self.copy_selected)
        self.queue.currentResultChanged.connect(self._on_current_result)
        self.queue.itemSelectionChanged.connect(self._update_actions)
        self.jobs.errorOccurred.connect(self.errorOccurred)
        self.jobs.message.connect(self.message)
        self.jobs.busyChanged.connect(self._on_busy_changed)
        self.transcript.editor.errorOccurred.connect(self.errorOccurred)

    @property
    def busy(self) -> bool:
        """True while a job runs (including its cancellation)."""
        return self.jobs.busy

    def add_paths(self, items: Iterable[str | Path]) -> list[Path]:
        """Queue files; folders are expanded to the media files they hold."""
        accepted = []
        for path in expand_inputs(items):
            path = path.absolute()
            if path.is_dir():
                self.errorOccurred.emit(f"{path.name}: no audio or video files in this folder")
            elif not path.exists():
                self.errorOccurred.emit(f"{path}: no such file")
            else:
                accepted.append(path)
        added = self.queue.add_paths(accepted)
        if added:
            self._last_dir = added[-1].parent
            self.message.emit(f"Added {len(added)} file(s) to the queue")
        self._update_actions()
        return added

    @Slot()
    def ask_add_files(self) -> None:
        """Ask for files with a dialog and queue them."""
        files, _ = QFileDialog.getOpenFileNames(self, "Add files", str(self._last_dir or ""),
                                                _MEDIA_FILTER)
        self.add_paths(files)

    @Slot()
    def ask_add_folder(self) -> None:
        """Ask for a folder with a dialog and queue its media files."""
        folder = QFileDialog.getExistingDirectory(self, "Add folder", str(self._last_dir or ""))
        if folder:
            self.add_paths([folder])

    @Slot()
    def remove_selected(self) -> None:
        """Drop the selected files that are not being transcribed."""
        self.queue.remove_selected(keep=ACTIVE)
        self._update_actions()

    @Slot()
    def start(self) -> None:
        """Transcribe every pending file in the worker thread."""
        self.jobs.start()

    @Slot()
    def cancel(self) -> None:
        """Stop the running job at the next segment boundary."""
        self.jobs.cancel()

    def shutdown(self) -> None:
        """Save pending transcript edits, stop playback, cancel and join the worker thread."""
        self.transcript.editor.shutdown()
        self.jobs.shutdown()

    def selected_result(self) -> FileResult | None:
        """The result shown in the transcript view, if it has a transcript."""
        return self.transcript.result

    def export_selected(self, fmt: str) -> Path | None:
        """Ask where to save the shown transcript in ``fmt`` and write it; None if not saved."""
        result = self.selected_result()
        if result is None or result.transcript is None:
            return None
        answer = export_actions.ask_export_path(self, result.path, fmt, self._export_dir)
        if answer is None:
            return None
        path, chosen = answer
        try:
            written = export_actions.write_transcript(result.transcript, path, chosen)
        except DesktopAsrError as exc:
            self.errorOccurred.emit(f"export failed: {exc}")
            return None
        except OSError as exc:
            self.errorOccurred.emit(f"cannot write {path}: {exc.strerror or exc}")
            return None
        self._last_format, self._export_dir = chosen, written.parent
        self.message.emit(f"Exported {chosen.upper()} to {written}")
        return written

    def copy_selected(self) -> str:
        """Copy the shown transcript's text to the clipboard; returns the text copied."""
        result = self.selected_result()
        if result is None or result.transcript is None:
            return ""
        text = export_actions.copy_text(result.transcript)
        self.message.emit("Transcript copied to the clipboard")
        return text

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self._update_actions()
        self.busyChanged.emit(busy)

    @Slot(object)
    def _on_current_result(self, result: FileResult | None) -> None:
        self.transcript.show_result(result)
        if self.transcript.editor.restored and result is not None:
            self.message.emit(f"Showing your edited transcript of {result.path.name}")
        self._update_actions()

    def _update_actions(self) -> None:
        a, busy = self.commands, self.busy
        a.transcribe.setEnabled(not busy and bool(self.queue.pending()))
        a.cancel.setEnabled(busy and not self.jobs.cancelling)
        a.remove.setEnabled(bool(self.queue.selectedItems()))
        has_text = self.selected_result() is not None
        for action in (a.export, a.copy_text, *a.export_formats.values()):
            action.setEnabled(has_text)
        self.export_button.setEnabled(has_text)
        self.options.setEnabled(not busy)
