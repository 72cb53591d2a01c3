"""Live sessions on disk, summarised for the sessions panel (plain Python: runs off the UI thread)."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop_asr import transcript_store
from desktop_asr.errors import DesktopAsrError
from desktop_asr.export import load_json
from desktop_asr.streaming.journal import (
    JOURNAL_NAME,
    RECOVERED_MARK,
    TRANSCRIPT_NAME,
    journal_closed,
    read_journal,
)
from desktop_asr.types import Transcript

log = logging.getLogger(__name__)

RECORDING_NAME = "recording.flac"
PREVIEW_WORDS = 12


@dataclass(frozen=True)
class SessionInfo:
    """One live session folder, as the panel lists it."""

    folder: Path
    started: datetime
    duration: float | None
    words: int
    preview: str
    has_recording: bool
    unfinished: bool  # the journal never closed and nothing was recovered from it
    recovered: bool
    error: str | None = None  # why the transcript could not be read


@dataclass(frozen=True)
class OpenedSession:
    """A session opened from the panel: its transcript and its folder."""

    transcript: Transcript
    folder: Path


def session_started(folder: Path) -> datetime:
    """When a session started: its journal header, else its folder name, else its mtime."""
    journal = folder / JOURNAL_NAME
    try:
        with open(journal, encoding="utf-8") as fh:
            header = json.loads(fh.readline())
        return datetime.strptime(header["started"], "%Y-%m-%dT%H:%M:%S%z").replace(tzinfo=None)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:  # folders are named YYYYmmdd-HHMMSS by new_session_folder
        return datetime.strptime(folder.name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        return datetime.fromtimestamp(folder.stat().st_mtime)


def load_session(folder: Path) -> Transcript:
    """The session's transcript: transcript.json, else rebuilt from the journal."""
    saved = folder / TRANSCRIPT_NAME
    if saved.is_file():
        return load_json(saved.read_text(encoding="utf-8"))
    return read_journal(folder / JOURNAL_NAME)[0]


def summarize_session(folder: Path) -> SessionInfo:
    """Read one session folder into a SessionInfo (a broken transcript is reported, not raised)."""
    journal = folder / JOURNAL_NAME
    try:
        unfinished = journal.is_file() and not journal_closed(journal)
    except OSError:
        unfinished = False
    recovered = (folder / RECOVERED_MARK).exists()
    duration, words, preview, error = None, 0, "", None
    try:
        transcript = load_session(folder)
        all_words = transcript.text.split()
        words = len(all_words)
        preview = " ".join(all_words[:PREVIEW_WORDS]) + (" …" if words > PREVIEW_WORDS else "")
        duration = transcript.duration or max((s.end for s in transcript.segments), default=None)
    except (DesktopAsrError, OSError, ValueError, KeyError) as exc:  # one bad folder only
        error = str(exc)
        log.warning("cannot read session %s: %s", folder, exc)
    return SessionInfo(folder, session_started(folder), duration, words, preview,
                       (folder / RECORDING_NAME).is_file(), unfinished and not recovered,
                       recovered, error)


def scan_sessions(root: Path) -> list[SessionInfo]:
    """Every session folder under ``root``, newest first."""
    if not root.is_dir():
        return []
    found = [summarize_session(f) for f in root.iterdir()
             if f.is_dir() and ((f / JOURNAL_NAME).is_file() or (f / TRANSCRIPT_NAME).is_file())]
    return sorted(found, key=lambda s: s.started, reverse=True)


def delete_session(folder: Path) -> None:
    """Remove a session folder and everything in it, and the edits saved of its transcript."""
    shutil.rmtree(folder)
    transcript_store.edited_path(folder / RECORDING_NAME).unlink(missing_ok=True)
    log.info("deleted session %s", folder)
