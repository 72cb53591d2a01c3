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

from desktop_asr.types import Word

_NORM = re.compile(r"[^\w']+", re.UNICODE)
_TRAILING_MARK = re.compile(r"[.,;:!?\u3002\uff0c]$")


def _mismatch(a: str, b: str) -> float:
    # "I" re-heard as "I'm", "Americans" as "American": the same word, not an insertion.
    if a == b:
        return 0.0
    return 0.5 if a.startswith(b) or b.startswith(a) else 1.0


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

    def _fresh(self, hypothesis: Sequence[Word], buffer_start: float) -> list[Word]:
        """The part of a hypothesis after what is already committed.

        The buffer's audio begins at ``buffer_start``, so the hypothesis begins with a new
        reading of the committed words heard since then. Those are matched by *content* (an
        edit-distance alignment of the committed words to each prefix of the hypothesis): word
        times from cross-attention can smear one word over its neighbours, and cutting by time
        alone would then drop or repeat words.
        """
        words = [w for w in hypothesis if word_key(w)]
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

    def update(self, hypothesis: Sequence[Word], buffer_start: float = 0.0,
               buffer_end: float | None = None) -> StabiliserResult:
        """Feed the newest hypothesis of the buffer [``buffer_start``, ``buffer_end``).

        With ``force_after`` set, words that end more than that many seconds before
        ``buffer_end`` are committed even without agreement, so one unstable word cannot hold
        back everything after it for long.
        """
        fresh = self._fresh(hypothesis, buffer_start)
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
            while agreed < len(fresh) and fresh[agreed].end < buffer_end - self.force_after:
                agreed += 1
        newly = fresh[:agreed]  # the newest hypothesis' times are the best estimate
        self._committed.extend(newly)
        self._history = [fresh[agreed:]] if agreed > min(len(h) for h in self._history) else [
            h[agreed:] for h in self._history]
        return StabiliserResult(tuple(newly), tuple(fresh[agreed:]))

    def finish(self, hypothesis: Sequence[Word], buffer_start: float = 0.0) -> StabiliserResult:
        """Endpoint: commit the rest of the final hypothesis."""
        fresh = self._fresh(hypothesis, buffer_start)
        self._committed.extend(fresh)
        self._history.clear()
        return StabiliserResult(tuple(fresh), ())
