"""Scoring: Whisper-style normalisation and error counts, checked against jiwer directly."""

from __future__ import annotations

import jiwer
import pytest

from desktop_asr.evaluation import normalizer_for, score


def test_english_normaliser_makes_styles_comparable() -> None:
    norm = normalizer_for("en")
    assert norm("Mr. Quilter, we're glad!") == norm("mister quilter we are glad")
    assert norm("Twenty dollars") == norm("$20")


def test_counts_match_jiwer_on_the_normalised_strings() -> None:
    refs = ["The cat sat on the mat.", "Hello there, General Kenobi!"]
    hyps = ["the cat sat on a mat", "hello general kenobi and more"]
    counts = score(refs, hyps)
    norm = normalizer_for("en")
    direct = jiwer.process_words([norm(r) for r in refs], [norm(h) for h in hyps])
    assert counts.wer == pytest.approx(direct.wer)
    assert (counts.substitutions, counts.deletions, counts.insertions) == (
        direct.substitutions, direct.deletions, direct.insertions)
    assert counts.cer == pytest.approx(
        jiwer.cer([norm(r) for r in refs], [norm(h) for h in hyps]))
    assert (score(refs[:1], hyps[:1]) + score(refs[1:], hyps[1:])).wer == pytest.approx(
        counts.wer)


def test_empty_hypothesis_counts_every_word_deleted_and_empty_reference_is_refused() -> None:
    counts = score(["alpha bravo charlie"], [""])
    assert counts.deletions == 3 and counts.wer == 1.0
    with pytest.raises(ValueError, match="empty after normalisation"):
        score(["?!"], ["x"])
    with pytest.raises(ValueError):
        score(["a"], [])
