"""Word timestamps for transformers Whisper from the cross-attention of its alignment heads.

The method of OpenAI's ``timing.py`` (also what CTranslate2's ``align`` implements): teacher-force
the decoded text after ``<|notimestamps|>``, take the cross-attention weights of the alignment
heads, normalise them per head over time, median-filter them, and find the monotonic path through
(-weights) with dynamic time warping. A token's time is where the path first reaches it.
"""

from __future__ import annotations

import contextlib
import string
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from desktop_asr.types import Word

_FRAMES_PER_SECOND = 50  # encoder positions: 20 ms each
_MEDIAN_WIDTH = 7
_OPENING = "\"'“¿([{-"
_CLOSING = "\"'.。,，!！?？:：”)]}、"
_NO_SPACE_LANGUAGES = {"zh", "ja", "th", "lo", "my", "yue"}
_SENTENCE_END = ".。!！?？"


@dataclass(frozen=True)
class TokenTimes:
    """Start time (seconds in the window) and probability of each text token, plus end time."""

    starts: np.ndarray
    end: float
    probabilities: np.ndarray


def _median_filter(x: np.ndarray, width: int) -> np.ndarray:
    """Median over a sliding window of the last axis, reflect-padded like OpenAI's."""
    pad = width // 2
    if x.shape[-1] <= pad:
        return x
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, width, axis=-1)
    return np.median(windows, axis=-1)


