"""Training datasets: a folder holding ``manifest.jsonl`` plus the audio it names.

Each manifest line is one JSON object (format in docs/training.md)::

    {"id": "0007", "audio": "audio/0007.wav", "text": "Deploy Veltrion tonight.",
     "duration": 2.41, "origin": "wizard", "speaker": null, "split": null}

``audio`` is relative to the dataset folder (absolute paths are accepted when reading). Audio
written by desktop-asr is 16 kHz mono 16-bit PCM WAV. An optional ``dataset.json`` holds the
dataset's language and the user's vocabulary list.
"""

from __future__ import annotations

import json
import logging
import os
import re
import wave
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from desktop_asr.errors import DesktopAsrError
from desktop_asr.export.writer import write_text_atomic

log = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
INFO = "dataset.json"
AUDIO_DIR = "audio"
SAMPLE_RATE = 16000
SPLITS = ("train", "dev", "test")
ORIGINS = ("wizard", "record", "import", "editor", "synth")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class DatasetError(DesktopAsrError):
    """A dataset folder cannot be read or written; the message says which file and why."""


@dataclass(frozen=True)
class Item:
    """One training pair: an audio file and what is said in it."""

    id: str
    audio: str
    text: str
    duration: float | None = None
    origin: str = "import"
    speaker: str | None = None
    split: str | None = None

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"item id {self.id!r} may hold only letters, digits, '.', '_', '-'")
        if not self.audio:
            raise ValueError("item has no audio path")
        if self.split is not None and self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)} or null, "
                             f"got {self.split!r}")
        if self.duration is not None and not (self.duration >= 0 and np.isfinite(self.duration)):
            raise ValueError(f"duration must be a non-negative number, got {self.duration!r}")

    def to_dict(self) -> dict[str, Any]:
        """The manifest line of this item."""
        return {"id": self.id, "audio": self.audio, "text": self.text,
                "duration": None if self.duration is None else round(self.duration, 3),
                "origin": self.origin, "speaker": self.speaker, "split": self.split}

    @classmethod
    def from_dict(cls, data: dict[str, Any], default_id: str) -> Item:
        """Build an item from a manifest line (ValueError/TypeError/KeyError when malformed)."""
        if not isinstance(data, dict):
            raise TypeError("a manifest line must be a JSON object")
        text = data["text"]
        if not isinstance(text, str):
            raise TypeError("'text' must be a string")
        duration = data.get("duration")
        return cls(id=str(data.get("id") or default_id), audio=str(data["audio"]), text=text,
                   duration=None if duration is None else float(duration),
                   origin=str(data.get("origin") or "import"), speaker=data.get("speaker"),
                   split=data.get("split"))


@dataclass(frozen=True)
class ManifestLine:
    """A manifest line that could not be read, with its 1-based line number."""

    line: int
    message: str


@dataclass(frozen=True)
class Dataset:
    """A dataset folder and the items its manifest lists (in manifest order)."""

    folder: Path
    items: tuple[Item, ...] = ()
    language: str | None = "en"
    vocabulary: tuple[str, ...] = ()
    bad_lines: tuple[ManifestLine, ...] = field(default=(), compare=False)

    def audio_path(self, item: Item) -> Path:
        """Absolute path of an item's audio file."""
        path = Path(item.audio)
        return path if path.is_absolute() else self.folder / path

    @property
    def name(self) -> str:
        """The folder's name, shown to the user."""
        return self.folder.name


