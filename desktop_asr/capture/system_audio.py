"""System audio (what the computer plays): PulseAudio/PipeWire monitors, WASAPI loopback, BlackHole.

Only the Linux path is tested (against a real private PulseAudio server with a null sink);
the Windows and macOS paths follow the platforms' documented device names and are untested.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from desktop_asr.capture import _portaudio as pa
from desktop_asr.capture.base import CaptureError
from desktop_asr.capture.device_source import DeviceSource

__all__ = ["SystemAudioSource", "SystemSourceInfo", "default_monitor", "list_system_sources"]

logger = logging.getLogger(__name__)

_PACTL_TIMEOUT_S = 5
# Names of macOS virtual devices that loop the output back as an input.
_MAC_LOOPBACK_NAMES = ("blackhole", "loopback", "soundflower")
# libpulse reads PULSE_SOURCE when a stream connects; the environment is process-wide.
_env_lock = threading.Lock()


@dataclass(frozen=True)
class SystemSourceInfo:
    """A capturable copy of what an output plays (a PulseAudio monitor source, on Linux)."""

    name: str               # e.g. "alsa_output.pci-0000_00_1f.3.analog-stereo.monitor"
    description: str        # the output's description, e.g. "Built-in Audio Analog Stereo"
    label: str              # "System audio: <description>"
    is_default: bool = False
    channels: int = 2
    samplerate: int = 48000


def _pactl(*args: str) -> str | None:
    exe = shutil.which("pactl")
    if exe is None:
        return None
    try:
        proc = subprocess.run([exe, *args], capture_output=True, text=True,
                              timeout=_PACTL_TIMEOUT_S, env={**os.environ, "LC_ALL": "C"},
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.debug("pactl %s: %s", " ".join(args), exc)
        return None
    if proc.returncode != 0:
        logger.debug("pactl %s failed: %s", " ".join(args), proc.stderr.strip())
        return None
    return proc.stdout


def _spec(text: str) -> tuple[int, int]:
    """(channels, rate) from a sample spec such as "s16le 2ch 44100Hz"."""
    ch = re.search(r"(\d+)ch", text)
    hz = re.search(r"(\d+)Hz", text)
    return (int(ch.group(1)) if ch else 2), (int(hz.group(1)) if hz else 48000)


def default_sink() -> str | None:
    """Name of the default PulseAudio/PipeWire output, or None."""
    out = _pactl("get-default-sink")
    if out and out.strip():
        return out.strip()
    info = _pactl("info") or ""   # pactl before 15 has no get-default-sink
    match = re.search(r"^Default Sink:\s*(\S+)", info, re.MULTILINE)
    return match.group(1) if match else None


def default_monitor() -> str | None:
    """Monitor source of the default output ("<sink>.monitor"), or None."""
    sink = default_sink()
    return f"{sink}.monitor" if sink else None


def _json_list(kind: str) -> list[dict[str, Any]] | None:
    out = _pactl("-f", "json", "list", kind)
    if out is None:
        return None
    try:
        data = json.loads(out)
    except ValueError:   # pactl before 16 ignores -f json and prints text
        return None
    return data if isinstance(data, list) else None


def _linux_sources() -> list[SystemSourceInfo]:
    sink = default_sink()
    sources = _json_list("sources")
    if sources is not None:
        sinks = {s.get("name"): s.get("description", "") for s in _json_list("sinks") or []}
        found = []
        for src in sources:
            # For a source, pactl's "monitor_source" names the sink it monitors ("" if none).
            of_sink = src.get("monitor_source") or ""
            props = src.get("properties") or {}
            if not of_sink and props.get("device.class") != "monitor":
                continue
            desc = sinks.get(of_sink) or src.get("description") or src["name"]
            ch, rate = _spec(src.get("sample_specification", ""))
            found.append(SystemSourceInfo(src["name"], desc, f"System audio: {desc}",
                                          of_sink == sink, ch, rate))
        return found
    found = []
    for line in (_pactl("list", "sources", "short") or "").splitlines():
        cols = line.split("\t")
        if len(cols) < 2 or not cols[1].endswith(".monitor"):
            continue
        of_sink = cols[1][: -len(".monitor")]
        ch, rate = _spec(cols[3] if len(cols) > 3 else "")
        found.append(SystemSourceInfo(cols[1], of_sink, f"System audio: {of_sink}",
                                      of_sink == sink, ch, rate))
    return found


def _wasapi_loopbacks(sd: ModuleType) -> list[dict[str, Any]]:
    # PortAudio builds since its 2022 WASAPI loopback support list every output a second
    # time as an input named "<output> [Loopback]".
    return [d for d in pa.input_devices(sd) if "[Loopback]" in d["name"]
            and "WASAPI" in pa.hostapi_name(sd, d["hostapi"])]


def _mac_loopbacks(sd: ModuleType) -> list[dict[str, Any]]:
    return [d for d in pa.input_devices(sd)
            if any(n in d["name"].lower() for n in _MAC_LOOPBACK_NAMES)]


def list_system_sources() -> list[SystemSourceInfo]:
    """System-audio sources: monitors on Linux (pactl), loopback inputs on Windows/macOS."""
    if sys.platform.startswith("linux"):
        return _linux_sources()
    try:
        sd = pa.sounddevice()
    except CaptureError:
        return []
    devices = _wasapi_loopbacks(sd) if sys.platform == "win32" else _mac_loopbacks(sd)
    return [SystemSourceInfo(d["name"], d["name"], f"System audio: {d['name']}", False,
                             int(d["max_input_channels"]), int(d["default_samplerate"]))
            for d in devices]


def _pulse_device(sd: ModuleType) -> dict[str, Any] | None:
    for device in pa.input_devices(sd):
        if device["name"] == "pulse":
            return device
    return None


class SystemAudioSource(DeviceSource):
    """What the computer plays, as one channel labelled "system".

    Linux (tested): records the PulseAudio/PipeWire monitor ``monitor_name`` (default: the
    monitor of the default output) through the ALSA ``pulse`` device, with PULSE_SOURCE set
    while the stream connects. Windows (untested): a WASAPI "[Loopback]" input, which needs a
    PortAudio build with loopback support. macOS (untested): a BlackHole/Loopback/Soundflower
    input device that the output is routed to.
    """

    def __init__(self, monitor_name: str | None = None, *, samplerate: float | None = None,
                 blocksize: int | None = None, queue_seconds: float = 10.0) -> None:
        # WASAPI loopback sends nothing while nothing plays, so silence is not a stall there.
        super().__init__(None, samplerate=samplerate, blocksize=blocksize,
                         queue_seconds=queue_seconds, label="System audio",
                         stall_timeout=None if sys.platform == "win32" else 5.0)
        self.channel_labels = ("system",)
        self.monitor_name = monitor_name
        self._pulse_source: str | None = None

    def _resolve(self, sd: ModuleType) -> dict[str, Any]:
        if sys.platform.startswith("linux"):
            return self._resolve_pulse(sd)
        if sys.platform == "win32":
            return self._resolve_windows(sd)
        if sys.platform == "darwin":
            return self._pick(_mac_loopbacks(sd), "no system-audio loopback device found; "
                              "install BlackHole (https://existential.audio/blackhole/) and send "
                              "the output to it with a Multi-Output Device in Audio MIDI Setup")
        raise CaptureError(f"system audio capture is not supported on {sys.platform}")

    def _resolve_pulse(self, sd: ModuleType) -> dict[str, Any]:
        if shutil.which("pactl") is None:
            raise CaptureError("system audio capture on Linux needs pactl from PulseAudio or "
                               "PipeWire (Debian/Ubuntu: apt install pulseaudio-utils)")
        sources = list_system_sources()
        if not sources:
            raise CaptureError("no system audio source found (is PulseAudio or PipeWire "
                               "running?)")
        wanted = self.monitor_name or default_monitor()
        pick = next((s for s in sources if wanted in (s.name, s.name[: -len(".monitor")])),
                    None) if wanted else None
        if pick is None and self.monitor_name is None:
            pick = sources[0]    # no default output: take the first monitor there is
        if pick is None:
            raise CaptureError(f"system audio source {wanted!r} not found; run "
                               "'desktop-asr devices' to list them")
        device = _pulse_device(sd)
        if device is None and pa.rescan_devices():
            device = _pulse_device(sd)    # the sound server may have started after us
        if device is None:
            raise CaptureError("system audio capture needs the ALSA PulseAudio plugin "
                               "(Debian/Ubuntu: apt install libasound2-plugins)")
        self.label = pick.label
        self._pulse_source = pick.name
        if self.samplerate is None:
            self.samplerate = pick.samplerate   # record at the output's own rate
        return device

    def _resolve_windows(self, sd: ModuleType) -> dict[str, Any]:
        params = inspect.signature(sd.WasapiSettings).parameters
        if "loopback" in params:
            # A sounddevice that exposes WASAPI loopback on output devices directly.
            out = dict(sd.query_devices(kind="output"))
            self._extra_settings = sd.WasapiSettings(loopback=True)
            self.label = f"System audio: {out['name']}"
            out["max_input_channels"] = out["max_output_channels"]
            return out
        return self._pick(_wasapi_loopbacks(sd), "system audio on Windows needs WASAPI "
                          f"loopback, which sounddevice {sd.__version__} and its PortAudio do "
                          "not offer; install a sounddevice built with PortAudio 19.8 or later "
                          "(WASAPI loopback), or a virtual cable such as VB-CABLE and record it")

    def _pick(self, devices: list[dict[str, Any]], missing: str) -> dict[str, Any]:
        if self.monitor_name:
            devices = [d for d in devices if self.monitor_name.lower() in d["name"].lower()]
            if not devices:
                raise CaptureError(f"system audio source {self.monitor_name!r} not found; "
                                   "run 'desktop-asr devices' to list them")
        if not devices:
            raise CaptureError(missing)
        self.label = f"System audio: {devices[0]['name']}"
        return devices[0]

    @contextlib.contextmanager
    def _open_context(self) -> Iterator[None]:
        if self._pulse_source is None:
            yield
            return
        # The ALSA pulse plugin connects to libpulse's default source, which PULSE_SOURCE
        # overrides; set it only while the stream opens, and never for two streams at once.
        with _env_lock:
            old = os.environ.get("PULSE_SOURCE")
            os.environ["PULSE_SOURCE"] = self._pulse_source
            try:
                yield
            finally:
                if old is None:
                    os.environ.pop("PULSE_SOURCE", None)
                else:
                    os.environ["PULSE_SOURCE"] = old
