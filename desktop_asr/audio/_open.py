"""Opening media files with PyAV and turning every failure into an AudioDecodeError."""

from __future__ import annotations

import os
import stat
import struct

import av
from av.audio.stream import AudioStream
from av.container import InputContainer

from desktop_asr.errors import AudioDecodeError

# Demuxers ffmpeg uses for still images and text; a file they open is not something to
# transcribe, even though ffmpeg reports a "video" stream for it.
_NON_MEDIA_FORMATS = frozenset({"image2", "gif", "tty", "apng", "webp", "ico"})

# Leading bytes of common audio/video containers: when ffmpeg cannot open a file that
# starts like one of these, the file is a damaged recording rather than some other
# kind of document, and the user should be told so.
_MEDIA_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (0, b"RIFF"),  # WAV / AVI, and FORM: AIFF (both checked with the form type below)
    (0, b"RF64"),
    (0, b"BW64"),
    (0, b"FORM"),
    (0, b"fLaC"),
    (0, b"ID3"),  # MP3 with a tag
    (0, b"OggS"),
    (0, b"\x1aE\xdf\xa3"),  # Matroska / WebM
    (4, b"ftyp"),  # MP4 / M4A / MOV
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"wide"),
    (0, b"caff"),
    (0, b"#!AMR"),
    (0, b".snd"),
    (0, b"wvpk"),
    (0, b"MAC "),
    (0, b"0&\xb2u\x8ef\xcf\x11"),  # ASF: WMA / WMV
    (0, b"FLV"),
)
# RIFF and IFF also hold images (WebP, ILBM); only these form types are media.
_CONTAINER_MEDIA_FORMS = {b"RIFF": (b"WAVE", b"AVI "), b"FORM": (b"AIFF", b"AIFC")}
# WAV format tags: integer PCM, float, A-law, mu-law, and "extensible" (which wraps PCM).
_CONSTANT_RATE_WAV_TAGS = frozenset({0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE})


def looks_like_media(head: bytes) -> bool:
    """Whether the first bytes of a file match a known audio/video container."""
    for offset, magic in _MEDIA_SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            forms = _CONTAINER_MEDIA_FORMS.get(magic)
            return forms is None or head[8:12] in forms
    # Bare MPEG audio (MP3 without a tag) or ADTS AAC: an 11/12-bit frame sync.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


def check_file(path: str) -> bytes:
    """Fail early with a clear reason for missing, unreadable or empty files; return the head."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise AudioDecodeError(path, "missing", "file not found") from None
    except PermissionError:
        raise AudioDecodeError(
            path, "unreadable", "permission denied: cannot open the folder holding it"
        ) from None
    except OSError as exc:
        raise AudioDecodeError(path, "unreadable", _os_detail(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise AudioDecodeError(path, "unreadable", "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        # Pipes and devices could block forever or never end; they are not recordings.
        raise AudioDecodeError(path, "unreadable", "is not a regular file")
    if info.st_size == 0:
        raise AudioDecodeError(path, "empty", "file is empty (0 bytes)")
    try:
        with open(path, "rb") as handle:
            return handle.read(64)
    except PermissionError:
        raise AudioDecodeError(
            path, "unreadable", "permission denied: you are not allowed to read it"
        ) from None
    except OSError as exc:
        raise AudioDecodeError(path, "unreadable", _os_detail(exc)) from None


def open_container(path: str, head: bytes) -> InputContainer:
    """Open ``path`` for demuxing, classifying any failure."""
    try:
        container = av.open(path, mode="r")
    except (FileNotFoundError, NotADirectoryError):
        raise AudioDecodeError(path, "missing", "file not found") from None
    except IsADirectoryError:
        raise AudioDecodeError(path, "unreadable", "is a folder, not a file") from None
    except PermissionError:
        raise AudioDecodeError(
            path, "unreadable", "permission denied: you are not allowed to read it"
        ) from None
    except av.error.FFmpegError:
        # ffmpeg says "invalid data" (or hits the end of the file) both for documents that
        # are not media at all and for recordings whose header is cut off or damaged.
        raise _not_media_or_corrupt(path, head) from None
    except OSError as exc:
        raise AudioDecodeError(path, "unreadable", _os_detail(exc)) from None
    return container


def select_audio_stream(container: InputContainer, path: str) -> AudioStream:
    """Return the best audio stream, or raise not-audio / no-audio-stream / unsupported."""
    streams = container.streams
    stream = streams.best("audio") if streams.audio else None
    if stream is None and streams.audio:
        stream = streams.audio[0]
    if stream is None:
        raise _no_audio_error(container, path)
    if stream.codec_context is None:
        raise AudioDecodeError(
            path, "unsupported", "uses an audio format that this app cannot decode"
        )
    return stream


def unsupported_codec(path: str, stream: AudioStream) -> AudioDecodeError:
    """The error for a stream whose codec ffmpeg recognises but has no decoder for."""
    name = stream.codec_context.name if stream.codec_context is not None else "unknown"
    return AudioDecodeError(
        path, "unsupported", f"uses an audio format ({name}) that this app cannot decode"
    )


def corrupt(path: str) -> AudioDecodeError:
    """The error for a recording of which nothing at all could be decoded."""
    return AudioDecodeError(
        path, "corrupt", "file is damaged or incomplete: no audio could be decoded"
    )


def wav_declared_seconds(path: str) -> float | None:
    """Length a RIFF/WAVE header claims for its data chunk, or None if it does not say.

    ffmpeg trims a WAV's stated length to the bytes actually present, so a cut-off WAV looks
    complete to it; only the header itself still knows how long the recording was.
    """
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"RIFF" or not handle.read(4) or handle.read(4) != b"WAVE":
                return None
            byte_rate = 0
            # A handful of chunks (fmt, LIST, fact...) precede the samples in practice.
            for _ in range(64):
                header = handle.read(8)
                if len(header) < 8:
                    return None
                chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
                if chunk_id == b"fmt " and size >= 16:
                    fmt = handle.read(16)
                    # Only for PCM-like codecs is the byte rate exact rather than an average.
                    if struct.unpack("<H", fmt[:2])[0] in _CONSTANT_RATE_WAV_TAGS:
                        byte_rate = struct.unpack("<I", fmt[8:12])[0]
                    handle.seek(size - 16 + (size & 1), os.SEEK_CUR)
                elif chunk_id == b"data":
                    # 0 and 0xFFFFFFFF are what streaming writers leave when they never
                    # came back to fill in the size: the length is unknown, not zero.
                    if not byte_rate or size in (0, 0xFFFFFFFF):
                        return None
                    return size / byte_rate
                else:
                    handle.seek(size + (size & 1), os.SEEK_CUR)
    except (OSError, struct.error):
        return None
    return None


def _no_audio_error(container: InputContainer, path: str) -> AudioDecodeError:
    fmt = container.format.name
    is_image = fmt in _NON_MEDIA_FORMATS or fmt.endswith("_pipe")
    has_video = any(
        not (s.disposition & av.stream.Disposition.attached_pic) for s in container.streams.video
    )
    if has_video and not is_image:
        return AudioDecodeError(path, "no-audio-stream", "video file has no audio track")
    return AudioDecodeError(path, "not-audio", "not an audio or video file")


def _not_media_or_corrupt(path: str, head: bytes) -> AudioDecodeError:
    if looks_like_media(head):
        return corrupt(path)
    return AudioDecodeError(path, "not-audio", "not an audio or video file")


def _os_detail(exc: OSError) -> str:
    # strerror is the short human text ("Input/output error"), never multi-line.
    reason = exc.strerror or type(exc).__name__
    return f"cannot be read ({reason.lower()})"
