"""Hallucination guards that work on any engine's output: repetition loops and echoes.

Whisper-family decoders sometimes loop ("thank you thank you thank you ...") or repeat the same
segment over and over on noise. The engine's own thresholds catch most of it; these pure
functions remove what gets through, without touching ordinary speech repetitions.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Sequence

from desktop_asr.types import Segment, Word

log = logging.getLogger(__name__)

_PUNCT = re.compile(r"[^\w']+", re.UNICODE)

# A loop must repeat more than ordinary speech does: "no, no, no" is speech, five in a row of a
# single word or three in a row of a phrase is the decoder stuck.
_MIN_REPEATS_SINGLE_WORD = 5
_MIN_REPEATS_PHRASE = 3
# A long phrase (this many words or more) said twice in a row is a decoder loop too.
_LONG_PHRASE = 6
_MAX_NGRAM = 16
_MIN_SEGMENT_RUN = 3


def _key(token: str) -> str:
    return _PUNCT.sub("", token.lower())


def collapse_loops(tokens: Sequence[str]) -> list[int]:
    """Return the indices of ``tokens`` to keep after collapsing looping n-grams to one copy."""
    keys = [_key(t) for t in tokens]
    keep = [True] * len(tokens)
    i = 0
    n_tokens = len(keys)
    while i < n_tokens:
        collapsed = False
        for n in range(1, _MAX_NGRAM + 1):
            gram = keys[i:i + n]
            if len(gram) < n or not any(gram):
                break
            repeats = 1
            while keys[i + repeats * n:i + (repeats + 1) * n] == gram:
                repeats += 1
            needed = (_MIN_REPEATS_SINGLE_WORD if n == 1 else
                      2 if n >= _LONG_PHRASE else _MIN_REPEATS_PHRASE)
            if repeats >= needed:
                for j in range(i + n, i + repeats * n):
                    keep[j] = False
                i += repeats * n
                collapsed = True
                break
        if not collapsed:
            i += 1
    return [k for k, flag in enumerate(keep) if flag]


def _dedupe_within(segment: Segment) -> Segment:
    if segment.words:
        kept = collapse_loops([w.text for w in segment.words])
        if len(kept) == len(segment.words):
            return segment
        words: tuple[Word, ...] = tuple(segment.words[k] for k in kept)
        log.info("repetition filter removed %d looping words at %.2fs",
                 len(segment.words) - len(words), segment.start)
        return replace(segment, words=words, text="".join(w.text for w in words),
                       end=max(segment.start, words[-1].end) if words else segment.end)
    tokens = segment.text.split()
    kept = collapse_loops(tokens)
    if len(kept) == len(tokens):
        return segment
    log.info("repetition filter removed %d looping words at %.2fs",
             len(tokens) - len(kept), segment.start)
    return replace(segment, text=" " + " ".join(tokens[k] for k in kept))


def filter_repetitions(segments: Sequence[Segment]) -> list[Segment]:
    """Collapse looping n-grams inside segments and runs of identical consecutive segments."""
    cleaned = [_dedupe_within(s) for s in segments]
    out: list[Segment] = []
    i = 0
    while i < len(cleaned):
        key = " ".join(_key(t) for t in cleaned[i].text.split())
        j = i + 1
        while j < len(cleaned) and " ".join(_key(t) for t in cleaned[j].text.split()) == key:
            j += 1
        out.append(cleaned[i])
        if j - i < _MIN_SEGMENT_RUN:
            out.extend(cleaned[i + 1:j])
        else:
            log.info("repetition filter dropped %d repeated segments %r", j - i - 1, key)
        i = j
    return [s for s in out if s.text.strip()]
