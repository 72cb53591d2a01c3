"""Word n-gram language models in ARPA format (what KenLM's ``lmplz`` writes) for CTC beam search.

Pure Python on purpose: pyctcdecode pins ``numpy<2`` and ``kenlm`` is an sdist that needs a C++
compiler, so neither can be an extra that installs cleanly everywhere. An ARPA file of the size a
user builds from their own texts (thousands to a few hundred thousand n-grams) loads in seconds.
Words are compared case-insensitively because CTC vocabularies are often upper case.
"""

from __future__ import annotations

import gzip
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from desktop_asr.errors import ModelError

log = logging.getLogger(__name__)

_LN10 = math.log(10.0)
# Score of a word the model has never seen when it has no <unk> entry (log10, as in the file).
_DEFAULT_UNK_LOG10 = -10.0


@dataclass(frozen=True)
class LmWeights:
    """How the beam search mixes the LM in: score = ctc + alpha * lm + beta * words."""

    alpha: float = 0.5
    beta: float = 1.0
    unk_offset: float = -10.0
    beam_width: int = 32

    def __post_init__(self) -> None:
        for name in ("alpha", "beta", "unk_offset"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"LM weight {name} must be finite")
        if self.alpha < 0:
            raise ValueError("LM weight alpha must be >= 0")
        if not 1 <= self.beam_width <= 1024:
            raise ValueError("beam_width must be within [1, 1024]")


class ArpaLanguageModel:
    """A back-off n-gram model read from an ARPA file; scores are natural logs."""

    def __init__(self, ngrams: dict[tuple[str, ...], tuple[float, float]], order: int,
                 source: str = "") -> None:
        self._ngrams = ngrams
        self.order = order
        self.source = source
        unk = ngrams.get(("<unk>",))
        self._unk_log10 = unk[0] if unk is not None else _DEFAULT_UNK_LOG10
        self.vocabulary = frozenset(g[0] for g in ngrams if len(g) == 1) - {"<s>", "</s>",
                                                                              "<unk>"}

    @classmethod
    def load(cls, path: Path) -> ArpaLanguageModel:
        """Parse an ARPA file (optionally gzip-compressed)."""
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"language model {path} does not exist")
        opener = gzip.open if path.suffix == ".gz" else open
        try:
            with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
                ngrams, order = _parse_arpa(fh, str(path))
        except (OSError, EOFError) as exc:
            raise ModelError(f"cannot read language model {path}: {exc}") from exc
        log.info("loaded %d-gram LM with %d n-grams from %s", order, len(ngrams), path)
        return cls(ngrams, order, str(path))

    @property
    def prefixes(self) -> frozenset[str]:
        """Every prefix of every vocabulary word (built on first use)."""
        cached = getattr(self, "_prefixes", None)
        if cached is None:
            cached = frozenset(w[:i] for w in self.vocabulary for i in range(1, len(w) + 1))
            self._prefixes = cached
        return cached

    def knows(self, word: str) -> bool:
        """True when ``word`` is in the model's vocabulary."""
        return word.lower() in self.vocabulary

    def score(self, context: tuple[str, ...], word: str) -> float:
        """Natural-log probability of ``word`` after ``context`` (back-off applied)."""
        word = word.lower()
        hist = tuple(w.lower() for w in context[-(self.order - 1):]) if self.order > 1 else ()
        total = 0.0
        while True:
            entry = self._ngrams.get((*hist, word))
            if entry is not None:
                return (total + entry[0]) * _LN10
            if not hist:
                return (total + self._unk_log10) * _LN10
            backoff = self._ngrams.get(hist)
            if backoff is not None:
                total += backoff[1]
            hist = hist[1:]


def _parse_arpa(lines, source: str) -> tuple[dict[tuple[str, ...], tuple[float, float]], int]:
    ngrams: dict[tuple[str, ...], tuple[float, float]] = {}
    counts: dict[int, int] = {}
    section: int | None = None
    seen_data = False
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line == "\\data\\":
            seen_data = True
            section = 0
            continue
        if line == "\\end\\":
            break
        if line.startswith("\\") and line.endswith("-grams:"):
            try:
                section = int(line[1:-len("-grams:")])
            except ValueError:
                raise ModelError(f"{source}:{lineno}: bad ARPA section header {line!r}") from None
            continue
        if section == 0:
            if line.startswith("ngram "):
                n, _, count = line[6:].partition("=")
                counts[int(n)] = int(count)
            continue
        if section is None:
            continue  # text before \data\ is a comment in ARPA files
        parts = line.split()
        if len(parts) < section + 1:
            raise ModelError(f"{source}:{lineno}: expected {section} words and a score")
        try:
            prob = float(parts[0])
            backoff = float(parts[section + 1]) if len(parts) > section + 1 else 0.0
        except ValueError:
            raise ModelError(f"{source}:{lineno}: scores must be numbers: {line!r}") from None
        ngrams[tuple(w.lower() for w in parts[1:section + 1])] = (prob, backoff)
    if not seen_data or not ngrams:
        raise ModelError(f"{source} is not an ARPA language model (no \\data\\ section or "
                         "no n-grams); KenLM's lmplz writes this format")
    order = max(counts) if counts else max(len(g) for g in ngrams)
    return ngrams, order


def find_language_model(folder: Path) -> tuple[Path, LmWeights] | None:
    """The ARPA LM that ships with a model folder, with its weights, or None.

    Looks where pyctcdecode-style checkpoints keep it (``language_model/`` with ``attrs.json``
    holding alpha/beta/unk_score_offset) and for a plain ``lm.arpa`` beside the model.
    """
    import json

    folder = Path(folder)
    lm_dir = folder / "language_model"
    candidates = sorted([*lm_dir.glob("*.arpa"), *lm_dir.glob("*.arpa.gz")]) if lm_dir.is_dir() \
        else []
    candidates += [p for p in (folder / "lm.arpa", folder / "lm.arpa.gz") if p.is_file()]
    if not candidates:
        binaries = sorted(lm_dir.glob("*.bin")) if lm_dir.is_dir() else []
        if binaries:
            raise ModelError(f"{binaries[0]} is a binary KenLM model, which this app cannot "
                             "read; put the ARPA file it was built from (lmplz's output) in "
                             f"{lm_dir}")
        return None
    weights = LmWeights()
    attrs = lm_dir / "attrs.json"
    if attrs.is_file():
        try:
            data = json.loads(attrs.read_text(encoding="utf-8"))
            weights = LmWeights(alpha=float(data.get("alpha", weights.alpha)),
                                beta=float(data.get("beta", weights.beta)),
                                unk_offset=float(data.get("unk_score_offset",
                                                          weights.unk_offset)),
                                beam_width=int(data.get("beam_width", weights.beam_width)))
        except (ValueError, TypeError, AttributeError) as exc:
            raise ModelError(f"{attrs} is not valid LM settings JSON: {exc}") from exc
    return candidates[0], weights
