"""StreamProcessor: re-decodes one channel's growing utterance and commits stable words.

One processor per channel. It receives the VAD's events (utterance start, audio, end), keeps
the current utterance's audio, re-decodes it every hop, runs the stabiliser and emits
:class:`TranscriptUpdate` values. The heavy model stays in the engine; the processor only holds
per-stream state, so several processors share one engine.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from desktop_asr.engines import DecodeOptions, Engine
from desktop_asr.streaming.events import TranscriptUpdate
from desktop_asr.streaming.stabiliser import Stabiliser
from desktop_asr.types import Segment, Word
from desktop_asr.vad.base import SpeechAudio, SpeechEnded, SpeechStarted, VadEvent

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_SENTENCE_END = (".", "?", "!", "。", "？", "！")
_RETRY_UNPROMPTED = 1.0  # seconds of speech below which an empty decode is believed


def streaming_decode_options(**changes: object) -> DecodeOptions:
    """Decoding options tuned for live captions: greedy, word times, fitted window, no VAD."""
    base = DecodeOptions(beam_size=5, best_of=1, temperature=(0.0,), word_timestamps=True,
                         vad_filter=False, condition_on_previous_text=False, fit_window=True)
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class StreamOptions:
    """How often to re-decode and how to keep the work per hop bounded."""

    hop: float = 0.3                  # seconds of new audio between tentative re-decodes
    max_hop: float = 2.0              # the hop grows up to this when decoding falls behind
    min_audio: float = 0.3            # do not decode less speech than this
    agreement: int = 2                # hypotheses that must agree before a word is committed
    force_after: float | None = 1.5   # commit words this far behind the newest audio regardless
    trim_after: float = 10.0          # buffer length at which committed audio is cut away
    prompt_chars: int = 200           # committed text given to the decoder as context
    decode: DecodeOptions = field(default_factory=streaming_decode_options)

    def __post_init__(self) -> None:
        if not 0.05 <= self.hop <= self.max_hop:
            raise ValueError("hop must be >= 0.05 s and <= max_hop")
        if self.agreement < 1:
            raise ValueError("agreement must be >= 1")
        if self.trim_after < 2.0:
            raise ValueError("trim_after must be >= 2 s")


Emit = Callable[[TranscriptUpdate], None]


class ChannelProcessor:
    """What every per-channel processor shares: VAD events in, caption updates out.

    Subclasses keep the utterance's audio and decide what is committed: ``_add`` takes speech,
    ``_open`` starts an utterance at a stream time, ``_finish`` commits the rest at its end,
    ``_committed_end`` says where the committed words stop. The pipeline drives them through
    ``handle``, ``due`` and ``decode``.
    """

    def __init__(self, engine: Engine, channel: str, options: StreamOptions, emit: Emit,
                 clock: Callable[[], float], *, speaker: str | None = None,
                 history: list[str] | None = None) -> None:
        self.engine = engine
        self.channel = channel
        self.options = options
        self.hop = options.hop
        self._emit = emit
        self._clock = clock
        self._speaker = speaker
        self._history = history if history is not None else []  # committed texts, all channels
        self._utterance = -1
        self._active = False
        self._tentative_shown = False
        self.decode_seconds = 0.0
        self.decoded_audio_seconds = 0.0
        self.decodes = 0

    @property
    def active(self) -> bool:
        """True while an utterance is open."""
        return self._active

    def handle(self, event: VadEvent) -> None:
        """Apply one VAD event; an utterance end decodes and commits everything."""
        if isinstance(event, SpeechStarted):
            self._begin(event.start)
        elif isinstance(event, SpeechAudio):
            if not self._active:
                self._begin(event.start)
            self._add(np.asarray(event.samples, dtype=np.float32))
        elif isinstance(event, SpeechEnded):
            if self._active:
                self._finish()

    def _begin(self, start: float) -> None:
        if self._active:
            self._finish()
        self._utterance += 1
        self._active = True
        self._open(start)

    def _open(self, start: float) -> None:
        raise NotImplementedError

    def _add(self, samples: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _committed_end(self) -> float:
        raise NotImplementedError

    def _remember(self, words: tuple[Word, ...]) -> None:
        """Keep an ended utterance's text as context for the decoder's prompt."""
        said = "".join(w.text for w in words).strip()
        if said:
            self._history.append(said)
            del self._history[:-20]
        self._active = False

    def _publish(self, committed: tuple[Word, ...], tentative: tuple[Word, ...]) -> None:
        now = self._clock()
        if committed:
            self._emit(TranscriptUpdate("final", self.channel, self._utterance,
                                        _segment(committed), now, self._speaker))
        if tentative or self._tentative_shown:
            end = self._committed_end()
            seg = _segment(tentative) if tentative else Segment(start=end, end=end, text="")
            self._emit(TranscriptUpdate("partial", self.channel, self._utterance, seg, now,
                                        self._speaker))
            self._tentative_shown = bool(tentative)


class StreamProcessor(ChannelProcessor):
    """Per-channel streaming state on top of a shared engine."""

    def __init__(self, engine: Engine, channel: str, options: StreamOptions, emit: Emit,
                 clock: Callable[[], float], *, speaker: str | None = None,
                 history: list[str] | None = None) -> None:
        super().__init__(engine, channel, options, emit, clock, speaker=speaker, history=history)
        self._stabiliser = Stabiliser(options.agreement, options.force_after)
        self._chunks: list[np.ndarray] = []
        self._buffer_start = 0.0
        self._buffer_samples = 0
        self._decoded_samples = 0

    @property
    def pending_seconds(self) -> float:
        """Audio added to the buffer since the last decode."""
        return (self._buffer_samples - self._decoded_samples) / SAMPLE_RATE

    def _add(self, samples: np.ndarray) -> None:
        self._chunks.append(samples)
        self._buffer_samples += len(samples)

    def _committed_end(self) -> float:
        return self._stabiliser.committed_end

    def due(self) -> bool:
        """Whether enough new speech arrived for a tentative re-decode."""
        return (self._active and self.pending_seconds >= self.hop
                and self._buffer_samples / SAMPLE_RATE >= self.options.min_audio)

    def decode(self) -> None:
        """Re-decode the buffer, commit what agrees, show the rest as tentative."""
        words = self._hypothesis()
        result = self._stabiliser.update(
            words, self._buffer_start, self._buffer_start + self._buffer_samples / SAMPLE_RATE)
        self._publish(result.committed, result.tentative)
        self._maybe_trim()

    def _open(self, start: float) -> None:
        self._stabiliser.reset()
        self._chunks = []
        self._buffer_start = start
        self._buffer_samples = 0
        self._decoded_samples = 0

    def _finish(self) -> None:
        words = self._hypothesis() if self._buffer_samples else []
        result = self._stabiliser.finish(words, self._buffer_start)
        self._publish(result.committed, ())
        self._remember(self._stabiliser.committed)
        self._chunks = []
        self._buffer_samples = self._decoded_samples = 0

    def _audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, np.float32)

    def _prompt(self) -> str:
        # Only text whose audio is no longer in the buffer: prompting with words the model is
        # about to hear again makes it repeat them.
        trimmed = "".join(w.text for w in self._stabiliser.committed
                          if w.end <= self._buffer_start)
        text = " ".join([*self._history, trimmed.strip()]).strip()
        return text[-self.options.prompt_chars:].lstrip()

    def _hypothesis(self) -> list[Word]:
        audio = self._audio()
        started = time.perf_counter()
        prompt = self._prompt()
        segments = self.engine.transcribe(audio, prompt=prompt, options=self.options.decode)
        if prompt and not segments and audio.size >= _RETRY_UNPROMPTED * SAMPLE_RATE:
            # Whisper sometimes answers a prompt with nothing, as if the prompt already held
            # the speech; the VAD says this is speech, so hear it once more without one.
            segments = self.engine.transcribe(audio, options=self.options.decode)
        spent = time.perf_counter() - started
        self.decode_seconds += spent
        self.decoded_audio_seconds += audio.size / SAMPLE_RATE
        self.decodes += 1
        self._decoded_samples = self._buffer_samples
        offset = self._buffer_start
        return [replace(w, start=w.start + offset, end=w.end + offset)
                for seg in segments for w in seg.words]

    def _maybe_trim(self) -> None:
        """Cut committed audio off the buffer so each re-decode stays bounded in length."""
        length = self._buffer_samples / SAMPLE_RATE
        committed = self._stabiliser.committed
        if length < self.options.trim_after or not committed:
            return
        cut = next((w.end for w in reversed(committed) if w.text.strip().endswith(_SENTENCE_END)),
                   committed[-1].end)
        drop = int((cut - self._buffer_start) * SAMPLE_RATE)
        if drop <= SAMPLE_RATE // 2:
            return
        audio = self._audio()[drop:]
        self._chunks = [audio]
        self._buffer_start += drop / SAMPLE_RATE
        self._buffer_samples = self._decoded_samples = audio.size
        log.debug("%s: trimmed %.2fs of committed audio", self.channel, drop / SAMPLE_RATE)


def _segment(words: tuple[Word, ...]) -> Segment:
    return Segment(start=words[0].start, end=max(words[0].start, words[-1].end),
                   text="".join(w.text for w in words), words=words)
