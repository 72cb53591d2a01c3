"""Audio input: decode any audio or video file to 16 kHz mono float32 samples."""

from __future__ import annotations

from desktop_asr.audio.decode import SAMPLE_RATE, AudioInfo, decode_audio, probe_audio

__all__ = ["SAMPLE_RATE", "AudioInfo", "decode_audio", "probe_audio"]
