"""Scoring transcripts against references: text normalisation and error rates."""

from desktop_asr.evaluation.normalize import normalizer_for
from desktop_asr.evaluation.scores import ErrorCounts, score

__all__ = ["ErrorCounts", "normalizer_for", "score"]
