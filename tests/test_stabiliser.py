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
