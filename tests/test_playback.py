"""Segment playback: the Player plays exactly [start, end) of a file, for real.

The output is a private PulseAudio server's null sink; what it plays is recorded from the
sink's monitor with SystemAudioSource and compared with the audio of the segment.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_fixtures import envelope_similarity, read_wav, rms_envelope, write_wav

from desktop_asr.audio.decode import decode_audio
from desktop_asr.audio.playback import PlaybackError, Player, sample_range
from desktop_asr.capture import SAMPLE_RATE, SourceEnded, SystemAudioSource

if TYPE_CHECKING:
    from pulse_fixtures import PulseServer

pytest_plugins = ("pulse_fixtures",)

FIRST = "Good morning everyone, this is the first speaker."
SECOND = "Kubernetes clusters scale automatically when traffic grows quickly at night."
PAUSE_S = 1.0


@pytest.fixture(scope="module")
def two_sentences(spoken, tmp_path_factory) -> tuple[Path, tuple[float, float],
                                                     tuple[float, float]]:
    """A WAV of two sentences with a pause between, and each sentence's (start, end)."""
    a, rate = read_wav(spoken(FIRST))
    b, _ = read_wav(spoken(SECOND))
    pause = np.zeros((int(rate * PAUSE_S), 1), dtype=np.float32)
    path = write_wav(tmp_path_factory.mktemp("play") / "two.wav",
                     np.concatenate([a, pause, b]), rate)
    start_b = (len(a) + len(pause)) / rate
    return path, (0.0, len(a) / rate), (start_b, start_b + len(b) / rate)


def voiced_seconds(x: np.ndarray) -> float:
    """Time from the first to the last loud 10 ms frame."""
    env = rms_envelope(x, SAMPLE_RATE)
    loud = np.flatnonzero(env > 0.05 * env.max())
    return float((loud[-1] - loud[0] + 1) * 0.010)


def best_alignment(captured: np.ndarray, reference: np.ndarray) -> float:
    """Envelope correlation of ``reference`` with the best-aligned part of ``captured``."""
    ec, er = rms_envelope(captured, SAMPLE_RATE), rms_envelope(reference, SAMPLE_RATE)
    if len(ec) < len(er):
        return 0.0
    scores = [np.corrcoef(ec[lag:lag + len(er)], er)[0, 1] for lag in range(len(ec) - len(er) + 1)]
    offset = int(np.nanargmax(scores)) * 160
    score, _ = envelope_similarity(captured[offset:offset + len(reference)], reference,
                                   SAMPLE_RATE)
    return score


def record_while(play, source: SystemAudioSource, player: Player, tail_s: float = 0.6
                 ) -> np.ndarray:
    """Record the sink's monitor while ``play()`` runs, until ``tail_s`` after it finished."""
    source.start()
    chunks = []
    play()
    deadline, ended = time.monotonic() + 20, None
    while time.monotonic() < deadline:
        chunk = source.read(0.05)
        if chunk is not None:
            chunks.append(chunk.samples[:, 0])
        if ended is None and not player.is_playing:
            ended = time.monotonic()
        if ended is not None and time.monotonic() - ended > tail_s:
            break
    source.stop()
    while True:
        try:
            chunk = source.read(0.5)
        except SourceEnded:
            break
        if chunk is not None:
            chunks.append(chunk.samples[:, 0])
    return np.concatenate(chunks)


def test_sample_range_is_clamped_and_rounded() -> None:
    assert sample_range(1.0, 2.0, 16000, 48000) == (16000, 32000)
    assert sample_range(0.00004, 0.5, 16000, 48000) == (1, 8000)
    assert sample_range(2.5, 9.0, 16000, 48000) == (40000, 48000)   # past the end: clamped
    assert sample_range(5.0, 6.0, 16000, 48000) == (48000, 48000)   # nothing left to play
    with pytest.raises(ValueError):
        sample_range(2.0, 1.0, 16000, 48000)


def test_player_plays_exactly_the_segment(pulse_server: PulseServer, two_sentences) -> None:
    wav, first, second = two_sentences
    reference = decode_audio(wav)
    seg_a = reference[int(first[0] * SAMPLE_RATE):int(first[1] * SAMPLE_RATE)]
    seg_b = reference[int(second[0] * SAMPLE_RATE):int(second[1] * SAMPLE_RATE)]
    player = Player(wav)
    source = SystemAudioSource()
    started = []

    def play() -> None:
        player.play(*second)
        started.append(player.is_playing)

    try:
        captured = record_while(play, source, player)
    finally:
        player.close()
    assert started == [True] and not player.is_playing
    first_sample, last_sample, rate = player.last_range
    assert rate == 44100  # the sink's rate: decoded for the device, not resampled by it
    assert (first_sample, last_sample) == (round(second[0] * rate), round(second[1] * rate))
    # The second sentence, whole and at speed; not the first one, not the whole file.
    assert best_alignment(captured, seg_b) > 0.8
    assert best_alignment(captured, seg_a) < 0.6
    assert voiced_seconds(captured) == pytest.approx(voiced_seconds(seg_b), abs=0.06)


def test_stop_ends_playback_early(pulse_server: PulseServer, two_sentences) -> None:
    wav, _, second = two_sentences
    player = Player(wav)
    source = SystemAudioSource()

    def play_then_stop() -> None:
        player.play(0.0, second[1])
        time.sleep(0.5)
        assert player.is_playing
        player.stop()

    try:
        captured = record_while(play_then_stop, source, player)
        assert not player.is_playing
        assert voiced_seconds(captured) < 1.0   # the file is over 7 s long
        player.play(second[0], second[0] + 0.3)
        assert player.wait(timeout=5)           # plays again after a stop, to the end
    finally:
        player.close()


def test_no_output_device_is_a_plain_error(no_pulse_server, two_sentences) -> None:
    import sounddevice as sd

    if any(d["max_output_channels"] > 0 for d in sd.query_devices()):
        pytest.skip("this machine has a sound card besides PulseAudio")
    wav, _, second = two_sentences
    player = Player(wav)
    with pytest.raises(PlaybackError) as info:
        player.play(*second)
    message = str(info.value)
    assert message.startswith("no audio output device found")
    assert "\n" not in message and "PortAudio" not in message and "-1" not in message
    assert not player.is_playing
