"""Transcript exporters: TXT, SRT, WebVTT, JSON and RTTM as strings, plus an atomic writer.

Everything here is a pure function of a :class:`~desktop_asr.types.Transcript` except
:func:`write_export`, the one place that touches the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop_asr.errors import ExportError
from desktop_asr.export.jsonfmt import load_json, to_json
from desktop_asr.export.options import ExportOptions
from desktop_asr.export.rttm import to_rttm
from desktop_asr.export.subtitles import to_srt, to_vtt
from desktop_asr.export.text import to_txt
from desktop_asr.export.writer import write_text_atomic
from desktop_asr.types import Transcript

__all__ = ["FORMATS", "ExportError", "ExportOptions", "export", "load_json", "write_export"]

FORMATS: tuple[str, ...] = ("txt", "srt", "vtt", "json", "rttm")

_Renderer = Callable[[Transcript, ExportOptions, str], str]

_RENDERERS: dict[str, _Renderer] = {
    "txt": lambda t, options, file_id: to_txt(t, options),
    "srt": lambda t, options, file_id: to_srt(t, options),
    "vtt": lambda t, options, file_id: to_vtt(t, options),
    "json": lambda t, options, file_id: to_json(t),
    "rttm": lambda t, options, file_id: to_rttm(t, file_id),
}


def _renderer(fmt: str) -> _Renderer:
    # Accept "SRT" or ".srt" too: callers often derive the format from a file name.
    key = fmt.strip().lower().lstrip(".") if isinstance(fmt, str) else None
    renderer = _RENDERERS.get(key) if key else None
    if renderer is None:
        raise ExportError(f"unknown export format {fmt!r}; supported formats: "
                          f"{', '.join(FORMATS)}")
    return renderer


def export(transcript: Transcript, fmt: str, *, options: ExportOptions | None = None,
           file_id: str = "audio") -> str:
    """Return the content of ``transcript`` rendered in format ``fmt`` (one of FORMATS)."""
    return _renderer(fmt)(transcript, options or ExportOptions(), file_id)


def write_export(transcript: Transcript, path: Path, fmt: str, *,
                 options: ExportOptions | None = None, file_id: str | None = None) -> Path:
    """Render ``transcript`` and write it atomically to ``path``; file_id defaults to its stem."""
    path = Path(path)
    content = export(transcript, fmt, options=options,
                     file_id=path.stem if file_id is None else file_id)
    return write_text_atomic(path, content)
