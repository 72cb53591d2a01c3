"""The live worker: loads the engine once and runs LiveSessions from its own QThread.

Pipeline callbacks arrive on the pipeline's own Python thread; the worker only re-emits them as
Qt signals carrying the core's frozen dataclasses, and the runner (in the UI thread) receives
them through queued connections, so no widget is ever touched from another thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop_asr.capture.base import AudioSource, CaptureError
from desktop_asr.capture.devices import open_source
from desktop_asr.diarization.live import LiveSpeakerOptions
from desktop_asr.diarization.pipeline import check_diarizer
from desktop_asr.engines import (DEFAULT_ENGINE, Engine, EngineConfig, create_engine,
                                 unsupported_options)
from desktop_asr.errors import DesktopAsrError
from desktop_asr.models import ModelManager
from desktop_asr.streaming import LiveOptions, LiveSession, StreamOptions, streaming_decode_options
from desktop_asr.streaming.live_session import new_session_folder
from desktop_asr.types import Transcript
from desktop_asr.ui.events import EngineLoading, EngineReady
from desktop_asr.ui.live_source import MeteredSource
from desktop_asr.vad.base import VadOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveRequest:
    """What to caption and how; ``source_factory`` overrides ``spec`` (tests, demos)."""

    spec: str
    config: EngineConfig
    language: str | None = None
    hotwords: tuple[str, ...] = ()
    record: bool = False
    speed: float = 1.0
    sessions_dir: Path | None = None
    vad: VadOptions = field(default_factory=VadOptions)
    engine_name: str = DEFAULT_ENGINE
    source_factory: Callable[[], AudioSource] | None = field(default=None, compare=False)
    # Live speaker labels (None: off); with mic + system the mic is ``user_name``.
    speakers: LiveSpeakerOptions | None = None
    user_name: str = "You"
    echo_suppression: bool = True


@dataclass(frozen=True)
class LiveStarted:
    """Capture runs: the session folder, what is captured and by which model."""

    folder: Path
    source_label: str
    channels: tuple[str, ...]
    record: bool
    diarized: tuple[str, ...] = ()          # channels whose speakers are labelled live
    names: dict[str, str] = field(default_factory=dict)   # speaker id -> name at the start


@dataclass(frozen=True)
class LiveFinished:
    """A session ended; ``transcript`` is None only when it never started."""

    folder: Path | None
    transcript: Transcript | None
    error: str | None
    saved: bool = False  # transcript.json was written
    journaled: bool = True  # the journal holds every word (False: only this transcript does)


class LiveWorker(QObject):
    """Lives in the live QThread; every slot runs there."""

    engineLoading = Signal(object)
    engineReady = Signal(object)
    started = Signal(object)
    update = Signal(object)
    status = Signal(object)
    pipelineError = Signal(object)
    levels = Signal(object)
    finished = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._engine: Engine | None = None
        self._engine_key: tuple[str, EngineConfig] | None = None
        self._session: LiveSession | None = None
        self._source: MeteredSource | None = None
        self._fatal: str | None = None
        self.cancel = threading.Event()
        self.loads = 0

    @Slot(object)
    def start_session(self, request: LiveRequest) -> None:
        """Load the engine if needed, open the source and start; always answers.

        ``cancel`` is cleared by the caller before the request is queued, so a Stop pressed
        while the request waits is not lost."""
        self._fatal = None
        try:
            engine = self._ensure_engine(request)
            if self.cancel.is_set():
                self.finished.emit(LiveFinished(None, None, None))
                return
            source = (request.source_factory() if request.source_factory is not None
                      else open_source(request.spec, speed=request.speed))
            self._source = MeteredSource(source, self.levels.emit)
            language = request.language
            if language is None and not engine.capabilities.multilingual:
                language = engine.capabilities.languages[0]
            decode = streaming_decode_options(language=language, hotwords=request.hotwords)
            problem = unsupported_options(request.engine_name, engine.capabilities, decode)
            if problem:
                raise DesktopAsrError(problem)
            if request.speakers is not None:
                check_diarizer(request.speakers.diarization)
            options = LiveOptions(stream=StreamOptions(decode=decode), vad=request.vad,
                                  status_interval=0.5, speakers=request.speakers,
                                  user_name=request.user_name,
                                  echo_suppression=request.echo_suppression)
            folder = new_session_folder(request.sessions_dir)
            session = LiveSession(self._source, engine, options, record=request.record,
                                  folder=folder, on_update=self.update.emit,
                                  on_status=self.status.emit, on_error=self._on_error)
            session.start()
        except (CaptureError, DesktopAsrError, ValueError, OSError) as exc:
            self._source = None
            self.finished.emit(LiveFinished(None, None, str(exc)))
            return
        except Exception as exc:  # the thread must survive anything a backend throws
            log.exception("live session failed to start")
            self._source = None
            self.finished.emit(LiveFinished(None, None, f"unexpected error: {exc}"))
            return
        self._session = session
        diarizer = session.pipeline.diarizer
        self.started.emit(LiveStarted(folder, source.label, self._source.channel_labels,
                                      request.record,
                                      diarizer.diarized if diarizer is not None else (),
                                      session.pipeline.transcript.names))

    @Slot()
    def stop_session(self) -> None:
        """Stop capture, caption what is queued, save transcript.json and report (blocks here)."""
        session = self._session
        if session is None:
            self.finished.emit(LiveFinished(None, None, None))  # the runner waits for an answer
            return
        try:
            session.stop()
        except Exception as exc:  # still save what was committed and answer
            log.exception("stopping the live session failed")
            self._fatal = self._fatal or f"capture did not stop cleanly: {exc}"
        self._end(session)

    def rename_speaker(self, speaker: str, name: str) -> bool:
        """Rename a speaker of the running session (safe from any thread); False if none."""
        session = self._session
        if session is None:
            return False
        session.pipeline.rename_speaker(speaker, name)
        return True

    def set_paused(self, paused: bool) -> None:
        """Mute or unmute the running session's input (safe from any thread)."""
        if self._source is not None:
            self._source.set_paused(paused)

    def _on_error(self, error: object) -> None:
        if getattr(error, "fatal", True):  # a warning (e.g. cannot save) was shown as it came
            self._fatal = getattr(error, "message", str(error))
        self.pipelineError.emit(error)

    def session_ended(self) -> bool:
        """True when a session's pipeline stopped by itself (file over, device gone)."""
        session = self._session
        return session is not None and not session.pipeline.running

    def _end(self, session: LiveSession) -> None:
        self._session, self._source = None, None
        error, transcript, saved = self._fatal, None, False
        try:
            transcript = session.transcript()
            session.finish(formats=())
            saved = True
        except (DesktopAsrError, OSError) as exc:
            saved = bool(session.saved) and session.saved[0].name == "transcript.json"
            if not saved and session.journal_complete:
                error = (f"could not save the transcript (the journal in {session.folder} "
                         f"keeps it for recovery): {exc}")
            elif not saved:
                error = (f"could not save the transcript: {exc}. Nothing is lost while it is "
                         "shown here: export it to another place (Export ▾)")
            else:
                error = f"the session was not saved completely: {exc}"
        except Exception as exc:
            log.exception("finishing the live session failed")
            error = f"could not save the transcript: {exc}"
        finally:
            self.finished.emit(LiveFinished(session.folder, transcript, error, saved,
                                            session.journal_complete))

    def _ensure_engine(self, request: LiveRequest) -> Engine:
        key = (request.engine_name, request.config)
        if self._engine is not None and self._engine_key == key:
            return self._engine
        self._engine, self._engine_key = None, None  # free the old model before loading
        config = request.config
        self.engineLoading.emit(EngineLoading(config.model, config.device))
        t0 = time.perf_counter()
        ModelManager().model_for_engine(request.engine_name, config.model, download=True)
        engine = create_engine(request.engine_name, replace(config))
        self.loads += 1
        self._engine, self._engine_key = engine, key
        self.engineReady.emit(EngineReady(engine.info, engine.capabilities.languages,
                                          time.perf_counter() - t0))
        return engine

    def release(self) -> None:
        """Stop a running session and drop the engine (called as the thread ends)."""
        session, self._session = self._session, None
        if session is not None:
            session.stop()
            try:
                session.finish(formats=())
            except (DesktopAsrError, OSError) as exc:
                log.warning("could not save the live transcript: %s", exc)
        self._engine, self._engine_key = None, None
