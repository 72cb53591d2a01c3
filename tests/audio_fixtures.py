"""Helpers that make real audio and video files for tests with espeak-ng and ffmpeg."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import wave
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from desktop_asr.errors import AudioDecodeError

# A single conversion should never take long; a hung encoder must fail the test, not stall it.
_TOOL_TIMEOUT_S = 60
# Envelope similarity of real decodes of one utterance is 0.986-1.0; noise, silence,
# time-reversed speech and speech played at the wrong rate all score below 0.15.
MIN_SIMILARITY = 0.95


class ToolError(RuntimeError):
    """An external tool (espeak-ng, ffmpeg) failed; the message carries its stderr."""


def _run(cmd: list[str]) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S,
                              check=False)
    except FileNotFoundError as exc:
        raise ToolError(f"{cmd[0]} is not installed") from exc
    if proc.returncode != 0:
        raise ToolError(
            f"{' '.join(cmd)} failed with exit code {proc.returncode}: {proc.stderr.strip()}"
        )


def espeak_wav(text: str, path: Path, *, voice: str = "en-us", speed: int = 150,
               pitch: int | None = None) -> Path:
    """Synthesise ``text`` with espeak-ng into a 22050 Hz 16-bit mono WAV at ``path``."""
    path = Path(path)
    extra = [] if pitch is None else ["-p", str(pitch)]
    _run(["espeak-ng", "-v", voice, "-s", str(speed), *extra, "-w", str(path), text])
    return path


def ffmpeg_convert(src: Path, dst: Path, *extra_args: str) -> Path:
    """Convert ``src`` to ``dst`` with ffmpeg; ``extra_args`` go between input and output."""
    dst = Path(dst)
    _run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(src), *extra_args, str(dst)])
    return dst


def ffmpeg_convert_many(src: Path, outputs: Mapping[Path, Sequence[str]]) -> list[Path]:
    """Convert ``src`` to several files in one ffmpeg run (one start-up instead of many)."""
    cmd = ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(src)]
    for dst, args in outputs.items():
        cmd += [*args, str(dst)]
    _run(cmd)
    return [Path(dst) for dst in outputs]


def make_video(audio: Path | None, dst: Path, seconds: float) -> Path:
    """Make a tiny 64x64, 5 fps test-pattern video, with ``audio`` muxed in when given."""
    dst = Path(dst)
    suffix = dst.suffix.lower()
    cmd = ["ffmpeg", "-nostdin", "-y", "-loglevel", "error",
           "-f", "lavfi", "-i", f"testsrc=size=64x64:rate=5:duration={seconds}"]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
        if suffix in (".mp4", ".m4v", ".mov"):
            # Native AAC's default coder is several times slower than "fast", for nothing here.
            cmd += ["-c:a", "aac", "-aac_coder", "fast"]
        elif suffix == ".webm":
            cmd += ["-c:a", "libopus"]
    # mpeg4 (part 2) is in every ffmpeg build and starts faster than libx264; WebM needs VP8.
    if suffix == ".webm":
        cmd += ["-c:v", "libvpx", "-deadline", "realtime"]
    else:
        cmd += ["-c:v", "mpeg4"]
    # No output -t: the picture lasts ``seconds`` and the audio is never cut short.
    cmd += ["-pix_fmt", "yuv420p", str(dst)]
    _run(cmd)
    return dst


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float samples in [-1, 1], shape (n,) or (n, channels), as a 16-bit PCM WAV."""
    path = Path(path)
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, np.newaxis]
    pcm = np.round(np.clip(data, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV with the standard library: float samples (n, channels), rate."""
    with wave.open(str(path), "rb") as src:
        assert src.getsampwidth() == 2, "read_wav only reads 16-bit PCM"
        channels, rate = src.getnchannels(), src.getframerate()
        raw = src.readframes(src.getnframes())
    data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    return data.reshape(-1, channels), rate


def rms_envelope(samples: np.ndarray, sample_rate: int, frame_s: float = 0.010) -> np.ndarray:
    """RMS of consecutive non-overlapping frames (10 ms by default)."""
    hop = max(1, round(sample_rate * frame_s))
    usable = (len(samples) // hop) * hop
    frames = np.asarray(samples[:usable], dtype=np.float64).reshape(-1, hop)
    return np.sqrt(np.mean(frames * frames, axis=1))


def envelope_similarity(
    a: np.ndarray, b: np.ndarray, sample_rate: int, max_lag_s: float = 0.1
) -> tuple[float, float]:
    """Best normalised cross-correlation of two RMS envelopes and its lag in seconds.

    A positive lag means ``a`` runs late relative to ``b``. Scale-invariant (so channel
    averaging or codec gain does not matter) but sensitive to content, timing and speed:
    noise, silence, or audio at the wrong rate score far lower.
    """
    ea, eb = rms_envelope(a, sample_rate), rms_envelope(b, sample_rate)
    max_lag = round(max_lag_s / 0.010)
    best, best_lag = -1.0, 0
    for lag in range(-max_lag, max_lag + 1):
        x = ea[max(0, lag):]
        y = eb[max(0, -lag):]
        n = min(len(x), len(y))
        if n < 10:
            continue
        x, y = x[:n] - x[:n].mean(), y[:n] - y[:n].mean()
        denom = float(np.linalg.norm(x) * np.linalg.norm(y))
        score = float(np.dot(x, y) / denom) if denom > 0 else 0.0
        if score > best:
            best, best_lag = score, lag
    return best, best_lag * 0.010


def rms(samples: np.ndarray) -> float:
    """Root-mean-square level of a signal."""
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def pcm_wav_header(data_bytes: int, rate: int = 16000, tag: int = 1) -> bytes:
    """A 44-byte mono 16-bit WAV header announcing ``data_bytes`` of data (``tag``: format)."""
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, tag, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", data_bytes))


def run_as_user(func: Callable[[], object], uid: int = 65534, gid: int = 65534) -> object:
    """Run ``func`` in a forked child that switched to ``uid``; return its JSON-able result.

    Root reads any file whatever its mode, so permission checks need a real unprivileged
    process. Forking (not starting a new interpreter) reuses the modules already loaded,
    which matters because the interpreter itself may live where that user cannot go.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child must never return into the test runner
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.write(write_end, json.dumps(func()).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        raise RuntimeError(f"the child running as uid {uid} failed (wait status {status})")
    return json.loads(data)


def assert_similar_audio(audio: np.ndarray, reference: np.ndarray, sample_rate: int,
                         max_lag: float = 0.01) -> None:
    """Assert that ``audio`` has the loudness contour of ``reference``, at most max_lag off."""
    score, lag = envelope_similarity(audio, reference, sample_rate)
    assert score > MIN_SIMILARITY, f"decoded audio does not match the speech (r={score:.3f})"
    assert abs(lag) <= max_lag, f"decoded audio is shifted by {lag * 1000:.0f} ms"


def assert_decode_error(call: Callable[[], object], path: Path, reason: str) -> AudioDecodeError:
    """Assert ``call`` raises AudioDecodeError with ``reason`` and a one-line, plain message."""
    with pytest.raises(AudioDecodeError) as info:
        call()
    err = info.value
    assert err.reason == reason, f"expected {reason!r}, got {err.reason!r}: {err}"
    assert err.path == str(path) and str(path) in str(err)
    assert "\n" not in str(err) and "\r" not in str(err)
    for jargon in ("Errno", "avcodec", "Traceback", "ffmpeg", "Invalid data"):
        assert jargon not in err.detail
    return err
