"""Plain-text export: one line per segment, optionally with times and speaker labels."""

from __future__ import annotations

from desktop_asr.export.normalize import display_label, one_line
from desktop_asr.export.options import ExportOptions
from desktop_asr.export.timefmt import format_timestamp
from desktop_asr.types import Transcript


def to_txt(transcript: Transcript, options: ExportOptions) -> str:
    """Render a transcript as plain text, one line per non-empty segment."""
    lines: list[str] = []
    for seg in transcript.segments:
        text = one_line(seg.text)
        if not text:
            continue
        prefix = ""
        if options.txt_timestamps:
            prefix += f"[{format_timestamp(seg.start)} --> {format_timestamp(seg.end)}] "
        label = display_label(transcript, seg.speaker) if options.txt_speakers else None
        if label:
            prefix += f"{label}: "
        lines.append(prefix + text)
    return "".join(line + "\n" for line in lines)
