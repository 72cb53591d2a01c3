"""Timestamp formatting shared by the text and subtitle exporters."""

from __future__ import annotations

import math


def seconds_to_ms(seconds: float) -> int:
    """Round a time in seconds to whole milliseconds."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"time must be a finite number >= 0, got {seconds!r}")
    return round(seconds * 1000)


def format_ms(ms: int, decimal: str = ".") -> str:
    """Format milliseconds as ``HH:MM:SS.mmm``; ``decimal`` is "," for SRT."""
    if ms < 0:
        raise ValueError(f"time must be >= 0 ms, got {ms!r}")
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    # Hours are always shown and never wrap at 24: recordings longer than a day stay ordered.
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def format_timestamp(seconds: float, decimal: str = ".") -> str:
    """Format a time in seconds as ``HH:MM:SS.mmm`` (or ``HH:MM:SS,mmm`` with decimal=",")."""
    return format_ms(seconds_to_ms(seconds), decimal)
