"""Augmentation with torchaudio: speed perturbation and noise on waveforms, SpecAugment on mels."""

from __future__ import annotations

import random

import numpy as np

from training.config import Augment

SAMPLE_RATE = 16000


def perturb_waveform(samples: np.ndarray, augment: Augment, rng: random.Random) -> np.ndarray:
    """A speed-perturbed (tempo and pitch, as Kaldi's) and possibly noisy copy of a clip."""
    import torch
    import torchaudio.functional as F

    wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
    speed = rng.choice(augment.speeds)
    if abs(speed - 1.0) > 1e-6:
        # Playing 16 kHz audio resampled to 16000/speed back at 16 kHz changes its speed.
        # The rate is rounded to a multiple of 400 Hz: torchaudio's polyphase filter has one
        # phase per step of the reduced ratio, so 16000:17778 would cost 8889 of them and
        # 16000:17600 costs 11 (the speed is then 0.909 instead of 0.9).
        target = max(400, int(round(SAMPLE_RATE / speed / 400.0)) * 400)
        wave = F.resample(wave, SAMPLE_RATE, target)
    if augment.noise_snr_db is not None and rng.random() < augment.noise_prob:
        lo, hi = augment.noise_snr_db
        gen = torch.Generator().manual_seed(rng.randrange(2**31))
        noise = torch.randn(wave.shape, generator=gen)
        if rng.random() < 0.5:  # pink-ish: low-passed white noise, closer to room noise
            noise = F.lowpass_biquad(noise, SAMPLE_RATE, 1500.0)
        wave = F.add_noise(wave, noise, torch.tensor([rng.uniform(lo, hi)]))
    return wave[0].clamp(-1.0, 1.0).numpy()


def spec_augment(features: "torch.Tensor", frames: int) -> "torch.Tensor":
    """SpecAugment (two frequency and two time masks, torchaudio's) on one (mels, time) log-mel.

    Masks only the first ``frames`` frames, the real audio: masking Whisper's padding teaches
    nothing. Masked values become the clip's mean, not zero (zero is loud in Whisper's log-mel).
    Randomness comes from torch's generator, seeded once per run.
    """
    import torchaudio.transforms as T

    mels = features.shape[0]
    frames = max(1, min(frames, features.shape[1]))
    real = features[:, :frames].clone()
    fill = float(real.mean())
    freq = T.FrequencyMasking(freq_mask_param=max(1, mels // 8))
    time = T.TimeMasking(time_mask_param=max(1, min(40, frames // 10)))
    for mask in (freq, freq, time, time):
        real = mask(real[None], mask_value=fill)[0]
    features[:, :frames] = real
    return features
