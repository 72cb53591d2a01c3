"""LiveSession: a pipeline plus its session folder, autosave journal, recording and outputs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop_asr import paths
from desktop_asr.capture.base import AudioChunk, AudioSource
from desktop_asr.engines import Engine
from desktop_asr.errors import DesktopAsrError
from desktop_asr.export import write_export
from desktop_asr.streaming.events import PipelineError, PipelineStatus, TranscriptUpdate
from desktop_asr.streaming.journal import TRANSCRIPT_NAME, Journal
from desktop_asr.streaming.pipeline import LiveOptions, LivePipeline
from desktop_asr.streaming.recorder import FlacRecorder
from desktop_asr.types import Transcript

log = logging.getLogger(__name__)


def new_session_folder(root: Path | None = None) -> Path:
    """A fresh, time-stamped folder for one session under the sessions folder."""
    root = root or paths.sessions_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = root / stamp, 1
    while folder.exists():
        n += 1
        folder = root / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


class LiveSession:
    """Runs a live pipeline and keeps everything it produces safe on disk.

    When the journal or the recording cannot be written (a full disk, an I/O error) the
    captions still reach ``on_update`` and the transcript in memory keeps every word; the
    failure goes to ``on_error`` once, as a non-fatal :class:`PipelineError` naming the cause
    and the file, and is kept in ``save_errors``. The journal tries its waiting lines again on
    each later write and is whole again once the disk has room (nothing is said then; a new
    failure after that is reported again); the recording stops for good at its first failure
    (see :class:`FlacRecorder`). :meth:`finish` still writes every file it can and names the
    ones it could not, so the transcript can be exported elsewhere.
    """

    def __init__(self, source: AudioSource, engine: Engine, options: LiveOptions | None = None,
                 *, record: bool = False, folder: Path | None = None,
                 on_update: Callable[[TranscriptUpdate], None] | None = None,
                 on_status: Callable[[PipelineStatus], None] | None = None,
                 on_error: Callable[[PipelineError], None] | None = None,
                 journal_interval: float = 2.0) -> None:
        self.folder = folder or new_session_folder()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._user_update = on_update
        self.journal = Journal(self.folder, channel_labels=tuple(source.channel_labels),
                               model=engine.info.model, source=getattr(source, "label", None),
                               flush_interval=journal_interval)
        self.recorder = (FlacRecorder(self.folder / "recording.flac",
                                      min(2, len(source.channel_labels))) if record else None)
        self.pipeline = LivePipeline(source, engine, options, on_update=self._on_update,
                                     on_status=on_status, on_error=on_error,
                                     on_audio=self._on_audio if record else None)
        self.save_errors: list[PipelineError] = []   # what could not be saved, as reported
        self.saved: list[Path] = []                   # what finish() wrote
        self._failing: set[Path] = set()              # files failing since their report
        self._failing_lock = threading.Lock()

    def _on_update(self, update: TranscriptUpdate) -> None:
        failure: OSError | None = None
        try:
            self.journal.append(update)
        except OSError as exc:  # the words stay in memory, and in the journal's waiting lines
            failure = exc
        if self.journal.error is None:
            self._saving_again(self.journal.path)
        try:
            if self._user_update is not None:
                self._user_update(update)  # the captions never wait for the disk
        finally:
            if failure is not None:
                self._cannot_save(self.journal.path, failure, "are not being saved")

    def _on_audio(self, chunk: AudioChunk) -> None:
        recorder = self.recorder
        if recorder is None or recorder.error is not None:
            return
        try:
            recorder.write(chunk)
        except OSError as exc:
            self._cannot_save(recorder.path, exc, "the audio is no longer recorded")

    def _cannot_save(self, path: Path, exc: OSError, consequence: str) -> None:
        """Report that ``path`` cannot be written: once, until it can be again."""
        with self._failing_lock:
            if path in self._failing:
                return
            self._failing.add(path)
        error = PipelineError(
            f"Cannot save the session: {_reason(exc)} ({path}). Captions continue but "
            f"{consequence}; free space or stop and export.", fatal=False)
        self.save_errors.append(error)
        log.info("%s", error.message)  # on_error tells the user
        self.pipeline.report_error(error)

    def _saving_again(self, path: Path) -> None:
        with self._failing_lock:
            if path not in self._failing:
                return
            self._failing.discard(path)
        log.info("%s can be written again: nothing is missing from it", path)

    @property
    def journal_complete(self) -> bool:
        """Whether the journal holds every committed word (nothing waits to be written)."""
        return self.journal.waiting == 0

    def start(self) -> None:
        """Start capture and captions; when that fails the empty session folder is removed."""
        try:
            self.pipeline.start()
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Close the journal and recording and delete the folder: for a session that never ran."""
        if self.recorder is not None:
            try:
                self.recorder.close()
            except (OSError, ValueError) as exc:
                log.debug("closing the recording of a discarded session: %s", exc)
        self.journal.release()
        for path in (self.journal.path, self.folder / "recording.flac"):
            path.unlink(missing_ok=True)
        try:
            self.folder.rmdir()  # only when nothing else was put there
        except OSError:
            pass
        log.info("discarded session %s", self.folder)

    def stop(self) -> None:
        """Stop capture and commit the last words (blocks until done)."""
        self.pipeline.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the source to end by itself (files); True when it has."""
        return self.pipeline.wait(timeout)

    def transcript(self) -> Transcript:
        """The committed transcript so far."""
        return self.pipeline.transcript.transcript(duration=self.pipeline.audio_seconds or None)

    def finish(self, formats: Sequence[str] = ("json",), out_dir: Path | None = None
               ) -> list[Path]:
        """Write the transcript (session folder, plus ``out_dir`` exports) and close the journal.

        Every file is tried even when another one fails (a full session disk must not keep the
        exports from ``out_dir``); ``saved`` lists those written. Raises DesktopAsrError naming
        each failure. Without ``transcript.json`` the journal is left open-ended, so the session
        is offered for recovery; the transcript in memory (:meth:`transcript`) stays whole.
        """
        errors = []
        if self.recorder is not None:
            try:
                self.recorder.close()
            except OSError as exc:
                errors.append(f"cannot finish the recording {self.recorder.path}: "
                              f"{_reason(exc)}")
        transcript = self.transcript()
        self.saved = []
        targets = [(self.folder / TRANSCRIPT_NAME, "json")]
        targets += [((out_dir or self.folder) / f"{self.folder.name}.{fmt}", fmt)
                    for fmt in formats]
        for target, fmt in targets:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                self.saved.append(write_export(transcript, target, fmt))
            except (DesktopAsrError, OSError) as exc:
                errors.append(str(exc))
        try:
            if self.saved and self.saved[0].name == TRANSCRIPT_NAME:
                self.journal.close(transcript_file=TRANSCRIPT_NAME)
            else:
                self.journal.sync()  # the journal is what recovery will read: make it whole
        except OSError as exc:
            errors.append(f"cannot complete the journal {self.journal.path}: {_reason(exc)}"
                          f" ({self.journal.waiting} line(s) missing from it)")
        finally:
            self.journal.release()
        if errors:
            raise DesktopAsrError("; ".join(errors))
        return list(self.saved)


def _reason(exc: OSError) -> str:
    """``No space left on device`` rather than ``[Errno 28] No space left on device: 'x'``."""
    return exc.strerror or str(exc) or type(exc).__name__
