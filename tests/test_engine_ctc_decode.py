"""CTC decoding on synthetic emission matrices: greedy, forced alignment, ARPA LM beam search."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from desktop_asr.engines.ctc_align import forced_align_spans, greedy_spans
from desktop_asr.engines.ctc_decode import (CtcVocabulary, greedy_ids, prefix_beam_search,
                                            speech_regions, words_from_spans)
from desktop_asr.engines.ctc_lm import ArpaLanguageModel, LmWeights, find_language_model
from desktop_asr.errors import ModelError

TOKENS = ("<b>", "|", *"abcdefghijklmnopqrstuvwxyz")
VOCAB = CtcVocabulary(tokens=TOKENS, blank=0, delimiter="|", lowercase=False)
ID = {t: i for i, t in enumerate(TOKENS)}


def emission(frames: list[dict[str, float]], *, floor: float = 1e-4) -> np.ndarray:
    """Log-softmax rows from per-frame probability masses (the rest spread evenly)."""
    out = np.full((len(frames), len(TOKENS)), floor)
    for t, masses in enumerate(frames):
        for tok, p in masses.items():
            out[t, ID[tok]] = p
    out /= out.sum(axis=1, keepdims=True)
    return np.log(out)


def path_frames(path: str) -> list[dict[str, float]]:
    """One frame per character of ``path``; '-' is blank, ' ' the delimiter."""
    return [{"<b>" if c == "-" else ("|" if c == " " else c): 0.97} for c in path]


def test_greedy_merges_repeats_but_keeps_blank_separated_doubles() -> None:
    em = emission(path_frames("--hh-e-ll-ll--oo-- --"))
    ids = greedy_ids(em, VOCAB.blank)
    assert VOCAB.text(ids) == "hello"


def test_forced_alignment_recovers_known_token_segmentation() -> None:
    # Known segmentation: c=[2,5) a=[6,8) t=[9,12), the rest blank.
    path = "--ccc-aa-ttt---"
    em = emission(path_frames(path))
    spans = forced_align_spans(em, [ID["c"], ID["a"], ID["t"]], VOCAB.blank)
    assert [(s, e) for s, e, _ in spans] == [(2, 5), (6, 8), (9, 12)]
    assert all(p > 0.9 for _, _, p in spans)


def test_forced_alignment_places_the_transcript_where_greedy_would_misread() -> None:
    # Frame 6 looks like 'o' to greedy decoding; aligning the known word "cat" must still put
    # 'a' on frames 6-7 (its second-best token there) and never invent the 'o'.
    frames = path_frames("--ccc-aa-ttt---")
    frames[6] = {"o": 0.55, "a": 0.4}
    em = emission(frames)
    assert VOCAB.text(greedy_ids(em, VOCAB.blank)) == "coat"
    spans = forced_align_spans(em, [ID["c"], ID["a"], ID["t"]], VOCAB.blank)
    assert [(s, e) for s, e, _ in spans] == [(2, 5), (6, 8), (9, 12)]


def test_forced_alignment_refuses_a_transcript_longer_than_the_frames() -> None:
    em = emission(path_frames("-aa-"))
    # "aaa" needs a blank between repeats: 5 frames at least.
    assert forced_align_spans(em, [ID["a"]] * 3, VOCAB.blank) is None
    ids, spans = greedy_spans(em, VOCAB.blank)
    assert VOCAB.text(ids) == "a" and spans[0][:2] == (1, 3)


def test_words_from_spans_times_are_frame_exact_and_monotonic() -> None:
    em = emission(path_frames("-hi-- -to---"))
    ids = greedy_ids(em, VOCAB.blank)
    spans = forced_align_spans(em, ids, VOCAB.blank)
    words = words_from_spans(ids, spans, VOCAB, frame_seconds=0.02, offset=1.0)
    assert [w.text for w in words] == [" hi", " to"]
    assert words[0].start == pytest.approx(1.02) and words[0].end == pytest.approx(1.06)
    assert words[1].start == pytest.approx(1.14) and words[1].end == pytest.approx(1.18)


ARPA = """\\data\\
ngram 1=6
ngram 2=3

\\1-grams:
-0.8\t</s>
-99\t<s>\t-0.3
-0.5\tCAT\t-0.2
-3.0\tBAT\t-0.2
-0.9\tTHE\t-0.4
-2.0\t<unk>

\\2-grams:
-0.1\t<s> THE
-0.2\tTHE CAT
-0.4\tCAT </s>

