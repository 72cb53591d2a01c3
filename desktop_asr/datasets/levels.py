"""Level checks of one recording: clipping, silence, too quiet, too short or long.

One implementation for everything that records or validates training audio: the app's recording
wizard checks each take with it, the terminal recorder and the dataset validator of the
training module too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
MIN_SECONDS = 0.5
MAX_SECONDS = 30.0          # one Whisper window; longer clips cannot be learnt from whole
CLIP_LEVEL = 0.999          # |sample| at or above this is full scale
CLIP_FRACTION = 0.001       # more than 0.1 % of samples at full scale: audibly clipped
SILENCE_DBFS = -55.0        # loudest 50 ms below this: nothing was recorded
QUIET_DBFS = -35.0          # loudest 50 ms below this: very far from the microphone


@dataclass(frozen=True)
class LevelReport:
    """Measured levels of a clip and what is wrong with it (empty ``problems``: fine)."""

    duration: float
    peak: float
    peak_dbfs: float         # of the loudest 50-ms window's RMS
    clipped_fraction: float
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the clip can be used as it is."""
        return not self.errors

    def summary(self) -> str:
        """One line for a person: length, loudness, and what is wrong if anything."""
        head = f"{self.duration:.1f} s, loudest {self.peak_dbfs:.0f} dBFS"
        issues = [*self.errors, *self.warnings]
        return head + (" — " + "; ".join(issues) if issues else " — sounds good")


def _dbfs(value: float) -> float:
    return float(20.0 * np.log10(max(value, 1e-10)))


def check_levels(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> LevelReport:
    """Measure a mono clip and say, in plain words, whether it is usable for training."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    duration = x.size / sample_rate
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    hop = max(1, int(0.05 * sample_rate))
    usable = (x.size // hop) * hop
    if usable:
        frames = x[:usable].astype(np.float64).reshape(-1, hop)
        loudest = float(np.sqrt(np.max(np.mean(frames * frames, axis=1))))
    else:
        loudest = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    clipped = float(np.mean(np.abs(x) >= CLIP_LEVEL)) if x.size else 0.0
    errors: list[str] = []
    warnings: list[str] = []
    if duration < MIN_SECONDS:
        errors.append(f"too short ({duration:.2f} s; at least {MIN_SECONDS:g} s)")
    elif duration > MAX_SECONDS:
        errors.append(f"too long ({duration:.1f} s; at most {MAX_SECONDS:g} s, one Whisper "
                      "window: split it)")
    level = _dbfs(loudest)
    if x.size and level < SILENCE_DBFS:
        errors.append(f"silent (loudest part {level:.0f} dBFS): check the microphone and "
                      "its mute switch")
    elif x.size and level < QUIET_DBFS:
        warnings.append(f"very quiet (loudest part {level:.0f} dBFS): move closer to the "
                        "microphone or raise its gain")
    if clipped > CLIP_FRACTION:
        warnings.append(f"clipped ({clipped * 100:.1f} % of samples at full scale): lower "
                        "the input gain or speak a little further away")
    return LevelReport(duration, peak, level, clipped, tuple(errors), tuple(warnings))
