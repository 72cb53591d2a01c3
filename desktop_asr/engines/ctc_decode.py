"""CTC decoding on emission matrices: vocabulary, greedy decoding, LM prefix beam search, regions.

Everything here is numpy and plain Python, so it is shared by every CTC engine (wav2vec2, HuBERT,
our Conformer-CTC) and testable on synthetic emission matrices. Emissions are ``(frames, tokens)``
natural-log probabilities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from desktop_asr.engines.ctc_lm import ArpaLanguageModel, LmWeights
from desktop_asr.types import Word

_NEG_INF = float("-inf")
# A token less likely than this in a frame is not tried there (pyctcdecode's token_min_logp);
# a frame's best token is always tried.
_TOKEN_MIN_LOGP = -5.0
_MAX_CANDIDATES = 12
# Beams this far (natural log) behind the best one are dropped even when the beam is not full.
_BEAM_PRUNE_LOGP = -10.0


@dataclass(frozen=True)
class CtcVocabulary:
    """Output tokens of a CTC model: which is blank, which separates words, which are markup."""

    tokens: tuple[str, ...]
    blank: int = 0
    delimiter: str | None = "|"
    specials: frozenset[str] = field(default_factory=frozenset)
    lowercase: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.tokens, tuple):
            object.__setattr__(self, "tokens", tuple(self.tokens))
        if len(self.tokens) < 2:
            raise ValueError("a CTC vocabulary needs a blank and at least one token")
        if not 0 <= self.blank < len(self.tokens):
            raise ValueError(f"blank id {self.blank} is outside the vocabulary")
        if self.delimiter is not None and self.delimiter not in self.tokens:
            raise ValueError(f"word delimiter {self.delimiter!r} is not in the vocabulary")
        object.__setattr__(self, "specials", frozenset(self.specials))

    @property
    def delimiter_id(self) -> int | None:
        """Id of the word-delimiter token, or None when the vocabulary has none."""
        return None if self.delimiter is None else self.tokens.index(self.delimiter)

    def piece(self, token_id: int) -> str:
        """Text a token contributes to a word ('' for blank, delimiter and markup)."""
        if token_id == self.blank:
            return ""
        tok = self.tokens[token_id]
        if tok == self.delimiter or tok in self.specials:
            return ""
        return tok.lower() if self.lowercase else tok

    def split_words(self, ids: list[int]) -> list[list[int]]:
        """Group positions of ``ids`` into words (delimiters and markup belong to none)."""
        words: list[list[int]] = []
        current: list[int] = []
        delim = self.delimiter_id
        for pos, tid in enumerate(ids):
            if tid == delim:
                if current:
                    words.append(current)
                current = []
            elif self.piece(tid):
                current.append(pos)
        if current:
            words.append(current)
        return words

    def text(self, ids: list[int]) -> str:
        """Decoded text with single spaces between words."""
        return " ".join("".join(self.piece(ids[p]) for p in w) for w in self.split_words(ids))


def greedy_ids(log_probs: np.ndarray, blank: int) -> list[int]:
    """Best-path decoding: argmax per frame, repeats merged, blanks removed."""
    if log_probs.shape[0] == 0:
        return []
    best = np.argmax(log_probs, axis=1)
    keep = np.ones(best.shape, dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return [int(t) for t in best[keep] if t != blank]


def _lae(a: float, b: float) -> float:
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@dataclass(frozen=True)
class _LmState:
    score: float
    context: tuple[str, ...]
    partial: str
    oov: bool = False  # the partial word already paid the unknown-word penalty


class _Scorer:
    """Adds alpha * log P(word | context) + beta each time a word is completed."""

    def __init__(self, lm: ArpaLanguageModel, weights: LmWeights) -> None:
        self.lm = lm
        self.w = weights

    def word(self, state: _LmState, word: str) -> _LmState:
        score = self.lm.score(state.context, word)
        if not self.lm.knows(word) and not state.oov:
            score += self.w.unk_offset
        return _LmState(state.score + self.w.alpha * score + self.w.beta,
                        (*state.context, word)[-8:], "")

    def grow(self, state: _LmState, piece: str) -> _LmState:
        # Penalise a word as soon as it can no longer become a known one; waiting for its end
        # lets beams of endless unknown "words" crowd out the rest.
        partial = state.partial + piece
        if not state.oov and partial.lower() not in self.lm.prefixes:
            return _LmState(state.score + self.w.alpha * self.w.unk_offset, state.context,
                            partial, True)
        return _LmState(state.score, state.context, partial, state.oov)


def prefix_beam_search(log_probs: np.ndarray, vocab: CtcVocabulary, lm: ArpaLanguageModel,
                       weights: LmWeights | None = None, *,
                       context: tuple[str, ...] = ()) -> list[int]:
    """CTC prefix beam search with a word LM applied at word boundaries; returns token ids.

    ``context`` holds the words decoded just before this stretch, so the LM carries across
    region boundaries.
    """
    w = weights or LmWeights()
    scorer = _Scorer(lm, w)
    blank, delim = vocab.blank, vocab.delimiter_id
    if delim is None:
        raise ValueError("LM beam search needs a vocabulary with a word-delimiter token")
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, _NEG_INF]}
    states: dict[tuple[int, ...], _LmState] = {(): _LmState(0.0, context[-8:], "")}
    for row in log_probs:
        top = float(row.max())
        cand = np.flatnonzero(row >= min(_TOKEN_MIN_LOGP, top))
        if cand.size > _MAX_CANDIDATES:
            cand = cand[np.argsort(row[cand])[-_MAX_CANDIDATES:]]
        cands = [int(c) for c in cand if c != blank]
        lp_blank = float(row[blank])
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = _lae(pb, pnb)
            slot = nxt.setdefault(prefix, [_NEG_INF, _NEG_INF])
            slot[0] = _lae(slot[0], total + lp_blank)
            last = prefix[-1] if prefix else None
            for c in cands:
                lp = float(row[c])
                ext = prefix + (c,)
                eslot = nxt.setdefault(ext, [_NEG_INF, _NEG_INF])
                if c == last:
                    # A repeat only extends the prefix after a blank; otherwise it merges.
                    eslot[1] = _lae(eslot[1], pb + lp)
                    slot[1] = _lae(slot[1], pnb + lp)
                else:
                    eslot[1] = _lae(eslot[1], total + lp)
                if ext not in states:
                    states[ext] = _extend(scorer, vocab, states[prefix], c, delim)
        scored = sorted(((_lae(*v) + states[p].score, p, v) for p, v in nxt.items()),
                        key=lambda x: x[0], reverse=True)[:w.beam_width]
        floor = scored[0][0] + _BEAM_PRUNE_LOGP
        beams = {p: v for score, p, v in scored if score >= floor}
        states = {p: states[p] for p in beams}
    best, best_score = (), _NEG_INF
    for prefix, (pb, pnb) in beams.items():
        st = states[prefix]
        final = scorer.word(st, st.partial).score if st.partial else st.score
        score = _lae(pb, pnb) + final
        if score > best_score:
            best, best_score = prefix, score
    return list(best)


def _extend(scorer: _Scorer, vocab: CtcVocabulary, state: _LmState, token: int,
            delim: int) -> _LmState:
    if token == delim:
        return scorer.word(state, state.partial) if state.partial else state
    piece = vocab.piece(token)
    return scorer.grow(state, piece) if piece else state


def speech_regions(log_probs: np.ndarray, blank: int, *, min_gap: int, max_len: int
                   ) -> list[tuple[int, int]]:
    """Split frames into stretches separated by >= ``min_gap`` blank frames, each <= ``max_len``.

    Decoding and aligning region by region keeps forced alignment's memory bounded on long
    audio and gives segments their natural boundaries (pauses).
    """
    n = log_probs.shape[0]
    if n == 0:
        return []
    is_blank = np.argmax(log_probs, axis=1) == blank
    regions: list[tuple[int, int]] = []
    start: int | None = None
    run = 0
    for t in range(n):
        if is_blank[t]:
            run += 1
            if start is not None and run >= min_gap:
                regions.append((start, t - run + 1))
                start = None
        else:
            if start is None:
                start = max(0, t - min(run, min_gap // 2))  # a little blank lead-in
            run = 0
    if start is not None:
        regions.append((start, n))
    out: list[tuple[int, int]] = []
    blank_lp = log_probs[:, blank]
    for a, b in regions:
        b = min(n, b + min_gap // 2)
        while b - a > max_len:
            # Cut where the model is most sure nothing is said, in the last quarter.
            lo = a + (3 * max_len) // 4
            cut = lo + int(np.argmax(blank_lp[lo:a + max_len]))
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


def words_from_spans(ids: list[int], spans: list[tuple[int, int, float]], vocab: CtcVocabulary,
                     frame_seconds: float, offset: float = 0.0) -> list[Word]:
    """Turn per-token frame spans ``(start, end, probability)`` into timed words."""
    words = []
    for positions in vocab.split_words(ids):
        text = "".join(vocab.piece(ids[p]) for p in positions)
        start = offset + spans[positions[0]][0] * frame_seconds
        end = offset + spans[positions[-1]][1] * frame_seconds
        prob = float(np.mean([spans[p][2] for p in positions]))
        words.append(Word(start=start, end=max(start, end), text=" " + text,
                          probability=min(1.0, max(0.0, prob))))
    return words
