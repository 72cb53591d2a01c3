"""Log-mel spectrogram and MFCC of 16 kHz audio, in numpy, for the report's plots.

Conventions follow librosa's defaults (Slaney mel scale and filter normalisation, centred frames,
dB with an 80 dB floor, orthonormal DCT-II), so the pictures read like the ones speech engineers
know; the tests compare against librosa itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400          # 25 ms windows
HOP = 160            # 10 ms apart
N_MELS = 80
N_MFCC = 13
TOP_DB = 80.0


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    # Slaney: linear below 1 kHz, logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    mel[log_part] = 15.0 + np.log(hz[log_part] / 1000.0) / (np.log(6.4) / 27.0)
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    log_part = mel >= 15.0
    hz[log_part] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel[log_part] - 15.0))
    return hz


def mel_filters(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT,
                n_mels: int = N_MELS) -> np.ndarray:
    """Triangular mel filters (n_mels, n_fft // 2 + 1), each normalised to unit area."""
    fft_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0],
                                   _hz_to_mel(np.array([sample_rate / 2]))[0], n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def power_spectrogram(audio: np.ndarray, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """|STFT|^2 with a periodic Hann window over centred frames: (n_fft // 2 + 1, frames)."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    x = np.pad(x, (n_fft // 2, n_fft // 2))
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    frames = 1 + (x.size - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    return (np.abs(np.fft.rfft(x[index] * window, axis=1)) ** 2).T


def power_to_db(power: np.ndarray, top_db: float = TOP_DB) -> np.ndarray:
    """10 log10(power), floored ``top_db`` below the loudest bin."""
    db = 10.0 * np.log10(np.maximum(power, 1e-10))
    return np.maximum(db, db.max() - top_db) if db.size else db


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II basis (n_out, n_in)."""
    n = np.arange(n_in)[None, :]
    k = np.arange(n_out)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    return basis


@dataclass(frozen=True, eq=False)
class Features:
    """Log-mel (dB) and MFCC frames of one clip; frame i is centred at i * hop / sample_rate."""

    log_mel: np.ndarray
    mfcc: np.ndarray
    hop_seconds: float

    @property
    def frames(self) -> int:
        """Number of frames."""
        return int(self.log_mel.shape[1])


def features(audio: np.ndarray, sample_rate: int = SAMPLE_RATE, n_mels: int = N_MELS,
             n_mfcc: int = N_MFCC) -> Features:
    """Log-mel spectrogram (dB) and MFCCs of mono audio."""
    mel = mel_filters(sample_rate, N_FFT, n_mels) @ power_spectrogram(audio)
    log_mel = power_to_db(mel)
    mfcc = dct_matrix(n_mfcc, n_mels) @ log_mel
    return Features(log_mel=log_mel.astype(np.float32), mfcc=mfcc.astype(np.float32),
                    hop_seconds=HOP / sample_rate)
