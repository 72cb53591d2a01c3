"""decode_audio / probe_audio on real speech in every common format, and on bad input."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import (
    assert_decode_error,
    assert_similar_audio,
    espeak_wav,
    ffmpeg_convert_many,
    make_video,
    pcm_wav_header,
    read_wav,
    rms,
    run_as_user,
    write_wav,
)

from desktop_asr.audio import SAMPLE_RATE, AudioInfo, decode_audio, probe_audio
from desktop_asr.errors import AudioDecodeError

TEXT = "The quick brown fox jumps over the lazy dog."
SR = SAMPLE_RATE
LOGGER = "desktop_asr.audio.decode"

# Decoded lengths must match the source up to what each codec can honestly deliver:
#  - PCM and FLAC are sample-exact; 2 ms covers resampler rounding at 16 kHz.
#  - MP3 (LAME gapless header), Vorbis and Opus signal their encoder delay and padding, so
#    they decode within a few ms (WebM/Opus from ffmpeg 5 comes out 3 ms late); 25 ms is
#    about one codec frame of slack.
#  - AAC in MP4: the priming samples are trimmed via the edit list but the tail padding of
#    the last 1024-sample frame is not, which at 22.05 kHz is up to 46 ms (44.5 ms measured);
#    100 ms allows for both priming and tail frames should an encoder not signal the delay.
EXACT_S, LOSSY_S, AAC_S = 0.002, 0.025, 0.100
# test id -> (file name, ffmpeg output arguments or None for a video, duration tolerance)
FORMATS: dict[str, tuple[str, tuple[str, ...] | None, float]] = {
    "wav-u8-8k": ("u8.wav", ("-ar", "8000", "-c:a", "pcm_u8"), EXACT_S),
    "wav-s24": ("s24.wav", ("-c:a", "pcm_s24le"), EXACT_S),
    "wav-s32": ("s32.wav", ("-c:a", "pcm_s32le"), EXACT_S),
    "wav-f32-48k-stereo": ("f32.wav", ("-ar", "48000", "-af", "pan=stereo|c0=c0|c1=c0",
                                       "-c:a", "pcm_f32le"), EXACT_S),
    "flac": ("speech.flac", (), EXACT_S),
    "mp3": ("speech.mp3", ("-c:a", "libmp3lame"), LOSSY_S),
    "m4a-aac": ("speech.m4a", ("-c:a", "aac", "-aac_coder", "fast"), AAC_S),
    "ogg-vorbis": ("speech.ogg", ("-c:a", "libvorbis"), LOSSY_S),
    # Already 16 kHz mono packed float, so the resampler passes frames straight through.
    "wav-f32-16k": ("f32-16k.wav", ("-ar", "16000", "-c:a", "pcm_f32le"), EXACT_S),
    "ogg-opus": ("opus.ogg", ("-c:a", "libopus"), LOSSY_S),
    "webm-opus": ("speech.webm", ("-c:a", "libopus"), LOSSY_S),
    "mp4-video-aac": ("video.mp4", None, AAC_S),
    "mkv-video-vorbis": ("video.mkv", None, LOSSY_S),
}
MORE_OUTPUTS: dict[str, tuple[str, ...]] = {
    # Speech in the centre channel only (FL FR FC LFE ...), the other channels silent.
    "surround51.wav": ("-af", "pan=5.1|c2=c0"),
    "surround71.flac": ("-af", "pan=7.1|c2=c0"),
    # MP3s without a gapless header, so they can be joined by plain concatenation.
    "part1.mp3": ("-t", "1.5", "-write_xing", "0", "-id3v2_version", "0"),
    "part2.mp3": ("-ss", "1.5", "-ar", "44100", "-ac", "2", "-write_xing", "0",
                  "-id3v2_version", "0"),
}


class Media:
    """The files one module run works on, built once, in parallel, from one utterance."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.speech = espeak_wav(TEXT, folder / "speech.wav")
        raw, rate = read_wav(self.speech)
        self.speech_seconds = len(raw) / rate
        self.reference = decode_audio(self.speech)
        outputs = {name: args for name, args, _ in FORMATS.values() if args is not None}
        outputs.update(MORE_OUTPUTS)
        seconds = self.speech_seconds + 0.2
        jobs: dict[tuple[str, ...], Callable[[], object]] = {
            # One ffmpeg run for all audio outputs saves a start-up (~0.1 s) per file.
            tuple(outputs): lambda: ffmpeg_convert_many(
                self.speech, {folder / name: args for name, args in outputs.items()}),
            ("video.mp4",): lambda: make_video(self.speech, folder / "video.mp4", seconds),
            ("video.mkv",): lambda: make_video(self.speech, folder / "video.mkv", seconds),
            ("noaudio.mp4",): lambda: make_video(None, folder / "noaudio.mp4", 1.0),
        }
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = {names: pool.submit(job) for names, job in jobs.items()}
        self.files: dict[str, Path | BaseException] = {}
        for names, future in futures.items():
            error = future.exception()
            for name in names:
                self.files[name] = error if error is not None else folder / name

    def get(self, name: str) -> Path:
        """The built file, or re-raise the tool's error so the test fails with its stderr."""
        built = self.files[name]
        if isinstance(built, BaseException):
            raise built
        return built


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("audio_decode"))


