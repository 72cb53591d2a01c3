"""CTC forced alignment: where in the emission each token of a known transcript was spoken.

Uses ``torchaudio.functional.forced_align`` (Viterbi over the CTC topology of the target
sequence). torch and torchaudio are imported here, so only torch engines import this module.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def min_frames(ids: list[int]) -> int:
    """Frames a CTC path for ``ids`` needs: one per token plus a blank between repeats."""
    return len(ids) + sum(1 for a, b in zip(ids, ids[1:]) if a == b)


def forced_align_spans(log_probs: np.ndarray, ids: list[int], blank: int
                       ) -> list[tuple[int, int, float]] | None:
    """Frame span ``(start, end_exclusive, mean probability)`` of every token in ``ids``.

    Returns None when the transcript cannot fit the frames (more tokens than frames allow).
    """
    import torch
    import torchaudio.functional as taf

    if not ids:
        return []
    if min_frames(ids) > log_probs.shape[0]:
        log.debug("cannot align %d tokens to %d frames", len(ids), log_probs.shape[0])
        return None
    emission = torch.from_numpy(np.ascontiguousarray(log_probs, dtype=np.float32))[None]
    targets = torch.tensor([ids], dtype=torch.int32)
    path, scores = taf.forced_align(emission, targets, blank=blank)
    spans = taf.merge_tokens(path[0], scores[0].exp(), blank=blank)
    if len(spans) != len(ids):  # cannot happen for a valid CTC path; guard the indexing below
        log.warning("forced alignment returned %d spans for %d tokens", len(spans), len(ids))
        return None
    return [(int(s.start), int(s.end), float(s.score)) for s in spans]


def greedy_spans(log_probs: np.ndarray, blank: int
                 ) -> tuple[list[int], list[tuple[int, int, float]]]:
    """Token ids and frame spans of the best path itself (the fallback when alignment fails)."""
    best = np.argmax(log_probs, axis=1)
    ids: list[int] = []
    spans: list[tuple[int, int, float]] = []
    t = 0
    n = len(best)
    while t < n:
        tok = int(best[t])
        end = t + 1
        while end < n and best[end] == tok:
            end += 1
        if tok != blank:
            ids.append(tok)
            spans.append((t, end, float(np.exp(log_probs[t:end, tok]).mean())))
        t = end
    return ids, spans
