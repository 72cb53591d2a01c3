"""Frozen values the transcription worker sends to the UI thread (one type per signal)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from desktop_asr.batch import FileResult
from desktop_asr.diarization import DiarizationOptions
from desktop_asr.engines import DEFAULT_ENGINE, DecodeOptions, EngineConfig, EngineInfo


@dataclass(frozen=True)
class TranscriptionJob:
    """Files to transcribe with one engine configuration; ``cancel`` stops it between segments."""

    files: tuple[Path, ...]
    config: EngineConfig
    options: DecodeOptions
    engine_name: str = DEFAULT_ENGINE
    diarization: DiarizationOptions | None = None  # label speakers when set
    cancel: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.files, tuple):
            object.__setattr__(self, "files", tuple(self.files))
        if not self.files:
            raise ValueError("a transcription job needs at least one file")


@dataclass(frozen=True)
class EngineLoading:
    """The worker started loading (or downloading) a model."""

    model: str
    device: str


@dataclass(frozen=True)
class ModelDownload:
    """Bytes of a model file downloaded so far (total None when the server does not say)."""

    model: str
    file: str
    done: int
    total: int | None


@dataclass(frozen=True)
class EngineReady:
    """A model is loaded; ``languages`` are the codes it can transcribe."""

    info: EngineInfo
    languages: tuple[str, ...]
    load_seconds: float


@dataclass(frozen=True)
class JobStarted:
    """Transcription of the job's files begins; durations are 0.0 where unknown."""

    files: tuple[Path, ...]
    durations: tuple[float, ...]


@dataclass(frozen=True)
class FileStarted:
    """One file was decoded and its transcription begins."""

    path: Path
    seconds: float


@dataclass(frozen=True)
class FileProgress:
    """Seconds of a file's audio transcribed so far."""

    path: Path
    done: float
    total: float

    @property
    def fraction(self) -> float:
        """Done as a fraction in [0, 1] (0 for empty audio)."""
        return min(1.0, max(0.0, self.done / self.total)) if self.total > 0 else 0.0


@dataclass(frozen=True)
class JobFinished:
    """The job ended: normally, cancelled, or with an error that stopped every file."""

    results: tuple[FileResult, ...]
    cancelled: bool
    error: str | None
    elapsed_seconds: float
