"""What an evaluation asks for and what it found: frozen values shared by the CLI, app, reports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from desktop_asr.diarization import SpeakerTurn
from desktop_asr.engines import DEFAULT_ENGINE, EngineInfo
from desktop_asr.evaluation.alignment import AlignedWord
from desktop_asr.evaluation.der import DerScore
from desktop_asr.evaluation.manifest import Manifest, ManifestEntry, ManifestProblem
from desktop_asr.evaluation.memory import MemoryUse
from desktop_asr.evaluation.scores import ErrorCounts
from desktop_asr.types import Word

DEFAULT_BINS = (2.0, 5.0, 10.0, 20.0)


@dataclass(frozen=True)
class ModelSpec:
    """One engine/model pair to evaluate; ``label`` names its column in the report."""

    engine: str
    model: str
    label: str = ""

    def __post_init__(self) -> None:
        if not self.engine or not self.model:
            raise ValueError("a model spec needs an engine and a model")
        if not self.label:
            name = self.model.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1] or self.model
            object.__setattr__(self, "label", name if self.engine == DEFAULT_ENGINE
                               else f"{self.engine}:{name}")


def parse_model_spec(text: str, engines: Sequence[str], default_engine: str) -> ModelSpec:
    """``[ENGINE:]NAME|PATH`` as a ModelSpec; the prefix counts only if it names an engine."""
    text = text.strip()
    if not text:
        raise ValueError("a model must be a name or a folder, got an empty string")
    head, sep, rest = text.partition(":")
    if sep and head in engines:
        if not rest.strip():
            raise ValueError(f"{text!r} names the engine {head} but no model")
        return ModelSpec(engine=head, model=rest.strip())
    if default_engine not in engines:
        raise ValueError(f"unknown engine {default_engine!r}; choose one of {', '.join(engines)}")
    return ModelSpec(engine=default_engine, model=text)


def unique_labels(specs: Sequence[ModelSpec]) -> tuple[ModelSpec, ...]:
    """The specs with labels made unique (``tiny.en``, ``tiny.en #2``...)."""
    seen: dict[str, int] = {}
    out = []
    for spec in specs:
        n = seen.get(spec.label, 0) + 1
        seen[spec.label] = n
        out.append(spec if n == 1 else ModelSpec(spec.engine, spec.model, f"{spec.label} #{n}"))
    return tuple(out)


@dataclass(frozen=True)
class EvaluationOptions:
    """How to decode and score; validated, change with ``dataclasses.replace``."""

    raw: bool = False                 # score the text as written, without normalisation
    device: str = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0
    beam_size: int = 5
    vad_filter: bool = True
    word_timestamps: bool = True      # word boundaries for the plots (engines that have them)
    der: bool = True                  # diarize clips that have an RTTM and score DER
    oracle_speakers: bool = False     # give the diarizer the manifest's speaker count
    duration_bins: tuple[float, ...] = DEFAULT_BINS
    worst: int = 5                    # worst files listed per model
    plots: int = 3                    # worst files plotted per model

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise ValueError("beam_size must be >= 1")
        if self.cpu_threads < 0:
            raise ValueError("cpu_threads must be >= 0")
        if self.worst < 0 or self.plots < 0:
            raise ValueError("worst and plots must be >= 0")
        bins = tuple(float(b) for b in self.duration_bins)
        if any(not math.isfinite(b) or b <= 0 for b in bins) or list(bins) != sorted(set(bins)):
            raise ValueError(f"duration bins must be increasing positive seconds, got {bins}")
        object.__setattr__(self, "duration_bins", bins)


@dataclass(frozen=True)
class ClipResult:
    """One clip decoded by one model: its hypothesis and scores, or why it was not scored."""

    entry: ManifestEntry
    duration: float = 0.0
    language: str | None = None
    hypothesis: str = ""
    ref_norm: str = ""
    hyp_norm: str = ""
    counts: ErrorCounts | None = None
    alignment: tuple[AlignedWord, ...] = ()
    words: tuple[Word, ...] = ()
    elapsed: float = 0.0
    skipped: str | None = None
    error: str | None = None

    @property
    def scored(self) -> bool:
        """True when the clip has error counts."""
        return self.counts is not None

    @property
    def rtf(self) -> float | None:
        """Decoding seconds per second of audio."""
        return self.elapsed / self.duration if self.duration > 0 and self.scored else None


@dataclass(frozen=True)
class ModelResult:
    """Every clip of the manifest decoded by one model, with load time and peak memory."""

    spec: ModelSpec
    clips: tuple[ClipResult, ...] = ()
    info: EngineInfo | None = None
    languages: tuple[str, ...] = ()
    load_seconds: float = 0.0
    memory: MemoryUse | None = None
    error: str | None = None

    @property
    def scored(self) -> tuple[ClipResult, ...]:
        """The clips that have scores."""
        return tuple(c for c in self.clips if c.scored)

    @property
    def total(self) -> ErrorCounts | None:
        """Counts summed over every scored clip (None when nothing was scored)."""
        scored = self.scored
        if not scored:
            return None
        total = scored[0].counts
        for clip in scored[1:]:
            total = total + clip.counts  # type: ignore[operator]
        return total

    @property
    def audio_seconds(self) -> float:
        """Audio decoded for the scored clips."""
        return sum(c.duration for c in self.scored)

    @property
    def rtf(self) -> float | None:
        """Real-time factor over the scored clips: decoding time / audio time."""
        audio = self.audio_seconds
        return sum(c.elapsed for c in self.scored) / audio if audio > 0 else None


@dataclass(frozen=True)
class DiarizationClip:
    """DER of one clip with an RTTM, or why it could not be scored."""

    entry: ManifestEntry
    score: DerScore | None = None
    error: str | None = None
    duration: float = 0.0
    elapsed: float = 0.0
    turns: tuple[SpeakerTurn, ...] = ()   # what the diarizer found


@dataclass(frozen=True)
class EvaluationProgress:
    """Progress of an evaluation: ``done`` of ``total`` steps (a clip per model, a DER clip)."""

    stage: str                        # "load" | "clip" | "der" | "report"
    done: int
    total: int
    model: str = ""
    clip: str = ""

    @property
    def fraction(self) -> float:
        """Done as a fraction of the whole run."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


@dataclass(frozen=True)
class EvaluationResult:
    """Everything one evaluation found, ready for the tables and the reports."""

    manifest: Manifest
    options: EvaluationOptions
    models: tuple[ModelResult, ...]
    diarization: tuple[DiarizationClip, ...] = ()
    problems: tuple[ManifestProblem, ...] = ()
    cancelled: bool = False
    started: str = ""
    elapsed: float = 0.0
    machine: str = ""
    versions: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def failed(self) -> bool:
        """True when a manifest line, a clip or a model could not be evaluated."""
        return bool(self.problems) or any(m.error for m in self.models) or any(
            c.error for m in self.models for c in m.clips) or any(
            d.error for d in self.diarization)
