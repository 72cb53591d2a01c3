"""The repetition filter removes decoder loops but keeps ordinary repeated speech."""

from __future__ import annotations

from desktop_asr.engines.guards import collapse_loops, filter_repetitions
from desktop_asr.types import Segment, Word


def test_single_word_loop_collapses_but_short_repeats_stay() -> None:
    assert collapse_loops("no no no".split()) == [0, 1, 2]
    tokens = "thank you thank you thank you thank you thank you bye".split()
    kept = [tokens[i] for i in collapse_loops(tokens)]
    assert kept == ["thank", "you", "bye"]
    looping = ["the"] * 7 + ["end"]
    assert [looping[i] for i in collapse_loops(looping)] == ["the", "end"]


def test_loops_ignore_case_and_punctuation() -> None:
    tokens = ["I'm", "here.", "I'm", "here,", "i'm", "HERE!", "ok"]
    assert [tokens[i] for i in collapse_loops(tokens)] == ["I'm", "here.", "ok"]


def test_words_and_text_stay_consistent_after_filtering() -> None:
    words = tuple(Word(i * 0.5, i * 0.5 + 0.4, t) for i, t in
                  enumerate([" go", " team", " go", " team", " go", " team", " win"]))
    seg = Segment(0.0, 3.5, "".join(w.text for w in words), words=words)
    (out,) = filter_repetitions([seg])
    assert out.text == " go team win"
    assert [w.text for w in out.words] == [" go", " team", " win"]
    assert out.words[-1].start == 3.0


def test_runs_of_identical_segments_are_dropped_but_pairs_kept() -> None:
    segs = [Segment(i, i + 1, " Thank you.") for i in range(5)] + [Segment(6, 7, " Bye.")]
    assert [s.text for s in filter_repetitions(segs)] == [" Thank you.", " Bye."]
    pair = [Segment(0, 1, " Hello?"), Segment(1, 2, " Hello?"), Segment(2, 3, " Hi.")]
    assert filter_repetitions(pair) == pair
