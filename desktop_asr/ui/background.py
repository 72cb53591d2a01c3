"""Run one blocking call (file reads, folder copies) on the thread pool, report back in the UI."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from desktop_asr.errors import DesktopAsrError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallResult:
    """The outcome of a background call: its value, or the message to show the user."""

    tag: str
    value: Any = None
    error: str | None = None


class _Relay(QObject):
    done = Signal(object)


class _Call(QRunnable):
    def __init__(self, tag: str, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._tag, self._fn, self._relay = tag, fn, relay

    def run(self) -> None:
        try:
            result = CallResult(self._tag, self._fn())
        except (DesktopAsrError, OSError, ValueError) as exc:
            result = CallResult(self._tag, error=str(exc))
        except Exception as exc:  # a worker must never die silently
            log.exception("background call %s failed", self._tag)
            result = CallResult(self._tag, error=f"unexpected error: {type(exc).__name__}: {exc}")
        try:
            self._relay.done.emit(result)
        except RuntimeError:  # the window that asked was closed meanwhile: nobody to tell
            log.info("background call %s finished after its owner closed", self._tag)


class BackgroundCalls(QObject):
    """Owns a relay so results reach ``on_done`` in the owner's (UI) thread, never after it died."""

    def __init__(self, on_done: Callable[[CallResult], None], parent: QObject) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.done.connect(on_done)
        self.pending = 0
        self._relay.done.connect(self._finished)

    def _finished(self, _result: CallResult) -> None:
        self.pending -= 1

    def start(self, tag: str, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on the global thread pool; ``on_done`` gets a CallResult tagged ``tag``."""
        self.pending += 1
        QThreadPool.globalInstance().start(_Call(tag, fn, self._relay))
