"""Owns the transcription worker thread: submits jobs, cancels them, joins it on shutdown."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from desktop_asr.ui.thread_runner import ThreadRunner
from desktop_asr.ui.worker import TranscribeWorker

log = logging.getLogger(__name__)


class TranscriptionRunner(ThreadRunner):
    """One long-lived worker thread so the loaded engine survives from job to job.

    The runner lives in the UI thread; its signals mirror the worker's and are delivered
    there through queued connections, so slots connected to them may touch widgets.
    """

    engineLoading = Signal(object)
    modelDownload = Signal(object)
    engineReady = Signal(object)
    jobStarted = Signal(object)
    fileStarted = Signal(object)
    fileProgress = Signal(object)
    fileDone = Signal(object)
    jobFinished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        worker = TranscribeWorker()
        super().__init__(worker, thread_name="desktop-asr-transcribe",
                         what="transcription job",
                         relay=("engineLoading", "modelDownload", "engineReady", "jobStarted",
                                "fileStarted", "fileProgress", "fileDone"),
                         done="jobFinished", parent=parent)
        self._transcriber = worker

    @property
    def engine_loads(self) -> int:
        """How many times the worker has loaded a model."""
        return self._transcriber.loads

    def shutdown(self) -> None:
        """Cancel any job, join the worker thread and free the loaded engine."""
        super().shutdown()
        self._transcriber.release()
