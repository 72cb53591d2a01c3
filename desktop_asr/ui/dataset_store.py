"""Datasets as the recording wizard sees them (plain Python: no Qt, safe off the UI thread).

The folder format and the take checks are the core's (``desktop_asr.datasets``, the same code
the training module validates and trains with); this module adds what only the wizard needs:
dataset names, prompt lists and carrier sentences for the user's vocabulary.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np

from desktop_asr import paths
from desktop_asr.datasets import dataset as core
from desktop_asr.datasets.levels import LevelReport, check_levels

MANIFEST = core.MANIFEST
SAMPLE_RATE = core.SAMPLE_RATE
PROMPTS_DIR = Path(__file__).resolve().parents[2] / "resources" / "prompts"
TEMPLATES = "vocabulary-templates.txt"

TakeCheck = LevelReport  # what the wizard shows about a take
check_take = check_levels
add_vocabulary = core.add_vocabulary


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
    """Make a new dataset folder named after ``name`` (ValueError for an unusable name)."""
    clean = re.sub(r"[^A-Za-z0-9._ -]+", "", name).strip()
    if not clean or clean.startswith("."):
        raise ValueError("a dataset name needs letters or digits")
    return core.create_dataset((root or datasets_root()) / clean, vocabulary=vocabulary).folder


def items(folder: Path) -> tuple[core.Item, ...]:
    """The dataset's readable items (bad lines are the validator's business)."""
    try:
        return core.read_dataset(folder).items
    except core.DatasetError:
        return ()


def save_take(folder: Path, samples: np.ndarray, text: str, *, speaker: str | None = None
              ) -> core.Item:
    """Write a take as the next WAV of the dataset and append its manifest line."""
    return core.add_clip(folder, samples, text, origin="wizard", speaker=speaker)


def recorded_texts(folder: Path) -> set[str]:
    """Sentences already recorded in a dataset (the wizard skips them)."""
    return {" ".join(item.text.split()) for item in items(folder)}


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