def read_dataset(folder: str | os.PathLike[str]) -> Dataset:
    """Read a dataset folder; malformed manifest lines are kept in ``bad_lines``, not raised."""
    folder = Path(folder).expanduser()
    manifest = folder / MANIFEST
    if not folder.is_dir():
        raise DatasetError(f"no dataset folder at {folder}")
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"{folder} is not a dataset: it has no {MANIFEST}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {manifest}: {getattr(exc, 'strerror', None) or exc}"
                           ) from exc
    items: list[Item] = []
    bad: list[ManifestLine] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = Item.from_dict(json.loads(line), default_id=f"line{number}")
        except json.JSONDecodeError as exc:
            bad.append(ManifestLine(number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except KeyError as exc:
            bad.append(ManifestLine(number, f"missing the {exc.args[0]!r} field"))
            continue
        except (TypeError, ValueError) as exc:
            bad.append(ManifestLine(number, str(exc)))
            continue
        if item.id in seen:
            bad.append(ManifestLine(number, f"id {item.id!r} is used by an earlier line"))
            continue
        seen.add(item.id)
        items.append(item)
    info = _read_info(folder)
    return Dataset(folder, tuple(items), language=info.get("language", "en"),
                   vocabulary=tuple(str(v) for v in info.get("vocabulary") or ()),
                   bad_lines=tuple(bad))


def _read_info(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / INFO).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", folder / INFO, exc)
        return {}


def create_dataset(folder: str | os.PathLike[str], *, language: str | None = "en",
                   vocabulary: Iterable[str] = ()) -> Dataset:
    """Make (or open) a dataset folder with an empty manifest and its dataset.json."""
    folder = Path(folder).expanduser()
    try:
        (folder / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
        if not (folder / MANIFEST).exists():
            (folder / MANIFEST).touch()
        info = {**_read_info(folder), "language": language}
        vocab = [v for v in vocabulary if v.strip()]
        if vocab:
            info["vocabulary"] = vocab
        write_text_atomic(folder / INFO, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise DatasetError(f"cannot create a dataset in {folder}: "
                           f"{getattr(exc, 'strerror', None) or exc}") from exc
    return read_dataset(folder)


def add_vocabulary(folder: str | os.PathLike[str], terms: Iterable[str]) -> tuple[str, ...]:
    """Merge ``terms`` into the dataset's vocabulary list (the training job scores them)."""
    folder = Path(folder).expanduser()
    info = _read_info(folder)
    known = [str(t) for t in info.get("vocabulary") or ()]
    new = [t.strip() for t in terms if t.strip() and t.strip() not in known]
    if new:
        info = {"language": "en", **info, "vocabulary": known + new}
        try:
            write_text_atomic(folder / INFO,
                              json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise DatasetError(f"cannot update {folder / INFO}: "
                               f"{getattr(exc, 'strerror', None) or exc}") from exc
    return tuple(known + new)


def next_id(dataset: Dataset) -> str:
    """A fresh, zero-padded numeric id one above the largest numeric id in use."""
    numbers = [int(i.id) for i in dataset.items if i.id.isdigit()]
    taken = {i.id for i in dataset.items}
    n = max(numbers, default=0) + 1
    while f"{n:04d}" in taken:
        n += 1
    return f"{n:04d}"


def write_wav16(path: Path, samples: np.ndarray) -> Path:
    """Write mono float samples in [-1, 1] as 16 kHz 16-bit PCM WAV (atomically)."""
    pcm = np.round(np.clip(np.asarray(samples, dtype=np.float64).reshape(-1), -1.0, 1.0)
                   * 32767.0).astype("<i2")
    tmp = path.with_name(f".{path.name}.tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    os.replace(tmp, path)
    return path


def add_clip(folder: str | os.PathLike[str], samples: np.ndarray, text: str, *,
             origin: str = "import", speaker: str | None = None, split: str | None = None,
             item_id: str | None = None) -> Item:
    """Save 16 kHz mono ``samples`` as a new item's WAV and append its manifest line."""
    dataset = read_dataset(folder) if (Path(folder) / MANIFEST).exists() else create_dataset(
        folder)
    item_id = item_id or next_id(dataset)
    rel = f"{AUDIO_DIR}/{item_id}.wav"
    try:
        (dataset.folder / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
        write_wav16(dataset.folder / rel, samples)
        item = Item(item_id, rel, " ".join(text.split()), duration=len(samples) / SAMPLE_RATE,
                    origin=origin, speaker=speaker, split=split)
        with open(dataset.folder / MANIFEST, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise DatasetError(f"cannot save a clip in {dataset.folder}: "
                           f"{getattr(exc, 'strerror', None) or exc}") from exc
    return item


def write_manifest(folder: Path, items: Iterable[Item]) -> Path:
    """Rewrite the manifest with ``items`` (atomically: the old one stays until it is done)."""
    text = "".join(json.dumps(i.to_dict(), ensure_ascii=False) + "\n" for i in items)
    return write_text_atomic(Path(folder) / MANIFEST, text)


def replace_item(folder: Path, item: Item, samples: np.ndarray | None = None,
                 text: str | None = None) -> Item:
    """Re-record or re-word one item in place (its id and file name stay)."""
    dataset = read_dataset(folder)
    new = item
    if samples is not None:
        write_wav16(dataset.audio_path(item), samples)
        new = replace(new, duration=len(samples) / SAMPLE_RATE)
    if text is not None:
        new = replace(new, text=" ".join(text.split()))
    write_manifest(dataset.folder, [new if i.id == item.id else i for i in dataset.items])
    return new


def read_wav16(path: Path) -> np.ndarray:
    """Mono float32 samples of any audio file at 16 kHz (WAV fast path, else PyAV)."""
    try:
        with wave.open(str(path), "rb") as src:
            if (src.getsampwidth() == 2 and src.getnchannels() == 1
                    and src.getframerate() == SAMPLE_RATE and src.getcomptype() == "NONE"):
                raw = src.readframes(src.getnframes())
                return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    except (wave.Error, EOFError):
        pass
    from desktop_asr.audio import decode_audio

    return decode_audio(path)
