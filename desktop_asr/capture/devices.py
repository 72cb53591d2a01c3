"""What can be captured (inputs and system-audio sources) and turning a user's choice into a source."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

from desktop_asr.capture import _portaudio as pa
from desktop_asr.capture.base import AudioSource, CaptureError
from desktop_asr.capture.device_source import DeviceSource
from desktop_asr.capture.file_source import FileSource
from desktop_asr.capture.mixed import MixedSource
from desktop_asr.capture.system_audio import SystemAudioSource, list_system_sources

__all__ = ["FILE_PREFIX", "SYSTEM_PREFIX", "DeviceInfo", "list_devices", "open_source"]

logger = logging.getLogger(__name__)

SYSTEM_PREFIX = "system:"
FILE_PREFIX = "file:"
# Where system-audio sources come from, per platform (see system_audio.py).
_SYSTEM_HOSTAPI = {"win32": "Windows WASAPI", "darwin": "Core Audio"}


@dataclass(frozen=True)
class DeviceInfo:
    """One thing that can be captured; ``id`` is what :func:`open_source` accepts."""

    id: str                     # "3" (PortAudio input) or "system:<source name>"
    name: str
    kind: str                   # "input" | "system"
    channels: int
    default_samplerate: float
    is_default: bool
    hostapi: str


def list_devices(*, rescan: bool = False) -> list[DeviceInfo]:
    """Input devices (PortAudio) followed by system-audio sources; empty when there are none.

    ``rescan`` makes PortAudio look for devices again (plugged in since it started).
    """
    found: list[DeviceInfo] = []
    try:
        sd = pa.sounddevice()
    except CaptureError as exc:
        logger.warning("%s", exc)
        sd = None
    if sd is not None:
        if rescan:
            pa.rescan_devices()
        default = pa.default_input_index(sd)
        for dev in pa.input_devices(sd):
            found.append(DeviceInfo(
                id=str(dev["index"]), name=str(dev["name"]), kind="input",
                channels=int(dev["max_input_channels"]),
                default_samplerate=float(dev["default_samplerate"]),
                is_default=dev["index"] == default, hostapi=pa.hostapi_name(sd, dev["hostapi"])))
    for src in list_system_sources():
        found.append(DeviceInfo(
            id=SYSTEM_PREFIX + src.name, name=src.label, kind="system", channels=src.channels,
            default_samplerate=float(src.samplerate), is_default=src.is_default,
            hostapi=_SYSTEM_HOSTAPI.get(sys.platform, "PulseAudio")))
    return found


def open_source(spec: str | None = "mic", *, speed: float = 1.0, loop: bool = False
                ) -> AudioSource:
    """A (not yet started) source for a CLI/UI choice.

    ``spec``: "mic" (default input), "system" (default output's audio), "both" (mic +
    system as two channels), an input id or name from :func:`list_devices`,
    "system:<source name>", or "file:<path>" / an existing file path (replayed at ``speed``).
    """
    choice = (spec or "mic").strip()
    lowered = choice.lower()
    if lowered in ("mic", "microphone", "default"):
        return DeviceSource(None)
    if lowered == "system":
        return SystemAudioSource()
    if lowered in ("both", "mic+system"):
        return MixedSource(DeviceSource(None), SystemAudioSource())
    if lowered.startswith(SYSTEM_PREFIX):
        return SystemAudioSource(choice[len(SYSTEM_PREFIX):] or None)
    if lowered.startswith(FILE_PREFIX):
        return FileSource(choice[len(FILE_PREFIX):], speed=speed, loop=loop)
    if os.path.isfile(choice):
        return FileSource(choice, speed=speed, loop=loop)
    if choice.lstrip("-").isdigit():
        return DeviceSource(int(choice))
    if any(s.name == choice for s in list_system_sources()):
        return SystemAudioSource(choice)
    return DeviceSource(choice)
