"""Autosave journal of a live session, and recovery of sessions that never closed.

The journal is JSON lines: a header, one line per committed caption, and a closing line. Lines
are written as they come and fsync'ed every few seconds, so a crash or kill loses at most the
last ``flush_interval`` seconds; a torn last line is skipped on recovery.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from desktop_asr.export import write_export
from desktop_asr.streaming.events import (
    LiveEvent,
    SpeakerNamed,
    SpeakersSettled,
    SpeakerUpdate,
    TranscriptUpdate,
)
from desktop_asr.streaming.session import SessionTranscript
from desktop_asr.types import Segment, Transcript

log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.jsonl"
JOURNAL_VERSION = 1
TRANSCRIPT_NAME = "transcript.json"
RECOVERED_MARK = ".recovered"   # the transcript was rebuilt from the journal
DISMISSED_MARK = ".dismissed"   # the user chose not to recover it (the files stay)


class Journal:
    """Appends final captions to ``journal.jsonl`` in a session folder."""

    def __init__(self, folder: Path, *, channel_labels: tuple[str, ...], model: str | None,
                 source: str | None, flush_interval: float = 2.0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / JOURNAL_NAME
        self.flush_interval = flush_interval
        self._file: IO[str] | None = open(self.path, "a", encoding="utf-8")
        self._lock = threading.RLock()
        self._last_sync = time.monotonic()
        self._write({"type": "session", "version": JOURNAL_VERSION,
                     "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     "channels": list(channel_labels), "model": model, "source": source},
                    sync=True)

    def _write(self, record: dict[str, Any], *, sync: bool = False) -> None:
        # Speaker names may be given from another thread (a rename in the window).
        with self._lock:
            if self._file is None:
                return
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            if sync or time.monotonic() - self._last_sync >= self.flush_interval:
                self._sync()

    def sync(self) -> None:
        """Push everything written so far to the disk."""
        with self._lock:
            self._sync()

    def _sync(self) -> None:
        if self._file is None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_sync = time.monotonic()

    def append(self, update: LiveEvent) -> None:
        """Record a final update or a speaker event (partials are not journaled: they change)."""
        if isinstance(update, TranscriptUpdate):
            if update.kind == "final":
                self._write({"type": "final", "channel": update.channel,
                             "utterance": update.utterance, "speaker": update.speaker,
                             "emitted": update.emitted, "segment": update.segment.to_dict()})
        elif isinstance(update, SpeakerUpdate):
            self._write({"type": "speaker", "channel": update.channel,
                         "utterance": update.utterance, "start": update.start,
                         "speaker": update.speaker})
        elif isinstance(update, SpeakerNamed):
            self._write({"type": "speaker_name", "speaker": update.speaker, "name": update.name,
                         "source": update.source})
        elif isinstance(update, SpeakersSettled):
            self._write({"type": "settled", "backend": update.backend,
                         "transcript": update.transcript.to_dict()}, sync=True)

    def release(self) -> None:
        """Close the file without marking the session finished (it is being discarded)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def close(self, *, transcript_file: str | None = None) -> None:
        """Mark the session as cleanly finished."""
        self._write({"type": "closed", "transcript": transcript_file}, sync=True)
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def read_journal(path: Path) -> tuple[Transcript, bool]:
    """Rebuild the transcript from a journal; also says whether the session closed cleanly."""
    header: dict[str, Any] = {}
    session: SessionTranscript | None = None
    closed = False
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            try:
                record = json.loads(line)
            except ValueError:
                log.warning("%s: skipping unreadable line %d (torn write?)", path, number)
                continue
            kind = record.get("type")
            if kind == "session":
                header = record
                session = SessionTranscript(tuple(record.get("channels") or ("mono",)),
                                            model=record.get("model"),
                                            source=record.get("source"))
            elif session is None or kind == "closed":
                closed = closed or kind == "closed"
            elif kind == "final":
                session.apply(TranscriptUpdate(
                    "final", record["channel"], int(record["utterance"]),
                    Segment.from_dict(record["segment"]), float(record.get("emitted", 0.0)),
                    record.get("speaker")))
            elif kind == "speaker":
                session.label(record["channel"], int(record["utterance"]),
                              float(record["start"]), record.get("speaker"))
            elif kind == "speaker_name":
                session.name(str(record["speaker"]), str(record.get("name") or ""),
                             from_voice=record.get("source") == "voice")
            elif kind == "settled":
                session.settle(Transcript.from_dict(record["transcript"]))
    if session is None:
        raise ValueError(f"{path} is not a desktop-asr session journal")
    transcript = session.transcript()
    end = max((s.end for s in transcript.segments), default=0.0)
    meta = {"started": header.get("started"), "recovered_from": str(path)}
    return Transcript(segments=transcript.segments, speakers=transcript.speakers,
                      duration=end or None, source=transcript.source,
                      model=transcript.model, metadata=meta), closed


def journal_closed(journal: Path) -> bool:
    """Whether a journal ends with its closing line (reads only the file's tail)."""
    with open(journal, "rb") as fh:
        fh.seek(max(0, journal.stat().st_size - 4096))
        tail = fh.read().decode("utf-8", errors="replace")
    return '"type": "closed"' in tail


def unfinished_sessions(sessions_dir: Path) -> list[Path]:
    """Journals under ``sessions_dir`` whose sessions never closed, newest first."""
    found = []
    if sessions_dir.is_dir():
        for journal in sessions_dir.glob(f"*/{JOURNAL_NAME}"):
            try:
                closed = journal_closed(journal)
            except OSError:
                continue
            if not closed and not _handled(journal.parent):
                found.append(journal)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

def _handled(folder: Path) -> bool:
    return (folder / RECOVERED_MARK).exists() or (folder / DISMISSED_MARK).exists()


@dataclass(frozen=True)
class Recovery:
    """What recovering a session produced."""

    transcript: Transcript
    closed: bool               # the session had closed cleanly after all
    written: tuple[Path, ...]  # files written, transcript.json first when it was written


def recover_session(journal: Path, *, formats: Sequence[str] = (),
                    out_dir: Path | None = None) -> Recovery:
    """Rebuild a session from its journal, save it (transcript.json + exports), mark it recovered.

    Raises OSError or ValueError when the journal cannot be read, and the export errors of
    ``write_export``; the session is marked recovered only once everything was written.
    """
    transcript, closed = read_journal(journal)
    folder = journal.parent
    written = []
    # A cleanly closed session already has the pipeline's own transcript.json: keep it.
    if not (closed and (folder / TRANSCRIPT_NAME).exists()):
        written.append(write_export(transcript, folder / TRANSCRIPT_NAME, "json"))
    for fmt in formats:
        written.append(write_export(transcript, (out_dir or folder) / f"{folder.name}.{fmt}", fmt))
    (folder / RECOVERED_MARK).touch()
    log.info("recovered session %s (%d segments)", folder, len(transcript.segments))
    return Recovery(transcript, closed, tuple(written))


def dismiss_session(folder: Path) -> None:
    """Stop offering an unfinished session for recovery, keeping its files."""
    (Path(folder) / DISMISSED_MARK).touch()
