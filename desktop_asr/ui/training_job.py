"""Runs the fine-tuning subprocess (``python -m training finetune``) and turns its JSON lines
into signals. Cancel sends SIGTERM (the job stops at the next step and installs nothing);
if it does not stop within a grace period it is killed, which still installs nothing."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence

from PySide6.QtCore import QObject, QProcess, QTimer, Signal, Slot

log = logging.getLogger(__name__)

KILL_AFTER_MS = 15000


class TrainingJob(QObject):
    """One training subprocess at a time."""

    event = Signal(object)       # every JSON event, as a dict
    finished = Signal(object)    # the final event: done / error / cancelled (dict)
    runningChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, python: str = sys.executable) -> None:
        super().__init__(parent)
        self.python = python
        self.process: QProcess | None = None
        self._buffer = b""
        self._last: dict | None = None
        self._stderr = b""
        self._cancelled = False
        self._kill_timer = QTimer(self, singleShot=True, interval=KILL_AFTER_MS)
        self._kill_timer.timeout.connect(self._kill)

    @property
    def running(self) -> bool:
        """True while the subprocess runs."""
        return self.process is not None

    def start(self, args: Sequence[str]) -> None:
        """Start ``python -m training ARGS``."""
        if self.process is not None:
            return
        self._buffer, self._stderr, self._last, self._cancelled = b"", b"", None, False
        proc = QProcess(self)
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self.process = proc
        proc.start(self.python, ["-m", "training", *args])
        self.runningChanged.emit(True)

    @Slot()
    def cancel(self) -> None:
        """Ask the job to stop (SIGTERM); kill it if it has not stopped in 15 s."""
        if self.process is not None:
            self._cancelled = True
            self.process.terminate()
            self._kill_timer.start()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the subprocess ended (shutdown, tests)."""
        proc = self.process
        return proc is None or proc.waitForFinished(msecs)

    def _kill(self) -> None:
        if self.process is not None:
            log.warning("the training job did not stop in time; killing it")
            self.process.kill()

    @Slot()
    def _read_stdout(self) -> None:
        assert self.process is not None
        self._buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self._last = event
                self.event.emit(event)

    @Slot()
    def _read_stderr(self) -> None:
        assert self.process is not None
        self._stderr = (self._stderr + bytes(self.process.readAllStandardError()))[-20000:]

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._kill_timer.stop()
        last = self._last or {}
        if last.get("event") not in ("done", "error", "cancelled"):
            if self._cancelled:
                last = {"event": "cancelled", "message": "cancelled; no model was installed"}
            else:
                tail = self._stderr.decode("utf-8", "replace").strip().splitlines()
                last = {"event": "error", "message": f"the training job stopped (exit status "
                                                     f"{code}): {tail[-1] if tail else ''}"}
        proc, self.process = self.process, None
        if proc is not None:
            proc.deleteLater()
        self.runningChanged.emit(False)
        self.finished.emit(last)

    @Slot(QProcess.ProcessError)
    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            proc, self.process = self.process, None
            proc.deleteLater()
            self.runningChanged.emit(False)
            self.finished.emit({"event": "error",
                                "message": f"cannot start the training job ({self.python})"})
