"""LocalAgreement-style stabiliser: split a re-decoded hypothesis into committed and tentative.

Each hop the decoder re-reads the whole utterance buffer and returns a new hypothesis. A word is
committed once ``agreement`` consecutive hypotheses agree on it (and on every word before it),
so committed words never change; the rest stay tentative and may still be rewritten. At an
endpoint everything left is committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from desktop_asr.sequences import common_in_order
from desktop_asr.types import Word

_NORM = re.compile(r"[^\w']+", re.UNICODE)
_TRAILING_MARK = re.compile(r"[.,;:!?\u3002\uff0c]$")
# A hypothesis whose first new word starts this long before the last committed word ended has
# garbled times (the decoder skipped or squeezed a sentence); its times must not commit words.
_MAX_TIME_SLIP = 1.0
# Longest run of words re-heard across a trimmed buffer's edge that is recognised as a repeat.
_MAX_EDGE_REPEAT = 5
_EDGE_WINDOW = 0.5  # a re-heard word starts this close to the buffer's first sample
# Whisper's alignment gives words it put no audio under a zero length. A run of this many such
# words has no times to trust: it is text the decoder squeezed in (often a repeat of what follows).
_COLLAPSED_RUN = 3
_COLLAPSED_LENGTH = 0.02


def _mismatch(a: str, b: str) -> float:
    # "I" re-heard as "I'm", "Americans" as "American": the same word, not an insertion.
    if a == b:
        return 0.0
    return 0.5 if a.startswith(b) or b.startswith(a) else 1.0


def _collapsed_runs(words: Sequence[Word]) -> list[tuple[int, int]]:
    """[i, j) ranges of at least ``_COLLAPSED_RUN`` consecutive zero-length words."""
    runs, i = [], 0
    while i < len(words):
        j = i
        while j < len(words) and words[j].end - words[j].start < _COLLAPSED_LENGTH:
            j += 1
        if j - i >= _COLLAPSED_RUN:
            runs.append((i, j))
        i = max(j, i + 1)
    return runs


def drop_collapsed_repeats(words: Sequence[Word]) -> list[Word]:
    """Drop runs of zero-length words that the words after them say again.

    Whisper sometimes writes a sentence twice, the first copy squeezed into no time at all and
    the second on the audio ("they all call me a Yankee down here. Well, there isn't" at one
    instant, then the same words spread over the next 4 s). The squeezed copy is not in the
    audio. A zero-length run that is not said again is kept: those may be real words the
    alignment crushed.
    """
    keys = [word_key(w) for w in words]
    drop: set[int] = set()
    for i, j in _collapsed_runs(words):
        after = keys[j:j + 2 * (j - i)]
        if after and common_in_order(keys[i:j], after) >= 0.6 * (j - i):
            drop.update(range(i, j))
    return [w for n, w in enumerate(words) if n not in drop] if drop else list(words)


def word_key(word: Word) -> str:
    """Comparison key of a word: lower case, no punctuation."""
    return _NORM.sub("", word.text.lower())


@dataclass(frozen=True)
class StabiliserResult:
    """What one hypothesis changed: words committed now, and the tentative tail after them."""

    committed: tuple[Word, ...]
    tentative: tuple[Word, ...]


class Stabiliser:
    """Per-utterance state of the local-agreement policy."""

    def __init__(self, agreement: int = 2, force_after: float | None = None) -> None:
        if agreement < 1:
            raise ValueError("agreement must be >= 1")
        self.agreement = agreement
        self.force_after = force_after
        self._committed: list[Word] = []
        self._history: list[list[Word]] = []
        self._rejected = 0

    @property
    def committed(self) -> tuple[Word, ...]:
        """All words committed in this utterance so far."""
        return tuple(self._committed)

    @property
    def committed_end(self) -> float:
        """End time of the last committed word (0 when none)."""
        return self._committed[-1].end if self._committed else 0.0

    def reset(self) -> None:
        """Start a new utterance."""
        self._committed.clear()
        self._history.clear()
        self._rejected = 0

    def _fresh(self, hypothesis: Sequence[Word], buffer_start: float) -> list[Word]:
        """The part of a hypothesis after what is already committed.

        The buffer's audio begins at ``buffer_start``, so the hypothesis begins with a new
        reading of the committed words heard since then. Those are matched by *content* (an
        edit-distance alignment of the committed words to each prefix of the hypothesis): word
        times from cross-attention can smear one word over its neighbours, and cutting by time
        alone would then drop or repeat words.
        """
        words = drop_collapsed_repeats([w for w in hypothesis if word_key(w)])
        words = self._drop_edge_repeat(words, buffer_start)
        heard = [word_key(w) for w in self._committed if w.end > buffer_start + 0.01]
        if not heard:
            return words
        keys = [word_key(w) for w in words]
        prev = list(range(len(keys) + 1))  # distance of heard[:0] to keys[:j]
        for i, h in enumerate(heard, 1):
            row = [i] + [0] * len(keys)
            for j, k in enumerate(keys, 1):
                row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + _mismatch(h, k))
            prev = row
        best = min(prev)
        end = self.committed_end
        cut = min((j for j, d in enumerate(prev) if d == best),
                  key=lambda j: (abs((words[j - 1].end if j else 0.0) - end), -j))
        return words[cut:]

    def _drop_edge_repeat(self, words: list[Word], buffer_start: float) -> list[Word]:
        """Drop committed words re-heard at the start of a buffer that was trimmed after them.

        Word end times can fall a little before the end of the sound, so the audio kept after a
        trim may begin with the tail of the last words cut away ("third floor." again).
        """
        if not words or words[0].start > buffer_start + _EDGE_WINDOW:
            return words
        cut_away = [word_key(w) for w in self._committed
                    if buffer_start - 1.5 < w.end <= buffer_start + 0.01][-_MAX_EDGE_REPEAT:]
        keys = [word_key(w) for w in words]
        for n in range(min(len(cut_away), len(keys)), 0, -1):
            if keys[:n] == cut_away[-n:] and (n > 1 or words[0].end <= buffer_start + 0.6):
                return words[n:]
        return words

    def _garbled(self, fresh: Sequence[Word]) -> bool:
        return bool(self._committed and fresh
                    and fresh[0].start < self.committed_end - _MAX_TIME_SLIP)

    def update(self, hypothesis: Sequence[Word], buffer_start: float = 0.0,
               buffer_end: float | None = None) -> StabiliserResult:
        """Feed the newest hypothesis of the buffer [``buffer_start``, ``buffer_end``).

        With ``force_after`` set, words that end more than that many seconds before
        ``buffer_end`` are committed even without agreement, so one unstable word cannot hold
        back everything after it for long.
        """
        fresh = self._fresh(hypothesis, buffer_start)
        if self._garbled(fresh) and self._rejected < 2 and self._history:
            # Skip it (twice at most, so a steady offset cannot stall commits): agreeing with
            # it would commit words at wrong times, and trimming at those times loses audio.
            self._rejected += 1
            return StabiliserResult((), tuple(self._history[-1]))
        self._rejected = 0
        self._history.append(fresh)
        self._history = self._history[-self.agreement:]
        if len(self._history) < self.agreement:
            return StabiliserResult((), tuple(fresh))
        agreed = 0
        for n in range(min(len(h) for h in self._history)):
            keys = {word_key(h[n]) for h in self._history}
            if len(keys) != 1:
                break
            agreed = n + 1
        if agreed == len(fresh) and agreed and _TRAILING_MARK.search(fresh[-1].text.strip()):
            # The buffer's last word ends in punctuation because the audio stops there, not
            # because the sentence does ("Please." before "send the report"): it waits for a
            # following word, the endpoint or the force-commit age.
            agreed -= 1
        if self.force_after is not None and buffer_end is not None:
            # Age is read from the word's time, so a word in a collapsed run (no time of its
            # own) is never forced: it waits for agreement or the endpoint.
            collapsed = {n for i, j in _collapsed_runs(fresh) for n in range(i, j)}
            while (agreed < len(fresh) and agreed not in collapsed
                   and fresh[agreed].end < buffer_end - self.force_after):
                agreed += 1
        newly = fresh[:agreed]  # the newest hypothesis' times are the best estimate
        self._committed.extend(newly)
        self._history = [fresh[agreed:]] if agreed > min(len(h) for h in self._history) else [
            h[agreed:] for h in self._history]
        return StabiliserResult(tuple(newly), tuple(fresh[agreed:]))

    def finish(self, hypothesis: Sequence[Word], buffer_start: float = 0.0) -> StabiliserResult:
        """Endpoint: commit the rest of the final hypothesis.

        When the final decode comes back empty or garbled, the tentative words last shown are
        committed instead, so words the user saw are not lost at the endpoint.
        """
        fresh = self._fresh(hypothesis, buffer_start)
        shown = self._history[-1] if self._history else []
        if shown and (not fresh or self._garbled(fresh)):
            fresh = list(shown)
        self._committed.extend(fresh)
        self._history.clear()
        return StabiliserResult(tuple(fresh), ())
