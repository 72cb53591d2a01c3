"""Evaluation manifests: one JSON object per line naming an audio file and what it contains.

Fields (paths are relative to the manifest's folder unless absolute):

- ``audio`` (required): the recording, any format the app decodes.
- ``text``: the reference transcript. ``null`` or absent only for a clip scored for
  diarization alone (it then needs ``rttm``); an empty string is an error.
- ``language``: ISO code of the spoken language (``en``, ``de``...); absent means "detect".
- ``speaker``: who speaks (any id), for the per-speaker breakdown.
- ``speakers``: how many people speak (an integer), or a list of their ids.
- ``rttm``: speaker-turn ground truth, scored as DER.
- ``id``: a name for the clip in the report (default: the audio file's name).

Other fields (``duration_s``, ``source_repo``, ``note``...) are ignored. A bad line is reported
with its number and skipped; the rest of the manifest is still read.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManifestEntry:
    """One usable manifest line."""

    line: int
    id: str
    audio: Path
    reference: str | None = None
    language: str | None = None
    speaker: str | None = None
    speakers: tuple[str, ...] = ()
    num_speakers: int | None = None
    rttm: Path | None = None

    def __post_init__(self) -> None:
        if self.line < 1:
            raise ValueError("manifest lines are numbered from 1")
        if self.reference is not None and not self.reference.strip():
            raise ValueError("reference text is empty")
        if self.reference is None and self.rttm is None:
            raise ValueError("an entry needs reference text or an RTTM")
        if self.num_speakers is not None and self.num_speakers < 1:
            raise ValueError("num_speakers must be >= 1")


@dataclass(frozen=True)
class ManifestProblem:
    """Why one line (or one clip) could not be evaluated."""

    line: int
    message: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.source else f"line {self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Manifest:
    """The entries that can be evaluated and the problems of the lines that cannot."""

    path: Path
    entries: tuple[ManifestEntry, ...]
    problems: tuple[ManifestProblem, ...] = ()
    lines: int = 0


class _Bad(Exception):
    pass


def _path(base: Path, value: Any, field: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f'"{field}" must be a file path (a non-empty string), got {value!r}')
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _optional_str(row: dict[str, Any], field: str) -> str | None:
    value = row.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(f'"{field}" must be a string, got {type(value).__name__} {value!r}')
    return value.strip() or None


def _speakers(value: Any) -> tuple[tuple[str, ...], int | None]:
    if value is None:
        return (), None
    if isinstance(value, bool):
        raise _Bad(f'"speakers" must be a count or a list of ids, got {value!r}')
    if isinstance(value, int):
        if value < 1:
            raise _Bad(f'"speakers" must be at least 1, got {value}')
        return (), value
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip()
                                                 for v in value):
        ids = tuple(dict.fromkeys(v.strip() for v in value))
        return ids, len(ids)
    raise _Bad(f'"speakers" must be a count or a list of ids, got {value!r}')


def parse_line(text: str, line: int, base: Path) -> ManifestEntry:
    """One manifest line as an entry; raises ValueError with the reason it is unusable."""
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    try:
        if "audio" not in row:
            raise _Bad('no "audio" field')
        audio = _path(base, row["audio"], "audio")
        reference = row.get("text")
        if reference is not None and not isinstance(reference, str):
            raise _Bad(f'"text" must be a string, got {type(reference).__name__}')
        if reference is not None and not reference.strip():
            raise _Bad("empty reference text")
        rttm = None if row.get("rttm") is None else _path(base, row["rttm"], "rttm")
        if reference is None and rttm is None:
            raise _Bad('no reference: "text" is missing or null and there is no "rttm"')
        language = _optional_str(row, "language")
        speaker = _optional_str(row, "speaker")
        ids, count = _speakers(row.get("speakers"))
        clip_id = _optional_str(row, "id") or audio.name
    except _Bad as exc:
        raise ValueError(str(exc)) from None
    if not audio.is_file():
        raise ValueError(f"audio file not found: {audio}")
    if rttm is not None and not rttm.is_file():
        raise ValueError(f"RTTM file not found: {rttm}")
    return ManifestEntry(line=line, id=clip_id, audio=audio, reference=reference,
                         language=language.lower() if language else None, speaker=speaker,
                         speakers=ids, num_speakers=count, rttm=rttm)


def read_manifest(path: Path) -> Manifest:
    """Read a manifest; unusable lines become problems. Raises OSError if it cannot be read."""
    path = Path(path).expanduser()
    text = path.read_text(encoding="utf-8-sig")
    base = path.resolve().parent
    entries: list[ManifestEntry] = []
    problems: list[ManifestProblem] = []
    seen: dict[str, int] = {}
    lines = text.splitlines()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            entry = parse_line(raw, number, base)
        except ValueError as exc:
            problems.append(ManifestProblem(number, str(exc), str(path)))
            continue
        if entry.id in seen:
            # Two lines with one name would share a row in every table.
            entry = ManifestEntry(**{**entry.__dict__, "id": f"{entry.id}#{number}"})
        seen[entry.id] = number
        entries.append(entry)
    if not entries and not problems:
        problems.append(ManifestProblem(1, "the manifest has no entries", str(path)))
    log.info("manifest %s: %d entries, %d bad lines", path, len(entries), len(problems))
    return Manifest(path=path, entries=tuple(entries), problems=tuple(problems),
                    lines=len(lines))
