"""Real detectors on real audio: espeak-ng speech with known gaps, recordings, non-speech."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import rms_envelope
from test_vad_segmenter import Utterance, run, utterances

from desktop_asr.audio import decode_audio
from desktop_asr.vad import VadOptions, VadSegmenter, make_detector
from desktop_asr.vad.silero import SileroDetector
from desktop_asr.vad.webrtc import WebRtcDetector

SR = 16000
SENTENCES = [
    "The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.", "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.", "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
]
DETECTORS = [("silero", 2), ("webrtc", 2), ("webrtc", 3)]
# Block sizes that split frames every possible way, one sample at a time included.
BLOCKS = [1, 7, 333, 16000, 1, 511, 512, 513, 7, 4800]


def _speech_region(audio: np.ndarray) -> tuple[float, float]:
    """First and last 10 ms of espeak output that is louder than its digital silence."""
    loud = np.nonzero(rms_envelope(audio, SR) > 0.01)[0]
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SR), dtype=np.float32)


@pytest.fixture(scope="module")
def two_sentences(spoken) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """1 s silence, sentence, 1.2 s silence, sentence, 1 s silence; and the true regions."""
    a, b = (decode_audio(spoken(text)) for text in SENTENCES[:2])
    truth, at = [], 1.0
    for part, gap in ((a, 1.2), (b, 1.0)):
        lo, hi = _speech_region(part)
        truth.append((at + lo, at + hi))
        at += len(part) / SR + gap
    return np.concatenate([_silence(1.0), a, _silence(1.2), b, _silence(1.0)]), truth


@pytest.fixture(scope="module")
def long_speech(spoken) -> np.ndarray:
    """About 31 s of espeak sentences back to back: no gap reaches min_silence."""
    return np.concatenate([decode_audio(spoken(text)) for text in SENTENCES])


def _segment(audio: np.ndarray, kind: str, aggressiveness: int = 2, blocks: list[int] | None
             = None, **opts: float) -> list[Utterance]:
    options = VadOptions(kind=kind, aggressiveness=aggressiveness, **opts)
    return utterances(run(VadSegmenter(options), audio, blocks), audio)


def _uncovered(pieces: list[Utterance], audio: np.ndarray, level: float) -> float:
    """Share of 10 ms frames louder than ``level`` that no utterance contains."""
    loud = np.nonzero(rms_envelope(audio, SR) > level)[0]
    inside = np.zeros(len(audio) // 160 + 1, dtype=bool)
    for p in pieces:
        inside[p.start // 160:(p.end + 159) // 160] = True
    return float(np.mean(~inside[loud]))


def test_make_detector_builds_the_named_kind() -> None:
    assert isinstance(make_detector(VadOptions(kind="webrtc")), WebRtcDetector)
    silero = make_detector(VadOptions())
    assert isinstance(silero, SileroDetector) and silero.frame_samples == 512
    with pytest.raises(ValueError):
        WebRtcDetector(2).speech_probability(np.zeros(512, dtype=np.float32))


def test_silero_streaming_matches_faster_whisper_and_is_cheap(two_sentences) -> None:
    from faster_whisper.vad import get_vad_model

    audio = two_sentences[0]
    audio = audio[:len(audio) // 512 * 512]
    batch = get_vad_model()(audio).reshape(-1)
    detector = SileroDetector()
    frames = audio.reshape(-1, 512)
    began = time.perf_counter()
    streamed = np.array([detector.speech_probability(f) for f in frames])
    per_frame = (time.perf_counter() - began) / len(frames)
    np.testing.assert_allclose(streamed, batch, atol=1e-5)
    detector.reset()
    assert detector.speech_probability(frames[0]) == pytest.approx(streamed[0], abs=1e-6)
    # About 0.25 ms per 32 ms frame on one core of the development machine.
    assert per_frame < 0.002, f"Silero took {per_frame * 1000:.2f} ms per frame"


@pytest.mark.parametrize(("kind", "aggressiveness"), DETECTORS)
def test_two_sentences_between_gaps(two_sentences, kind: str, aggressiveness: int) -> None:
    audio, truth = two_sentences
    pieces = _segment(audio, kind, aggressiveness)
    assert len(pieces) == 2, [(p.start / SR, p.end / SR) for p in pieces]
    for piece, (lo, hi) in zip(pieces, truth):
        assert piece.reason == "silence"
        # The padded utterance holds all the speech, and the detected speech (pads removed)
        # is within 0.3 s of where it was put.
        assert piece.start / SR <= lo + 0.05 and piece.end / SR >= hi - 0.05
        assert abs(piece.start / SR + 0.2 - lo) < 0.3 and abs(piece.end / SR - 0.2 - hi) < 0.3


@pytest.mark.parametrize(("kind", "aggressiveness"), DETECTORS[:2])
def test_block_sizes_do_not_change_events(two_sentences, long_speech, kind: str,
                                          aggressiveness: int) -> None:
    for audio, opts in ((two_sentences[0], {}), (long_speech[:15 * SR], {"max_utterance": 4.0})):
        whole = _segment(audio, kind, aggressiveness, **opts)
        pieces = _segment(audio, kind, aggressiveness, BLOCKS, **opts)
        assert [(p.start, p.end, p.reason) for p in pieces] == \
            [(p.start, p.end, p.reason) for p in whole]
        assert all(np.array_equal(p.audio, q.audio) for p, q in zip(pieces, whole))


@pytest.mark.parametrize(("kind", "aggressiveness"), DETECTORS[:2])
def test_long_speech_is_cut_at_max_utterance_without_loss(long_speech, kind: str,
                                                          aggressiveness: int) -> None:
    pieces = _segment(long_speech, kind, aggressiveness, max_utterance=8.0)
    assert len(pieces) >= 4 and all(p.end - p.start <= 8 * SR for p in pieces)
    assert [p.reason for p in pieces[:-1]] == ["max_length"] * (len(pieces) - 1)
    for a, b in itertools.pairwise(pieces):
        assert b.start == a.end, "audio between two pieces of one speech was lost"
    assert _uncovered(pieces, long_speech, 0.01) == 0.0
    envelope = rms_envelope(long_speech, SR)
    for p in pieces[:-1]:
        # espeak pauses between sentences are digital silence: the cuts land in them.
        assert envelope[p.end // 160 - 2:p.end // 160 + 2].max() < 0.01


@pytest.mark.parametrize(("kind", "aggressiveness"), DETECTORS)
def test_non_speech_makes_no_utterance(kind: str, aggressiveness: int) -> None:
    rng = np.random.default_rng(7)
    t = np.arange(6 * SR) / SR
    signals = {
        "silence": np.zeros(6 * SR, dtype=np.float32),
        "noise": (rng.standard_normal(6 * SR) * 0.005).astype(np.float32),
        "loud noise": (rng.standard_normal(6 * SR) * 0.05).astype(np.float32),
        "tone": (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32),
    }
    for name, audio in signals.items():
        pieces = _segment(audio, kind, aggressiveness)
        if kind == "webrtc" and name in ("loud noise", "tone"):
            # webrtcvad's GMM calls steady tones and loud noise speech at every aggressiveness:
            # a known weakness, and why Silero is the default.
            assert pieces, f"webrtcvad now rejects {name}: update the docs"
        else:
            assert pieces == [], f"{kind} found speech in {name}"


@pytest.mark.parametrize(("kind", "aggressiveness", "min_silence", "expected"), [
    # Silero hears the pause after "bell," in the last sentence ("When you hear the bell, come
    # quickly") as an endpoint at min_silence 0.5; at 0.7 it finds the ten sentences exactly.
    ("silero", 2, 0.5, (10, 11)), ("silero", 2, 0.7, (10,)), ("webrtc", 2, 0.5, (10,)),
])
def test_harvard_sentences(speech_dir: Path, kind: str, aggressiveness: int, min_silence: float,
                           expected: tuple[int, ...]) -> None:
    audio = decode_audio(speech_dir / "OSR_us_000_0034_8k.wav")
    pieces = _segment(audio, kind, aggressiveness, min_silence=min_silence)
    assert len(pieces) in expected, [(p.start / SR, p.end / SR) for p in pieces]
    assert _uncovered(pieces, audio, 0.2 * np.percentile(rms_envelope(audio, SR), 99)) < 0.01


@pytest.mark.parametrize(("kind", "aggressiveness"), DETECTORS[:2])
def test_real_speech_cuts_fall_in_quiet_moments(speech_dir: Path, kind: str,
                                                aggressiveness: int) -> None:
    audio = np.concatenate([decode_audio(speech_dir / f"librivox_sense_and_sensibility_{n}.wav")
                            for n in ("0870", "0880", "0890", "0920", "0930")])
    pieces = _segment(audio, kind, aggressiveness, max_utterance=4.0)
    cuts = [p.end for p in pieces if p.reason == "max_length"]
    assert len(cuts) >= 3 and all(p.end - p.start <= 4 * SR for p in pieces)
    envelope = rms_envelope(audio, SR)
    for cut in cuts:
        here = envelope[cut // 160 - 1:cut // 160 + 1].max()
        assert here < np.median(envelope[cut // 160 - 150:cut // 160]), f"loud cut at {cut / SR}"
