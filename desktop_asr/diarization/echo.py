"""Me vs. them without double counting: the far side's echo in the microphone is dropped.

Without headphones the microphone also hears the loudspeakers, so the remote speakers would be
captioned twice: once from the system audio and once, as "You", from the microphone. Two
guards:

* :class:`EchoGate` mutes microphone audio whose loudness contour follows the simultaneous
  system audio (normalised cross-correlation of 10-ms RMS envelopes over the last
  ``window`` seconds, the microphone lagging by up to ``max_lag`` or, the two captures being
  aligned only so well, leading by up to ``max_lead``), before the microphone's VAD
  sees it. The microphone is delayed by ``lookahead`` so that the start of an echo is judged
  with the echo already in view. Speech of the user's own does not follow the system audio and
  passes. Not handled: the user talking *over* the far side (double talk) is muted while the
  far side's echo dominates the window; with headphones there is no echo and nothing to mute.
* :func:`echo_duplicates` finds microphone segments whose words repeat a system segment of the
  same moment (what the gate let through); the finalise pass drops them.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence

import numpy as np

from desktop_asr.sequences import common_in_order
from desktop_asr.types import Segment

SAMPLE_RATE = 16000
ENVELOPE = 160  # samples per envelope frame (10 ms)
_WORD = re.compile(r"[\w']+", re.UNICODE)


class EchoGate:
    """Streams microphone samples through, muting the stretches that echo the system audio."""

    def __init__(self, *, window: float = 0.8, max_lag: float = 0.35, threshold: float = 0.6,
                 lookahead: float = 0.3, hold: float = 0.25, system_floor: float = 0.003,
                 max_lead: float = 0.15) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be within (0, 1)")
        self.threshold = threshold
        self.system_floor = system_floor
        self._win = max(8, round(window * SAMPLE_RATE / ENVELOPE))
        self._lag = max(0, round(max_lag * SAMPLE_RATE / ENVELOPE))
        self._look = max(0, round(lookahead * SAMPLE_RATE / ENVELOPE))
        # The two captures are aligned only to within tens of milliseconds, so the echo may
        # even seem to come a little before its source.
        self._lead = min(self._look, round(max_lead * SAMPLE_RATE / ENVELOPE))
        self._hold = round(hold * SAMPLE_RATE / ENVELOPE)
        keep = self._win + self._lag + self._look + self._lead + 4
        self._mic_env: deque[float] = deque(maxlen=keep)
        self._sys_env: deque[float] = deque(maxlen=keep)
        self._rest_mic = np.zeros(0, np.float32)
        self._rest_sys = np.zeros(0, np.float32)
        self._delay: deque[np.ndarray] = deque()   # delayed mic envelope frames (samples)
        self._echo_left = 0
        self.frames = 0
        self.muted_frames = 0

    @property
    def muted_seconds(self) -> float:
        """Microphone audio muted as echo so far."""
        return self.muted_frames * ENVELOPE / SAMPLE_RATE

    def process(self, mic: np.ndarray, system: np.ndarray) -> np.ndarray:
        """Take simultaneous mic and system samples; return the (delayed) mic samples to use."""
        mic = np.concatenate([self._rest_mic, np.asarray(mic, np.float32).reshape(-1)])
        system = np.concatenate([self._rest_sys, np.asarray(system, np.float32).reshape(-1)])
        n = min(mic.size, system.size) // ENVELOPE
        self._rest_mic, self._rest_sys = mic[n * ENVELOPE:], system[n * ENVELOPE:]
        out = []
        for k in range(n):
            m = mic[k * ENVELOPE:(k + 1) * ENVELOPE]
            s = system[k * ENVELOPE:(k + 1) * ENVELOPE]
            self._mic_env.append(float(np.sqrt(np.mean(m * m))))
            self._sys_env.append(float(np.sqrt(np.mean(s * s))))
            self._delay.append(m)
            if len(self._delay) > self._look:
                out.append(self._release(self._delay.popleft()))
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def flush(self) -> np.ndarray:
        """End of stream: the mic samples still held back (judged with what is known)."""
        out = [self._release(self._delay.popleft()) for _ in range(len(self._delay))]
        rest, self._rest_mic = self._rest_mic, np.zeros(0, np.float32)
        return np.concatenate([*out, rest]) if out or rest.size else np.zeros(0, np.float32)

    def _release(self, frame: np.ndarray) -> np.ndarray:
        self.frames += 1
        if self._is_echo():
            self._echo_left = self._hold
        elif self._echo_left > 0:
            self._echo_left -= 1
        else:
            return frame
        self.muted_frames += 1
        return np.zeros_like(frame)

    def _is_echo(self) -> bool:
        """Whether the mic frame being released follows the system audio around it."""
        mic = np.asarray(self._mic_env)
        sys_ = np.asarray(self._sys_env)
        # The frame released now sits ``look`` frames before the newest; judge the window
        # around it, up to the newest frame.
        end = mic.size - self._lead
        start = end - self._win
        if start < self._lag:
            return False
        a = mic[start:end]
        if a.max() <= 1e-5:
            return False
        # Row r holds the system envelope r - lead frames earlier than the mic window.
        lagged = np.lib.stride_tricks.sliding_window_view(
            sys_[start - self._lag:end + self._lead], self._win)[::-1]
        loud = lagged.max(axis=1) >= self.system_floor
        if not loud.any():
            return False
        x = a - a.mean()
        y = lagged[loud] - lagged[loud].mean(axis=1, keepdims=True)
        denom = np.linalg.norm(x) * np.linalg.norm(y, axis=1)
        corr = np.where(denom > 0, (y @ x) / np.maximum(denom, 1e-12), -1.0)
        return float(corr.max()) >= self.threshold


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def echo_duplicates(mic: Sequence[Segment], system: Sequence[Segment], *, slack: float = 1.5,
                    min_words: int = 2, share: float = 0.6) -> list[int]:
    """Indexes of ``mic`` segments that repeat words of a system segment of the same moment.

    A mic segment counts as an echo when at least ``share`` of its words (and ``min_words``)
    occur, in order, in the system segments overlapping it within ``slack`` seconds.
    """
    out = []
    for i, seg in enumerate(mic):
        words = _words(seg.text)
        if len(words) < min_words:
            continue
        near = [s for s in system if s.start - slack <= seg.end and s.end + slack >= seg.start]
        pool = [w for s in near for w in _words(s.text)]
        if not pool:
            continue
        if common_in_order(words, pool) >= share * len(words):
            out.append(i)
    return out
