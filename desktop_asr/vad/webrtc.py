"""WebRTC voice detector: a fast GMM classifier on 30 ms frames, speech or not (0 or 1)."""

from __future__ import annotations

import logging

import numpy as np

from desktop_asr.errors import MissingExtraError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
# webrtcvad accepts 10, 20 or 30 ms; 30 ms gives the steadiest decisions per call.
FRAME_SAMPLES = 480


class WebRtcDetector:
    """webrtcvad behind the VoiceDetector protocol; probabilities are 0.0 or 1.0."""

    frame_samples: int = FRAME_SAMPLES

    def __init__(self, aggressiveness: int = 2) -> None:
        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError("webrtc aggressiveness must be 0, 1, 2 or 3")
        try:
            import webrtcvad
        except ImportError as exc:
            raise MissingExtraError("WebRTC voice detection", "webrtcvad", "core") from exc
        self._module = webrtcvad
        self.aggressiveness = aggressiveness
        self._vad = webrtcvad.Vad(aggressiveness)

    def speech_probability(self, frame: np.ndarray) -> float:
        """1.0 if webrtcvad calls the 30 ms ``frame`` speech, else 0.0."""
        if frame.shape != (FRAME_SAMPLES,):
            raise ValueError(f"webrtc frames must hold {FRAME_SAMPLES} samples, got {frame.shape}")
        pcm = np.round(np.clip(frame, -1.0, 1.0) * 32767.0).astype("<i2")
        return 1.0 if self._vad.is_speech(pcm.tobytes(), SAMPLE_RATE) else 0.0

    def reset(self) -> None:
        """Start afresh: webrtcvad adapts its noise model over time and cannot be rewound."""
        self._vad = self._module.Vad(self.aggressiveness)
