"""Text and speaker-label clean-up shared by the exporters."""

from __future__ import annotations

from desktop_asr.types import Transcript


def one_line(text: str) -> str:
    """Collapse every run of whitespace (newlines included) to one space and strip the ends."""
    # Segment text may hold the engine's leading space or stray newlines; one physical line per
    # segment/cue line is what keeps TXT, SRT and VTT structurally valid.
    return " ".join(text.split())


def display_label(transcript: Transcript, speaker_id: str | None) -> str | None:
    """The one-line label to print for a speaker id, or None when there is nothing to print."""
    if speaker_id is None:
        return None
    label = one_line(transcript.speaker_label(speaker_id) or "")
    # A name made of blanks would print as an empty prefix; the id is the better fallback.
    return label or one_line(speaker_id) or None
