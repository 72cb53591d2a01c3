"""SubRip (SRT) and WebVTT export built on the shared cue splitting."""

from __future__ import annotations

from desktop_asr.export.cues import Cue, build_cues
from desktop_asr.export.options import ExportOptions
from desktop_asr.export.timefmt import format_ms
from desktop_asr.types import Transcript


def vtt_escape(text: str) -> str:
    """Escape the characters WebVTT cue text and voice annotations reserve: & < >."""
    # '>' is escaped too: it keeps "-->" out of cue text and ends no voice tag early.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _srt_block(number: int, cue: Cue) -> str:
    lines = list(cue.lines)
    if cue.speaker:
        # SRT has no voice markup, so the speaker is shown as part of the text.
        lines[0] = f"{cue.speaker}: {lines[0]}"
    timing = f"{format_ms(cue.start_ms, ',')} --> {format_ms(cue.end_ms, ',')}"
    return f"{number}\n{timing}\n" + "\n".join(lines) + "\n"


def _vtt_block(cue: Cue) -> str:
    lines = [vtt_escape(line) for line in cue.lines]
    if cue.speaker:
        lines[0] = f"<v {vtt_escape(cue.speaker)}>{lines[0]}"
    timing = f"{format_ms(cue.start_ms)} --> {format_ms(cue.end_ms)}"
    return f"{timing}\n" + "\n".join(lines) + "\n"


def to_srt(transcript: Transcript, options: ExportOptions) -> str:
    """Render a transcript as SubRip subtitles (empty string when there is no speech)."""
    blocks = [_srt_block(i, cue) for i, cue in enumerate(build_cues(transcript, options), 1)]
    return "\n".join(blocks)


def to_vtt(transcript: Transcript, options: ExportOptions) -> str:
    """Render a transcript as WebVTT subtitles with <v> voice tags for speakers."""
    return "WEBVTT\n" + "".join("\n" + _vtt_block(cue)
                                for cue in build_cues(transcript, options))