# ---- formats ------------------------------------------------------------------------------


def test_reference_decode_matches_an_independent_read(media: Media) -> None:
    raw, rate = read_wav(media.speech)  # espeak-ng: 16-bit mono at 22.05 kHz
    times = np.arange(int(len(raw) * SR / rate)) / SR
    independent = np.interp(times, np.arange(len(raw)) / rate, raw[:, 0])
    ref = media.reference
    assert ref.dtype == np.float32 and ref.ndim == 1
    assert abs(len(ref) - len(independent)) <= 1
    n = min(len(ref), len(independent))
    assert np.corrcoef(ref[:n], independent[:n])[0, 1] > 0.99


@pytest.mark.parametrize("kind", list(FORMATS))
def test_decodes_every_format(media: Media, kind: str) -> None:
    name, _, tolerance = FORMATS[kind]
    audio = decode_audio(media.get(name))
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.abs(audio) <= 1.0)
    assert abs(len(audio) / SR - media.speech_seconds) <= tolerance
    assert_similar_audio(audio, media.reference, SR)
    # Same loudness: catches a decoder that scales wrongly (e.g. u8 or float read as s16).
    assert 0.8 < rms(audio) / rms(media.reference) < 1.25


def test_arguments(media: Media) -> None:
    np.testing.assert_array_equal(decode_audio(str(media.speech)), media.reference)
    for rate in (8000, 44100):
        audio = decode_audio(media.speech, sample_rate=rate)
        assert audio.dtype == np.float32
        assert abs(len(audio) / rate - media.speech_seconds) < EXACT_S
    with pytest.raises(ValueError, match="sample_rate"):
        decode_audio(media.speech, sample_rate=0)
    with pytest.raises(ValueError, match="channel"):
        decode_audio(media.speech, channel=-1)


def test_format_and_layout_changing_mid_stream(
    media: Media, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 22.05 kHz mono followed by 44.1 kHz stereo in one MP3 stream.
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(media.get("part1.mp3").read_bytes() + media.get("part2.mp3").read_bytes())
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        audio = decode_audio(joined)
    assert not caplog.records
    # Without a gapless header each part keeps its encoder delay and padding (~0.1 s in
    # all), and the speech starts 50 ms late (1105 samples at 22.05 kHz).
    assert abs(len(audio) / SR - media.speech_seconds) < 0.2
    head, tail = int(1.4 * SR), int(1.6 * SR)
    assert_similar_audio(audio[:head], media.reference[:head], SR, max_lag=0.06)
    assert_similar_audio(audio[-tail:], media.reference[-tail:], SR, max_lag=0.06)


# ---- channels -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stereo(media: Media) -> tuple[Path, Path]:
    """(left speech / right silence, left speech / right 440 Hz tone) 22.05 kHz WAVs."""
    raw, rate = read_wav(media.speech)
    speech = raw[:, 0]
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * np.arange(len(speech)) / rate)
    silent = write_wav(media.folder / "left_speech.wav",
                       np.stack([speech, np.zeros_like(speech)], axis=1), rate)
    toned = write_wav(media.folder / "speech_tone.wav", np.stack([speech, tone], axis=1), rate)
    return silent, toned


def test_stereo_downmix_is_the_mean_of_the_channels(
    media: Media, stereo: tuple[Path, Path]
) -> None:
    silent, toned = stereo
    mixed = decode_audio(silent)
    np.testing.assert_allclose(mixed, decode_audio(silent, channel=0) / 2, atol=1e-6)
    assert 0.45 < rms(mixed) / rms(media.reference) < 0.55
    left, right = decode_audio(toned, channel=0), decode_audio(toned, channel=1)
    np.testing.assert_allclose(decode_audio(toned), (left + right) / 2, atol=1e-6)


