"""Owns the worker thread: submits jobs, cancels them and joins the thread on shutdown."""

from __future__ import annotations

import atexit
import logging
import weakref

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop_asr.ui.events import JobFinished, TranscriptionJob
from desktop_asr.ui.worker import TranscribeWorker

log = logging.getLogger(__name__)

_LIVE: weakref.WeakSet[TranscriptionRunner] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    # A script that never closes its window would otherwise destroy a running QThread at exit.
    for runner in list(_LIVE):
        try:
            runner.shutdown()
        except RuntimeError:  # its Qt side is already gone
            pass


class TranscriptionRunner(QObject):
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
    _submit = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: TranscriptionJob | None = None
        self._thread = QThread(self)
        self._thread.setObjectName("desktop-asr-transcribe")
        self._worker = TranscribeWorker()
        self._worker.moveToThread(self._thread)
        # The receivers decide the thread: the worker's slot runs in the worker thread, the
        # runner's signals and slot in the UI thread (both connections are queued).
        self._submit.connect(self._worker.run_job)
        for name in ("engineLoading", "modelDownload", "engineReady", "jobStarted",
                     "fileStarted", "fileProgress", "fileDone"):
            getattr(self._worker, name).connect(getattr(self, name))
        self._worker.jobFinished.connect(self._on_job_finished)
        self._thread.start()
        _LIVE.add(self)

    @property
    def busy(self) -> bool:
        """True from start() until the job's jobFinished has been delivered."""
        return self._job is not None

    @property
    def thread_running(self) -> bool:
        """Whether the worker thread is alive (it idles between jobs until shutdown)."""
        return self._thread.isRunning()

    @property
    def engine_loads(self) -> int:
        """How many times the worker has loaded a model."""
        return self._worker.loads

    def start(self, job: TranscriptionJob) -> None:
        """Queue ``job`` on the worker thread; one job at a time."""
        if self._job is not None:
            raise RuntimeError("a transcription job is already running")
        if not self._thread.isRunning():
            raise RuntimeError("the transcription thread has been shut down")
        self._job = job
        self._submit.emit(job)

    def cancel(self) -> None:
        """Ask the running job to stop at the next segment or file boundary."""
        if self._job is not None:
            self._job.cancel.set()

    def shutdown(self) -> None:
        """Cancel any job and join the worker thread; blocks only until the current segment ends."""
        self.cancel()
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
            log.debug("transcription thread joined")
        self._worker.release()

    @Slot(object)
    def _on_job_finished(self, event: JobFinished) -> None:
        self._job = None
        self.jobFinished.emit(event)
