"""Records one take from an AudioSource on a worker thread; levels and the take as signals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop_asr.capture import AudioSource, CaptureError
from desktop_asr.capture.take import MAX_TAKE_SECONDS, record_take

log = logging.getLogger(__name__)


class TakeRecorder(QObject):
    """Start/stop one recording; ``finished`` carries the mono 16 kHz samples."""

    level = Signal(float, float)     # RMS, peak of the last block (linear)
    finished = Signal(object)        # np.ndarray
    failed = Signal(str)

    def __init__(self, source_factory: Callable[[], AudioSource],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source_factory = source_factory
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def recording(self) -> bool:
        """True from start() until the take has been handed over."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Open the source and record until stop(), its end, or the take length limit."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            # The previous take's worker hands its take over as its very last act, so it may
            # still be finishing when the next take is asked for: let it end first.
            thread.join(2.0)
            if thread.is_alive():
                return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="take recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the take (the samples captured so far are kept)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker has finished (for shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.recording

    def _run(self) -> None:
        def level(mono: np.ndarray) -> None:
            self.level.emit(float(np.sqrt(np.mean(mono * mono))), float(np.max(np.abs(mono))))

        try:
            take = record_take(self.source_factory(), self._stop.is_set,
                               max_seconds=MAX_TAKE_SECONDS, on_block=level)
        except (CaptureError, OSError, ValueError) as exc:
            self.failed.emit(f"cannot record: {exc}")
            return
        if take.interrupted:
            self.failed.emit(take.interrupted)
        self.finished.emit(take.samples)