def test_channel_picks_one_channel(media: Media, stereo: tuple[Path, Path]) -> None:
    left = decode_audio(stereo[1], channel=0)
    assert_similar_audio(left, media.reference, SR)
    assert 0.9 < rms(left) / rms(media.reference) < 1.1
    right = decode_audio(stereo[1], channel=1)
    peak_hz = np.argmax(np.abs(np.fft.rfft(right))) * SR / len(right)
    assert abs(peak_hz - 440.0) < 2.0
    assert abs(rms(right) - 0.3 / np.sqrt(2)) < 0.01
    with pytest.raises(ValueError, match=r"has 2 channels") as info:
        decode_audio(stereo[0], channel=2)
    assert str(stereo[0]) in str(info.value)
    with pytest.raises(ValueError, match=r"has 1 channel\b"):
        decode_audio(media.speech, channel=1)


@pytest.mark.parametrize(("name", "channels"), [("surround51.wav", 6), ("surround71.flac", 8)])
def test_surround_downmix_and_channel(media: Media, name: str, channels: int) -> None:
    surround = media.get(name)
    assert probe_audio(surround).channels == channels
    center = decode_audio(surround, channel=2)
    assert_similar_audio(center, media.reference, SR)
    np.testing.assert_allclose(decode_audio(surround), center / channels, atol=1e-5)
    with pytest.raises(ValueError, match=f"has {channels} channels"):
        decode_audio(surround, channel=channels)


def test_channels_without_a_named_layout(media: Media) -> None:
    # A plain 3-channel WAV has no speaker layout, only a channel count.
    raw, rate = read_wav(media.speech)
    speech = raw[:, 0]
    path = write_wav(media.folder / "three.wav",
                     np.stack([speech, np.zeros_like(speech), speech], axis=1), rate)
    mixed = decode_audio(path)
    np.testing.assert_allclose(mixed, decode_audio(path, channel=2) * 2 / 3, atol=1e-5)
    assert_similar_audio(mixed, media.reference, SR)


# ---- probe --------------------------------------------------------------------------------


def test_probe_wav(media: Media) -> None:
    info = probe_audio(media.speech)
    assert isinstance(info, AudioInfo)
    assert (info.sample_rate, info.channels, info.codec, info.container) == (
        22050, 1, "pcm_s16le", "wav")
    assert info.duration is not None and abs(info.duration - media.speech_seconds) < 0.001
    with pytest.raises(AttributeError):
        info.channels = 2  # type: ignore[misc]


@pytest.mark.parametrize(("name", "rate", "channels", "codec"), [
    ("f32.wav", 48000, 2, "pcm_f32le"),
    ("speech.mp3", 22050, 1, "mp3"),
    ("opus.ogg", 48000, 1, "opus"),
    ("video.mkv", 22050, 1, "vorbis"),
    ("video.mp4", 22050, 1, "aac"),
])
def test_probe_formats(media: Media, name: str, rate: int, channels: int, codec: str) -> None:
    info = probe_audio(media.get(name))
    assert (info.sample_rate, info.channels, info.codec) == (rate, channels, codec)
    # The audio track's own length, not the video's, within the codec padding.
    assert info.duration is not None and abs(info.duration - media.speech_seconds) <= AAC_S


# ---- bad input ----------------------------------------------------------------------------

BOTH = pytest.mark.parametrize("func", [decode_audio, probe_audio], ids=["decode", "probe"])
# A real 1x1 PNG, which ffmpeg opens as a one-frame "video".
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a7b5e2e90000000049454e44ae426082")
NOT_AUDIO: dict[str, bytes] = {
    "notes.txt": b"Meeting notes\nBuy milk.\n" * 20,
    "random.bin": np.random.default_rng(7).integers(1, 200, 4096, dtype=np.uint8).tobytes(),
    "text-named.wav": b"this is not a wave file at all\n" * 10,
    "settings.toml": b'[project]\nname = "x"\n',  # ffmpeg takes this for LRC lyrics
    "picture.png": PNG,
    "picture-named.mp3": PNG,
}


@BOTH
@pytest.mark.parametrize(("case", "reason", "detail"), [
    ("missing", "missing", "file not found"),
    ("folder", "unreadable", "is a folder, not a file"),
    ("zero bytes", "empty", "file is empty (0 bytes)"),
])
def test_missing_folder_and_zero_bytes(tmp_path: Path, func: Callable[..., object], case: str,
                                       reason: str, detail: str) -> None:
    path = {"missing": tmp_path / "nope.wav", "folder": tmp_path}.get(case, tmp_path / "0.wav")
    if case == "zero bytes":
        path.write_bytes(b"")
    assert assert_decode_error(lambda: func(path), path, reason).detail == detail


def _decode_reason(path: Path) -> dict[str, str]:
    try:
        decode_audio(path)
    except AudioDecodeError as exc:
        return {"reason": exc.reason, "message": str(exc)}
    return {"reason": "decoded", "message": ""}


