"""Transcript editing as pure functions on frozen Transcripts, plus an undo history. No Qt.

Word timings after a text edit: when the new text has as many words as the segment's word
list, each word keeps its timing and takes the new spelling (a one-for-one correction such as
"Margret" -> "Margaret"; the confidence of a changed word is cleared). Otherwise the words are
dropped, since their timings no longer describe the text, and exporters fall back to the
segment's own start and end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from desktop_asr.types import Segment, Transcript, Word


@dataclass(frozen=True)
class Match:
    """One occurrence of a search string: segment index and character span in its text.

    Spans index the segment's text with surrounding whitespace stripped, as the editor shows it.
    """

    segment: int
    start: int
    end: int


def _rewrite_words(words: tuple[Word, ...], text: str) -> tuple[Word, ...]:
    tokens = text.split()
    if not words or len(tokens) != len(words):
        return ()
    return tuple(w if w.text.strip() == tok
                 else replace(w, text=(" " if w.text.startswith(" ") else "") + tok,
                              probability=None)
                 for w, tok in zip(words, tokens))


def edit_segment_text(transcript: Transcript, index: int, text: str) -> Transcript:
    """Return ``transcript`` with segment ``index`` saying ``text`` (times kept)."""
    seg = transcript.segments[index]
    text = " ".join(text.split())
    if text == seg.text.strip():
        return transcript
    # Keep the engine's leading-space convention so joins elsewhere stay unchanged.
    lead = " " if seg.text.startswith(" ") and text else ""
    new = replace(seg, text=lead + text, words=_rewrite_words(seg.words, text))
    return _with_segment(transcript, index, new)


def _with_segment(transcript: Transcript, index: int, seg: Segment) -> Transcript:
    segments = list(transcript.segments)
    segments[index] = seg
    return replace(transcript, segments=tuple(segments))


def rename_speaker(transcript: Transcript, speaker_id: str, name: str) -> Transcript:
    """Return ``transcript`` with ``speaker_id`` shown as ``name`` (blank: back to the id)."""
    name = " ".join(name.split())
    if name == speaker_id:
        name = ""
    return transcript.rename_speaker(speaker_id, name)


def merge_speakers(transcript: Transcript, keep: str, drop: str) -> Transcript:
    """Return ``transcript`` with every segment of ``drop`` given to ``keep``, and ``drop`` gone."""
    ids = {s.id for s in transcript.speakers}
    for speaker_id in (keep, drop):
        if speaker_id not in ids:
            raise KeyError(f"no speaker {speaker_id!r} in this transcript")
    if keep == drop:
        return transcript
    segments = tuple(replace(s, speaker=keep) if s.speaker == drop else s
                     for s in transcript.segments)
    speakers = tuple(s for s in transcript.speakers if s.id != drop)
    return replace(transcript, segments=segments, speakers=speakers)


def speaker_segment_counts(transcript: Transcript) -> dict[str, int]:
    """Number of segments of each speaker, in the transcript's speaker order."""
    counts = {s.id: 0 for s in transcript.speakers}
    for seg in transcript.segments:
        if seg.speaker in counts:
            counts[seg.speaker] += 1
    return counts


def find_matches(transcript: Transcript, query: str) -> tuple[Match, ...]:
    """Every case-insensitive occurrence of ``query`` in the segment texts, in order."""
    query = query.strip()
    if not query:
        return ()
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    return tuple(Match(i, m.start(), m.end())
                 for i, seg in enumerate(transcript.segments)
                 for m in pattern.finditer(seg.text.strip()))


class EditHistory:
    """The transcript being edited with undo and redo; every state is a frozen Transcript."""

    def __init__(self, transcript: Transcript, limit: int = 200) -> None:
        self._undo: list[Transcript] = []
        self._redo: list[Transcript] = []
        self._current = transcript
        self._limit = limit

    @property
    def current(self) -> Transcript:
        """The transcript as edited so far."""
        return self._current

    @property
    def can_undo(self) -> bool:
        """True when there is an edit to take back."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when an undone edit can be made again."""
        return bool(self._redo)

    def apply(self, transcript: Transcript) -> bool:
        """Make ``transcript`` current (an edit); False when nothing changed."""
        if transcript == self._current:
            return False
        self._undo.append(self._current)
        del self._undo[:-self._limit]
        self._redo.clear()
        self._current = transcript
        return True

    def undo(self) -> bool:
        """Go back one edit; False when there is none."""
        if not self._undo:
            return False
        self._redo.append(self._current)
        self._current = self._undo.pop()
        return True

    def redo(self) -> bool:
        """Make the last undone edit again; False when there is none."""
        if not self._redo:
            return False
        self._undo.append(self._current)
        self._current = self._redo.pop()
        return True
