"""A long-lived worker QThread that runs one job at a time: submit, cancel, join on shutdown.

The runner lives in the UI thread and re-emits the worker's signals there (queued
connections), so slots connected to a runner may touch widgets. Jobs carry a
``threading.Event`` called ``cancel`` that the worker checks between steps.
"""

from __future__ import annotations

import atexit
import logging
import weakref
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

_LIVE: weakref.WeakSet[ThreadRunner] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    # A script that never closes its window would otherwise destroy a running QThread at exit.
    for runner in list(_LIVE):
        try:
            runner.shutdown()
        except RuntimeError:  # its Qt side is already gone
            pass


class ThreadRunner(QObject):
    """Owns one worker thread; subclasses declare the signals named in ``relay`` and ``done``."""

    _submit = Signal(object)

    def __init__(self, worker: QObject, *, thread_name: str, what: str, relay: tuple[str, ...],
                 done: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: Any = None
        self._what = what
        self._done = done
        self._thread = QThread(self)
        self._thread.setObjectName(thread_name)
        self._worker = worker
        worker.moveToThread(self._thread)
        # The receivers decide the thread: the worker's slot runs in the worker thread, the
        # runner's signals and slot in the UI thread (both connections are queued).
        self._submit.connect(worker.run_job)  # type: ignore[attr-defined]
        for name in relay:
            getattr(worker, name).connect(getattr(self, name))
        getattr(worker, done).connect(self._on_done)
        self._thread.start()
        _LIVE.add(self)

    @property
    def busy(self) -> bool:
        """True from start() until the job's last signal has been delivered."""
        return self._job is not None

    @property
    def cancelling(self) -> bool:
        """True after cancel() while the job winds down."""
        return self._job is not None and self._job.cancel.is_set()

    @property
    def thread_running(self) -> bool:
        """Whether the worker thread is alive (it idles between jobs until shutdown)."""
        return self._thread.isRunning()

    def start(self, job: Any) -> None:
        """Queue ``job`` on the worker thread; one job at a time."""
        if self._job is not None:
            raise RuntimeError(f"a {self._what} is already running")
        if not self._thread.isRunning():
            raise RuntimeError(f"the {self._what} thread has been shut down")
        self._job = job
        self._submit.emit(job)

    def cancel(self) -> None:
        """Ask the running job to stop at its next step."""
        if self._job is not None:
            self._job.cancel.set()

    def shutdown(self) -> None:
        """Cancel any job and join the worker thread; blocks only until the current step ends."""
        self.cancel()
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
            log.debug("%s thread joined", self._what)

    @Slot(object)
    def _on_done(self, event: object) -> None:
        self._job = None
        getattr(self, self._done).emit(event)
