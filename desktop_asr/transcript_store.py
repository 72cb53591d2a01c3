"""Edited transcripts, kept as JSON under the data folder so that edits outlive the window.

One file per source recording: ``data_dir()/transcripts/<stem>-<hash of the path>.json``, in
the export JSON format. Its metadata records the fingerprint of the transcription the edits
were made on, so an edit is offered again only for that same transcription (a re-run with
another model gives a different transcript, and then the fresh result is shown instead).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from dataclasses import replace
from pathlib import Path

from desktop_asr import paths
from desktop_asr.errors import DesktopAsrError
from desktop_asr.export.jsonfmt import load_json, to_json
from desktop_asr.export.writer import write_text_atomic
from desktop_asr.types import Transcript

__all__ = ["EDITED_FROM", "edited_path", "fingerprint", "load_edited", "save_edited",
           "store_dir", "transcript_id"]

log = logging.getLogger(__name__)

EDITED_FROM = "edited_from"   # metadata key: fingerprint of the original transcription
EDITED_AT = "edited_at"       # metadata key: when the edit was saved (Unix seconds)


def store_dir() -> Path:
    """Folder holding edited transcripts."""
    return paths.data_dir() / "transcripts"


def transcript_id(source: str | os.PathLike[str]) -> str:
    """Stable file-name-safe id of a source path: readable stem plus a hash of the full path."""
    full = os.path.normcase(os.path.abspath(os.fspath(source)))
    digest = hashlib.sha256(full.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(full).stem)[:40].strip("._") or "audio"
    return f"{stem}-{digest}"


def edited_path(source: str | os.PathLike[str]) -> Path:
    """Where the edited transcript of ``source`` is kept."""
    return store_dir() / f"{transcript_id(source)}.json"


def fingerprint(transcript: Transcript) -> str:
    """Hash of a transcript's segments and speakers (metadata and timing info left out)."""
    data = {"segments": [s.to_dict() for s in transcript.segments],
            "speakers": [s.to_dict() for s in transcript.speakers]}
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def save_edited(source: str | os.PathLike[str], transcript: Transcript, base: str) -> Path:
    """Save ``transcript`` (edited from the transcription with fingerprint ``base``) atomically."""
    path = edited_path(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {**transcript.metadata, EDITED_FROM: base, EDITED_AT: time.time()}
    written = write_text_atomic(path, to_json(replace(transcript, metadata=meta)))
    log.debug("saved edited transcript of %s to %s", source, written)
    return written


def load_edited(source: str | os.PathLike[str], base: str) -> Transcript | None:
    """The saved edit of ``source`` made on transcription ``base``, or None if there is none."""
    path = edited_path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot read edited transcript %s: %s", path, exc)
        return None
    try:
        edited = load_json(text)
    except DesktopAsrError as exc:
        # A damaged autosave must not hide the real transcript; the next edit overwrites it.
        log.warning("ignoring edited transcript %s: %s", path, exc)
        return None
    if edited.metadata.get(EDITED_FROM) != base:
        log.info("edited transcript %s was made on another transcription; not used", path)
        return None
    meta = {k: v for k, v in edited.metadata.items() if k not in (EDITED_FROM, EDITED_AT)}
    return replace(edited, metadata=meta)
