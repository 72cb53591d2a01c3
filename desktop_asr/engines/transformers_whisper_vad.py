"""The VAD filter of the transformers Whisper engine: decode only the speech, keep real times.

As faster-whisper's ``vad_filter`` does: Silero finds the speech regions (threshold 0.5, pauses
under 2 s bridged, 0.4 s of padding), they are joined into one shorter recording, and the times
of the segments and words decoded from it are mapped back onto the original audio.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from desktop_asr.engines.base import DecodeOptions, ProgressCallback
from desktop_asr.types import Segment

SAMPLE_RATE = 16000
# faster-whisper's VadOptions defaults
_THRESHOLD, _MIN_SILENCE, _PAD = 0.5, 2.0, 0.4


@dataclass(frozen=True, eq=False)
class SpeechChunks:
    """The speech of a recording joined together, and where each piece came from."""

    audio: np.ndarray
    joined_starts: tuple[float, ...]     # seconds in the joined audio
    original_starts: tuple[float, ...]   # seconds in the original audio
    duration: float                      # of the original audio

    def original_time(self, t: float) -> float:
        """Where a time of the joined audio lies in the original recording."""
        if not self.joined_starts:
            return min(t, self.duration)
        i = max(0, bisect.bisect_right(self.joined_starts, t) - 1)
        return min(self.duration, self.original_starts[i] + t - self.joined_starts[i])

    def transcribe(self, decoder: Any, *, prompt: str, options: DecodeOptions,
                   language: str | None, progress: ProgressCallback | None,
                   cancel: threading.Event | None) -> list[Segment]:
        """Decode the joined speech and return segments in original-audio times."""
        if self.audio.size == 0:
            return []

        def report(done: float) -> None:
            if progress is not None:
                progress(self.original_time(done))

        segments = decoder.transcribe(self.audio, prompt=prompt, options=options,
                                      language=language, single_window=False,
                                      on_window=report, cancel=cancel)
        out = []
        for seg in segments:
            words = tuple(replace(w, start=(s := self.original_time(w.start)),
                                  end=max(s, self.original_time(w.end))) for w in seg.words)
            start = self.original_time(seg.start)
            out.append(replace(seg, start=start, end=max(start, self.original_time(seg.end)),
                               words=words))
        return out


def speech_chunks(audio: np.ndarray) -> SpeechChunks:
    """Find the speech in ``audio`` with Silero and join it (an empty result: no speech)."""
    from desktop_asr.diarization.regions import speech_regions

    duration = audio.size / SAMPLE_RATE
    regions = speech_regions(audio, threshold=_THRESHOLD, min_speech=0.0,
                             min_silence=_MIN_SILENCE, pad=_PAD)
    pieces, joined, original = [], [], []
    position = 0.0
    for region in regions:
        a, b = int(region.start * SAMPLE_RATE), int(region.end * SAMPLE_RATE)
        if b <= a:
            continue
        pieces.append(audio[a:b])
        joined.append(position)
        original.append(a / SAMPLE_RATE)
        position += (b - a) / SAMPLE_RATE
    joined_audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    return SpeechChunks(np.ascontiguousarray(joined_audio, dtype=np.float32), tuple(joined),
                        tuple(original), duration)
