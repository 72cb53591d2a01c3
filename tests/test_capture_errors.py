"""Plain CaptureError messages when there is nothing (or not that) to capture."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop_asr.capture import (
    CaptureError,
    DeviceSource,
    FileSource,
    MixedSource,
    SystemAudioSource,
    _portaudio,
    list_devices,
    open_source,
)

# The no_pulse_server fixture.
pytest_plugins = ("pulse_fixtures",)

REPO = Path(__file__).resolve().parents[1]


def _has_sound_card() -> bool:
    try:
        cards = Path("/proc/asound/cards").read_text()
    except OSError:
        return False
    return "no soundcards" not in cards and bool(cards.strip())


def test_nonexistent_device_id_is_named(no_pulse_server: dict[str, str]) -> None:
    with pytest.raises(CaptureError, match=r"^input device 999 not found; run 'desktop-asr "
                                           r"devices'"):
        DeviceSource(999).start()
    with pytest.raises(CaptureError, match="input device 'no such microphone' not found"):
        DeviceSource("no such microphone").start()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses Linux sound settings")
def test_no_input_device_at_all(tmp_path: Path, no_pulse_server: dict[str, str]) -> None:
    """Runs in a fresh process where no sound server answers (and this machine has no card)."""
    if _has_sound_card():
        pytest.skip("this machine has a sound card, so 'no input device' cannot be produced")
    code = ("from desktop_asr.capture import DeviceSource, CaptureError\n"
            "try:\n    DeviceSource().start()\nexcept CaptureError as exc:\n    print(exc)\n")
    env = {**os.environ, **no_pulse_server, "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.stdout.strip() == "no microphone or input device found", proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PulseAudio path is Linux's")
def test_system_audio_without_a_sound_server(no_pulse_server: dict[str, str]) -> None:
    with pytest.raises(CaptureError, match=r"no system audio source found \(is PulseAudio or "
                                           r"PipeWire running\?\)"):
        SystemAudioSource().start()
    assert [d for d in list_devices() if d.kind == "system"] == []


def test_open_source_understands_the_cli_choices(tmp_path: Path) -> None:
    wav = tmp_path / "talk.wav"
    wav.write_bytes(b"")
    assert isinstance(open_source("mic"), DeviceSource) and open_source(None).device is None
    assert type(open_source("system")) is SystemAudioSource
    both = open_source("both")
    assert isinstance(both, MixedSource) and both.channel_labels == ("mic", "system")
    assert open_source("3").device == 3
    assert open_source("system:alsa_output.x.monitor").monitor_name == "alsa_output.x.monitor"
    for spec in (str(wav), f"file:{wav}"):
        source = open_source(spec, speed=4)
        assert isinstance(source, FileSource) and source.speed == 4
    assert open_source("USB Headset").device == "USB Headset"


def test_a_stream_that_will_not_stop_does_not_hang_stop(caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    """Uses a stand-in stream whose stop() never returns, as PortAudio's does after its ALSA
    error loop (PortAudio #1037); that state cannot be produced on demand."""
    release = threading.Event()

    class StuckStream:
        def stop(self) -> None:
            release.wait(30)

        def close(self, ignore_errors: bool = True) -> None:
            pass

    _portaudio.stream_opened()
    t0 = time.monotonic()
    try:
        with caplog.at_level(logging.ERROR):
            assert _portaudio.close_stream(StuckStream(), "Test mic") is False
        assert time.monotonic() - t0 < 4
        assert "Test mic did not stop" in caplog.text
        assert _portaudio.rescan_devices() is False     # re-scanning would hang on it
    finally:
        release.set()
        _portaudio._stuck.clear()
        _portaudio.stream_closed()
