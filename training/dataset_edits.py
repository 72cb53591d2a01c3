"""Turn corrections made in the transcript editor into training pairs.

The editor autosaves an edited transcript per source (``desktop_asr.transcript_store``): live
sessions under their ``recording.flac``, transcribed files under the file's own path. Each
segment whose text the user changed becomes one clip (the segment's time span of the audio,
with a little margin) paired with the corrected text. For a live session the original
transcript is in its folder, so edited segments are found exactly; for a transcribed file the
original is not kept, so a segment counts as edited when the editor marked its words (an
edited word loses its confidence) or dropped them, unless ``--original`` gives the transcript
the edit was made on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_asr import transcript_store
from desktop_asr.audio import decode_audio
from desktop_asr.errors import AudioDecodeError, DesktopAsrError
from desktop_asr.export import load_json
from desktop_asr.streaming.journal import JOURNAL_NAME, TRANSCRIPT_NAME, read_journal
from desktop_asr.types import Segment, Transcript
from desktop_asr.datasets.dataset import Item, add_clip, create_dataset
from training.dataset_import import ImportResult, Skipped
from desktop_asr.datasets.levels import MAX_SECONDS, MIN_SECONDS, SAMPLE_RATE

log = logging.getLogger(__name__)

RECORDING_NAME = "recording.flac"   # what LiveSession records into a session folder
MARGIN_S = 0.15                     # segment times are word times: keep the word edges


@dataclass(frozen=True)
class EditedSource:
    """One source with a saved edit: its audio, the edited and (if known) original transcript."""

    audio: Path
    edited: Transcript
    original: Transcript | None


def _session_original(folder: Path) -> Transcript | None:
    try:
        if (folder / TRANSCRIPT_NAME).is_file():
            return load_json((folder / TRANSCRIPT_NAME).read_text(encoding="utf-8"))
        if (folder / JOURNAL_NAME).is_file():
            return read_journal(folder / JOURNAL_NAME)[0]
    except (DesktopAsrError, OSError, ValueError) as exc:
        log.warning("cannot read the transcript of session %s: %s", folder, exc)
    return None


def _load_store_file(path: Path) -> Transcript | None:
    try:
        return load_json(path.read_text(encoding="utf-8"))
    except (DesktopAsrError, OSError, ValueError) as exc:
        log.warning("ignoring unreadable edited transcript %s: %s", path, exc)
        return None


def find_edited_sources(sessions_root: Path | None = None,
                        originals: dict[Path, Transcript] | None = None) -> list[EditedSource]:
    """Every session recording and transcribed file that has an edit saved by the editor."""
    found: list[EditedSource] = []
    claimed: set[Path] = set()
    root = sessions_root
    if root is None:
        from desktop_asr.settings import load_settings

        root = load_settings().sessions_path()
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            audio = folder / RECORDING_NAME
            store_file = transcript_store.edited_path(audio)
            if not store_file.is_file():
                continue
            claimed.add(store_file.resolve())
            if not audio.is_file():
                log.info("session %s has edits but no recording; skipped", folder)
                continue
            original = _session_original(folder)
            edited = (transcript_store.load_edited(audio, transcript_store.fingerprint(original))
                      if original is not None else None)
            if edited is None:
                log.info("edits of session %s were made on another transcript; skipped", folder)
                continue
            found.append(EditedSource(audio, edited, original))
    store = transcript_store.store_dir()
    for store_file in sorted(store.glob("*.json")) if store.is_dir() else ():
        if store_file.resolve() in claimed:
            continue
        edited = _load_store_file(store_file)
        if edited is None or not edited.source:
            continue
        audio = Path(edited.source)
        # The store names its files after the source path: a match proves it is this source.
        if not audio.is_file() or transcript_store.edited_path(audio).resolve() != \
                store_file.resolve():
            continue
        original = (originals or {}).get(audio.resolve())
        if original is not None:
            checked = transcript_store.load_edited(audio, transcript_store.fingerprint(original))
            if checked is None:
                log.info("the original given for %s is not the one edited; comparing words",
                         audio)
                original = None
            else:
                edited = checked
        found.append(EditedSource(audio, edited, original))
    return found


def edited_segments(source: EditedSource, *, include_unedited: bool = False
                    ) -> list[Segment]:
    """The segments of an edited transcript that the user corrected (or all, if asked)."""
    segs = [s for s in source.edited.segments if s.text.strip()]
    if include_unedited:
        return segs
    original = source.original
    if original is not None and len(original.segments) == len(source.edited.segments):
        return [e for o, e in zip(original.segments, source.edited.segments)
                if e.text.strip() and " ".join(o.text.split()) != " ".join(e.text.split())]
    timed = any(s.words for s in source.edited.segments)
    return [s for s in segs
            if (s.words and any(w.probability is None for w in s.words))
            or (timed and not s.words)]


def import_edits(dst: Path, *, sessions_root: Path | None = None,
                 originals: dict[Path, Transcript] | None = None,
                 include_unedited: bool = False, speaker: str | None = None) -> ImportResult:
    """Add every corrected segment (its audio slice + corrected text) to the dataset ``dst``."""
    create_dataset(dst)
    added: list[Item] = []
    skipped: list[Skipped] = []
    for source in find_edited_sources(sessions_root, originals):
        segments = edited_segments(source, include_unedited=include_unedited)
        if not segments:
            continue
        try:
            audio = decode_audio(source.audio, sample_rate=SAMPLE_RATE)
        except AudioDecodeError as exc:
            skipped.append(Skipped(str(source.audio), exc.detail))
            continue
        for seg in segments:
            where = f"{source.audio} {seg.start:.1f}-{seg.end:.1f} s"
            if seg.duration > MAX_SECONDS:
                skipped.append(Skipped(where, f"segment longer than {MAX_SECONDS:g} s"))
                continue
            first = max(0, int((seg.start - MARGIN_S) * SAMPLE_RATE))
            last = min(audio.size, int(np.ceil((seg.end + MARGIN_S) * SAMPLE_RATE)))
            clip = audio[first:last]
            if clip.size < MIN_SECONDS * SAMPLE_RATE:
                skipped.append(Skipped(where, "segment too short or outside the recording"))
                continue
            added.append(add_clip(dst, clip, seg.text, origin="editor",
                                  speaker=speaker or source.edited.speaker_label(seg.speaker)))
    return ImportResult(tuple(added), tuple(skipped))
