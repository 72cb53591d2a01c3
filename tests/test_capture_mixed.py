"""MixedSource with two real FileSources standing in for the microphone and system audio.

No microphone exists on the test machines, so file replays (real speech, real capture threads)
play both parts; the PulseAudio tests cover real devices.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import write_wav
from test_capture_file import read_all

from desktop_asr.audio.decode import decode_audio
from desktop_asr.capture import SAMPLE_RATE, AudioSource, CaptureError, FileSource, MixedSource


@pytest.fixture(scope="module")
def voices(spoken, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two different utterances of different lengths, as 16 kHz WAVs."""
    folder = tmp_path_factory.mktemp("mixed")
    a = decode_audio(spoken("Good morning, can you hear me?"))
    b = decode_audio(spoken("The weather today is cold and windy with a chance of rain."))
    return write_wav(folder / "mic.wav", a, SAMPLE_RATE), write_wav(folder / "sys.wav", b,
                                                                     SAMPLE_RATE)


def _mixed_audio(source: MixedSource) -> np.ndarray:
    chunks = read_all(source, timeout=20)
    position = 0.0
    for chunk in chunks:
        assert chunk.start == pytest.approx(position, abs=1e-9)   # contiguous
        position = chunk.end
    return np.concatenate([c.samples for c in chunks])


def test_two_channels_each_equal_to_its_own_input(voices: tuple[Path, Path]) -> None:
    mic_path, sys_path = voices
    mixed = MixedSource(FileSource(mic_path, speed=0), FileSource(sys_path, speed=0))
    assert isinstance(mixed, AudioSource)
    mixed.start()
    audio = _mixed_audio(mixed)
    mic, system = decode_audio(mic_path), decode_audio(sys_path)
    assert mixed.channel_labels == ("mic", "system")
    assert audio.shape == (max(len(mic), len(system)), 2)
    # Two files started within milliseconds: no padding, so each channel is its input exactly,
    # and the shorter one is followed by silence.
    assert np.array_equal(audio[: len(mic), 0], mic)
    assert np.array_equal(audio[: len(system), 1], system)
    assert not audio[len(mic):, 0].any()
    stats = mixed.stats()
    assert stats.frames_captured == len(mic) + len(system)
    assert stats.extra["mixed_padded_frames"] == len(system) - len(mic)


def _lead(later: FileSource, first: FileSource, speed: float) -> int:
    """Frames of stream time between two replays' starts (wall-clock gap times speed)."""
    frames = round((later.started_at - first.started_at) * speed * SAMPLE_RATE)
    return frames if frames > 0.02 * SAMPLE_RATE else 0     # within the mixer's tolerance


def test_a_source_started_later_is_placed_later(voices: tuple[Path, Path]) -> None:
    mic_path, sys_path = voices
    mic, system = FileSource(mic_path, speed=4), FileSource(sys_path, speed=4)
    mixed = MixedSource(mic, system)
    mic.start()
    time.sleep(0.25)          # 1 s of stream time at speed 4
    mixed.start()             # starts only the system side
    audio = _mixed_audio(mixed)
    lead = _lead(system, mic, 4)
    assert 0.9 * SAMPLE_RATE <= lead <= 1.6 * SAMPLE_RATE
    # The mic channel is untouched; the system channel is its input after exactly that lead.
    mic_audio, sys_audio = decode_audio(mic_path), decode_audio(sys_path)
    assert np.array_equal(audio[: len(mic_audio), 0], mic_audio)
    assert not audio[:lead, 1].any()
    assert np.array_equal(audio[lead:lead + len(sys_audio), 1], sys_audio)


def test_frames_one_side_dropped_become_silence_in_place(voices: tuple[Path, Path]) -> None:
    mic_path, sys_path = voices
    # The "mic" queue holds 0.2 s and nobody reads for a while: it overflows.
    mic = FileSource(mic_path, speed=10, queue_seconds=0.2)
    system = FileSource(sys_path, speed=10)
    mixed = MixedSource(mic, system)
    mixed.start()
    time.sleep(0.5)
    audio = _mixed_audio(mixed)
    mic_audio = decode_audio(mic_path)
    stats = mixed.stats()
    assert stats.overflows == 1 and stats.frames_dropped > 0
    kept = int(0.2 * SAMPLE_RATE)
    start = len(mic_audio) - kept
    # What survived sits exactly where it was spoken; the lost part is zeros, not shifted audio.
    assert not audio[:start, 0].any()
    assert np.array_equal(audio[start:len(mic_audio), 0], mic_audio[start:])
    sys_audio, lead = decode_audio(sys_path), _lead(system, mic, 10)
    assert np.array_equal(audio[lead:lead + len(sys_audio), 1], sys_audio)


def test_a_side_that_cannot_start_is_named(voices: tuple[Path, Path], tmp_path: Path) -> None:
    mic = FileSource(voices[0], speed=1)
    mixed = MixedSource(mic, FileSource(tmp_path / "missing.wav"))
    with pytest.raises(CaptureError, match=r"^system: .*missing\.wav"):
        mixed.start()
    # The mic side was stopped again: it ends at once instead of replaying for ~2 s.
    t0 = time.monotonic()
    read_all(mic, timeout=1.0)
    assert time.monotonic() - t0 < 0.5
