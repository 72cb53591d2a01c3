"""StreamResampler: chunked equals whole, no clicks at chunk edges, no drift over long runs."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_asr.capture import StreamResampler


def _sine(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _run(resampler: StreamResampler, signal: np.ndarray, block: int) -> np.ndarray:
    parts = [resampler.process(signal[i:i + block]) for i in range(0, len(signal), block)]
    parts.append(resampler.flush())
    return np.concatenate(parts)


def test_48k_sine_in_10ms_chunks_equals_one_go_and_is_clean() -> None:
    x = _sine(440, 48000, 2.0)[:, np.newaxis]
    chunked = _run(StreamResampler(48000, 1), x, 480)
    whole = _run(StreamResampler(48000, 1), x, len(x))
    assert chunked.shape == whole.shape == (32000, 1)
    assert chunked.dtype == np.float32
    assert np.max(np.abs(chunked - whole)) < 1e-5
    # Against the ideal 16 kHz sine (away from the filter's start-up and end): no clicks at
    # the 200 chunk boundaries, just the filter's tiny passband error.
    ideal = _sine(440, 16000, 2.0)
    middle = slice(200, 31800)
    assert np.max(np.abs(chunked[middle, 0] - ideal[middle])) < 0.01
    assert np.max(np.abs(np.diff(chunked[middle, 0]))) < 1.1 * np.max(np.abs(np.diff(ideal)))


def test_output_length_tracks_input_with_no_drift_over_ten_minutes() -> None:
    rate = 44100
    resampler = StreamResampler(rate, 1)
    rng = np.random.default_rng(0)
    block = np.zeros((4096, 1), dtype=np.float32)
    fed = produced = 0
    worst = 0
    while fed < rate * 600:
        n = int(rng.integers(64, 4096))       # irregular, like PortAudio callbacks
        produced += resampler.process(block[:n]).shape[0]
        fed += n
        worst = max(worst, abs(produced - fed * 16000 / rate))
    produced += resampler.flush().shape[0]
    assert worst < 64                          # only the filter's constant delay, never growing
    assert abs(produced - fed * 16000 / rate) <= 1


def test_channels_stay_apart() -> None:
    left, right = _sine(300, 48000, 1.0), _sine(1200, 48000, 1.0, amp=0.2)
    out = _run(StreamResampler(48000, 2), np.stack([left, right], axis=1), 480)
    assert out.shape == (16000, 2)
    spectrum = np.abs(np.fft.rfft(out[1000:15000], axis=0))
    freqs = np.fft.rfftfreq(14000, 1 / 16000)
    assert freqs[np.argmax(spectrum[:, 0])] == pytest.approx(300, abs=2)
    assert freqs[np.argmax(spectrum[:, 1])] == pytest.approx(1200, abs=2)
    assert np.sqrt(np.mean(out[1000:15000, 1] ** 2)) == pytest.approx(0.2 / np.sqrt(2), rel=0.02)


def test_many_channels_and_integer_input() -> None:
    # 9 channels: PyAV crashes on planar frames with 8 or more, so this guards the packed path.
    x = np.stack([_sine(200 + 100 * k, 44100, 0.5) for k in range(9)], axis=1)
    pcm = np.round(x * 32767).astype(np.int16)
    out = _run(StreamResampler(44100, 9), pcm, 441)
    assert out.shape == (8000, 9) and out.dtype == np.float32
    reference = _run(StreamResampler(44100, 9), x, 441)
    assert np.max(np.abs(out - reference)) < 1e-3


def test_16k_input_passes_through_unchanged() -> None:
    x = _sine(440, 16000, 0.3)[:, np.newaxis]
    resampler = StreamResampler(16000, 1)
    assert resampler.passthrough
    assert np.array_equal(_run(resampler, x, 160), x)


def test_rejects_bad_rates_and_channel_counts() -> None:
    with pytest.raises(ValueError):
        StreamResampler(44100.5, 1)
    with pytest.raises(ValueError):
        StreamResampler(48000, 0)
    with pytest.raises(ValueError, match="expected 2 channels"):
        StreamResampler(48000, 2).process(np.zeros((10, 1), np.float32))
