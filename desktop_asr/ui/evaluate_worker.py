"""Runs evaluations for the Evaluate page in a worker QThread and reports back in the UI thread."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop_asr.errors import DesktopAsrError
from desktop_asr.evaluation import (EvaluationOptions, EvaluationProgress, EvaluationResult,
                                    ModelSpec, ReportFiles, evaluate, read_manifest,
                                    write_report)
from desktop_asr.ui.thread_runner import ThreadRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationJob:
    """A manifest to evaluate with some models; the report goes to ``out_dir``."""

    manifest: Path
    specs: tuple[ModelSpec, ...]
    options: EvaluationOptions
    out_dir: Path
    cancel: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.specs, tuple):
            object.__setattr__(self, "specs", tuple(self.specs))
        if not self.specs:
            raise ValueError("choose at least one model to evaluate")


@dataclass(frozen=True)
class EvaluationDone:
    """How a job ended: the result and its written report, or the error that stopped it."""

    result: EvaluationResult | None
    files: ReportFiles | None
    html: str
    error: str | None
    elapsed: float

    @property
    def cancelled(self) -> bool:
        """True when the user stopped the run."""
        return self.result is not None and self.result.cancelled


class EvaluateWorker(QObject):
    """Lives in the worker thread: reads the manifest, evaluates, writes the report."""

    progress = Signal(object)
    finished = Signal(object)

    @Slot(object)
    def run_job(self, job: EvaluationJob) -> None:
        """Run one job; always ends with exactly one ``finished``."""
        started = time.perf_counter()
        result = files = None
        html, error = "", None
        try:
            manifest = read_manifest(job.manifest)
            if not manifest.entries:
                raise DesktopAsrError(f"nothing to evaluate in {job.manifest}: "
                                      + "; ".join(str(p) for p in manifest.problems[:3]))
            result = evaluate(manifest, job.specs, job.options, progress=self.progress.emit,
                              cancel=job.cancel)
            total = max(1, len(result.models) + 1)

            def on_figure(name: str) -> None:
                self.progress.emit(EvaluationProgress("report", total, total, clip=name))

            files = write_report(result, job.out_dir, on_figure=on_figure)
            html = files.html.read_text(encoding="utf-8")
        except OSError as exc:
            error = f"cannot read or write {getattr(exc, 'filename', '') or job.manifest}: " \
                    f"{exc.strerror or exc}"
        except (DesktopAsrError, ValueError) as exc:
            error = str(exc)
        except Exception as exc:  # the thread must survive anything a backend throws
            log.exception("evaluation failed")
            error = f"unexpected error: {type(exc).__name__}: {exc}"
        self.finished.emit(EvaluationDone(result, files, html, error,
                                          time.perf_counter() - started))


class EvaluationRunner(ThreadRunner):
    """Owns the evaluation worker thread; its signals arrive in the UI thread (queued)."""

    progress = Signal(object)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(EvaluateWorker(), thread_name="desktop-asr-evaluate",
                         what="evaluation", relay=("progress",), done="finished",
                         parent=parent)
