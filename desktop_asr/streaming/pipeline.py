"""LivePipeline: source -> VAD -> a processor per channel -> updates, on one worker thread.

The processor is :class:`StreamProcessor` (re-decoding) or, for an engine that decodes
incrementally itself, :class:`NativeStreamProcessor`; :func:`make_processor` picks it.

The capture thread only fills the source's queue. This worker drains everything available,
runs the VAD on it, and only then re-decodes, so decoding always sees the newest audio and a
slow decoder makes hops longer instead of building a backlog. Stop drains the source and
commits the last words before returning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from desktop_asr.capture.base import AudioChunk, AudioSource, CaptureError, SourceEnded
from desktop_asr.diarization.echo import EchoGate, echo_duplicates
from desktop_asr.diarization.live import LiveDiarizer, LiveSpeakerOptions, SegmentLabel
from desktop_asr.engines import Engine
from desktop_asr.streaming.events import (
    LiveEvent,
    PipelineError,
    PipelineStatus,
    SpeakerNamed,
    SpeakersSettled,
    SpeakerUpdate,
    TranscriptUpdate,
)
from desktop_asr.streaming.native import NativeStreamProcessor, make_processor
from desktop_asr.streaming.processor import StreamOptions, StreamProcessor
from desktop_asr.streaming.session import MIC, SYSTEM, SessionTranscript
from desktop_asr.vad import VadSegmenter, make_detector
from desktop_asr.vad.base import VadOptions

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
# Lag is how long the oldest audio of a drain waited in the queue: the time one
# read-and-decode cycle takes. Above this many seconds tentative updates thin out.
_LAG_BEHIND = 1.0
_LAG_CAUGHT_UP = 0.5


@dataclass(frozen=True)
class LiveOptions:
    """Everything that shapes a live session besides the source and the engine."""

    stream: StreamOptions = field(default_factory=StreamOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    status_interval: float = 1.0
    # Live speaker labels (None: off). With microphone + system audio the microphone is the
    # user (``user_name``) and only the system audio is diarized.
    speakers: LiveSpeakerOptions | None = None
    user_name: str = "You"
    # With microphone + system audio: mute the far side's echo picked up by the microphone.
    echo_suppression: bool = True


class LivePipeline:
    """Runs a live session on a worker thread; callbacks are called from that thread."""

    def __init__(self, source: AudioSource, engine: Engine, options: LiveOptions | None = None,
                 *, on_update: Callable[[LiveEvent], None] | None = None,
                 on_status: Callable[[PipelineStatus], None] | None = None,
                 on_error: Callable[[PipelineError], None] | None = None,
                 on_audio: Callable[[AudioChunk], None] | None = None) -> None:
        self.source = source
        self.engine = engine
        self.options = options or LiveOptions()
        labels = tuple(source.channel_labels)
        both = MIC in labels and SYSTEM in labels
        diarized = (tuple(c for c in labels if not (both and c == MIC))
                    if self.options.speakers is not None else ())
        self.transcript = SessionTranscript(labels, model=engine.info.model, diarized=diarized,
                                            user_name=self.options.user_name)
        self.diarizer = LiveDiarizer(labels, diarized, self.options.speakers) if diarized else None
        self.echo = EchoGate() if both and self.options.echo_suppression else None
        self._mic_ch = labels.index(MIC) if both else -1
        self._sys_ch = labels.index(SYSTEM) if both else -1
        self._finalising = threading.Event()
        self._speaker_error_shown = False
        self._on_update = on_update
        self._on_status = on_status
        self._on_error = on_error
        self._on_audio = on_audio
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        history: list[str] = []
        speakers = self.transcript.channel_speakers
        self._processors: list[StreamProcessor | NativeStreamProcessor] = [
            make_processor(engine, label, self.options.stream, self._emit, self._clock,
                           speaker=speakers.get(label), history=history)
            for label in source.channel_labels]
        self._vads = [VadSegmenter(self.options.vad, make_detector(self.options.vad))
                      for _ in source.channel_labels]
        self._audio_end = 0.0
        self._lag = 0.0
        self._skipped = 0
        self._recent: deque[tuple[float, float, float]] = deque(maxlen=64)
        self.error: PipelineError | None = None

    # -- public API -----------------------------------------------------------------------
    def start(self) -> None:
        """Start capturing and captioning; raises CaptureError if the source cannot start."""
        self.source.start()
        if self.diarizer is not None:
            self.diarizer.start()
        if self._mic_ch >= 0 and self.options.user_name != "You":
            # Journaled, so a recovered session still knows who "mic" is.
            self.rename_speaker(MIC, self.options.user_name)
        self._thread = threading.Thread(target=self._run, name="live-pipeline", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop capture, caption the audio still queued, commit the last words, then return.

        With speaker labels this includes the finalise pass, which is never cut short.
        """
        self._stopping.set()
        self.source.stop()
        if not self.wait(timeout) and self._finalising.is_set():
            self.wait()

    def rename_speaker(self, speaker: str, name: str) -> None:
        """Show ``speaker`` as ``name`` from now on (safe from any thread); journaled."""
        self.transcript.name(speaker, name)
        self._send(SpeakerNamed(speaker, " ".join(name.split()), "user", self._clock()))

    def report_error(self, error: PipelineError) -> None:
        """Pass a problem on to ``on_error`` (safe from any thread).

        For what goes wrong beside the captions, e.g. the session's files that cannot be saved:
        a non-fatal error leaves the captions running.
        """
        if self._on_error is not None:
            try:
                self._on_error(error)
            except Exception:  # a broken listener must not stop the captions
                log.exception("error listener failed")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the session ended (source finished or stopped); True if it did."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def audio_seconds(self) -> float:
        """Stream time of the newest audio consumed."""
        return self._audio_end

    @property
    def running(self) -> bool:
        """True while the worker thread runs."""
        return self._thread is not None and self._thread.is_alive()

    # -- worker ---------------------------------------------------------------------------
    def _clock(self) -> float:
        started = self.source.started_at
        return time.monotonic() - started if started is not None else 0.0

    def _emit(self, update: TranscriptUpdate) -> None:
        self.transcript.apply(update)
        if (self.diarizer is not None and update.kind == "final"
                and update.channel in self.diarizer.diarized and update.segment.text.strip()):
            seg = update.segment
            spans = [(w.start, w.end) for w in seg.words] or [(seg.start, seg.end)]
            self.diarizer.submit(update.channel, update.utterance, seg.start, spans)
        self._send(update)

    def _send(self, event: LiveEvent) -> None:
        if self._on_update is not None:
            try:
                self._on_update(event)
            except Exception:  # a broken listener must not stop the captions or lose words
                log.exception("caption listener failed")

    def _deliver_speakers(self) -> None:
        """Pass on the speaker labels and names the diarizer found (on this thread)."""
        if self.diarizer is None:
            return
        for item in self.diarizer.poll():
            self._speaker_event(item)
        if self.diarizer.error and not self._speaker_error_shown:
            self._speaker_error_shown = True  # captions go on without labels
            if self._on_error is not None:
                self._on_error(PipelineError(self.diarizer.error, fatal=False))

    def _speaker_event(self, item: object) -> None:
        if isinstance(item, SegmentLabel):
            self.transcript.label(item.channel, item.utterance, item.start, item.speaker)
            self._send(SpeakerUpdate(item.channel, item.utterance, item.start, item.speaker,
                                     self._clock()))
        elif item.speaker not in self.transcript.user_names:  # a rename is never overridden
            self.transcript.name(item.speaker, item.name, from_voice=True)
            self._send(SpeakerNamed(item.speaker, item.name, "voice", self._clock()))

    def _settle_speakers(self) -> None:
        """At the end: the last labels, the finalise pass, echo duplicates out; one event."""
        if self.diarizer is None and self.echo is None:
            return
        self._finalising.set()
        started = time.perf_counter()
        finalised = None
        if self.diarizer is not None:
            for item in self.diarizer.close():
                self._speaker_event(item)
            finalised = self.diarizer.finalise()
            self._deliver_speakers()
        drop: set[tuple[str, int]] = set()
        if self.echo is not None:
            mic = self.transcript.utterance_segments(MIC)
            system = [seg for _, seg in self.transcript.utterance_segments(SYSTEM)]
            drop = {(MIC, mic[i][0]) for i in echo_duplicates([s for _, s in mic], system)}
        if finalised is None and not drop:
            return
        settled = self.transcript.relabel(finalised.turns if finalised else {},
                                          names=finalised.names if finalised else None,
                                          drop=drop)
        log.info("speakers settled in %.2fs (%s); %d echo utterance(s) dropped",
                 time.perf_counter() - started, finalised.backend if finalised else "no pass",
                 len(drop))
        self._send(SpeakersSettled(settled, self._clock(), time.perf_counter() - started,
                                   finalised.backend if finalised else "none", len(drop)))

    def _run(self) -> None:
        last_status = time.monotonic()
        try:
            while True:
                got_any = self._drain(timeout=0.05)
                if got_any is None:
                    break  # the source ended and is drained
                self._decode_due()
                self._deliver_speakers()
                if time.monotonic() - last_status >= self.options.status_interval:
                    last_status = time.monotonic()
                    self._report_status()
        except CaptureError as exc:
            self.error = PipelineError(str(exc), fatal=True)
            log.warning("capture stopped: %s", exc)
            if self._on_error is not None:
                self._on_error(self.error)
        except Exception as exc:  # a bug must not lose the transcript: report, then finish
            log.exception("live pipeline failed")
            self.error = PipelineError(f"captioning stopped: {exc}", fatal=True)
            if self._on_error is not None:
                self._on_error(self.error)
        finally:
            self._finish_all()
            try:
                self._settle_speakers()
            except Exception:  # the live labels stand; the words are all there
                log.exception("settling the speaker labels failed")
            self._report_status()

    def _drain(self, timeout: float) -> bool | None:
        """Read every chunk available now; None once the source has ended."""
        got = False
        wait = timeout
        while True:
            try:
                chunk = self.source.read(timeout=wait)
            except SourceEnded:
                return None
            if chunk is None:
                return got
            if not got:
                self._lag = max(0.0, time.monotonic() - chunk.captured_at)
            got = True
            wait = 0.0
            self._consume(chunk)

    def _consume(self, chunk: AudioChunk) -> None:
        if self._on_audio is not None:
            self._on_audio(chunk)
        self._audio_end = chunk.end
        if self.diarizer is not None:
            self.diarizer.feed(chunk.samples)
        for ch, (vad, proc) in enumerate(zip(self._vads, self._processors)):
            samples = chunk.samples[:, ch]
            if self.echo is not None and ch == self._mic_ch:
                samples = self.echo.process(samples, chunk.samples[:, self._sys_ch])
            for event in vad.feed(samples):
                proc.handle(event)

    def _decode_due(self) -> None:
        behind = self._lag > _LAG_BEHIND
        for proc in self._processors:
            if behind:
                # Falling behind: fewer tentative updates, so endpoints and commits keep up.
                proc.hop = min(proc.options.max_hop, proc.hop * 1.5)
            elif self._lag < _LAG_CAUGHT_UP:
                proc.hop = max(proc.options.hop, proc.hop / 1.5)
            if proc.due():
                # Tentative updates a full-rate decoder would have shown meanwhile.
                self._skipped += max(0, int(proc.pending_seconds / proc.options.hop) - 1)
                before = proc.decode_seconds
                audio_before = proc.decoded_audio_seconds
                proc.decode()
                self._recent.append((time.monotonic(), proc.decode_seconds - before,
                                     proc.decoded_audio_seconds - audio_before))

    def _finish_all(self) -> None:
        for ch, (vad, proc) in enumerate(zip(self._vads, self._processors)):
            try:
                if self.echo is not None and ch == self._mic_ch:
                    for event in vad.feed(self.echo.flush()):
                        proc.handle(event)
                for event in vad.flush():
                    proc.handle(event)
            except Exception:  # keep committing the other channels
                log.exception("could not finish channel %s", proc.channel)

    def _report_status(self) -> None:
        if self._on_status is None:
            return
        now = time.monotonic()
        window = [r for r in self._recent if now - r[0] <= 10.0]
        spent = sum(r[1] for r in window)
        stats = self.source.stats()
        self._on_status(PipelineStatus(
            audio_seconds=self._audio_end, lag=self._lag,
            hop=max(p.hop for p in self._processors),
            rtf=spent / 10.0 if window else 0.0, overflows=stats.overflows,
            frames_dropped=stats.frames_dropped,
            decodes=sum(p.decodes for p in self._processors),
            tentative_skipped=self._skipped))
