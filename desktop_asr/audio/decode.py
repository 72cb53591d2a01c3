"""Decode any audio or video file ffmpeg can read into 16 kHz mono float32 samples."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from desktop_asr.audio._open import (
    check_file,
    corrupt,
    open_container,
    select_audio_stream,
    unsupported_codec,
    wav_declared_seconds,
)
from desktop_asr.errors import AudioDecodeError

__all__ = ["SAMPLE_RATE", "AudioInfo", "decode_audio", "probe_audio"]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000

# Containers whose headers state the exact length of the audio; for these a decode that
# comes up clearly short means the file was cut off, even when ffmpeg reported no error.
_EXACT_LENGTH_FORMATS = frozenset({"w64", "flac", "aiff", "caf", "mov,mp4,m4a,3gp,3g2,mj2"})
# How far short of the stated length a decode may fall before we call the file truncated;
# above the rounding of any container/codec we know, below anything a listener would miss.
_TRUNCATION_SLACK_S = 0.05

# Decoder failures that mean "ffmpeg cannot do this", as opposed to "the bytes are bad".
_UNSUPPORTED_ERRORS = (av.error.DecoderNotFoundError, av.error.PatchWelcomeError)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's audio stream declares, read from headers without decoding."""

    duration: float | None
    sample_rate: int
    channels: int
    codec: str
    container: str


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Describe the audio stream of ``path`` cheaply (headers only, no full decode)."""
    name = os.fspath(path)
    head = check_file(name)
    with open_container(name, head) as container:
        stream = select_audio_stream(container, name)
        ctx = stream.codec_context
        return AudioInfo(
            duration=_declared_duration(container, stream),
            sample_rate=int(ctx.sample_rate or 0),
            channels=int(ctx.channels or 0),
            codec=ctx.codec.canonical_name if ctx.codec is not None else ctx.name,
            container=container.format.name,
        )


def decode_audio(
    path: str | os.PathLike[str],
    *,
    sample_rate: int = SAMPLE_RATE,
    channel: int | None = None,
) -> np.ndarray:
    """Decode the main audio stream of ``path`` to 1-D float32 mono at ``sample_rate``."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, got {sample_rate!r}")
    if channel is not None and (isinstance(channel, bool) or not isinstance(channel, int)):
        raise ValueError(f"channel must be an integer or None, got {channel!r}")
    name = os.fspath(path)
    head = check_file(name)
    with open_container(name, head) as container:
        stream = select_audio_stream(container, name)
        if channel is not None:
            _check_channel(channel, int(stream.codec_context.channels or 0), name)
        decoder = _StreamDecoder(name, container, stream, sample_rate, channel)
        chunks = list(decoder.chunks())
        audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        del chunks
        _judge_result(name, container, stream, decoder, audio.size / sample_rate)
    # Float sources and resampling overshoot can stray slightly past full scale.
    np.clip(audio, -1.0, 1.0, out=audio)
    return audio


