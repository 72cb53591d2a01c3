"""Terminal progress bars (tqdm on stderr) for downloads and transcription."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def bar(**kwargs: Any) -> tqdm:
    """A tqdm bar on stderr, hidden when ``disable`` is set, sized for seconds or bytes."""
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("leave", False)
    return tqdm(**kwargs)


class DownloadBars:
    """One byte-counting bar per downloaded file, created when its first bytes arrive."""

    def __init__(self, disable: bool = False) -> None:
        self.disable = disable
        self._bars: dict[str, tqdm] = {}

    def __call__(self, name: str, done: int, total: int | None) -> None:
        b = self._bars.get(name)
        if b is None:
            b = bar(desc=name, total=total, unit="B", unit_scale=True, unit_divisor=1024,
                    disable=self.disable, leave=True)
            self._bars[name] = b
        b.update(done - b.n)

    def close(self) -> None:
        """Close every bar."""
        for b in self._bars.values():
            b.close()