\\end\\
"""


def write_lm(folder: Path, text: str = ARPA, name: str = "lm.arpa") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_arpa_scores_follow_back_off_rules(tmp_path: Path) -> None:
    lm = ArpaLanguageModel.load(write_lm(tmp_path))
    ln10 = math.log(10)
    assert lm.order == 2
    assert lm.score(("the",), "cat") == pytest.approx(-0.2 * ln10)       # bigram, any case
    assert lm.score(("THE",), "bat") == pytest.approx((-0.4 - 3.0) * ln10)  # back-off + unigram
    assert lm.score(("cat",), "the") == pytest.approx((-0.2 - 0.9) * ln10)
    assert lm.score((), "zebra") == pytest.approx(-2.0 * ln10)          # <unk>
    assert lm.knows("Cat") and not lm.knows("zebra")


@pytest.mark.parametrize("text, match", [
    ("just some words\n", "not an ARPA language model"),
    ("\\data\\\nngram 1=1\n\\1-grams:\nnot-a-number WORD\n\\end\\\n", "scores must be numbers"),
])
def test_bad_arpa_files_give_one_clear_error(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        ArpaLanguageModel.load(write_lm(tmp_path, text))


def ambiguous_cat_bat() -> np.ndarray:
    """'_at' where the acoustic model slightly prefers 'b' over 'c' for the first letter."""
    frames = path_frames("-tt-hh-ee-- -xx-aa-tt--")
    frames[13] = frames[14] = {"b": 0.52, "c": 0.45}
    return emission(frames)


def test_beam_search_with_a_biased_lm_prefers_the_lm_word(tmp_path: Path) -> None:
    em = ambiguous_cat_bat()
    assert VOCAB.text(greedy_ids(em, VOCAB.blank)) == "the bat"
    lm = ArpaLanguageModel.load(write_lm(tmp_path))
    ids = prefix_beam_search(em, VOCAB, lm, LmWeights(alpha=1.0, beta=0.5, beam_width=16))
    assert VOCAB.text(ids) == "the cat"
    # With the LM switched off (alpha 0, no bonus) the acoustics win again.
    ids = prefix_beam_search(em, VOCAB, lm, LmWeights(alpha=0.0, beta=0.0, beam_width=16))
    assert VOCAB.text(ids) == "the bat"


def test_beam_search_keeps_clear_acoustics_over_a_weak_lm_preference(tmp_path: Path) -> None:
    frames = path_frames("-tt-hh-ee-- -bb-aa-tt--")  # an unambiguous 'bat'
    lm = ArpaLanguageModel.load(write_lm(tmp_path))
    ids = prefix_beam_search(emission(frames), VOCAB, lm, LmWeights(alpha=0.3, beta=0.5))
    assert VOCAB.text(ids) == "the bat"


def test_speech_regions_split_at_pauses_and_cap_length() -> None:
    frames = path_frames("-ab-" + "-" * 30 + "cd--" + "-" * 5 + "ef")
    regions = speech_regions(emission(frames), VOCAB.blank, min_gap=10, max_len=1000)
    assert len(regions) == 2
    (a0, b0), (a1, b1) = regions
    # Each region holds its speech (frames 1-2, then 34-44) and they do not overlap.
    assert a0 <= 1 and 3 <= b0 <= a1 <= 34 and b1 == len(frames)
    long = speech_regions(emission(path_frames("ab-" * 100)), VOCAB.blank, min_gap=10,
                          max_len=60)
    assert all(b - a <= 60 for a, b in long)
    assert long[0][0] == 0 and long[-1][1] == 300
    assert all(x[1] == y[0] for x, y in zip(long, long[1:]))


def test_language_model_folder_layout_and_binary_refusal(tmp_path: Path) -> None:
    model = tmp_path / "model"
    lm_dir = model / "language_model"
    assert find_language_model(model) is None
    write_lm(lm_dir, name="4gram.arpa")
    (lm_dir / "attrs.json").write_text('{"alpha": 0.7, "beta": 2.0, "unk_score_offset": -5}')
    path, weights = find_language_model(model)
    assert path.name == "4gram.arpa"
    assert (weights.alpha, weights.beta, weights.unk_offset) == (0.7, 2.0, -5.0)
    other = tmp_path / "bin_only" / "language_model"
    other.mkdir(parents=True)
    (other / "lm.bin").write_bytes(b"mmap lm http://kheafield.com/code format version 5\n")
    with pytest.raises(ModelError, match="binary KenLM model"):
        find_language_model(other.parent)
