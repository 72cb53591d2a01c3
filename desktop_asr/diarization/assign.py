"""Speaker labels on a transcript: each word (or segment) goes to the speaker it overlaps most."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from desktop_asr.diarization.types import SpeakerTurn
from desktop_asr.types import Segment, Speaker, Transcript, Word


def speaker_at(turns: Sequence[SpeakerTurn], start: float, end: float) -> str | None:
    """The speaker overlapping [start, end] the longest; the nearest turn when none overlaps."""
    if not turns:
        return None
    totals: dict[str, float] = {}
    for t in turns:
        overlap = min(end, t.end) - max(start, t.start)
        if overlap > 0:
            totals[t.speaker] = totals.get(t.speaker, 0.0) + overlap
    if totals:
        return max(totals, key=lambda k: totals[k])
    mid = (start + end) / 2
    nearest = min(turns, key=lambda t: 0.0 if t.start <= mid <= t.end
                  else min(abs(mid - t.start), abs(mid - t.end)))
    return nearest.speaker


def assign_speakers(transcript: Transcript, turns: Sequence[SpeakerTurn], *,
                    split_segments: bool = True) -> Transcript:
    """Label the transcript's segments with speakers from ``turns``.

    With word timestamps and ``split_segments``, a segment whose words change speaker is cut
    there into one segment per speaker; otherwise the segment takes its majority speaker. Names
    the transcript already gives to speaker ids are kept.
    """
    out: list[Segment] = []
    for seg in transcript.segments:
        if split_segments and seg.words:
            out.extend(_split_by_speaker(seg, turns))
        else:
            out.append(replace(seg, speaker=speaker_at(turns, seg.start, seg.end)))
    names = {s.id: s.name for s in transcript.speakers}
    ids = list(dict.fromkeys(s.speaker for s in out if s.speaker is not None))
    speakers = tuple(Speaker(id=i, name=names.get(i, "")) for i in ids)
    return replace(transcript, segments=tuple(out), speakers=speakers)


def _split_by_speaker(seg: Segment, turns: Sequence[SpeakerTurn]) -> list[Segment]:
    groups: list[tuple[str | None, list[Word]]] = []
    for word in seg.words:
        who = speaker_at(turns, word.start, word.end)
        if groups and groups[-1][0] == who:
            groups[-1][1].append(word)
        else:
            groups.append((who, [word]))
    if len(groups) == 1:
        return [replace(seg, speaker=groups[0][0])]
    pieces = []
    for i, (who, words) in enumerate(groups):
        text = "".join(w.text for w in words)
        start = seg.start if i == 0 else words[0].start
        end = seg.end if i == len(groups) - 1 else words[-1].end
        pieces.append(replace(seg, start=min(start, words[0].start), end=max(end, words[-1].end),
                              text=text, words=tuple(words), speaker=who))
    return pieces
