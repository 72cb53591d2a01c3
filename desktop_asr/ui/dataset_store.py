"""Datasets as the recording wizard sees them (plain Python: no Qt, safe off the UI thread).

The app may not import the ``training`` package, so the wizard writes the documented dataset
format itself (docs/training.md: ``manifest.jsonl`` + 16 kHz mono 16-bit WAV in ``audio/``)
and checks each take with the same thresholds as ``training/levels.py``
(tests/test_dataset_levels.py keeps the two in step). Full validation and training run in the
training subprocess.
"""

from __future__ import annotations

import json
import os
import random
import re
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_asr import paths

MANIFEST = "manifest.jsonl"
INFO = "dataset.json"
SAMPLE_RATE = 16000
PROMPTS_DIR = Path(__file__).resolve().parents[2] / "resources" / "prompts"
TEMPLATES = "vocabulary-templates.txt"

# Same limits as training/levels.py.
MIN_SECONDS = 0.5
MAX_SECONDS = 30.0
CLIP_LEVEL = 0.999
CLIP_FRACTION = 0.001
SILENCE_DBFS = -55.0
QUIET_DBFS = -35.0


@dataclass(frozen=True)
class TakeCheck:
    """What the wizard says about a take: usable or not, and why."""

    duration: float
    level_dbfs: float
    clipped_fraction: float
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the take can be kept."""
        return not self.errors

    def summary(self) -> str:
        """One line for the wizard."""
        head = f"{self.duration:.1f} s, loudest {self.level_dbfs:.0f} dBFS"
        issues = [*self.errors, *self.warnings]
        return head + (" — " + "; ".join(issues) if issues else " — sounds good")


def check_take(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> TakeCheck:
    """Length, loudness, clipping and silence of one mono take."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    duration = x.size / sample_rate
    hop = max(1, int(0.05 * sample_rate))
    usable = (x.size // hop) * hop
    if usable:
        frames = x[:usable].astype(np.float64).reshape(-1, hop)
        loudest = float(np.sqrt(np.max(np.mean(frames * frames, axis=1))))
    else:
        loudest = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    level = float(20.0 * np.log10(max(loudest, 1e-10)))
    clipped = float(np.mean(np.abs(x) >= CLIP_LEVEL)) if x.size else 0.0
    errors: list[str] = []
    warnings: list[str] = []
    if duration < MIN_SECONDS:
        errors.append(f"too short ({duration:.2f} s)")
    elif duration > MAX_SECONDS:
        errors.append(f"too long ({duration:.0f} s; at most {MAX_SECONDS:g} s)")
    if x.size and level < SILENCE_DBFS:
        errors.append("silent: check the microphone and its mute switch")
    elif x.size and level < QUIET_DBFS:
        warnings.append("very quiet: move closer or raise the input gain")
    if clipped > CLIP_FRACTION:
        warnings.append(f"clipped ({clipped * 100:.1f} %): lower the input gain")
    return TakeCheck(duration, level, clipped, tuple(errors), tuple(warnings))


def datasets_root() -> Path:
    """Where the app keeps datasets."""
    return paths.datasets_dir()


def list_datasets(root: Path | None = None) -> list[Path]:
    """Dataset folders (those with a manifest) under ``root``, by name."""
    root = root or datasets_root()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / MANIFEST).is_file())


def create_dataset(name: str, root: Path | None = None, vocabulary: tuple[str, ...] = ()
                   ) -> Path:
    """Make a new dataset folder (ValueError for an unusable name)."""
    clean = re.sub(r"[^A-Za-z0-9._ -]+", "", name).strip()
    if not clean or clean.startswith("."):
        raise ValueError("a dataset name needs letters or digits")
    folder = (root or datasets_root()) / clean
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).touch()
    info = {"language": "en", **({"vocabulary": list(vocabulary)} if vocabulary else {})}
    (folder / INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return folder


def add_vocabulary(folder: Path, terms: tuple[str, ...]) -> None:
    """Merge ``terms`` into the dataset's vocabulary list (the job scores them)."""
    path = folder / INFO
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        info = info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        info = {"language": "en"}
    known = [str(t) for t in info.get("vocabulary") or ()]
    new = [t for t in terms if t and t not in known]
    if new:
        info["vocabulary"] = known + new
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def manifest_rows(folder: Path) -> list[dict]:
    """The manifest's readable lines (bad lines are the validator's business)."""
    rows = []
    try:
        lines = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def save_take(folder: Path, samples: np.ndarray, text: str, *, speaker: str | None = None
              ) -> dict:
    """Write a take as the next WAV of the dataset and append its manifest line."""
    rows = manifest_rows(folder)
    numbers = [int(r["id"]) for r in rows if str(r.get("id", "")).isdigit()]
    item_id = f"{max(numbers, default=0) + 1:04d}"
    rel = f"audio/{item_id}.wav"
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    pcm = np.round(np.clip(np.asarray(samples, np.float64), -1, 1) * 32767).astype("<i2")
    tmp = folder / f".{item_id}.wav.tmp"
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    os.replace(tmp, folder / rel)
    row = {"id": item_id, "audio": rel, "text": " ".join(text.split()),
           "duration": round(pcm.size / SAMPLE_RATE, 3), "origin": "wizard",
           "speaker": speaker, "split": None}
    with open(folder / MANIFEST, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return row


def recorded_texts(folder: Path) -> set[str]:
    """Sentences already recorded in a dataset (the wizard skips them)."""
    return {" ".join(str(r.get("text", "")).split()) for r in manifest_rows(folder)}


def prompt_lists() -> dict[str, Path]:
    """Bundled prompt lists by name."""
    if not PROMPTS_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(PROMPTS_DIR.glob("*.txt")) if p.name != TEMPLATES}


def read_prompts(path: Path) -> list[str]:
    """Sentences of a prompt file (comments and blank lines left out)."""
    return [" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def vocabulary_prompts(terms: list[str], per_term: int = 2, seed: int = 0) -> list[str]:
    """Carrier sentences that put each of the user's terms in a few contexts."""
    templates = read_prompts(PROMPTS_DIR / TEMPLATES)
    rng = random.Random(seed)
    return [t.replace("{term}", term.strip()) for term in terms if term.strip()
            for t in rng.sample(templates, min(per_term, len(templates)))]
