"""FileSource: real speech replayed on a real-time schedule through a real capture thread."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import write_wav

from desktop_asr.audio.decode import decode_audio
from desktop_asr.capture import (
    SAMPLE_RATE,
    AudioChunk,
    AudioSource,
    CaptureError,
    FileSource,
    SourceEnded,
)

SENTENCE = "Hello there, this is a test of live captions."


@pytest.fixture(scope="module")
def three_seconds(spoken, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exactly 3.0 s of espeak speech (padded with silence) as a 16 kHz WAV."""
    audio = decode_audio(spoken(SENTENCE))[: 3 * SAMPLE_RATE]
    audio = np.pad(audio, (0, 3 * SAMPLE_RATE - len(audio)))
    return write_wav(tmp_path_factory.mktemp("file") / "three.wav", audio, SAMPLE_RATE)


def read_all(source: AudioSource, timeout: float = 10.0) -> list[AudioChunk]:
    """Every chunk until SourceEnded (fails the test if that takes over ``timeout``)."""
    chunks: list[AudioChunk] = []
    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline, "source did not end"
        try:
            chunk = source.read(0.1)
        except SourceEnded:
            return chunks
        if chunk is not None:
            chunks.append(chunk)


@pytest.mark.parametrize("speed, expected_s", [(1.0, 3.0), (10.0, 0.3)])
def test_replays_in_real_time_or_n_times_faster(three_seconds: Path, speed: float,
                                                expected_s: float) -> None:
    source = FileSource(three_seconds, speed=speed)
    assert isinstance(source, AudioSource)
    t0 = time.monotonic()
    source.start()
    chunks = read_all(source)
    elapsed = time.monotonic() - t0
    assert 0.85 * expected_s <= elapsed <= 1.5 * expected_s + 0.3
    assert sum(c.frames for c in chunks) == 3 * SAMPLE_RATE
    # A chunk is handed out no earlier than its last frame "would have been captured".
    assert source.started_at is not None and source.started_at <= chunks[0].captured_at
    for chunk in chunks:
        assert chunk.captured_at == pytest.approx(source.started_at + chunk.end / speed,
                                                  abs=1e-6)


def test_chunks_are_contiguous_and_equal_the_decoded_file(three_seconds: Path) -> None:
    source = FileSource(three_seconds, speed=0, chunk_seconds=0.03)
    source.start()
    chunks = read_all(source)
    position = 0.0
    for chunk in chunks:
        assert chunk.start == pytest.approx(position, abs=1e-9)
        assert chunk.samples.shape[1] == 1 and chunk.samples.dtype == np.float32
        position = chunk.end
    captured = [c.captured_at for c in chunks]
    assert captured == sorted(captured)
    audio = np.concatenate([c.samples[:, 0] for c in chunks])
    assert np.array_equal(audio, decode_audio(three_seconds))
    with pytest.raises(SourceEnded):       # and it stays ended
        source.read(0)
    assert source.channel_labels == ("file",) and "three.wav" in source.label


def test_slow_reader_causes_counted_overflows_and_a_visible_gap(three_seconds: Path) -> None:
    source = FileSource(three_seconds, speed=10, queue_seconds=0.2)
    source.start()
    time.sleep(0.6)          # the whole file (0.3 s at speed 10) is replayed meanwhile
    chunks = read_all(source)
    stats = source.stats()
    read = sum(c.frames for c in chunks)
    assert stats.overflows == 1
    assert read == int(0.2 * SAMPLE_RATE)                 # only the newest 0.2 s survived
    assert stats.frames_dropped == 3 * SAMPLE_RATE - read
    assert stats.frames_captured == 3 * SAMPLE_RATE
    # The loss shows in stream time, and what survived is the file's last 0.2 s, in place.
    assert chunks[0].start == pytest.approx(stats.frames_dropped / SAMPLE_RATE)
    audio = np.concatenate([c.samples[:, 0] for c in chunks])
    assert np.array_equal(audio, decode_audio(three_seconds)[-read:])


def test_all_channels_kept_apart(tmp_path: Path) -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 300 * t), 0.3 * np.sin(2 * np.pi * 900 * t)], 1)
    path = write_wav(tmp_path / "stereo.wav", stereo, SAMPLE_RATE)
    source = FileSource(path, speed=0, channels="all")
    source.start()
    audio = np.concatenate([c.samples for c in read_all(source)])
    assert source.channel_labels == ("channel 1", "channel 2")
    assert audio.shape == (SAMPLE_RATE, 2)
    for k in range(2):
        assert np.array_equal(audio[:, k], decode_audio(path, channel=k))


def test_loop_keeps_going_until_stopped(three_seconds: Path) -> None:
    source = FileSource(three_seconds, speed=0, loop=True)
    source.start()
    got: list[np.ndarray] = []
    while sum(len(g) for g in got) < 7 * SAMPLE_RATE:
        chunk = source.read(1.0)
        assert chunk is not None
        got.append(chunk.samples[:, 0])
    source.stop()
    rest = read_all(source)       # what was queued at stop() is still delivered
    audio = np.concatenate(got + [c.samples[:, 0] for c in rest])
    original = decode_audio(three_seconds)
    assert np.array_equal(audio[:3 * SAMPLE_RATE], original)
    assert np.array_equal(audio[3 * SAMPLE_RATE:6 * SAMPLE_RATE], original)


def test_stop_mid_replay_keeps_what_was_captured(three_seconds: Path) -> None:
    source = FileSource(three_seconds, speed=2)
    source.start()
    time.sleep(0.5)
    source.stop()
    chunks = read_all(source)
    frames = sum(c.frames for c in chunks)
    assert 0.7 * SAMPLE_RATE <= frames <= 1.3 * SAMPLE_RATE     # ~1 s of audio in 0.5 s
    assert frames == source.stats().frames_captured


def test_missing_file_raises_capture_error_with_the_decode_message(tmp_path: Path) -> None:
    missing = tmp_path / "nope.wav"
    with pytest.raises(CaptureError) as info:
        FileSource(missing).start()
    assert str(missing) in str(info.value)
    assert str(info.value) == str(info.value.__cause__)      # the AudioDecodeError's message
    assert "\n" not in str(info.value)
