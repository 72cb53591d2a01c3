"""Runs transcription jobs for the Files page and mirrors worker events into its views."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop_asr.batch import FileResult
from desktop_asr.ui.events import (
    EngineLoading,
    EngineReady,
    FileProgress,
    FileStarted,
    JobFinished,
    JobStarted,
    ModelDownload,
    TranscriptionJob,
)
from desktop_asr.ui.options_bar import OptionsBar
from desktop_asr.ui.progress import JobProgress
from desktop_asr.ui.queue_view import FileStatus, QueueView
from desktop_asr.ui.runner import TranscriptionRunner
from desktop_asr.ui.status_panel import StatusPanel

log = logging.getLogger(__name__)

ACTIVE = frozenset({FileStatus.WAITING, FileStatus.RUNNING})


class JobController(QObject):
    """Starts and cancels jobs; every worker event arrives here in the UI thread."""

    errorOccurred = Signal(str)
    message = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, queue: QueueView, options: OptionsBar, status: StatusPanel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue, self.options, self.status = queue, options, status
        self.runner = TranscriptionRunner(self)
        self._job: TranscriptionJob | None = None
        self._progress: JobProgress | None = None
        self._auto_selected: Path | None = None
        r = self.runner
        r.engineLoading.connect(self._on_engine_loading)
        r.modelDownload.connect(self._on_model_download)
        r.engineReady.connect(self._on_engine_ready)
        r.jobStarted.connect(self._on_job_started)
        r.fileStarted.connect(self._on_file_started)
        r.fileProgress.connect(self._on_file_progress)
        r.fileDone.connect(self._on_file_done)
        r.jobFinished.connect(self._on_job_finished)

    @property
    def busy(self) -> bool:
        """True from start() until the worker reports the job finished."""
        return self.runner.busy

    @property
    def cancelling(self) -> bool:
        """True after cancel() while the worker winds down."""
        return self._job is not None and self._job.cancel.is_set()

    def start(self) -> bool:
        """Transcribe every pending file in the worker thread; False if nothing started."""
        files = self.queue.pending()
        if self.busy or not files:
            return False
        try:
            job = TranscriptionJob(tuple(files), self.options.engine_config(),
                                   self.options.decode_options(),
                                   engine_name=self.options.engine_name(),
                                   diarization=self.options.diarization_options())
        except ValueError as exc:
            self.errorOccurred.emit(f"cannot start: {exc}")
            return False
        for path in files:
            self.queue.set_status(path, FileStatus.WAITING)
        self._job, self._progress, self._auto_selected = job, None, None
        self.runner.start(job)
        self.message.emit(f"Transcribing {len(files)} file(s)…")
        self.busyChanged.emit(True)
        return True

    def cancel(self) -> None:
        """Stop the running job at the next segment boundary."""
        if self.busy and not self.cancelling:
            self.runner.cancel()
            self.message.emit("Cancelling…")
            self.busyChanged.emit(True)  # lets the page disable Cancel

    def shutdown(self) -> None:
        """Cancel and join the worker thread (blocks only until the current segment ends)."""
        self.runner.shutdown()

    @Slot(object)
    def _on_engine_loading(self, event: EngineLoading) -> None:
        self.status.show_loading(event.model, event.device)
        self.message.emit(f"Loading model {event.model}…")

    @Slot(object)
    def _on_model_download(self, event: ModelDownload) -> None:
        total = f" of {event.total / 1e6:.0f} MB" if event.total else " MB"
        self.message.emit(f"Downloading {event.model}: {event.file} "
                          f"{event.done / 1e6:.0f}{total}")

    @Slot(object)
    def _on_engine_ready(self, event: EngineReady) -> None:
        self.status.show_engine(event.info)
        self.options.set_languages(event.languages)
        self.message.emit(f"Model {event.info.model} loaded in {event.load_seconds:.1f} s")

    @Slot(object)
    def _on_job_started(self, event: JobStarted) -> None:
        self._progress = JobProgress(event.files, event.durations)
        for path, seconds in zip(event.files, event.durations):
            self.queue.set_length(path, seconds)
        self.status.show_progress(0.0, None)

    @Slot(object)
    def _on_file_started(self, event: FileStarted) -> None:
        self.queue.set_status(event.path, FileStatus.RUNNING)
        self.queue.set_length(event.path, event.seconds)
        if self._progress is not None:
            self._progress.file_started(event.path, event.seconds)
        self._show_overall()

    @Slot(object)
    def _on_file_progress(self, event: FileProgress) -> None:
        self.queue.set_progress(event.path, event.fraction)
        if self._progress is not None:
            self._progress.file_progress(event.path, event.done)
        self._show_overall()

    @Slot(object)
    def _on_file_done(self, result: FileResult) -> None:
        self.queue.set_result(result)
        if self._progress is not None:
            self._progress.file_finished(result.path)
        self._show_overall()
        if result.ok:
            self.status.show_rtf(result.audio_seconds, result.elapsed_seconds)
            self._follow(result.path)
        elif not result.cancelled:
            self.errorOccurred.emit(f"{result.path.name}: {result.error}")

    @Slot(object)
    def _on_job_finished(self, event: JobFinished) -> None:
        job, self._job, self._progress = self._job, None, None
        files = job.files if job is not None else ()
        queued = set(self.queue.paths())
        for path in files:
            if path in queued and self.queue.status(path) in ACTIVE:
                # Files the job never reached go back to the queue untouched.
                was_running = self.queue.status(path) is FileStatus.RUNNING
                self.queue.set_status(path, FileStatus.CANCELLED if was_running
                                      else FileStatus.QUEUED)
        if event.error:
            self.errorOccurred.emit(event.error)
        done = sum(1 for r in event.results if r.ok)
        state = "Cancelled" if event.cancelled else "Finished"
        self.message.emit(f"{state}: transcribed {done} of {len(files)} file(s) in "
                          f"{event.elapsed_seconds:.1f} s")
        self.status.hide_progress()
        self.busyChanged.emit(False)

    def _follow(self, path: Path) -> None:
        # Show each new transcript unless the user is reading another finished one.
        current = self.queue.current_path()
        shown = None if current is None else self.queue.result(current)
        if shown is None or not shown.ok or current in (path, self._auto_selected):
            self._auto_selected = path
            self.queue.select(path)

    def _show_overall(self) -> None:
        if self._progress is not None:
            self.status.show_progress(self._progress.fraction, self._progress.eta_seconds())
