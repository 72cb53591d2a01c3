"""RTTM export: one line per speaker turn, the format diarization scorers read."""

from __future__ import annotations

import re

from desktop_asr.export.normalize import display_label
from desktop_asr.types import Transcript

# Segments of one speaker separated by at most this much silence count as one turn.
MERGE_GAP_SECONDS = 0.5
UNKNOWN_SPEAKER = "unknown"

_WHITESPACE = re.compile(r"\s+")


def rttm_field(value: str, fallback: str) -> str:
    """Make a value safe as one RTTM field: fields are space separated, so blanks become "_"."""
    return _WHITESPACE.sub("_", value.strip()) or fallback


def to_rttm(transcript: Transcript, file_id: str) -> str:
    """Render speaker turns as RTTM ``SPEAKER`` lines (empty string when there are none)."""
    file_field = rttm_field(file_id, "audio")
    turns: list[list] = []  # [speaker, start, end]
    # Merging needs time order; the transcript promises it but a stable sort costs nothing.
    for seg in sorted(transcript.segments, key=lambda s: s.start):
        label = display_label(transcript, seg.speaker)
        speaker = rttm_field(label, UNKNOWN_SPEAKER) if label else UNKNOWN_SPEAKER
        last = turns[-1] if turns else None
        if last and last[0] == speaker and seg.start - last[2] <= MERGE_GAP_SECONDS:
            last[2] = max(last[2], seg.end)
        else:
            turns.append([speaker, seg.start, seg.end])
    lines = []
    for speaker, start, end in turns:
        duration = f"{end - start:.3f}"
        if float(duration) <= 0:
            # A zero-length turn is noise to scorers and some of them reject it.
            continue
        lines.append(f"SPEAKER {file_field} 1 {start:.3f} {duration} <NA> <NA> {speaker} "
                     f"<NA> <NA>\n")
    return "".join(lines)
