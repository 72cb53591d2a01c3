"""JSON-lines progress on stdout: one object per line, ``{"event": ..., ...}``.

Events (docs/training.md): ``start``, ``phase``, ``step``, ``eval``, ``metrics``, ``done``,
``cancelled``, ``error``. Logging goes to stderr, so stdout carries nothing else.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from typing import Any, TextIO


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class Reporter:
    """Writes progress events; silent on processes other than the main one."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream or sys.stdout
        self.enabled = enabled
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        """Write one event line (flushed at once, so a reader sees it live)."""
        if not self.enabled:
            return
        record = {"event": event, "time": round(time.monotonic() - self.started, 3),
                  **_clean(fields)}
        with self._lock:
            self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.stream.flush()

    def phase(self, phase: str, message: str) -> None:
        """A new stage of the job began."""
        self.emit("phase", phase=phase, message=message)
