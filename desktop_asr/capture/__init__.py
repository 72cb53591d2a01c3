"""Live audio sources: microphone, system audio, both, or a file replayed in real time.

Every source implements :class:`AudioSource`: a capture thread that never blocks fills a
bounded queue (overflows counted in :class:`SourceStats`), and ``read`` hands out 16 kHz
float32 :class:`AudioChunk` values.
"""

from __future__ import annotations

from desktop_asr.capture._portaudio import rescan_devices
from desktop_asr.capture.base import (
    SAMPLE_RATE,
    AudioChunk,
    AudioSource,
    CaptureError,
    SourceEnded,
    SourceStats,
)
from desktop_asr.capture.device_source import DeviceSource
from desktop_asr.capture.devices import DeviceInfo, list_devices, open_source
from desktop_asr.capture.file_source import FileSource
from desktop_asr.capture.mixed import MixedSource
from desktop_asr.capture.queue import Block, FrameQueue
from desktop_asr.capture.resample import StreamResampler
from desktop_asr.capture.system_audio import (
    SystemAudioSource,
    SystemSourceInfo,
    default_monitor,
    list_system_sources,
)

__all__ = [
    "SAMPLE_RATE", "AudioChunk", "AudioSource", "Block", "CaptureError", "DeviceInfo",
    "DeviceSource", "FileSource", "FrameQueue", "MixedSource", "SourceEnded", "SourceStats",
    "StreamResampler", "SystemAudioSource", "SystemSourceInfo", "default_monitor",
    "list_devices", "list_system_sources", "open_source", "rescan_devices",
]
