"""Exporting and copying a finished transcript: the save dialog, the write, the clipboard."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_asr.export import FORMATS, ExportOptions, export, write_export
from desktop_asr.types import Transcript

log = logging.getLogger(__name__)

FILTERS: dict[str, str] = {
    "txt": "Plain text (*.txt)",
    "srt": "SubRip subtitles (*.srt)",
    "vtt": "WebVTT subtitles (*.vtt)",
    "json": "JSON transcript (*.json)",
    "rttm": "RTTM speaker turns (*.rttm)",
}


def ask_export_path(parent: QWidget | None, source: Path, fmt: str,
                    directory: Path | None = None) -> tuple[Path, str] | None:
    """Ask where to save; returns the path and the format it implies, or None if cancelled."""
    suggested = (directory or source.parent) / f"{source.stem or 'transcript'}.{fmt}"
    chosen, chosen_filter = QFileDialog.getSaveFileName(
        parent, "Export transcript", str(suggested), ";;".join(FILTERS[f] for f in FORMATS),
        FILTERS[fmt])
    if not chosen:
        return None
    path = Path(chosen)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return path, suffix
    # No known extension typed: the picked filter decides, and the file gets its extension.
    fmt = next((f for f, flt in FILTERS.items() if flt == chosen_filter), fmt)
    return path.with_name(f"{path.name}.{fmt}"), fmt


def write_transcript(transcript: Transcript, path: Path, fmt: str) -> Path:
    """Write ``transcript`` in ``fmt`` at ``path`` (atomic); raises ExportError or OSError."""
    written = write_export(transcript, path, fmt, options=ExportOptions())
    log.info("exported %s to %s", fmt, written)
    return written


def copy_text(transcript: Transcript) -> str:
    """Put the transcript's plain text on the clipboard and return it."""
    text = export(transcript, "txt", options=ExportOptions())
    QGuiApplication.clipboard().setText(text)
    return text
