"""Values the live pipeline emits: caption updates, status, errors (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop_asr.types import Segment


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


@dataclass(frozen=True)
class PipelineError:
    """Something went wrong; ``fatal`` when capture stopped (the transcript so far is kept)."""

    message: str
    fatal: bool
