"""Values the live pipeline emits: caption updates, status, errors (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop_asr.types import Segment, Transcript


@dataclass(frozen=True)
class TranscriptUpdate:
    """A caption change on one channel.

    ``kind`` is ``"final"`` for newly committed words (they never change again) or
    ``"partial"`` for the tentative tail after them, which replaces the previous partial of the
    same channel (empty text clears it). ``emitted`` is seconds since the stream's first sample
    was captured, by the wall clock.
    """

    kind: str
    channel: str
    utterance: int
    segment: Segment
    emitted: float
    speaker: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("partial", "final"):
            raise ValueError(f"kind must be 'partial' or 'final', got {self.kind!r}")

    def to_json(self) -> dict[str, Any]:
        """The ``--jsonl`` form of this update."""
        return {"type": self.kind, "text": self.segment.text.strip(), "start": self.segment.start,
                "end": self.segment.end, "emitted": round(self.emitted, 3),
                "channel": self.channel, "utterance": self.utterance, "speaker": self.speaker,
                "words": [w.to_dict() for w in self.segment.words]}


@dataclass(frozen=True)
class SpeakerUpdate:
    """The speaker of a committed stretch of speech: the final update of ``channel`` /
    ``utterance`` whose segment starts at ``start``.

    Live speaker labels come shortly after the words (the voice needs a moment of audio), once
    per final update, and never change afterwards except through :class:`SpeakersSettled`.
    ``speaker`` is None when no voice could be told (e.g. too little speech).
    """

    channel: str
    utterance: int
    start: float
    speaker: str | None
    emitted: float
    kind: str = "speaker"

    def to_json(self) -> dict[str, Any]:
        """The ``--jsonl`` form."""
        return {"type": self.kind, "channel": self.channel, "utterance": self.utterance,
                "start": self.start, "speaker": self.speaker, "emitted": round(self.emitted, 3)}


@dataclass(frozen=True)
class SpeakerNamed:
    """Speaker ``speaker`` is shown as ``name`` from now on (``source``: "voice" when an
    enrolled voice matched, "user" when renamed)."""

    speaker: str
    name: str
    source: str
    emitted: float
    kind: str = "speaker_name"

    def to_json(self) -> dict[str, Any]:
        """The ``--jsonl`` form."""
        return {"type": self.kind, "speaker": self.speaker, "name": self.name,
                "source": self.source, "emitted": round(self.emitted, 3)}


@dataclass(frozen=True)
class SpeakersSettled:
    """The finalise pass re-diarized the whole session: ``transcript`` holds every committed
    word with its final speaker (the text is unchanged; segments may split where the speaker
    changes). Live ids are kept where the final speakers match them."""

    transcript: Transcript
    emitted: float
    seconds: float
    backend: str
    echo_dropped: int = 0
    kind: str = "settled"

    def to_json(self) -> dict[str, Any]:
        """The ``--jsonl`` form: the final segments with their speakers."""
        return {"type": self.kind, "emitted": round(self.emitted, 3),
                "seconds": round(self.seconds, 3), "backend": self.backend,
                "echo_dropped": self.echo_dropped,
                "speakers": [s.to_dict() for s in self.transcript.speakers],
                "segments": [{"start": s.start, "end": s.end, "text": s.text.strip(),
                              "speaker": s.speaker} for s in self.transcript.segments]}


# Everything a live session's ``on_update`` callback receives; caption text comes only in
# TranscriptUpdate, the others carry speakers.
LiveEvent = TranscriptUpdate | SpeakerUpdate | SpeakerNamed | SpeakersSettled


@dataclass(frozen=True)
class PipelineStatus:
    """Health of a live session, reported about once a second."""

    audio_seconds: float       # stream time captured so far
    lag: float                 # seconds between capture of the newest audio and now
    hop: float                 # current re-decode interval (grows when decoding falls behind)
    rtf: float                 # decode time / audio time over the last ~10 s
    overflows: int
    frames_dropped: int
    decodes: int
    tentative_skipped: int     # tentative updates skipped (vs. one per hop) to catch up

    def to_json(self) -> dict[str, Any]:
        """The ``--jsonl`` form (``lost``: seconds of audio dropped by overflows)."""
        return {"type": "status", "audio": round(self.audio_seconds, 3),
                "lag": round(self.lag, 3), "hop": round(self.hop, 3), "rtf": round(self.rtf, 3),
                "overflows": self.overflows, "lost": round(self.frames_dropped / 16000, 3),
                "tentative_skipped": self.tentative_skipped}


@dataclass(frozen=True)
class PipelineError:
    """Something went wrong; ``fatal`` when capture stopped (the transcript so far is kept)."""

    message: str
    fatal: bool
