"""Typed values that cross module boundaries: words, segments, speakers and transcripts.

Times are seconds (float) from the start of the audio. All values are frozen dataclasses that
validate themselves; change them with ``dataclasses.replace``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

SCHEMA_VERSION = 1


def _check_span(kind: str, start: float, end: float) -> None:
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError(f"{kind} times must be finite, got start={start!r} end={end!r}")
    if start < 0:
        raise ValueError(f"{kind} start must be >= 0, got {start!r}")
    if end < start:
        raise ValueError(f"{kind} end ({end!r}) is before its start ({start!r})")


def _check_probability(kind: str, value: float | None) -> None:
    if value is not None and not (0.0 <= value <= 1.0):
        raise ValueError(f"{kind} must be within [0, 1], got {value!r}")


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span; ``text`` keeps the engine's leading space."""

    start: float
    end: float
    text: str
    probability: float | None = None

    def __post_init__(self) -> None:
        _check_span("Word", self.start, self.end)
        _check_probability("Word probability", self.probability)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of this word (see docs/transcript-json.md)."""
        return {"start": self.start, "end": self.end, "text": self.text,
                "probability": self.probability}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word:
        """Build a word from its JSON form."""
        return cls(start=float(data["start"]), end=float(data["end"]), text=str(data["text"]),
                   probability=_opt_float(data.get("probability")))


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech: text, optional words, optional speaker id."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None

    def __post_init__(self) -> None:
        _check_span("Segment", self.start, self.end)
        _check_probability("Segment no_speech_prob", self.no_speech_prob)
        if self.avg_logprob is not None and not math.isfinite(self.avg_logprob):
            raise ValueError(f"Segment avg_logprob must be finite, got {self.avg_logprob!r}")
        if not isinstance(self.words, tuple):
            object.__setattr__(self, "words", tuple(self.words))

    @property
    def duration(self) -> float:
        """Length of the segment in seconds."""
        return self.end - self.start

    def shifted(self, offset: float) -> Segment:
        """Return this segment (and its words) moved by ``offset`` seconds."""
        words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in self.words)
        return replace(self, start=self.start + offset, end=self.end + offset, words=words)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of this segment."""
        return {"start": self.start, "end": self.end, "text": self.text,
                "speaker": self.speaker, "avg_logprob": self.avg_logprob,
                "no_speech_prob": self.no_speech_prob,
                "words": [w.to_dict() for w in self.words]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        """Build a segment from its JSON form."""
        return cls(start=float(data["start"]), end=float(data["end"]), text=str(data["text"]),
                   words=tuple(Word.from_dict(w) for w in data.get("words") or ()),
                   speaker=data.get("speaker"),
                   avg_logprob=_opt_float(data.get("avg_logprob")),
                   no_speech_prob=_opt_float(data.get("no_speech_prob")))


@dataclass(frozen=True)
class Speaker:
    """A speaker known to a transcript: a stable ``id`` and a user-editable display ``name``."""

    id: str
    name: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("Speaker id must not be empty")

    @property
    def label(self) -> str:
        """The name to show: the user's name for the speaker, else its id."""
        return self.name or self.id

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of this speaker."""
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class Transcript:
    """A whole transcript: segments in time order plus the speakers they refer to."""

    segments: tuple[Segment, ...] = ()
    speakers: tuple[Speaker, ...] = ()
    language: str | None = None
    duration: float | None = None
    source: str | None = None
    model: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.segments, tuple):
            object.__setattr__(self, "segments", tuple(self.segments))
        if not isinstance(self.speakers, tuple):
            object.__setattr__(self, "speakers", tuple(self.speakers))
        ids = [s.id for s in self.speakers]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate speaker ids in {ids}")
        known = set(ids)
        for seg in self.segments:
            if seg.speaker is not None and seg.speaker not in known:
                raise ValueError(f"segment at {seg.start:.2f}s names unknown speaker "
                                 f"{seg.speaker!r}; known: {sorted(known)}")

    @property
    def text(self) -> str:
        """All segment texts joined with single spaces."""
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def words(self) -> tuple[Word, ...]:
        """All words of all segments in order."""
        return tuple(w for s in self.segments for w in s.words)

    def speaker_label(self, speaker_id: str | None) -> str | None:
        """Display name for a speaker id (None stays None)."""
        if speaker_id is None:
            return None
        for spk in self.speakers:
            if spk.id == speaker_id:
                return spk.label
        return speaker_id

    def rename_speaker(self, speaker_id: str, name: str) -> Transcript:
        """Return a transcript where ``speaker_id`` is shown as ``name`` everywhere."""
        if speaker_id not in {s.id for s in self.speakers}:
            raise KeyError(f"no speaker {speaker_id!r} in this transcript")
        speakers = tuple(replace(s, name=name) if s.id == speaker_id else s
                         for s in self.speakers)
        return replace(self, speakers=speakers)

    def to_dict(self) -> dict[str, Any]:
        """Return the versioned JSON form (schema in docs/transcript-json.md)."""
        return {"version": SCHEMA_VERSION, "language": self.language, "duration": self.duration,
                "source": self.source, "model": self.model, "metadata": dict(self.metadata),
                "speakers": [s.to_dict() for s in self.speakers],
                "segments": [s.to_dict() for s in self.segments]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """Build a transcript from its JSON form, refusing versions newer than this code."""
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("transcript JSON has no integer 'version' field")
        if version > SCHEMA_VERSION:
            raise ValueError(f"transcript JSON version {version} is newer than this app "
                             f"understands ({SCHEMA_VERSION}); please update desktop-asr")
        return cls(segments=tuple(Segment.from_dict(s) for s in data.get("segments") or ()),
                   speakers=tuple(Speaker(id=str(s["id"]), name=str(s.get("name") or ""))
                                  for s in data.get("speakers") or ()),
                   language=data.get("language"), duration=_opt_float(data.get("duration")),
                   source=data.get("source"), model=data.get("model"),
                   metadata=dict(data.get("metadata") or {}))

    @classmethod
    def from_segments(cls, segments: Iterable[Segment], **kwargs: Any) -> Transcript:
        """Build a transcript whose speaker list is derived from the segments' speaker ids."""
        segs = tuple(sorted(segments, key=lambda s: (s.start, s.end)))
        seen: dict[str, None] = {}
        for s in segs:
            if s.speaker is not None:
                seen.setdefault(s.speaker, None)
        return cls(segments=segs, speakers=tuple(Speaker(id=i) for i in seen), **kwargs)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
