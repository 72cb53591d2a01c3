"""System audio and device capture against a real (private) PulseAudio server.

The server's null sink stands in for speakers and its null source for a microphone (there is
no sound card here); everything else is real: paplay plays espeak speech into the sink, and we
record its monitor through PortAudio, the ALSA pulse plugin and libpulse.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import envelope_similarity, rms, rms_envelope
from pulse_fixtures import MIC, MONITOR, SINK_DESCRIPTION, PulseServer

from desktop_asr.audio.decode import decode_audio
from desktop_asr.capture import (
    SAMPLE_RATE,
    AudioChunk,
    AudioSource,
    CaptureError,
    DeviceSource,
    FileSource,
    MixedSource,
    SourceEnded,
    SystemAudioSource,
    list_devices,
    list_system_sources,
)
from desktop_asr.cli import devices as devices_cmd

# The private PulseAudio server fixtures (pulse_server, fresh_pulse_server).
pytest_plugins = ("pulse_fixtures",)

SENTENCE = "Hello there, this is a test of system audio capture."


@pytest.fixture(scope="module")
def speech(spoken) -> tuple[Path, np.ndarray]:
    """An espeak utterance (22.05 kHz WAV, as paplay gets it) and its 16 kHz decode."""
    path = spoken(SENTENCE)
    return path, decode_audio(path)


def capture_while_playing(source: AudioSource, server: PulseServer, wav: Path,
                          tail_s: float = 0.8) -> list[AudioChunk]:
    """Start ``source``, play ``wav`` into the null sink, keep reading ``tail_s`` after it ends."""
    source.start()
    player = server.play(wav)
    chunks: list[AudioChunk] = []
    ended_at = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        chunk = source.read(0.05)
        if chunk is not None:
            chunks.append(chunk)
        if ended_at is None and player.poll() is not None:
            ended_at = time.monotonic()
        if ended_at is not None and time.monotonic() - ended_at > tail_s:
            break
    source.stop()
    while True:
        try:
            chunk = source.read(0.5)
        except SourceEnded:
            break
        if chunk is not None:
            chunks.append(chunk)
    assert player.wait(5) == 0, player.stderr.read()
    return chunks


def joined(chunks: list[AudioChunk], channel: int = 0) -> np.ndarray:
    """The chunks' samples of one channel, checking that they are contiguous."""
    position = 0.0
    for chunk in chunks:
        assert chunk.start == pytest.approx(position, abs=1e-9)
        position = chunk.end
    return np.concatenate([c.samples[:, channel] for c in chunks])


def assert_is_the_speech(captured: np.ndarray, reference: np.ndarray) -> None:
    """``captured`` contains ``reference`` (found by its loudness contour), whole and at speed."""
    ec, er = rms_envelope(captured, SAMPLE_RATE), rms_envelope(reference, SAMPLE_RATE)
    assert len(ec) >= len(er), f"captured only {len(captured) / SAMPLE_RATE:.2f} s"
    scores = [np.corrcoef(ec[lag:lag + len(er)], er)[0, 1] for lag in range(len(ec) - len(er) + 1)]
    offset = int(np.nanargmax(scores)) * 160
    aligned = captured[offset:offset + len(reference)]
    score, lag = envelope_similarity(aligned, reference, SAMPLE_RATE)
    assert score > 0.8, f"captured audio does not match the speech (r={score:.3f})"
    assert abs(lag) <= 0.02
    # Same duration of sound: wrong-rate capture or lost pieces would change it.
    def voiced_s(x: np.ndarray) -> float:
        env = rms_envelope(x, SAMPLE_RATE)
        loud = np.flatnonzero(env > 0.05 * env.max())
        return (loud[-1] - loud[0] + 1) * 0.010
    assert voiced_s(aligned) == pytest.approx(voiced_s(reference), abs=0.05)
    assert voiced_s(captured) == pytest.approx(voiced_s(reference), abs=0.05)


def assert_is_the_speech_start(captured: np.ndarray, reference: np.ndarray) -> None:
    """``captured`` (cut short) holds the start of ``reference``, up to a short latency."""
    ec, er = rms_envelope(captured, SAMPLE_RATE), rms_envelope(reference, SAMPLE_RATE)
    n = len(ec) - 30      # the capture may begin up to 0.3 s before the speech
    scores = [np.corrcoef(ec[lag:lag + n], er[:n])[0, 1] for lag in range(30)]
    assert max(scores) > 0.8, f"captured audio is not the start of the speech ({max(scores):.3f})"


def test_monitor_is_listed_as_system_audio(pulse_server: PulseServer) -> None:
    sources = list_system_sources()
    assert [s.name for s in sources] == [MONITOR]         # the null source is no monitor
    assert sources[0].label == f"System audio: {SINK_DESCRIPTION}"
    assert sources[0].is_default and sources[0].channels == 2
    kinds = {d.id: d.kind for d in list_devices()}
    assert kinds[f"system:{MONITOR}"] == "system"
    assert "input" in kinds.values()       # PortAudio's ALSA "pulse" device


