"""A growable window of stream audio addressed by absolute sample index."""

from __future__ import annotations

import numpy as np


class AudioTape:
    """Holds samples [start, end) of a stream; appending is amortised O(1), trimming is free."""

    def __init__(self, capacity: int = 16000) -> None:
        self._data = np.zeros(max(1, capacity), dtype=np.float32)
        self._offset = 0  # index in _data of the sample ``start``
        self.start = 0
        self.end = 0

    def append(self, samples: np.ndarray) -> None:
        """Add samples at the end of the stream."""
        n = len(samples)
        used = self.end - self.start
        if self._offset + used + n > len(self._data):
            # Slide to the front, and grow only when the live part really needs the room.
            size = len(self._data)
            while used + n > size // 2:
                size *= 2
            data = np.zeros(size, dtype=np.float32) if size != len(self._data) else self._data
            data[:used] = self._data[self._offset:self._offset + used]
            self._data, self._offset = data, 0
        at = self._offset + used
        self._data[at:at + n] = samples
        self.end += n

    def read(self, begin: int, end: int) -> np.ndarray:
        """A copy of samples [begin, end), which must lie within the tape."""
        if not self.start <= begin <= end <= self.end:
            raise IndexError(f"[{begin}, {end}) is outside the tape [{self.start}, {self.end})")
        lo = self._offset + begin - self.start
        return self._data[lo:lo + end - begin].copy()

    def view(self, begin: int, end: int) -> np.ndarray:
        """Samples [begin, end) without copying; valid until the next append."""
        lo = self._offset + begin - self.start
        return self._data[lo:lo + end - begin]

    def trim(self, before: int) -> None:
        """Forget samples before ``before``."""
        before = min(max(before, self.start), self.end)
        self._offset += before - self.start
        self.start = before

    def clear(self, at: int = 0) -> None:
        """Empty the tape; the next sample appended has index ``at``."""
        self._offset, self.start, self.end = 0, at, at
