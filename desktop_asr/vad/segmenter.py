"""Cut a live 16 kHz stream into utterances: onset, endpoint, padding and a length limit."""

from __future__ import annotations

import logging
from collections import deque

import numpy as np

from desktop_asr.vad._tape import AudioTape
from desktop_asr.vad.base import (
    SpeechAudio,
    SpeechEnded,
    SpeechStarted,
    VadEvent,
    VadOptions,
    VoiceDetector,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
# Silero's get_speech_timestamps keeps speech going until the probability drops this far below
# the threshold that started it; the hysteresis stops utterances flickering on and off.
HYSTERESIS = 0.15
# A forced cut looks this far back (at most half the limit) for the quietest frame.
CUT_WINDOW = 1.5
# A pause this long inside that window is cut as soon as speech resumes (Silero splits long
# speech at >= 98 ms silences too); a shorter dip may be a stop consonant inside a word.
CUT_PAUSE = 0.1


class VadSegmenter:
    """Turns blocks of 16 kHz mono float32 audio into SpeechStarted/SpeechAudio/SpeechEnded.

    Stream time starts at 0 and advances by the samples fed. Utterance audio is released as it
    arrives, except (a) after a silence begins, beyond the trailing pad, and (b) in the last
    ``CUT_WINDOW`` seconds before ``max_utterance``, where the cut point is still open. A
    'max_length' piece never exceeds ``max_utterance``; others may by half a frame. The
    detector belongs to this segmenter (it is reset with it).
    """

    def __init__(self, options: VadOptions, detector: VoiceDetector | None = None) -> None:
        if detector is None:
            from desktop_asr.vad import make_detector

            detector = make_detector(options)
        self.options = options
        self.detector = detector
        self._frame = int(detector.frame_samples)
        self._on = options.threshold
        self._off = max(options.threshold - HYSTERESIS, 0.01)
        self._pad = round(options.pad * SAMPLE_RATE)
        # Audio after the speech goes out before the endpoint is known, so this trailing pad may
        # never exceed the silence that confirms the endpoint.
        self._tail = round(min(options.pad, options.min_silence) * SAMPLE_RATE)
        self._min_speech = round(options.min_speech * SAMPLE_RATE)
        self._min_silence = round(options.min_silence * SAMPLE_RATE)
        self._max = round(options.max_utterance * SAMPLE_RATE)
        self._window = round(min(CUT_WINDOW, options.max_utterance / 2) * SAMPLE_RATE)
        self._pause = round(CUT_PAUSE * SAMPLE_RATE)
        # Probability and energy of recent frames: enough to look back over a whole utterance.
        self._probs: deque[float] = deque(maxlen=self._max // self._frame + 8)
        self._energy: deque[float] = deque(maxlen=self._max // self._frame + 8)
        self._tape = AudioTape()
        self.reset()

    @property
    def time(self) -> float:
        """Stream time in seconds: how much audio has been fed since the start."""
        return self._tape.end / SAMPLE_RATE

    @property
    def in_speech(self) -> bool:
        """Whether an utterance is open."""
        return self._start is not None

    def reset(self) -> None:
        """Forget everything and start a new stream at time 0."""
        self.detector.reset()
        self._tape.clear(0)
        self._probs.clear()
        self._energy.clear()
        self._frames = 0            # frames classified so far; frame k is [k*F, (k+1)*F)
        self._floor = 0             # no utterance may start before the previous one ended
        self._candidate: int | None = None   # first frame of a run that may become speech
        self._start: int | None = None       # open utterance's first sample
        self._emitted = 0           # open utterance's audio is out up to here
        self._quiet_from: int | None = None  # first sample of a silence that may end it
        self._join_until = -1       # speech starting before this continues a cut utterance
        self._events: list[VadEvent] = []

    def feed(self, samples: np.ndarray) -> list[VadEvent]:
        """Add the next block of the stream (any length) and return the events it caused."""
        block = np.asarray(samples)
        if block.ndim != 1 or not np.issubdtype(block.dtype, np.floating):
            raise ValueError("expected 1-D float mono samples in [-1, 1], got "
                             f"{block.dtype} of shape {block.shape}")
        block = block.astype(np.float32, copy=False)
        self._events = events = []
        self._tape.append(block)
        frame = self._frame
        while (self._frames + 1) * frame <= self._tape.end:
            k = self._frames
            samples = self._tape.view(k * frame, (k + 1) * frame)
            prob = self.detector.speech_probability(samples)
            self._probs.append(prob)
            self._energy.append(float(np.dot(samples, samples)))
            self._frames += 1
            self._on_frame(k, prob)
        if self._start is not None:
            self._emit_to(min(self._tape.end, self._limit()))
        self._trim()
        return events

    def flush(self) -> list[VadEvent]:
        """End of stream: close an open utterance (reason 'flush') with all audio it has."""
        self._events = events = []
        if self._start is not None:
            end = self._tape.end
            if self._quiet_from is not None:
                end = max(min(self._quiet_from + self._tail, end), self._emitted)
            self._end_utterance(end, "flush")
        self._candidate = None
        self._trim()
        return events

    # -- the state machine, one classified frame at a time ------------------------------------

    def _on_frame(self, k: int, prob: float) -> None:
        if self._start is None:
            self._idle_frame(k, prob)
        else:
            self._speech_frame(k, prob)

    def _idle_frame(self, k: int, prob: float) -> None:
        if self._candidate is None:
            if prob >= self._on:
                self._candidate = k
        elif prob < self._off:
            self._candidate = None
        if self._candidate is not None and (k + 1 - self._candidate) * self._frame >= \
                self._min_speech:
            begin = self._candidate * self._frame
            # After a forced cut, speech that resumes before the pause would have been an
            # endpoint carries on from the cut: nothing between the two pieces is lost.
            start = self._floor if begin < self._join_until else max(begin - self._pad,
                                                                     self._floor)
            self._candidate = None
            self._start = self._emitted = start
            self._quiet_from = None
            self._events.append(SpeechStarted(start / SAMPLE_RATE))

    def _speech_frame(self, k: int, prob: float) -> None:
        assert self._start is not None
        frame, here = self._frame, k * self._frame
        window_start = self._start + self._max - self._window
        if prob >= self._on:
            quiet, self._quiet_from = self._quiet_from, None
            if quiet is not None and here - quiet >= self._pause and here >= window_start:
                # Speech resumes after a pause close to the limit: as good a cut as any that
                # may still come. Split the pause as get_speech_timestamps splits short gaps.
                self._cut(quiet + min(self._tail, (here - quiet) // 2), k)
                return
        elif prob < self._off and self._quiet_from is None:
            self._quiet_from = here
        if self._quiet_from is not None and here + frame - self._quiet_from >= \
                self._min_silence:
            self._end_utterance(self._quiet_from + self._tail, "silence")
        elif here + frame + frame // 2 > self._start + self._max:
            self._cut(self._quietest(window_start, self._start + self._max), k)

    def _quietest(self, begin: int, end: int) -> int:
        """Centre of the quietest frame centred in [begin, end]: least speech, then energy."""
        frame, first = self._frame, self._frames - len(self._probs)
        best, best_key = end, (99, 0.0)
        for j in range(max(first, (begin - frame // 2 + frame - 1) // frame), self._frames):
            center = j * frame + frame // 2
            if center > end:
                break
            # Probabilities within 0.1 count as a tie, so webrtc's 0/1 answers (and Silero's
            # near-equal ones) are split by loudness.
            key = (round(self._probs[j - first] * 10), self._energy[j - first])
            if key < best_key:
                best, best_key = center, key
        return best

    def _cut(self, cut: int, last: int) -> None:
        """End the utterance at ``cut`` for length; frames after it, up to ``last``, go on."""
        if self._quiet_from is not None:
            cut = min(cut, self._quiet_from + self._tail)
        # Audio up to the limit may be out already; the limit does not depend on block sizes.
        cut = max(cut, self._limit())
        join_until = (self._quiet_from if self._quiet_from is not None else cut) + \
            self._min_silence
        self._end_utterance(cut, "max_length")
        self._join_until = join_until
        # Frames after the cut were held back; let them start the next utterance (from the cut
        # at the earliest) exactly as live frames would.
        frame, first = self._frame, self._frames - len(self._probs)
        for j in range(max(first, (cut - frame // 2) // frame + 1), last + 1):
            self._on_frame(j, self._probs[j - first])

    def _end_utterance(self, end: int, reason: str) -> None:
        assert self._start is not None
        log.debug("utterance %.2f-%.2f s ended (%s)", self._start / SAMPLE_RATE,
                  end / SAMPLE_RATE, reason)
        self._emit_to(end)
        self._events.append(SpeechEnded(end / SAMPLE_RATE, reason))
        self._start = self._quiet_from = self._candidate = None
        self._floor = self._emitted = end
        self._join_until = -1

    # -- audio out ------------------------------------------------------------------------------

    def _limit(self) -> int:
        """How far the open utterance's audio may be released without risking a wrong end."""
        assert self._start is not None
        if self._quiet_from is not None:
            limit = self._quiet_from + self._tail
        else:
            limit = self._frames * self._frame + self._tail
        # Near the length limit the cut may fall anywhere in the window: hold that audio back.
        return min(limit, self._start + self._max - self._window)

    def _emit_to(self, end: int) -> None:
        if end > self._emitted:
            self._events.append(SpeechAudio(self._emitted / SAMPLE_RATE,
                                            self._tape.read(self._emitted, end)))
            self._emitted = end

    def _trim(self) -> None:
        classified = self._frames * self._frame
        if self._start is not None:
            keep = self._emitted
        else:
            begin = self._candidate * self._frame if self._candidate is not None else classified
            # Speech that continues a cut utterance starts at the cut, not one pad earlier.
            keep = self._floor if begin < self._join_until else begin - self._pad
        self._tape.trim(min(max(keep, self._floor), classified))
