"""Options and results of speaker diarization: frozen, validated dataclasses."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

BACKENDS = ("auto", "embedded", "pyannote")


@dataclass(frozen=True)
class DiarizationOptions:
    """How a recording is cut, embedded, clustered and smoothed.

    The defaults were measured with ``benchmarks/diarization.py`` on the shared real clips
    (see docs/benchmarks.md); change them with ``dataclasses.replace``.
    """

    # Speaker count: exactly ``num_speakers`` when given, else estimated (below) within
    # [min_speakers, max_speakers].
    num_speakers: int | None = None
    min_speakers: int = 1
    max_speakers: int | None = None
    # Offline (files and the finalise pass): GE2E windows as (length, hop) in seconds, each
    # length laid over every speech region. The first, shortest windows are the ones labelled
    # (0.5 s every 0.1 s: a speaker change is placed to within about 0.1 s); each is clustered
    # together with the longer windows centred nearest to it. With 1.0-s windows alone the
    # result depended on where the windows fell: starting them 0.1-0.4 s later moved DER on
    # pyannote_dev00 from 10.6 % to as much as 40 %, one speaker's long monologue taken for a
    # speaker of its own; with these four lengths it stays within 9.8-10.3 %, and
    # pyannote_sample within 13.2-14.8 % (was 13.3-18.9 %; docs/benchmarks.md). Cost: about
    # 25 s of audio through the encoder per second of speech (RTF ~0.04 on 2 cores).
    scales: tuple[tuple[float, float], ...] = ((0.5, 0.1), (1.0, 0.25), (1.5, 0.25),
                                               (2.0, 0.25))
    # Live re-clustering: average-linkage cosine distance (after per-recording centring) at
    # which clusters stop merging.
    threshold: float = 1.1
    # Offline: k speakers need every pair of their k-means clusters (multi-scale windows) at
    # least this average-linkage centred cosine distance apart. Measured over window shifts of
    # 0-0.4 s: 1.14-1.18 for the two speakers of each shared two-speaker clip, 0.99-1.07 when
    # either clip is cut into three clusters, 1.10-1.14 for three real voices strung together
    # (a LibriVox reader, a CMU ARCTIC speaker, JFK): the middle of the gap.
    speaker_distance: float = 1.085
    # Offline: ... and every pair this far apart in the windows' raw (uncentred) embeddings:
    # the cosine distance between the clusters' means over their windows' mean distance from
    # their own cluster's mean (shortest windows). One voice split in two measured 0.12-0.28
    # (OSR_us_000_0034_8k; five LibriVox clips of one reader strung together), two voices
    # 0.45-1.57. The centred distance cannot tell these apart (1.07-1.11 against 1.14-1.18):
    # centring pushes any two halves of one voice apart.
    min_separation: float = 0.35
    # Without a known count, a speaker needs this share of the windows.
    min_speaker_share: float = 0.1
    # Speech (seconds) a voice needs before it counts as a speaker of its own when the count is
    # estimated: GE2E windows of one voice spread so widely that a 5-10 s monologue otherwise
    # splits into 2-3 "speakers" (jfk.wav, leopard_test.wav; offline, jfk.wav's two halves
    # pass both distance tests and are held back by this alone: 3.8 s). Live, counted in hops of
    # ``hop``; offline, as the speech its windows cover (a region's length shared by its
    # windows).
    min_speaker_speech: float = 4.0
    # Live labels (and enrolled voices): embedding windows' length and hop in seconds; regions
    # shorter than ``min_window`` are labelled from their neighbours instead of embedded (both
    # live and offline).
    window: float = 1.0
    hop: float = 0.5
    min_window: float = 0.4
    # Offline: start each region's windows this many seconds later where the region is long
    # enough, leaving the regions as they are. Only for measuring how much the result depends
    # on where the windows fall (benchmarks/diarization.py --shifts); 0 in use.
    window_offset: float = 0.0
    # Centre embeddings on the recording's mean before clustering (GE2E embeddings are all
    # positive, so raw cosine similarities crowd together near 1).
    normalize: bool = True
    # Speaker turns shorter than this are merged into their neighbours.
    min_turn: float = 0.5
    # Pauses up to this long between two turns of one speaker become part of the turn.
    max_gap: float = 3.0
    # Speech regions from the Silero VAD.
    vad_threshold: float = 0.35
    min_speech: float = 0.2
    min_silence: float = 0.25
    pad: float = 0.2
    # Who diarizes: "embedded" (the resemblyzer GE2E pipeline above), "pyannote" (a
    # pyannote.audio pipeline: ``pyannote_model`` is a local folder or a hub id, ``hf_token``
    # unlocks gated hub models) or "auto" (what the app's settings say; embedded by default).
    backend: str = "auto"
    pyannote_model: str | None = None
    hf_token: str | None = field(default=None, repr=False, compare=False)
    # Name speakers whose voice matches an enrolled voice profile (desktop-asr speakers enroll).
    name_from_profiles: bool = True

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"diarization backend must be one of {', '.join(BACKENDS)}, "
                             f"got {self.backend!r}")
        if self.num_speakers is not None and self.num_speakers < 1:
            raise ValueError(f"num_speakers must be >= 1, got {self.num_speakers}")
        if self.min_speakers < 1:
            raise ValueError(f"min_speakers must be >= 1, got {self.min_speakers}")
        if self.max_speakers is not None and self.max_speakers < self.min_speakers:
            raise ValueError(f"max_speakers ({self.max_speakers}) is below min_speakers "
                             f"({self.min_speakers})")
        if self.num_speakers is not None and (
                self.num_speakers < self.min_speakers
                or (self.max_speakers is not None and self.num_speakers > self.max_speakers)):
            raise ValueError("num_speakers lies outside [min_speakers, max_speakers]")
        if not (math.isfinite(self.threshold) and 0.0 < self.threshold < 2.0):
            raise ValueError(f"threshold is a cosine distance within (0, 2), got {self.threshold}")
        if self.min_speaker_speech < 0:
            raise ValueError("min_speaker_speech must be >= 0")
        if not 0.0 <= self.min_speaker_share < 0.5:
            raise ValueError("min_speaker_share must be within [0, 0.5)")
        if not 0.0 < self.hop <= self.window:
            raise ValueError("hop must be > 0 and not longer than window")
        if not 0.0 < self.min_window <= self.window:
            raise ValueError("min_window must be > 0 and not longer than window")
        if self.window > 10.0:
            raise ValueError("window must be at most 10 seconds")
        if not self.scales:
            raise ValueError("scales needs at least one (window, hop) pair")
        for pair in self.scales:
            if len(pair) != 2 or not (0.0 < pair[1] <= pair[0] <= 10.0):
                raise ValueError(f"each of scales is (window, hop) with 0 < hop <= window <= 10 "
                                 f"seconds, got {pair!r}")
        if not (math.isfinite(self.speaker_distance) and 0.0 < self.speaker_distance < 2.0):
            raise ValueError(f"speaker_distance is a cosine distance within (0, 2), got "
                             f"{self.speaker_distance}")
        if not (math.isfinite(self.min_separation) and self.min_separation >= 0):
            raise ValueError("min_separation must be >= 0")
        if not (math.isfinite(self.window_offset) and 0.0 <= self.window_offset <= 10.0):
            raise ValueError("window_offset must be within [0, 10] seconds")
        if not 0.0 < self.vad_threshold < 1.0:
            raise ValueError("vad_threshold must be within (0, 1)")
        for name in ("min_turn", "max_gap", "min_speech", "min_silence", "pad"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


@dataclass(frozen=True)
class SpeechRegion:
    """A stretch of speech found by the voice detector, in seconds."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if not (0.0 <= self.start <= self.end):
            raise ValueError(f"bad speech region {self.start}..{self.end}")

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class SpeakerTurn:
    """One speaker talking from ``start`` to ``end`` (seconds)."""

    start: float
    end: float
    speaker: str

    def __post_init__(self) -> None:
        if not (0.0 <= self.start <= self.end):
            raise ValueError(f"bad speaker turn {self.start}..{self.end}")
        if not self.speaker:
            raise ValueError("speaker turn needs a speaker id")

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class DiarizationResult:
    """Who spoke when: turns in time order and the speaker ids they use (in order of first turn).

    ``voices`` holds each speaker's mean GE2E embedding (unit length) where it was computed, for
    matching enrolled voice profiles; ``names`` the names those matches gave; ``backend`` says
    which diarizer produced the turns.
    """

    turns: tuple[SpeakerTurn, ...]
    speakers: tuple[str, ...]
    duration: float
    regions: tuple[SpeechRegion, ...] = ()
    voices: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    names: dict[str, str] = field(default_factory=dict, compare=False)
    backend: str = "embedded"

    def to_rttm(self, file_id: str) -> str:
        """The turns as RTTM ``SPEAKER`` lines."""
        return "".join(f"SPEAKER {file_id} 1 {t.start:.3f} {t.duration:.3f} <NA> <NA> "
                       f"{t.speaker} <NA> <NA>\n" for t in self.turns if t.duration > 0)