class _StreamDecoder:
    """Demux one audio stream, decode it, and yield mono float32 chunks at the target rate."""

    def __init__(
        self,
        path: str,
        container: InputContainer,
        stream: AudioStream,
        rate: int,
        channel: int | None,
    ) -> None:
        self.path = path
        self.container = container
        self.stream = stream
        self.rate = rate
        self.channel = channel
        self.errors = 0
        self.unsupported_errors = 0
        self._resampler: av.AudioResampler | None = None
        self._resampler_key: tuple[str, str, int] | None = None

    def chunks(self) -> Iterator[np.ndarray]:
        """Yield the decoded audio in order, skipping packets that fail to decode."""
        # Tell the demuxer to skip other streams (video, subtitles) instead of reading
        # them into packets we would throw away.
        for other in self.container.streams:
            if other.index != self.stream.index:
                other.discard = av.stream.Discard.all
        demuxed_to_end = False
        try:
            for packet in self.container.demux(self.stream):
                for frame in self._decode(packet):
                    yield from self._resample(frame)
            demuxed_to_end = True
        except (av.error.FFmpegError, OSError):
            # The container itself broke (a cut-off cluster, a read error); keep what we have.
            self.errors += 1
        if not demuxed_to_end:
            # demux() only sends the decoder its final flush when it reaches the end.
            for frame in self._decode(None):
                yield from self._resample(frame)
        yield from self._flush_resampler()

    def _decode(self, packet: av.Packet | None) -> list[AudioFrame]:
        try:
            if packet is None:
                return list(self.stream.codec_context.decode(None))
            return list(packet.decode())
        except _UNSUPPORTED_ERRORS:
            self.unsupported_errors += 1
        except av.error.FFmpegError:
            # One bad packet should not cost the user the rest of the recording.
            self.errors += 1
        return []

    def _resample(self, frame: AudioFrame) -> Iterator[np.ndarray]:
        # PyAV's resampler refuses (or, in pass-through mode, silently mislabels) frames
        # whose format, layout or rate differ from the first one it saw, which happens in
        # concatenated MP3/AAC streams and chained Ogg; so start a fresh one on any change.
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        if key != self._resampler_key:
            yield from self._flush_resampler()
            # Keep the source layout: mixing to mono is done in numpy so that it is a plain
            # average (ffmpeg's rematrixing weights and drops channels such as LFE).
            # Packed float, not planar: PyAV 18 finds a frame's planes by scanning
            # AVFrame.extended_data for a NULL that is not there with 8 or more channels,
            # and crashes the interpreter on 7.1 audio; a packed frame has a single plane.
            self._resampler = av.AudioResampler(format="flt", rate=self.rate)
            self._resampler_key = key
        assert self._resampler is not None
        try:
            out = self._resampler.resample(frame)
        except (av.error.FFmpegError, ValueError):
            self.errors += 1
            return
        for resampled in out:
            yield self._to_mono(resampled)

    def _flush_resampler(self) -> Iterator[np.ndarray]:
        if self._resampler is None:
            return
        resampler, self._resampler, self._resampler_key = self._resampler, None, None
        try:
            out = resampler.resample(None)
        except (av.error.FFmpegError, ValueError):
            self.errors += 1
            return
        for resampled in out:
            yield self._to_mono(resampled)

    def _to_mono(self, frame: AudioFrame) -> np.ndarray:
        channels = frame.layout.nb_channels
        # Packed float comes back as one row of interleaved samples.
        samples = frame.to_ndarray().reshape(-1, channels)
        if self.channel is not None:
            _check_channel(self.channel, channels, self.path)
            # Copy so the other channels of this chunk can be freed.
            return np.ascontiguousarray(samples[:, self.channel], dtype=np.float32)
        if channels == 1:
            return samples[:, 0].astype(np.float32, copy=False)
        return samples.mean(axis=1, dtype=np.float32)


def _check_channel(channel: int, channels: int, path: str) -> None:
    if 0 <= channel < channels:
        return
    noun = "channel" if channels == 1 else "channels"
    valid = "0" if channels == 1 else f"0 to {channels - 1}"
    raise ValueError(
        f"channel {channel} does not exist in {path}: it has {channels} {noun} (valid: {valid})"
    )


def _judge_result(
    path: str,
    container: InputContainer,
    stream: AudioStream,
    decoder: _StreamDecoder,
    decoded_s: float,
) -> None:
    """Raise when nothing usable came out; warn when only part of the file could be saved."""
    declared = _declared_duration(container, stream)
    if decoded_s == 0.0:
        if decoder.unsupported_errors and not decoder.errors:
            raise unsupported_codec(path, stream)
        if decoder.errors or decoder.unsupported_errors or (declared or 0.0) > 0.0:
            raise corrupt(path)
        raise AudioDecodeError(path, "empty", "contains no audio")
    bad_parts = decoder.errors + decoder.unsupported_errors
    fmt = container.format.name
    exact: float | None = None
    if fmt == "wav":
        # ffmpeg clips a WAV's length to the bytes present; the header still knows better.
        exact = wav_declared_seconds(path)
    elif fmt in _EXACT_LENGTH_FORMATS and stream.duration is not None:
        exact = declared
    cut_short = exact is not None and exact - decoded_s > _TRUNCATION_SLACK_S
    if not bad_parts and not cut_short:
        return
    total = exact if exact is not None else declared
    expected = f" of {total:.1f} s" if total else ""
    skipped = f"; {bad_parts} damaged part(s) were skipped" if bad_parts else ""
    logger.warning(
        "%s: file is damaged or incomplete; recovered %.1f s%s of audio%s",
        path, decoded_s, expected, skipped,
    )


def _declared_duration(container: InputContainer, stream: AudioStream) -> float | None:
    """Length in seconds the headers claim for the stream (or, failing that, the file)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    # Matroska/WebM keep per-track lengths only as a "DURATION" tag; without it a video's
    # audio would be reported as long as the whole file.
    tagged = _parse_clock(stream.metadata.get("DURATION", ""))
    if tagged is not None:
        return tagged
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _parse_clock(text: str) -> float | None:
    """Seconds in an "HH:MM:SS.fraction" string, or None when it is not one."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        return None
    try:
        hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    except ValueError:
        return None
    return hours * 3600 + minutes * 60 + seconds