def test_devices_command_shows_inputs_and_the_monitor(pulse_server: PulseServer,
                                                      capsys: pytest.CaptureFixture) -> None:
    parser = argparse.ArgumentParser(prog="desktop-asr")
    devices_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["devices"])
    assert args.func(args) == 0
    table = capsys.readouterr().out
    line = next(row for row in table.splitlines() if row.startswith(f"system:{MONITOR}"))
    assert f"System audio: {SINK_DESCRIPTION}" in line and "*" in line
    assert any(row.split()[1:2] == ["input"] and "pulse" in row for row in table.splitlines())
    args = parser.parse_args(["devices", "--json"])
    assert args.func(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"id": f"system:{MONITOR}", "kind": "system"}.items() <= next(
        r for r in rows if r["kind"] == "system").items()


def test_system_audio_captures_what_is_played(pulse_server: PulseServer,
                                              speech: tuple[Path, np.ndarray]) -> None:
    wav, reference = speech
    # The default source is the silent test microphone, so hearing the speech proves the
    # monitor was picked (PULSE_SOURCE), not whatever the server's default is.
    source = SystemAudioSource()
    chunks = capture_while_playing(source, pulse_server, wav)
    assert source.label == f"System audio: {SINK_DESCRIPTION}"
    assert source.channel_labels == ("system",) and source.started_at is not None
    captured = joined(chunks)
    assert_is_the_speech(captured, reference)
    stats = source.stats()
    assert stats.overflows == 0 and stats.frames_dropped == 0
    # Nothing captured went missing on the way: 44.1 kHz frames in, 16 kHz frames out.
    assert len(captured) == pytest.approx(stats.frames_captured * SAMPLE_RATE / 44100, abs=2)


def test_device_source_records_the_pulse_device(pulse_server: PulseServer,
                                                speech: tuple[Path, np.ndarray]) -> None:
    wav, reference = speech
    pulse_server.pactl("set-default-source", MONITOR)   # the "microphone" now hears the sink
    try:
        source = DeviceSource("pulse")
        chunks = capture_while_playing(source, pulse_server, wav)
    finally:
        pulse_server.pactl("set-default-source", MIC)
    assert source.label == "Microphone (pulse)" and source.channel_labels == ("mic",)
    assert_is_the_speech(joined(chunks), reference)


def test_mic_and_system_together_stay_apart(pulse_server: PulseServer,
                                            speech: tuple[Path, np.ndarray]) -> None:
    wav, reference = speech
    mixed = MixedSource(DeviceSource("pulse"), SystemAudioSource())    # mic = silent null source
    chunks = capture_while_playing(mixed, pulse_server, wav)
    assert all(c.samples.shape[1] == 2 for c in chunks)
    mic, system = joined(chunks, 0), joined(chunks, 1)
    assert_is_the_speech(system, reference)
    assert rms(mic) < 1e-4 < rms(system)


def test_unknown_monitor_is_named(pulse_server: PulseServer) -> None:
    with pytest.raises(CaptureError, match="'nosuch.monitor' not found"):
        SystemAudioSource("nosuch.monitor").start()


def _read_until_error(source: AudioSource, timeout: float = 10) -> tuple[list[AudioChunk],
                                                                         CaptureError]:
    chunks: list[AudioChunk] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = source.read(0.1)
        except CaptureError as exc:
            return chunks, exc
        if chunk is not None:
            chunks.append(chunk)
    raise AssertionError("capture did not fail after its server was killed")


def test_server_dying_mid_capture_is_a_capture_error_after_the_audio(
        fresh_pulse_server: PulseServer, speech: tuple[Path, np.ndarray]) -> None:
    wav, reference = speech
    source = SystemAudioSource()
    source.start()
    player = fresh_pulse_server.play(wav)
    chunks: list[AudioChunk] = []
    deadline = time.monotonic() + 10
    while sum(c.frames for c in chunks) < 1.2 * SAMPLE_RATE and time.monotonic() < deadline:
        chunk = source.read(0.05)
        if chunk is not None:
            chunks.append(chunk)
    fresh_pulse_server.proc.kill()        # the sound server crashes (SIGKILL, by its PID)
    player.wait(5)
    more, error = _read_until_error(source)
    chunks += more
    message = str(error)
    assert "System audio" in message and "stopped delivering audio" in message
    assert "\n" not in message and "PortAudio" not in message and "Errno" not in message
    captured = joined(chunks)
    # Everything captured before the crash was delivered, and it is the start of the speech.
    stats = source.stats()
    assert len(captured) == pytest.approx(stats.frames_captured * SAMPLE_RATE / 44100, abs=2)
    assert 1.2 * SAMPLE_RATE <= len(captured) < 2.0 * SAMPLE_RATE
    assert_is_the_speech_start(captured, reference)
    with pytest.raises(CaptureError):      # and it stays failed
        source.read(0)
    source.stop()


def test_mixed_source_names_the_side_that_failed(fresh_pulse_server: PulseServer,
                                                 speech: tuple[Path, np.ndarray]) -> None:
    wav, _ = speech
    mixed = MixedSource(DeviceSource("pulse"), FileSource(wav, speed=1))
    mixed.start()
    time.sleep(0.5)
    fresh_pulse_server.proc.kill()
    chunks, error = _read_until_error(mixed)
    assert str(error).startswith("mic capture failed: Microphone (pulse) stopped delivering")
    assert sum(c.frames for c in chunks) > 0.2 * SAMPLE_RATE
    mixed.stop()
