"""Options that change how a transcript is rendered."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ExportOptions:
    """Rendering choices for TXT and the subtitle formats; validated on construction."""

    txt_timestamps: bool = False
    txt_speakers: bool = True
    max_line_chars: int = 42
    max_cue_lines: int = 2
    max_cue_duration: float = 7.0

    def __post_init__(self) -> None:
        for name in ("txt_timestamps", "txt_speakers"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("max_line_chars", "max_cue_lines"):
            value = getattr(self, name)
            # bool is an int subclass; True as "1 line" is surely a mistake.
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be a whole number, got {value!r}")
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value!r}")
        duration = self.max_cue_duration
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise TypeError(f"max_cue_duration must be a number of seconds, got {duration!r}")
        if not math.isfinite(duration) or duration < 0.001:
            # Cue times have millisecond resolution, so anything shorter cannot be honoured.
            raise ValueError(f"max_cue_duration must be at least 0.001 seconds, got {duration!r}")
