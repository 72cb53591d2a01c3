"""Cutting segments into subtitle cues that respect line, line-count and duration limits.

SRT and WebVTT share this so that both files made from one transcript have identical cues.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_asr.export.normalize import display_label, one_line
from desktop_asr.export.options import ExportOptions
from desktop_asr.export.timefmt import seconds_to_ms
from desktop_asr.types import Segment, Transcript


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: millisecond times (end > start), wrapped lines, optional speaker."""

    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    speaker: str | None = None


@dataclass(frozen=True)
class _Unit:
    """An unbreakable piece of cue text; ``joiner`` goes before it unless it starts a line."""

    text: str
    joiner: str
    start: float
    end: float


def _word_units(seg: Segment) -> list[_Unit]:
    words = [w for w in seg.words if w.text.strip()]
    if not words:
        return []
    # Whisper words carry their own leading space and CJK words carry none, so when the words
    # concatenate back to the segment text their own spacing is right; engines that give bare
    # words ("hello", "world") need a space put between them.
    own_spacing = one_line("".join(w.text for w in words)) == one_line(seg.text)
    units = []
    for w in words:
        joiner = (" " if w.text[:1].isspace() else "") if own_spacing else " "
        units.append(_Unit(one_line(w.text), joiner, w.start, w.end))
    return units


def _text_units(seg: Segment, max_chars: int) -> list[_Unit]:
    pieces: list[tuple[str, str]] = []
    for token in seg.text.split():
        # A token wider than a line (a URL, or a CJK sentence with no spaces) is cut into
        # line-sized chunks glued without a space, or it could never fit any cue.
        for i in range(0, len(token), max_chars):
            pieces.append((token[i:i + max_chars], " " if i == 0 else ""))
    if not pieces:
        return []
    total = sum(len(j) + len(t) for j, t in pieces) - len(pieces[0][1])
    units = []
    pos = 0
    for index, (text, joiner) in enumerate(pieces):
        # Each unit's span starts before its joiner so consecutive cues meet without gaps and
        # together cover the whole segment.
        start_pos = pos
        pos += (0 if index == 0 else len(joiner)) + len(text)
        units.append(_Unit(text, joiner,
                           seg.start + seg.duration * start_pos / total,
                           seg.start + seg.duration * pos / total))
    return units


def _wrap(units: list[_Unit], max_chars: int, first_reserve: int) -> list[str]:
    """Greedily wrap units into lines; the first line leaves room for a speaker prefix."""
    lines: list[str] = []
    current = ""
    for unit in units:
        width = max_chars - (first_reserve if not lines else 0)
        if current and len(current) + len(unit.joiner) + len(unit.text) <= width:
            current += unit.joiner + unit.text
        elif current:
            lines.append(current)
            current = unit.text
        else:
            # A line always takes at least one unit, even one wider than the limit.
            current = unit.text
    if current:
        lines.append(current)
    return lines


def _pack(units: list[_Unit], options: ExportOptions, reserve: int,
          max_ms: int) -> list[list[_Unit]]:
    """Group consecutive units into cues that fit the line and duration limits."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    for unit in units:
        if current:
            candidate = current + [unit]
            fits_time = seconds_to_ms(unit.end) - seconds_to_ms(current[0].start) <= max_ms
            fits_lines = (len(_wrap(candidate, options.max_line_chars, reserve))
                          <= options.max_cue_lines)
            if fits_time and fits_lines:
                current = candidate
                continue
            groups.append(current)
        current = [unit]
    if current:
        groups.append(current)
    return groups


def build_cues(transcript: Transcript, options: ExportOptions) -> list[Cue]:
    """Split every non-empty segment into cues within the limits of ``options``."""
    max_ms = max(1, seconds_to_ms(options.max_cue_duration))
    cues: list[Cue] = []
    # Stable sort: players expect cues in time order even if a caller built segments unsorted.
    for seg in sorted(transcript.segments, key=lambda s: s.start):
        label = display_label(transcript, seg.speaker)
        reserve = len(label) + 2 if label else 0
        units = _word_units(seg) or _text_units(seg, options.max_line_chars)
        for group in _pack(units, options, reserve, max_ms):
            start = seconds_to_ms(group[0].start)
            # A single unit may outlast the limit (a word stretched over silence); cut the cue
            # short rather than break the limit, and never let it end at or before its start.
            end = max(start + 1, min(seconds_to_ms(group[-1].end), start + max_ms))
            lines = tuple(_wrap(group, options.max_line_chars, reserve))
            cues.append(Cue(start, end, lines, label))
    return cues
