"""The segmenter's state machine, driven by a scripted detector so every boundary is exact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pytest

from desktop_asr.vad import (
    SpeechAudio,
    SpeechEnded,
    SpeechStarted,
    VadEvent,
    VadOptions,
    VadSegmenter,
)

SR = 16000
F = 512  # frame of the scripted detector, as Silero's


@dataclass
class Utterance:
    """One utterance as the events described it, in samples."""

    start: int
    end: int
    reason: str
    audio: np.ndarray


def _samples(t: float) -> int:
    n = round(t * SR)
    assert abs(t * SR - n) < 1e-6, f"{t} s is not on a sample"
    return n


def utterances(events: Sequence[VadEvent], audio: np.ndarray) -> list[Utterance]:
    """Check the event invariants and return the utterances they describe."""
    out: list[Utterance] = []
    start = pos = None
    chunks: list[np.ndarray] = []
    for ev in events:
        if isinstance(ev, SpeechStarted):
            assert start is None, "SpeechStarted inside an open utterance"
            start = pos = _samples(ev.start)
            assert start >= (out[-1].end if out else 0), "utterances overlap"
            chunks = []
        elif isinstance(ev, SpeechAudio):
            assert pos is not None, "SpeechAudio outside an utterance"
            assert _samples(ev.start) == pos, "SpeechAudio blocks are not contiguous"
            assert ev.samples.dtype == np.float32 and ev.samples.ndim == 1 and ev.samples.size
            pos += ev.samples.size
            chunks.append(ev.samples)
        else:
            assert isinstance(ev, SpeechEnded) and start is not None and pos is not None
            assert _samples(ev.end) == pos, "the utterance's audio does not reach its end"
            assert ev.reason in ("silence", "max_length", "flush")
            joined = np.concatenate(chunks)
            assert pos > start and np.array_equal(joined, audio[start:pos])
            out.append(Utterance(start, pos, ev.reason, joined))
            start = pos = None
    assert start is None, "an utterance was left open after flush()"
    return out


def run(seg: VadSegmenter, audio: np.ndarray, blocks: Sequence[int] | None = None
        ) -> list[VadEvent]:
    """Feed ``audio`` whole or in blocks of the given sizes (cycled), then flush."""
    events: list[VadEvent] = []
    if blocks is None:
        events += seg.feed(audio)
    else:
        at, i = 0, 0
        while at < len(audio):
            events += seg.feed(audio[at:at + blocks[i % len(blocks)]])
            at += blocks[i % len(blocks)]
            i += 1
    return events + seg.flush()


class Scripted:
    """A detector whose probability is the frame's mean: the audio is the script."""

    frame_samples = F

    def speech_probability(self, frame: np.ndarray) -> float:
        """The scripted probability."""
        return float(frame.mean())

    def reset(self) -> None:
        """Nothing to forget."""


def script(*runs: tuple[int, float]) -> np.ndarray:
    """Audio whose frames carry the given probabilities: (frames, probability) runs."""
    return np.concatenate([np.full(n * F, p, dtype=np.float32) for n, p in runs])


def segment(audio: np.ndarray, blocks: Sequence[int] | None = None, **opts: float
            ) -> list[Utterance]:
    seg = VadSegmenter(VadOptions(**opts), Scripted())
    return utterances(run(seg, audio, blocks), audio)


def test_onset_and_endpoint_are_padded_exactly() -> None:
    (u,) = segment(script((40, 0.0), (60, 0.9), (40, 0.0)))
    assert (u.start, u.end, u.reason) == (40 * F - 3200, 100 * F + 3200, "silence")


def test_hysteresis_min_speech_and_silence_counting() -> None:
    # 0.4 is below the start threshold (0.5) but above the continue threshold (0.35).
    assert segment(script((40, 0.0), (30, 0.4), (40, 0.0))) == []
    (u,) = segment(script((40, 0.0), (10, 0.9), (30, 0.4), (10, 0.9), (40, 0.0)))
    assert u.end == 90 * F + 3200
    # Once a silence began, in-between frames do not hold the utterance open (as in Silero).
    (u,) = segment(script((40, 0.0), (10, 0.9), (5, 0.1), (20, 0.4), (10, 0.0)))
    assert (u.end, u.reason) == (50 * F + 3200, "silence")
    # 3 frames (96 ms) are shorter than min_speech (150 ms): a blip, not speech.
    assert segment(script((40, 0.0), (3, 0.9), (40, 0.0))) == []


