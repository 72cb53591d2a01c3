"""Import recordings with transcripts into a dataset: a folder of audio + .txt, or a manifest.

Every imported clip is decoded (any container desktop-asr reads) and stored as 16 kHz mono WAV
inside the dataset, so the dataset stays valid when the originals move. Clips that cannot be
used are skipped with one line each; nothing already in the dataset is touched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_asr.audio import decode_audio
from desktop_asr.errors import AudioDecodeError
from desktop_asr.datasets.dataset import MANIFEST, DatasetError, Item, add_clip, create_dataset
from desktop_asr.datasets.levels import MAX_SECONDS, MIN_SECONDS, SAMPLE_RATE

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mp4",
                  ".mkv", ".mov")
TEXT_SUFFIXES = (".txt", ".lab")
# Keys other tools use for the audio path and the transcript in their manifests
# (NeMo: audio_filepath/text; Common Voice style: path/sentence).
_AUDIO_KEYS = ("audio", "audio_filepath", "path", "file")
_TEXT_KEYS = ("text", "sentence", "transcript", "transcription")


@dataclass(frozen=True)
class Skipped:
    """An input that was not imported, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.source}: {self.reason}"


@dataclass(frozen=True)
class ImportResult:
    """What an import added and what it skipped."""

    added: tuple[Item, ...]
    skipped: tuple[Skipped, ...]

    def summary(self) -> str:
        """One line for the user."""
        seconds = sum(i.duration or 0.0 for i in self.added)
        return (f"imported {len(self.added)} clip(s) ({seconds / 60:.1f} min), "
                f"skipped {len(self.skipped)}")


Progress = Callable[[int, int], None]


def _add(dst: Path, audio: Path, text: str, origin: str, speaker: str | None,
         split: str | None, added: list[Item], skipped: list[Skipped]) -> None:
    text = " ".join(text.split())
    if not text:
        skipped.append(Skipped(str(audio), "the transcript is empty"))
        return
    try:
        samples = decode_audio(audio, sample_rate=SAMPLE_RATE)
    except AudioDecodeError as exc:
        skipped.append(Skipped(str(audio), exc.detail))
        return
    seconds = samples.size / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        skipped.append(Skipped(str(audio), f"too short ({seconds:.2f} s)"))
        return
    if seconds > MAX_SECONDS:
        skipped.append(Skipped(str(audio), f"too long ({seconds:.0f} s; at most "
                               f"{MAX_SECONDS:g} s: split long recordings into sentences)"))
        return
    added.append(add_clip(dst, samples, text, origin=origin, speaker=speaker, split=split))


def import_folder(src: Path, dst: Path, *, speaker: str | None = None,
                  progress: Progress | None = None) -> ImportResult:
    """Import every audio file in ``src`` (recursively) that has a same-named .txt beside it."""
    src = Path(src).expanduser()
    if not src.is_dir():
        raise DatasetError(f"no folder at {src}")
    create_dataset(dst)
    audio_files = sorted(p for p in src.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES
                         and p.is_file() and not p.name.startswith("."))
    if not audio_files:
        raise DatasetError(f"{src} holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
    added: list[Item] = []
    skipped: list[Skipped] = []
    for n, audio in enumerate(audio_files, 1):
        text_file = next((audio.with_suffix(s) for s in TEXT_SUFFIXES
                          if audio.with_suffix(s).is_file()), None)
        if text_file is None:
            skipped.append(Skipped(str(audio), f"no transcript ({audio.stem}.txt) beside it"))
        else:
            try:
                text = text_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                skipped.append(Skipped(str(audio), f"cannot read {text_file.name}: {exc}"))
            else:
                _add(dst, audio, text, "import", speaker, None, added, skipped)
        if progress is not None:
            progress(n, len(audio_files))
    return ImportResult(tuple(added), tuple(skipped))


def import_manifest(manifest: Path, dst: Path, *, speaker: str | None = None,
                    progress: Progress | None = None) -> ImportResult:
    """Import the clips a JSON-lines manifest lists (audio paths relative to the manifest)."""
    manifest = Path(manifest).expanduser()
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {manifest}: {getattr(exc, 'strerror', None) or exc}"
                           ) from exc
    create_dataset(dst)
    added: list[Item] = []
    skipped: list[Skipped] = []
    rows = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    for k, (n, line) in enumerate(rows, 1):
        where = f"{manifest.name} line {n}"
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            skipped.append(Skipped(where, f"not valid JSON ({exc})"))
            continue
        audio_key = next((key for key in _AUDIO_KEYS if row.get(key)), None)
        text_key = next((key for key in _TEXT_KEYS if isinstance(row.get(key), str)), None)
        if audio_key is None:
            skipped.append(Skipped(where, "no audio path (an 'audio' field)"))
        elif text_key is None:
            skipped.append(Skipped(where, "no transcript (a 'text' field)"))
        else:
            audio = Path(str(row[audio_key])).expanduser()
            audio = audio if audio.is_absolute() else manifest.parent / audio
            split = row.get("split") if row.get("split") in ("train", "dev", "test") else None
            _add(dst, audio, row[text_key], "import", row.get("speaker") or speaker, split,
                 added, skipped)
        if progress is not None:
            progress(k, len(rows))
    return ImportResult(tuple(added), tuple(skipped))


def import_any(src: Path, dst: Path, **kwargs: object) -> ImportResult:
    """A folder of audio + .txt, or a ``.jsonl`` manifest (a folder with a manifest counts)."""
    src = Path(src).expanduser()
    if src.is_file():
        return import_manifest(src, dst, **kwargs)  # type: ignore[arg-type]
    if (src / MANIFEST).is_file() and not any(p.suffix in TEXT_SUFFIXES for p in src.iterdir()):
        return import_manifest(src / MANIFEST, dst, **kwargs)  # type: ignore[arg-type]
    return import_folder(src, dst, **kwargs)  # type: ignore[arg-type]
