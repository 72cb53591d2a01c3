"""LiveSession: a pipeline plus its session folder, autosave journal, recording and outputs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop_asr import paths
from desktop_asr.capture.base import AudioChunk, AudioSource
from desktop_asr.engines import Engine
from desktop_asr.errors import DesktopAsrError
from desktop_asr.export import write_export
from desktop_asr.streaming.events import PipelineError, PipelineStatus, TranscriptUpdate
from desktop_asr.streaming.journal import Journal
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
    """Runs a live pipeline and keeps everything it produces safe on disk."""

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

    def _on_update(self, update: TranscriptUpdate) -> None:
        self.journal.append(update)
        if self._user_update is not None:
            self._user_update(update)

    def _on_audio(self, chunk: AudioChunk) -> None:
        if self.recorder is not None:
            self.recorder.write(chunk)

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
        """Write the transcript (session folder, plus ``out_dir`` exports) and close the journal."""
        if self.recorder is not None:
            self.recorder.close()
        transcript = self.transcript()
        written = [write_export(transcript, self.folder / "transcript.json", "json")]
        errors = []
        for fmt in formats:
            target = (out_dir or self.folder) / f"{self.folder.name}.{fmt}"
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                written.append(write_export(transcript, target, fmt))
            except (DesktopAsrError, OSError) as exc:
                errors.append(str(exc))
        self.journal.close(transcript_file="transcript.json")
        if errors:
            raise DesktopAsrError("; ".join(errors))
        return written
