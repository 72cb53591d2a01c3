"""Voice activity detection: webrtcvad or Silero frame classifiers and the utterance segmenter."""

from __future__ import annotations

from desktop_asr.vad.base import (
    SpeechAudio,
    SpeechEnded,
    SpeechStarted,
    VadEvent,
    VadOptions,
    VoiceDetector,
)
from desktop_asr.vad.segmenter import VadSegmenter


def make_detector(options: VadOptions) -> VoiceDetector:
    """A fresh detector of the kind ``options`` names; Silero's model is loaded once per process."""
    if options.kind == "webrtc":
        from desktop_asr.vad.webrtc import WebRtcDetector

        return WebRtcDetector(options.aggressiveness)
    from desktop_asr.vad.silero import SileroDetector

    return SileroDetector()


__all__ = ["SpeechAudio", "SpeechEnded", "SpeechStarted", "VadEvent", "VadOptions",
           "VadSegmenter", "VoiceDetector", "make_detector"]
