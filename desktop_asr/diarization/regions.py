"""Speech regions of a whole recording from the project's Silero voice detector."""

from __future__ import annotations

import numpy as np

from desktop_asr.diarization.types import SpeechRegion
from desktop_asr.vad import VadOptions, VoiceDetector, make_detector

SAMPLE_RATE = 16000
# As in desktop_asr.vad.segmenter: speech keeps going until the probability falls this far
# below the threshold that started it.
HYSTERESIS = 0.15


def speech_probabilities(audio: np.ndarray, detector: VoiceDetector | None = None) -> np.ndarray:
    """Speech probability of each detector frame (Silero: 512 samples, 32 ms) of ``audio``."""
    det = detector if detector is not None else make_detector(VadOptions(kind="silero"))
    det.reset()
    n = int(det.frame_samples)
    frames = audio.size // n
    probs = np.empty(frames, dtype=np.float32)
    data = np.ascontiguousarray(audio[: frames * n], dtype=np.float32).reshape(frames, n)
    for i in range(frames):
        probs[i] = det.speech_probability(data[i])
    return probs


def regions_from_probabilities(probs: np.ndarray, frame_seconds: float, duration: float, *,
                               threshold: float = 0.5, min_speech: float = 0.2,
                               min_silence: float = 0.25, pad: float = 0.05
                               ) -> list[SpeechRegion]:
    """Hysteresis thresholding, short-pause bridging, short-blip removal and padding."""
    off = max(threshold - HYSTERESIS, 0.01)
    spans: list[list[float]] = []
    start: int | None = None
    for i, p in enumerate(probs):
        if start is None and p >= threshold:
            start = i
        elif start is not None and p < off:
            spans.append([start * frame_seconds, i * frame_seconds])
            start = None
    if start is not None:
        spans.append([start * frame_seconds, len(probs) * frame_seconds])
    merged: list[list[float]] = []
    for span in spans:
        if merged and span[0] - merged[-1][1] < min_silence:
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    out: list[SpeechRegion] = []
    for s, e in merged:
        if e - s < min_speech:
            continue
        s, e = max(0.0, s - pad), min(duration, e + pad)
        if out and s <= out[-1].end:
            out[-1] = SpeechRegion(out[-1].start, max(out[-1].end, e))
        else:
            out.append(SpeechRegion(s, e))
    return out


def speech_regions(audio: np.ndarray, *, threshold: float = 0.5, min_speech: float = 0.2,
                   min_silence: float = 0.25, pad: float = 0.05,
                   detector: VoiceDetector | None = None) -> list[SpeechRegion]:
    """Speech regions of 16 kHz mono ``audio`` found by the Silero VAD."""
    det = detector if detector is not None else make_detector(VadOptions(kind="silero"))
    probs = speech_probabilities(audio, det)
    return regions_from_probabilities(probs, det.frame_samples / SAMPLE_RATE,
                                      audio.size / SAMPLE_RATE, threshold=threshold,
                                      min_speech=min_speech, min_silence=min_silence, pad=pad)