def dtw_path(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monotonic alignment path (text indices, time indices) through a cost matrix.

    Same recurrence and tie-breaking as OpenAI's ``dtw_cpu``, computed one anti-diagonal at a
    time: every cell of a diagonal depends only on the two diagonals before it.
    """
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    trace = np.full((n + 1, m + 1), -1, dtype=np.int8)
    for d in range(2, n + m + 1):
        i = np.arange(max(1, d - m), min(n, d - 1) + 1)
        j = d - i
        c0, c1, c2 = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
        t = np.where((c0 < c1) & (c0 < c2), 0, np.where((c1 < c0) & (c1 < c2), 1, 2))
        acc[i, j] = cost[i - 1, j - 1] + np.choose(t, [c0, c1, c2])
        trace[i, j] = t
    i, j = n, m
    text, time = [], []
    while i > 0 and j > 0:
        text.append(i - 1)
        time.append(j - 1)
        t = trace[i, j]
        if t == 0:
            i, j = i - 1, j - 1
        elif t == 1:
            i -= 1
        else:
            j -= 1
    return np.array(text[::-1]), np.array(time[::-1])


@contextlib.contextmanager
def eager_attention(model: Any) -> Iterator[None]:
    """Attention weights are only returned by the eager implementation: switch for a while
    (the caller holds the engine's lock, so no other decode sees the switch)."""
    current = getattr(model.config, "_attn_implementation", "eager")
    if current == "eager" or not hasattr(model, "set_attn_implementation"):
        yield
        return
    model.set_attn_implementation("eager")
    try:
        yield
    finally:
        model.set_attn_implementation(current)


def align_tokens(model: Any, encoder_hidden: Any, start_tokens: Sequence[int],
                 text_tokens: Sequence[int], eot: int, num_frames: int,
                 heads: Sequence[Sequence[int]]) -> TokenTimes:
    """Token start times and probabilities of ``text_tokens`` decoded from one window."""
    import torch

    tokens = [*start_tokens, *text_tokens, eot]
    ids = torch.tensor([tokens], device=encoder_hidden.device)
    with torch.inference_mode(), eager_attention(model):
        out = model.model.decoder(input_ids=ids, encoder_hidden_states=encoder_hidden,
                                  output_attentions=True, use_cache=False)
        logits = model.proj_out(out.last_hidden_state)[0].float()
    first = len(start_tokens)
    probs_all = torch.softmax(logits[first - 1:-1], dim=-1)
    target = torch.tensor(tokens[first:], device=probs_all.device)
    probabilities = probs_all.gather(1, target[:, None])[:, 0].cpu().numpy()[:len(text_tokens)]
    frames = max(1, min(num_frames // 2, encoder_hidden.shape[1]))
    weights = np.stack([out.cross_attentions[layer][0, head, :, :frames].float().cpu().numpy()
                        for layer, head in heads])
    std = weights.std(axis=-1, keepdims=True)
    weights = (weights - weights.mean(axis=-1, keepdims=True)) / np.maximum(std, 1e-10)
    matrix = _median_filter(weights, _MEDIAN_WIDTH).mean(axis=0)
    # rows: the position before each text token predicts it, so row k (from first-1) is token k;
    # the last row predicts end-of-text and marks where the last token ends
    matrix = matrix[first - 1:]
    text_idx, time_idx = dtw_path(-matrix.astype(np.float64))
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_times = time_idx[jumps] / _FRAMES_PER_SECOND
    starts = jump_times[:len(text_tokens)]
    if starts.size < len(text_tokens):  # a degenerate path: pad with the last time
        fill = starts[-1] if starts.size else 0.0
        starts = np.concatenate([starts, np.full(len(text_tokens) - starts.size, fill)])
    end = float(jump_times[len(text_tokens)]) if jump_times.size > len(text_tokens) \
        else float(time_idx[-1] / _FRAMES_PER_SECOND)
    return TokenTimes(starts=starts.astype(np.float64), end=end, probabilities=probabilities)


def _unicode_pieces(tokenizer: Any, tokens: Sequence[int]) -> list[tuple[str, list[int]]]:
    """Group tokens so that each group decodes to whole characters (UTF-8 may span tokens)."""
    pieces: list[tuple[str, list[int]]] = []
    current: list[int] = []
    for token in tokens:
        current.append(token)
        text = tokenizer.decode(current)
        if "\ufffd" not in text:
            pieces.append((text, current))
            current = []
    if current:
        pieces.append((tokenizer.decode(current), current))
    return pieces


def split_words(tokenizer: Any, tokens: Sequence[int], language: str
                ) -> list[tuple[str, list[int]]]:
    """Words of ``tokens``, each with the indices (into ``tokens``) of the tokens it spans."""
    pieces = _unicode_pieces(tokenizer, tokens)
    words: list[tuple[str, list[int]]] = []
    index = 0
    for text, piece in pieces:
        positions = list(range(index, index + len(piece)))
        index += len(piece)
        new_word = (language in _NO_SPACE_LANGUAGES or text.startswith(" ")
                    or text.strip() in string.punctuation or not words)
        if new_word:
            words.append((text, positions))
        else:
            words[-1] = (words[-1][0] + text, words[-1][1] + positions)
    return words


def window_words(tokenizer: Any, segments: Sequence[tuple[Sequence[int], float, float]],
                 times: TokenTimes, language: str, offset: float, limit: float,
                 last_speech: float) -> tuple[list[list[Word]], float]:
    """Words of each segment of one window, timed, with faster-whisper's clean-up heuristics.

    ``segments`` are (text tokens, start, end) in window seconds; ``times`` covers all their
    tokens in order. Returns the words per segment (seconds from the audio start) and the end of
    the last word, which the next window uses to spot words after a pause.
    """
    flat = [t for tokens, _, _ in segments for t in tokens]
    ends = np.append(times.starts[1:], times.end)
    raw: list[list[Any]] = []
    for text, positions in split_words(tokenizer, flat, language):
        raw.append([text, float(times.starts[positions[0]]), float(ends[positions[-1]]),
                    float(np.mean(times.probabilities[positions])), len(positions)])
    durations = np.array([w[2] - w[1] for w in raw])
    durations = durations[durations.nonzero()]
    median = min(0.7, float(np.median(durations))) if durations.size else 0.0
    longest = median * 2
    if durations.size:
        # a word at a sentence boundary is not longer than twice the median word
        for i in range(1, len(raw)):
            if raw[i][2] - raw[i][1] > longest:
                if raw[i][0] in _SENTENCE_END:
                    raw[i][2] = raw[i][1] + longest
                elif raw[i - 1][0] in _SENTENCE_END:
                    raw[i][1] = raw[i][2] - longest
    merged = _merge_punctuation(raw)
    out: list[list[Word]] = []
    index = 0
    for tokens, seg_start, seg_end in segments:
        words, used = [], 0
        while index < len(merged) and used < len(tokens):
            words.append(list(merged[index][:4]))
            used += merged[index][4]
            index += 1
        words = [w for w in words if w[0].strip()]
        if words:
            _tidy_segment(words, seg_start, seg_end, offset, last_speech - offset, median,
                          longest)
            last_speech = offset + words[-1][2]
        out.append([_word(w, offset, limit) for w in words])
    return out, last_speech


def _tidy_segment(words: list[list[Any]], seg_start: float, seg_end: float, offset: float,
                  last_speech: float, median: float, longest: float) -> None:
    """The first word after a pause, and a too long first or last word, as faster-whisper."""
    del offset
    first, last = words[0], words[-1]
    if first[2] - last_speech > median * 4 and (
            first[2] - first[1] > longest
            or (len(words) > 1 and words[1][2] - first[1] > longest * 2)):
        if len(words) > 1 and words[1][2] - words[1][1] > longest:
            boundary = max(words[1][2] / 2, words[1][2] - longest)
            first[2] = words[1][1] = boundary
        first[1] = max(0.0, first[2] - longest)
    if seg_start < first[2] and seg_start - 0.5 > first[1]:
        first[1] = max(0.0, min(first[2] - median, seg_start))
    if seg_end > last[1] and seg_end + 0.5 < last[2]:
        last[2] = max(last[1] + median, seg_end)


def _word(item: list[Any], offset: float, limit: float) -> Word:
    text, start, end, prob = item[:4]
    start = min(max(0.0, offset + start), limit)
    return Word(start=start, end=min(max(start, offset + end), limit), text=text,
                probability=min(1.0, max(0.0, prob)))


def _merge_punctuation(raw: list[list[Any]]) -> list[list[Any]]:
    """Attach opening marks to the next word and closing marks to the previous one.

    Items are [text, start, end, probability, tokens]; a merged item keeps the tokens of both,
    so the words can still be matched to their segments by token count.
    """
    merged: list[list[Any]] = []
    carry: list[Any] | None = None
    for item in raw:
        text = item[0]
        bare = text.strip()
        if bare and bare in _CLOSING and merged and not text.startswith(" "):
            merged[-1][0] += text
            merged[-1][4] += item[4]
            continue
        if bare and bare in _OPENING and bare not in _CLOSING:
            carry = list(item) if carry is None else [carry[0] + text, carry[1], item[2],
                                                       carry[3], carry[4] + item[4]]
            continue
        if carry is not None:
            space = " " if carry[0].startswith(" ") else ""
            item = [space + carry[0].strip() + text.lstrip(), item[1], item[2], item[3],
                    carry[4] + item[4]]
            carry = None
        merged.append(list(item))
    if carry is not None:
        merged.append(carry)
    return merged
