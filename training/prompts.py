"""Prompt lists for recording: bundled lists, the user's own sentences, and vocabulary."""

from __future__ import annotations

import random
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "resources" / "prompts"
TEMPLATES = "vocabulary-templates.txt"


def _lines(path: Path) -> list[str]:
    return [" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def prompt_lists() -> dict[str, Path]:
    """The bundled prompt lists by name (file stem)."""
    if not PROMPTS_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(PROMPTS_DIR.glob("*.txt")) if p.name != TEMPLATES}


def load_prompts(name_or_path: str) -> list[str]:
    """Sentences of a bundled list (by name) or of a text file (one sentence per line)."""
    lists = prompt_lists()
    path = lists.get(name_or_path) or Path(name_or_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no prompt list {name_or_path!r}; bundled lists: "
                                f"{', '.join(lists) or 'none'}")
    return _lines(path)


def vocabulary_prompts(terms: list[str], per_term: int = 2, seed: int = 0) -> list[str]:
    """Carrier sentences that put each vocabulary term in ``per_term`` different contexts."""
    templates = _lines(PROMPTS_DIR / TEMPLATES)
    rng = random.Random(seed)
    out: list[str] = []
    for term in (t.strip() for t in terms):
        if term:
            out += [t.replace("{term}", term)
                    for t in rng.sample(templates, min(per_term, len(templates)))]
    return out
