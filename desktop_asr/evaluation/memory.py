"""Peak memory of a stretch of work: resident set size sampled by a thread, GPU memory by torch."""

from __future__ import annotations

import os
import resource
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_STATM = Path("/proc/self/statm")
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss() -> int | None:
    """Resident set size of this process in bytes now (None where /proc is absent)."""
    try:
        return int(_STATM.read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def max_rss() -> int:
    """The highest resident set size this process ever had, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


@dataclass(frozen=True)
class MemoryUse:
    """Peak resident memory during a stretch of work and how much it grew over the start."""

    peak_rss: int
    baseline_rss: int
    gpu_peak: int | None = None

    @property
    def growth(self) -> int:
        """Peak minus the resident size when the stretch began (what the work itself added)."""
        return max(0, self.peak_rss - self.baseline_rss)


class PeakMemory:
    """Context manager sampling RSS every ``interval`` s; ``result`` holds the MemoryUse.

    ``ru_maxrss`` alone only ever grows over the process's life, so a second model evaluated in
    the same process would inherit the first one's peak; sampling measures each stretch.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.result: MemoryUse | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._peak = 0
        self._baseline = 0
        self._torch_cuda = False

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            rss = current_rss()
            if rss is not None and rss > self._peak:
                self._peak = rss

    def __enter__(self) -> PeakMemory:
        rss = current_rss()
        self._baseline = self._peak = rss if rss is not None else max_rss()
        torch = sys.modules.get("torch")  # only when an engine already brought torch in
        if torch is not None and torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
            self._torch_cuda = True
        if rss is not None:
            self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        rss = current_rss()
        peak = max(self._peak, rss or 0) if self._thread is not None else max_rss()
        gpu = None
        torch = sys.modules.get("torch")
        if torch is not None and (self._torch_cuda or torch.cuda.is_available()):
            gpu = int(torch.cuda.max_memory_allocated())
        self.result = MemoryUse(peak_rss=peak, baseline_rss=self._baseline, gpu_peak=gpu or None)
