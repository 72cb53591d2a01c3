"""The worker that owns the speech engine and runs batch jobs inside its own QThread."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop_asr.audio import probe_audio
from desktop_asr.batch import FileResult, transcribe_files
from desktop_asr.diarization import check_backend
from desktop_asr.engines import (Cancelled, Engine, EngineConfig, create_engine,
                                 unsupported_options)
from desktop_asr.errors import DesktopAsrError
from desktop_asr.models import ModelManager
from desktop_asr.ui.events import (
    EngineLoading,
    EngineReady,
    FileProgress,
    FileStarted,
    JobFinished,
    JobStarted,
    ModelDownload,
    TranscriptionJob,
)

log = logging.getLogger(__name__)


def _duration(path: Path) -> float:
    try:
        return float(probe_audio(path).duration or 0.0)
    except (DesktopAsrError, ValueError, OSError):
        return 0.0  # the real decode reports the error for this file


class TranscribeWorker(QObject):
    """Loads one engine lazily and keeps it until the model or device changes.

    Lives in a worker thread: every slot runs there, every signal crosses to the UI thread
    as a queued call carrying one frozen dataclass (or the core's FileResult).
    """

    engineLoading = Signal(object)
    modelDownload = Signal(object)
    engineReady = Signal(object)
    jobStarted = Signal(object)
    fileStarted = Signal(object)
    fileProgress = Signal(object)
    fileDone = Signal(object)
    jobFinished = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._engine: Engine | None = None
        self._engine_key: tuple[str, EngineConfig] | None = None
        self.loads = 0  # how many times a model was loaded; lets tests prove reuse

    @Slot(object)
    def run_job(self, job: TranscriptionJob) -> None:
        """Transcribe the job's files; always ends with exactly one jobFinished."""
        started = time.perf_counter()
        results: list[FileResult] = []
        error: str | None = None
        try:
            if job.diarization is not None:
                check_backend()  # a missing extra is one clear error, before any work
            engine = self._ensure_engine(job)
            problem = unsupported_options(job.engine_name, engine.capabilities, job.options)
            if problem:
                raise DesktopAsrError(problem)
            if not job.cancel.is_set():
                self.jobStarted.emit(JobStarted(job.files,
                                                tuple(_duration(p) for p in job.files)))
                results = transcribe_files(
                    engine, job.files, out_dir=None, formats=(), options=job.options,
                    on_start=lambda p, s: self.fileStarted.emit(FileStarted(p, s)),
                    on_progress=lambda p, d, t: self.fileProgress.emit(FileProgress(p, d, t)),
                    on_done=self.fileDone.emit, cancel=job.cancel,
                    diarization=job.diarization)
        except Cancelled:
            pass
        except DesktopAsrError as exc:
            error = str(exc)
        except Exception as exc:  # the thread must survive anything a backend throws
            log.exception("transcription job failed")
            error = f"unexpected error: {type(exc).__name__}: {exc}"
        self.jobFinished.emit(JobFinished(tuple(results), job.cancel.is_set(), error,
                                          time.perf_counter() - started))

    def _ensure_engine(self, job: TranscriptionJob) -> Engine:
        key = (job.engine_name, job.config)
        if self._engine is not None and self._engine_key == key:
            return self._engine
        # Free the old model first: two large models at once may not fit in memory.
        self._engine, self._engine_key = None, None
        config = job.config
        self.engineLoading.emit(EngineLoading(config.model, config.device))

        def on_download(name: str, done: int, total: int | None) -> None:
            if job.cancel.is_set():
                raise Cancelled("model download cancelled")  # the .part file resumes later
            self.modelDownload.emit(ModelDownload(config.model, name, done, total))

        t0 = time.perf_counter()
        # fetches a Whisper model the engine needs; other engines load their own checkpoints
        ModelManager().model_for_engine(job.engine_name, config.model, download=True,
                                        progress=on_download)
        engine = create_engine(job.engine_name, config)
        self.loads += 1
        self._engine, self._engine_key = engine, key
        self.engineReady.emit(EngineReady(engine.info, engine.capabilities.languages,
                                          time.perf_counter() - t0))
        return engine

    def release(self) -> None:
        """Drop the loaded engine (called once the thread has stopped)."""
        self._engine, self._engine_key = None, None