def test_start_clamped_at_zero_and_at_previous_end() -> None:
    audio = script((2, 0.0), (20, 0.9), (17, 0.0), (20, 0.9), (30, 0.0))
    first, second = segment(audio, pad=0.4)
    assert first.start == 0
    # The trailing pad is capped at min_silence, the next start at the previous end.
    assert first.end == 22 * F + 6400 and second.start == first.end


def test_max_length_cuts_at_the_quietest_frame_without_losing_audio() -> None:
    # Window for a cut: the last 1.5 s before 4 s. A low dip before it must not be used.
    audio = script((10, 0.0), (40, 0.9), (1, 0.1), (40, 0.9), (1, 0.2), (10, 0.9),
                   (1, 0.6), (60, 0.9), (30, 0.0))
    pieces = segment(audio, max_utterance=4.0)
    assert [p.reason for p in pieces] == ["max_length", "silence"]
    assert pieces[0].end == 91 * F + F // 2, "not cut at the 0.2 frame"
    assert pieces[1].start == pieces[0].end
    assert all(p.end - p.start <= 4 * SR for p in pieces)
    chunked = segment(audio, [1, 7, 333, 16000, 512], max_utterance=4.0)
    assert [(p.start, p.end, p.reason) for p in chunked] == \
        [(p.start, p.end, p.reason) for p in pieces]


def test_max_length_cuts_in_a_pause_when_speech_resumes() -> None:
    # Start 0.12 s, limit 4.12 s, window from 2.62 s; the pause is frames 100-105 (3.2 s).
    audio = script((10, 0.0), (90, 0.9), (6, 0.1), (60, 0.9), (30, 0.0))
    seg = VadSegmenter(VadOptions(max_utterance=4.0), Scripted())
    events = seg.feed(audio[:107 * F])
    cut = [e for e in events if isinstance(e, SpeechEnded)]
    # Cut as soon as speech resumes, not at the limit: in the pause, one pad after the speech.
    assert cut and cut[0].reason == "max_length" and _samples(cut[0].end) == 100 * F + 1536
    pieces = utterances(events + seg.feed(audio[107 * F:]) + seg.flush(), audio)
    assert pieces[1].start == pieces[0].end and pieces[1].reason == "silence"
    # A pause that turns into an endpoint is an ordinary silence ending.
    audio = script((10, 0.0), (90, 0.9), (30, 0.0))
    assert [p.reason for p in segment(audio, max_utterance=4.0)] == ["silence"]


def test_audio_is_released_as_it_arrives() -> None:
    audio = script((10, 0.0), (200, 0.9), (30, 0.0))
    seg = VadSegmenter(VadOptions(max_utterance=8.0), Scripted())
    released = 0
    for at in range(0, 150 * F, 100):
        for ev in seg.feed(audio[at:at + 100]):
            if isinstance(ev, SpeechAudio):
                released = _samples(ev.start) + ev.samples.size
        if seg.in_speech:
            # Even samples not yet classified are out (up to the pad after the last frame).
            assert released == at + 100
    assert seg.time == 150 * F / SR


def test_flush_ends_open_speech_with_every_sample() -> None:
    audio = script((10, 0.0), (40, 0.9))[:-100]
    (u,) = segment(audio, blocks=[1000])
    assert (u.end, u.reason) == (len(audio), "flush")


def test_reset_and_input_validation() -> None:
    audio = script((10, 0.0), (40, 0.9), (30, 0.0))
    seg = VadSegmenter(VadOptions(), Scripted())
    first = utterances(run(seg, audio), audio)
    seg.reset()
    assert seg.time == 0.0 and not seg.in_speech
    again = utterances(run(seg, audio), audio)
    assert [(u.start, u.end) for u in first] == [(u.start, u.end) for u in again]
    with pytest.raises(ValueError):
        seg.feed(np.zeros((10, 2), dtype=np.float32))
    with pytest.raises(ValueError):
        seg.feed(np.zeros(10, dtype=np.int16))
    with pytest.raises(ValueError):
        replace(VadOptions(), max_utterance=0.5)
