"""Owns the live worker's thread: start, pause and stop sessions without blocking the UI."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from desktop_asr.ui.live_worker import LiveFinished, LiveRequest, LiveWorker

log = logging.getLogger(__name__)

IDLE, STARTING, RUNNING, STOPPING = "idle", "starting", "running", "stopping"


class LiveRunner(QObject):
    """Lives in the UI thread; its signals mirror the worker's through queued connections."""

    engineLoading = Signal(object)
    engineReady = Signal(object)
    started = Signal(object)
    update = Signal(object)
    status = Signal(object)
    pipelineError = Signal(object)
    levels = Signal(object)
    finished = Signal(object)
    stateChanged = Signal(str)
    _start = Signal(object)
    _stop = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = IDLE
        self.paused = False
        self._thread = QThread(self)
        self._thread.setObjectName("desktop-asr-live")
        self.worker = LiveWorker()
        self.worker.moveToThread(self._thread)
        self._start.connect(self.worker.start_session)
        self._stop.connect(self.worker.stop_session)
        for name in ("engineLoading", "engineReady", "update", "status", "pipelineError",
                     "levels"):
            getattr(self.worker, name).connect(getattr(self, name))
        self.worker.started.connect(self._on_started)
        self.worker.finished.connect(self._on_finished)
        # Polled from here so that the worker thread needs no timers of its own.
        self._watch = QTimer(self)
        self._watch.setInterval(150)
        self._watch.timeout.connect(self._check_ended)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """True from start() until the session's finished has been delivered."""
        return self.state != IDLE

    @property
    def thread_running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread.isRunning()

    def start(self, request: LiveRequest) -> None:
        """Queue a session start on the worker thread."""
        if self.busy:
            raise RuntimeError("a live session is already running")
        self.paused = False
        self.worker.cancel.clear()  # here, before queuing: a Stop right after must stick
        self._set_state(STARTING)
        self._start.emit(request)

    def stop(self) -> None:
        """Ask the worker to stop, drain and save; finished arrives when done."""
        if self.state == STARTING:
            self.worker.cancel.set()  # a model still loading: do not start afterwards
        elif self.state == RUNNING:
            self._watch.stop()
            self._set_state(STOPPING)
            self._stop.emit()

    def set_paused(self, paused: bool) -> None:
        """Mute (pause) or resume the running session's input."""
        if self.state == RUNNING:
            self.paused = paused
            self.worker.set_paused(paused)
            self.stateChanged.emit(self.state)

    def shutdown(self) -> None:
        """Stop any session (saving it) and join the thread; safe to call more than once."""
        self._watch.stop()
        self.worker.cancel.set()
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
            log.debug("live thread joined")
        self.worker.release()
        self.state = IDLE

    def _set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)

    @Slot(object)
    def _on_started(self, event: object) -> None:
        if self.state == STARTING:
            self._set_state(RUNNING)
            self._watch.start()
        self.started.emit(event)
        if self.worker.cancel.is_set():  # Stop was pressed while the session was starting
            self.stop()

    @Slot()
    def _check_ended(self) -> None:
        if self.state == RUNNING and self.worker.session_ended():
            self._watch.stop()
            self._set_state(STOPPING)
            self._stop.emit()

    @Slot(object)
    def _on_finished(self, event: LiveFinished) -> None:
        self._watch.stop()
        self.paused = False
        self.state = IDLE
        self.finished.emit(event)
        self.stateChanged.emit(IDLE)
