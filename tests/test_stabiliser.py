"""The local-agreement stabiliser on scripted hypothesis sequences."""

from __future__ import annotations

from desktop_asr.streaming.stabiliser import Stabiliser
from desktop_asr.types import Word


def hyp(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    """Words of ``text`` laid out every ``step`` seconds from ``start``."""
    return [Word(start + i * step, start + i * step + 0.3, " " + t)
            for i, t in enumerate(text.split())]


def texts(words) -> list[str]:
    return [w.text.strip() for w in words]


def test_words_commit_only_when_two_hypotheses_agree() -> None:
    s = Stabiliser(agreement=2)
    r1 = s.update(hyp("the cat"))
    assert texts(r1.committed) == [] and texts(r1.tentative) == ["the", "cat"]
    r2 = s.update(hyp("the cat sat"))
    assert texts(r2.committed) == ["the", "cat"] and texts(r2.tentative) == ["sat"]
    r3 = s.update(hyp("the cat sat on"))
    assert texts(r3.committed) == ["sat"] and texts(r3.tentative) == ["on"]
    assert texts(s.committed) == ["the", "cat", "sat"]


def test_a_word_that_changes_stays_tentative_until_it_settles() -> None:
    s = Stabiliser()
    s.update(hyp("I scream"))
    r = s.update(hyp("ice cream is"))       # first word changed: nothing agrees yet
    assert r.committed == () and texts(r.tentative) == ["ice", "cream", "is"]
    r = s.update(hyp("ice cream is cold"))  # now "ice cream is" agrees
    assert texts(r.committed) == ["ice", "cream", "is"]
    r = s.update(hyp("ice cream is old"))   # "cold" -> "old": tentative, not committed
    assert r.committed == () and texts(r.tentative) == ["old"]
    r = s.update(hyp("ice cream is old today"))
    assert texts(r.committed) == ["old"]
    assert texts(s.committed) == ["ice", "cream", "is", "old"]


def test_punctuation_and_case_do_not_block_agreement() -> None:
    s = Stabiliser()
    s.update(hyp("hello there friend"))
    r = s.update(hyp("Hello, there. Friend"))
    assert texts(r.committed) == ["Hello,", "there.", "Friend"]


def test_a_last_word_with_punctuation_waits_for_what_follows_it() -> None:
    s = Stabiliser()
    s.update(hyp("Please."))
    r = s.update(hyp("Please."))  # agreed, but the full stop is only where the audio ends
    assert r.committed == () and texts(r.tentative) == ["Please."]
    r = s.update(hyp("Please send"))
    assert texts(r.committed) == ["Please"] and texts(r.tentative) == ["send"]
    r = s.update(hyp("Please send the"))
    assert texts(r.committed) == ["send"]
    f = s.finish(hyp("Please send the report."))
    assert texts(f.committed) == ["the", "report."]


def test_a_held_back_last_word_still_commits_when_it_grows_old() -> None:
    s = Stabiliser(force_after=1.5)
    s.update(hyp("Stop."), buffer_end=0.5)
    r = s.update(hyp("Stop."), buffer_end=2.5)
    assert texts(r.committed) == ["Stop."]


def test_committed_words_never_repeat_when_times_shift() -> None:
    s = Stabiliser()
    s.update(hyp("one two three"))
    s.update(hyp("one two three four"))
    assert texts(s.committed) == ["one", "two", "three"]
    # the decoder now places the same words 50 ms later
    shifted = [Word(w.start + 0.05, w.end + 0.05, w.text) for w in hyp("one two three four five")]
    s.update(shifted)
    r = s.update(shifted + hyp("six", start=2.1))
    assert texts(s.committed) == ["one", "two", "three", "four", "five"]
    assert texts(r.tentative) == ["six"]


def test_finish_commits_the_rest_once_and_reset_starts_over() -> None:
    s = Stabiliser()
    s.update(hyp("good morning"))
    s.update(hyp("good morning every"))
    r = s.finish(hyp("good morning everyone"))
    assert texts(r.committed) == ["everyone"] and r.tentative == ()
    assert texts(s.committed) == ["good", "morning", "everyone"]
    s.reset()
    assert s.committed == () and s.committed_end == 0.0
    assert texts(s.update(hyp("next")).tentative) == ["next"]


def test_agreement_of_three_is_stricter() -> None:
    s = Stabiliser(agreement=3)
    s.update(hyp("a b"))
    assert s.update(hyp("a b c")).committed == ()
    assert texts(s.update(hyp("a b c d")).committed) == ["a", "b"]


def test_a_hypothesis_with_garbled_times_neither_commits_nor_moves_words() -> None:
    """A re-decode that squeezes the utterance into the wrong seconds (seen live after the
    decoder skipped a sentence) must not force-commit words at those times."""
    s = Stabiliser(agreement=2, force_after=1.5)
    s.update(hyp("our team will review the budget", start=8.0), 8.0, 10.5)
    s.update(hyp("our team will review the budget numbers", start=8.0), 8.0, 11.0)
    committed_end = s.committed_end
    assert committed_end > 9.5
    squeezed = hyp("our team will review the budget numbers next Tuesday", start=8.0, step=0.1)
    squeezed = [Word(w.start, w.end, w.text) for w in squeezed[:6]] + [
        Word(5.0, 5.2, " numbers"), Word(5.2, 5.4, " next"), Word(5.4, 5.6, " Tuesday.")]
    r = s.update(squeezed, 8.0, 13.0)
    assert r.committed == ()
    assert all(w.end >= committed_end - 1.0 for w in s.committed[-1:])
    # the next sane hypothesis carries on normally
    r = s.update(hyp("our team will review the budget numbers next Tuesday", start=8.0), 8.0, 13.3)
    assert texts(s.committed)[:6] == ["our", "team", "will", "review", "the", "budget"]
    assert "Tuesday" in " ".join(texts(s.committed) + texts(r.tentative))
    times = [w.start for w in s.committed]
    assert times == sorted(times)


def test_an_empty_final_decode_keeps_the_words_already_shown() -> None:
    s = Stabiliser()
    s.update(hyp("the meeting moved to"))
    r = s.update(hyp("the meeting moved to the small room"))
    assert texts(r.tentative) == ["the", "small", "room"]
    f = s.finish([])
    assert texts(f.committed) == ["the", "small", "room"]
    assert texts(s.committed) == ["the", "meeting", "moved", "to", "the", "small", "room"]


def test_words_reheard_after_a_trim_at_their_end_are_not_repeated() -> None:
    """The buffer was cut at the end time of "floor." but the sound of "third floor" runs on
    past it, so the next decode of the buffer starts by hearing them again."""
    s = Stabiliser()
    s.update(hyp("on the third floor.", start=10.0))
    s.update(hyp("on the third floor. The", start=10.0))
    assert texts(s.committed) == ["on", "the", "third", "floor."]
    cut = s.committed_end
    again = hyp("third floor. The quick brown fox", start=cut - 0.1)
    s.update(again, cut, cut + 3.0)
    r = s.update(hyp("third floor. The quick brown fox jumps", start=cut - 0.1), cut, cut + 3.4)
    words = texts(s.committed) + texts(r.tentative)
    assert words == ["on", "the", "third", "floor.", "The", "quick", "brown", "fox", "jumps"]


def timed(spec: str) -> list[Word]:
    """Words from ``"text@start-end ..."``, the form a decoder trace prints."""
    words = []
    for item in spec.split():
        text, times = item.rsplit("@", 1)
        start, end = times.split("-")
        words.append(Word(float(start), float(end), " " + text))
    return words


# Hypotheses as tiny.en gave them live on pyannote_sample.wav (20.3 s into a 20-s utterance).
_SQUEEZED_TAIL = timed(
    "Well,@20.30-22.54 there@22.54-22.70 isn't@22.70-22.88 that@22.88-23.22 much@23.22-23.44 "
    "difference.@23.44-23.74 At@23.74-23.74 least,@23.74-23.74 you@23.74-23.74 know,@23.74-23.74 "
    "they@23.74-23.74 all@23.74-23.74 come.@23.74-23.74")
_SAID_TWICE = timed(
    "Well,@20.30-22.54 there@22.54-22.70 isn't@22.70-22.92 that@22.92-22.92 much@22.92-22.92 "
    "difference.@22.92-22.92 At@22.92-22.92 least,@22.92-22.92 you@22.92-22.92 know,@22.92-22.92 "
    "they@22.92-22.92 all@22.92-22.92 call@22.92-22.92 me@22.92-22.92 a@22.92-22.92 "
    "Yankee@22.92-22.92 down@22.92-22.92 here.@22.92-22.92 Well,@22.92-22.92 there@22.92-22.92 "
    "isn't@22.92-22.92 that@22.92-23.22 much@23.22-23.44 difference.@23.44-24.16 At@24.16-24.22 "
    "least,@24.22-24.76 you@24.76-25.10 know,@25.10-25.40 they@25.40-25.48 all@25.48-25.80 "
    "call@25.80-25.94 me@25.94-26.30 a@26.30-26.38 Yankee@26.38-26.76 down@26.76-27.18 "
    "here.@27.18-27.44")


def test_words_squeezed_into_no_time_are_not_forced_by_their_false_age() -> None:
    s = Stabiliser(agreement=2, force_after=1.5)
    s.update(timed("Well,@20.30-22.54 there@22.54-22.70 isn't@22.70-22.88 that@22.88-23.20 "
                   "much@23.20-23.42 difference,@23.42-24.10 at@24.10-24.22 least,@24.22-24.98 "
                   "you@24.98-25.08 know,@25.08-25.40 they@25.40-25.48 are@25.48-25.62"),
             20.30, 25.64)
    r = s.update(_SQUEEZED_TAIL, 20.30, 25.94)
    # "least you know they" agree with the hypothesis before; "all come." sit at 23.74, which
    # looks 2.2 s old, but their times are squeezed, so they are not forced in.
    assert "come." not in texts(s.committed)
    assert texts(r.tentative)[-2:] == ["all", "come."]


def test_a_sentence_the_decoder_squeezes_in_before_saying_it_is_committed_once() -> None:
    s = Stabiliser(agreement=2, force_after=1.5)
    for end in (23.86, 24.20):
        s.update(timed(f"Well,@20.30-22.54 there@22.54-22.70 isn't@22.70-22.90 "
                       f"that@22.90-23.22 much@23.22-23.44 difference.@23.44-{end - 0.02:.2f}"),
                 20.30, end)
    s.finish(_SAID_TWICE, 20.30)
    said = " ".join(texts(s.committed))
    assert said.count("Yankee") == 1 and said.count("difference") == 1, said
    assert said.endswith("they all call me a Yankee down here.")
    assert s.committed[-1].end == 27.44  # the copy on the audio is the one kept


def test_words_crushed_to_no_time_but_not_said_again_are_kept() -> None:
    s = Stabiliser(agreement=1)
    r = s.finish(timed("one@0.0-0.3 two@0.3-0.3 three@0.3-0.3 four@0.3-0.3 five@0.4-0.8"))
    assert texts(r.committed) == ["one", "two", "three", "four", "five"]
