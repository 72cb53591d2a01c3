"""NativeStreamProcessor: one channel's captions from a streaming-native engine's own decoder.

Engines such as the Emformer RNN-T decode incrementally: their stream carries the model's state
and beam from one piece of audio to the next. Re-decoding a growing buffer (what
:class:`~desktop_asr.streaming.processor.StreamProcessor` does for Whisper and CTC models)
would throw that away. This processor feeds each new piece of VAD speech into the channel's
stream exactly once, commits the words the decoder has fixed (every beam shares them), shows
the rest of the best hypothesis as tentative, and commits everything at the utterance's end.
The stream is reset at every utterance, so the decoder's state (and the work per piece) is
bounded by the VAD's ``max_utterance`` however long the session runs.

:func:`make_processor` is the one place that picks a processor from an engine's capabilities.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Callable

import numpy as np

from desktop_asr.engines import Engine
from desktop_asr.engines.base import EngineStream
from desktop_asr.streaming.processor import ChannelProcessor, Emit, StreamOptions, StreamProcessor
from desktop_asr.types import Word

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


def is_streaming_native(engine: Engine) -> bool:
    """True when ``engine`` decodes incrementally itself (and can give a stream to feed)."""
    return bool(engine.capabilities.streaming_native
                and callable(getattr(engine, "create_stream", None)))


def make_processor(engine: Engine, channel: str, options: StreamOptions, emit: Emit,
                   clock: Callable[[], float], *, speaker: str | None = None,
                   history: list[str] | None = None) -> StreamProcessor | NativeStreamProcessor:
    """The processor for one channel: the engine's own stream if it has one, else re-decoding."""
    cls = NativeStreamProcessor if is_streaming_native(engine) else StreamProcessor
    return cls(engine, channel, options, emit, clock, speaker=speaker, history=history)


class NativeStreamProcessor(ChannelProcessor):
    """Per-channel state over a streaming-native engine; same interface as StreamProcessor."""

    def __init__(self, engine: Engine, channel: str, options: StreamOptions, emit: Emit,
                 clock: Callable[[], float], *, speaker: str | None = None,
                 history: list[str] | None = None) -> None:
        super().__init__(engine, channel, options, emit, clock, speaker=speaker, history=history)
        self._stream: EngineStream = engine.create_stream()  # type: ignore[attr-defined]
        self._queued: list[np.ndarray] = []   # speech not yet fed to the stream
        self._queued_samples = 0
        self._start = 0.0                     # stream time of the utterance's first sample
        self._committed: list[Word] = []      # this utterance's committed words

    @property
    def pending_seconds(self) -> float:
        """Speech queued since the last feed."""
        return self._queued_samples / SAMPLE_RATE

    def _add(self, samples: np.ndarray) -> None:
        self._queued.append(samples)
        self._queued_samples += samples.size

    def _committed_end(self) -> float:
        return self._committed[-1].end if self._committed else self._start

    def due(self) -> bool:
        """Whether enough new speech is queued for a tentative update."""
        return self._active and self.pending_seconds >= self.hop

    def decode(self) -> None:
        """Feed the queued speech; commit what the decoder fixed, show the rest as tentative."""
        self._feed()
        fixed, tentative = self._stream.split_words()
        self._publish(self._take(fixed), tuple(self._shift(tentative)))

    def _open(self, start: float) -> None:
        self._stream.reset()
        self._start = start
        self._committed = []

    def _finish(self) -> None:
        self._feed(finish=True)
        words, _ = self._stream.split_words()  # after finish every word is fixed
        self._publish(self._take(words), ())
        self._remember(tuple(self._committed))

    def _feed(self, *, finish: bool = False) -> None:
        """Give the stream only the audio it has not had yet (plus, at the end, finish it)."""
        if not self._queued and not finish:
            return
        audio = (np.concatenate(self._queued) if len(self._queued) > 1 else
                 self._queued[0] if self._queued else np.zeros(0, np.float32))
        self._queued, self._queued_samples = [], 0
        started = time.perf_counter()
        if audio.size:
            self._stream.accept(audio)
        if finish:
            self._stream.finish()
        self.decode_seconds += time.perf_counter() - started
        self.decoded_audio_seconds += audio.size / SAMPLE_RATE
        self.decodes += 1

    def _shift(self, words: list[Word]) -> list[Word]:
        return [replace(w, start=w.start + self._start, end=w.end + self._start) for w in words]

    def _take(self, fixed: list[Word]) -> tuple[Word, ...]:
        """The fixed words not committed yet (fixed words only ever grow at the end)."""
        done = len(self._committed)
        if [w.text for w in fixed[:done]] != [w.text for w in self._committed]:
            # Cannot happen with a decoder that keeps its fixed prefix; never rewrite captions.
            log.warning("%s: the decoder changed words it had fixed; keeping the committed ones",
                        self.channel)
        new = tuple(self._shift(fixed[done:]))
        self._committed.extend(new)
        return new
