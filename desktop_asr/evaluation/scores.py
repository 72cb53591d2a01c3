"""Word and character error rates with their edit counts (jiwer does the alignment)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import jiwer

from desktop_asr.evaluation.normalize import normalizer_for


@dataclass(frozen=True)
class ErrorCounts:
    """Edit counts over one or many utterances, and the rates derived from them."""

    hits: int
    substitutions: int
    deletions: int
    insertions: int
    ref_words: int
    char_errors: int
    ref_chars: int

    @property
    def wer(self) -> float:
        """Word error rate: (S + D + I) / reference words."""
        return (self.substitutions + self.deletions + self.insertions) / max(1, self.ref_words)

    @property
    def cer(self) -> float:
        """Character error rate."""
        return self.char_errors / max(1, self.ref_chars)

    @property
    def errors(self) -> int:
        """Word errors: S + D + I."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def hyp_words(self) -> int:
        """Words in the hypotheses: H + S + I."""
        return self.hits + self.substitutions + self.insertions

    @property
    def mer(self) -> float:
        """Match error rate: (S + D + I) / (H + S + D + I), bounded by 1."""
        return self.errors / max(1, self.hits + self.errors)

    @property
    def wil(self) -> float:
        """Word information lost: 1 - (H / reference words) * (H / hypothesis words)."""
        if self.ref_words == 0 or self.hyp_words == 0:
            return 0.0 if self.ref_words == self.hyp_words else 1.0
        return 1.0 - (self.hits / self.ref_words) * (self.hits / self.hyp_words)

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        return ErrorCounts(*(a + b for a, b in zip(self._tuple(), other._tuple())))

    def _tuple(self) -> tuple[int, ...]:
        return (self.hits, self.substitutions, self.deletions, self.insertions, self.ref_words,
                self.char_errors, self.ref_chars)


def score(references: Sequence[str], hypotheses: Sequence[str], *, language: str | None = "en",
          raw: bool = False) -> ErrorCounts:
    """Normalise and score hypotheses against references, summed over all pairs."""
    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses must have the same length")
    norm = normalizer_for(language, raw=raw)
    return score_normalized([norm(r) for r in references], [norm(h) for h in hypotheses])


def score_normalized(references: Sequence[str], hypotheses: Sequence[str]) -> ErrorCounts:
    """Score already-normalised strings, summed over all pairs (jiwer aligns them)."""
    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses must have the same length")
    refs, hyps = list(references), list(hypotheses)
    if any(not r.strip() for r in refs):
        raise ValueError("a reference is empty after normalisation")
    words = jiwer.process_words(refs, hyps)
    chars = jiwer.process_characters(refs, hyps)
    return ErrorCounts(hits=words.hits, substitutions=words.substitutions,
                       deletions=words.deletions, insertions=words.insertions,
                       ref_words=words.hits + words.substitutions + words.deletions,
                       char_errors=chars.substitutions + chars.deletions + chars.insertions,
                       ref_chars=chars.hits + chars.substitutions + chars.deletions)
