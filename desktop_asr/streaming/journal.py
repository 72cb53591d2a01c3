"""Autosave journal of a live session, and recovery of sessions that never closed.

The journal is JSON lines: a header, one line per committed caption, and a closing line. Lines
are written as they come and fsync'ed every few seconds, so a crash or kill loses at most the
last ``flush_interval`` seconds; a torn last line is skipped on recovery. A full disk loses
nothing either: the lines wait in memory and are written once there is room (see
:class:`Journal`).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
import time
from collections import deque
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
    """Appends final captions to ``journal.jsonl`` in a session folder.

    A failed write (a full disk, an I/O error) loses no record: the file is cut back to its last
    whole line, the record waits in memory with every one after it, and the OSError goes to the
    caller (the live session reports it; the captions go on). Every later write tries the
    waiting lines again first, in order, so once the disk has room again the journal is whole
    again by itself and ``error`` is back to None; the closing line tries them a last time.
    When an fsync fails, the lines written since the last good one are written again (the
    kernel may have dropped them).
    """

    def __init__(self, folder: Path, *, channel_labels: tuple[str, ...], model: str | None,
                 source: str | None, flush_interval: float = 2.0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / JOURNAL_NAME
        self.flush_interval = flush_interval
        # Unbuffered bytes: what a write returns is what reached the file, so a failed one can
        # be cut back to whole lines.
        self._file: IO[bytes] | None = open(self.path, "ab", buffering=0)
        self._lock = threading.RLock()
        self._size = os.fstat(self._file.fileno()).st_size   # bytes of whole lines
        self._synced = self._size                             # ... of those known on the disk
        self._pending: deque[bytes] = deque()   # lines not written yet (after a failure)
        self._unsynced: list[bytes] = []        # lines written since the last fsync
        self._last_sync = time.monotonic()
        self.error: OSError | None = None       # the last failure, while lines wait
        try:
            self._write({"type": "session", "version": JOURNAL_VERSION,
                         "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                         "channels": list(channel_labels), "model": model, "source": source},
                        sync=True)
        except OSError:
            self.release()  # a session that cannot even start its journal does not start
            raise

    @property
    def waiting(self) -> int:
        """Lines not in the file yet because writing failed (0: the journal is whole)."""
        with self._lock:
            return len(self._pending)

    def _write(self, record: dict[str, Any], *, sync: bool = False) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        # Speaker names may be given from another thread (a rename in the window).
        with self._lock:
            if self._file is None:
                return
            self._pending.append(line)
            self._flush(sync)

    def _flush(self, sync: bool) -> None:
        """Write the waiting lines in order (and fsync when due); raises OSError on failure."""
        try:
            while self._pending:
                line = self._pending[0]
                self._put(line)
                self._pending.popleft()
                self._size += len(line)
                self._unsynced.append(line)
            if sync or time.monotonic() - self._last_sync >= self.flush_interval:
                self._sync()
        except OSError as exc:
            if self.error is None:
                log.info("cannot write the journal %s (%s): %d line(s) wait in memory",
                            self.path, exc.strerror or exc, len(self._pending))
            self.error = exc
            raise
        if self.error is not None:
            log.info("the journal %s is writable again; the waiting lines are written",
                     self.path)
            self.error = None

    def _put(self, line: bytes) -> None:
        """Write one whole line or, failing, leave the file as it was and raise."""
        assert self._file is not None
        view = memoryview(line)
        try:
            while view:
                written = self._file.write(view)
                if written is None:  # a non-blocking file would say this: not ours
                    raise BlockingIOError(errno.EAGAIN, "the journal would block")
                view = view[written:]
        except OSError:
            self._cut(self._size)  # no torn line for the next one to be glued to
            raise

    def _cut(self, size: int) -> None:
        assert self._file is not None
        try:
            os.ftruncate(self._file.fileno(), size)  # freeing space needs none
        except OSError as exc:
            log.debug("cannot cut the journal back to %d bytes: %s", size, exc)

    def sync(self) -> None:
        """Write what waits and push everything written so far to the disk."""
        with self._lock:
            if self._file is not None:
                self._flush(sync=True)

    def _sync(self) -> None:
        assert self._file is not None
        try:
            os.fsync(self._file.fileno())
        except OSError:
            # What the kernel could not write may be gone from its cache: write it again.
            self._cut(self._synced)
            self._size = self._synced
            self._pending.extendleft(reversed(self._unsynced))
            self._unsynced = []
            raise
        self._synced = self._size
        self._unsynced = []
        self._last_sync = time.monotonic()

    def append(self, update: LiveEvent) -> None:
        """Record a final update or a speaker event (partials are not journaled: they change).

        Raises OSError when the journal cannot be written; the record is kept for the next try.
        """
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
        """Close the file without marking the session finished (discarded, or left to recovery).

        Lines that still wait are dropped from the file's point of view (``waiting`` keeps
        counting them).
        """
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def close(self, *, transcript_file: str | None = None) -> None:
        """Mark the session as cleanly finished (waiting lines go first).

        Raises OSError when that cannot be written; the file is closed either way and, not
        marked closed, the session is offered for recovery later.
        """
        try:
            self._write({"type": "closed", "transcript": transcript_file}, sync=True)
        finally:
            self.release()


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