def test_unreadable_file(media: Media) -> None:
    # Root reads files whatever their mode, so as root the check runs in a forked child
    # that has switched to the unprivileged "nobody" user (uid 65534).
    folder = Path(tempfile.mkdtemp(prefix="desktop-asr-perm-"))
    try:
        folder.chmod(0o755)  # the child must be able to reach the file, just not read it
        path = folder / "locked.wav"
        shutil.copyfile(media.speech, path)
        path.chmod(0o000)
        if os.geteuid() == 0:
            result = run_as_user(lambda: _decode_reason(path))
            assert isinstance(result, dict) and result["reason"] == "unreadable", result
            assert str(path) in result["message"] and "\n" not in result["message"]
        else:
            assert_decode_error(lambda: decode_audio(path), path, "unreadable")
            assert_decode_error(lambda: probe_audio(path), path, "unreadable")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@BOTH
@pytest.mark.parametrize("name", list(NOT_AUDIO))
def test_not_audio(tmp_path: Path, name: str, func: Callable[..., object]) -> None:
    path = tmp_path / name
    path.write_bytes(NOT_AUDIO[name])
    err = assert_decode_error(lambda: func(path), path, "not-audio")
    assert err.detail == "not an audio or video file"


@BOTH
def test_video_without_audio(media: Media, func: Callable[..., object]) -> None:
    path = media.get("noaudio.mp4")
    err = assert_decode_error(lambda: func(path), path, "no-audio-stream")
    assert "no audio" in err.detail


def test_wav_with_no_samples(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    path.write_bytes(pcm_wav_header(0))
    err = assert_decode_error(lambda: decode_audio(path), path, "empty")
    assert err.detail == "contains no audio"


@BOTH
def test_unsupported_codec(tmp_path: Path, func: Callable[..., object]) -> None:
    path = tmp_path / "strange.wav"
    # A well-formed WAV whose format tag names no codec ffmpeg knows.
    path.write_bytes(pcm_wav_header(32000, tag=0x7777) + bytes(32000))
    assert_decode_error(lambda: func(path), path, "unsupported")


@BOTH
@pytest.mark.parametrize("name", ["speech.mp3", "speech.flac", "speech.m4a", "opus.ogg"])
def test_cut_off_header_is_corrupt(media: Media, tmp_path: Path, name: str,
                                   func: Callable[..., object]) -> None:
    path = tmp_path / f"cut-{name}"
    path.write_bytes(media.get(name).read_bytes()[:40])
    assert_decode_error(lambda: func(path), path, "corrupt")


def test_nothing_decodable_is_corrupt(media: Media, tmp_path: Path) -> None:
    # ffmpeg writes the MP4 index at the end, so the first half holds no usable audio.
    data = media.get("speech.m4a").read_bytes()
    half = tmp_path / "half.m4a"
    half.write_bytes(data[: len(data) // 2])
    assert_decode_error(lambda: decode_audio(half), half, "corrupt")
    # A Matroska signature followed by noise: it claims to be media, but nothing decodes.
    noise = tmp_path / "noise.webm"
    rng = np.random.default_rng(3)
    noise.write_bytes(b"\x1aE\xdf\xa3" + rng.integers(0, 256, 8000, dtype=np.uint8).tobytes())
    assert_decode_error(lambda: decode_audio(noise), noise, "corrupt")


@pytest.mark.parametrize("name", ["speech.flac", "u8.wav"])
def test_truncated_file_returns_what_survives(
    media: Media, tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    data = media.get(name).read_bytes()
    path = tmp_path / f"half-{name}"
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        audio = decode_audio(path)
    assert 0.25 < len(audio) / SR / media.speech_seconds < 0.75
    assert_similar_audio(audio, media.reference[: len(audio)], SR)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "recovered" in warnings[0] and str(path) in warnings[0]


def test_damaged_middle_keeps_the_rest(media: Media, tmp_path: Path) -> None:
    data = bytearray(media.get("speech.mp3").read_bytes())
    start = len(data) // 3
    data[start:start + 1500] = np.random.default_rng(5).integers(0, 256, 1500, np.uint8).tobytes()
    path = tmp_path / "damaged.mp3"
    path.write_bytes(bytes(data))
    audio = decode_audio(path)
    # Some frames are lost, but the speech before and after the damage survives.
    assert len(audio) / SR > 0.6 * media.speech_seconds
    part = int(0.25 * media.speech_seconds * SR)
    assert_similar_audio(audio[:part], media.reference[:part], SR)
    assert_similar_audio(audio[-part:], media.reference[-part:], SR)
