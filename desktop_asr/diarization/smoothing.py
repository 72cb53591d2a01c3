"""From window scores to speaker turns: frame labels, short-flip merging, turn list."""

from __future__ import annotations

import numpy as np

from desktop_asr.diarization.types import SpeakerTurn, SpeechRegion

FRAME = 0.05  # seconds per label frame


def frame_labels(regions: tuple[SpeechRegion, ...] | list[SpeechRegion], spans: np.ndarray,
                 scores: np.ndarray, duration: float, *, taper: bool = False) -> np.ndarray:
    """Label per 50 ms frame (-1 outside speech): best mean score of the windows covering it.

    With ``taper`` each window's score counts with a raised-cosine weight, full at its centre
    and next to nothing at its edges, so a frame is labelled mostly by the windows centred near
    it (dense short windows then place a speaker change to within about a hop). Speech frames
    no window covers (regions too short to embed) take the label of the nearest covered frame.
    """
    n = int(np.ceil(duration / FRAME))
    labels = np.full(n, -1, dtype=int)
    if n == 0 or scores.size == 0:
        return labels
    k = scores.shape[1]
    total = np.zeros((n, k))
    count = np.zeros(n)
    for (a, b), row in zip(spans, scores):
        i, j = int(np.floor(a / FRAME)), min(int(np.ceil(b / FRAME)), n)
        if taper:
            centre, half = (a + b) / 2, max((b - a) / 2, 1e-9)
            near = np.clip(1.0 - np.abs((np.arange(i, j) + 0.5) * FRAME - centre) / half, 0, 1)
            weight = np.sin(np.pi / 2 * near) ** 2 + 1e-3
            total[i:j] += weight[:, None] * row
            count[i:j] += weight
        else:
            total[i:j] += row
            count[i:j] += 1
    speech = np.zeros(n, dtype=bool)
    for r in regions:
        speech[int(np.floor(r.start / FRAME)):int(np.ceil(r.end / FRAME))] = True
    covered = count > 0
    best = np.argmax(total, axis=1)
    labels[speech & covered] = best[speech & covered]
    holes = np.flatnonzero(speech & ~covered)
    known = np.flatnonzero(covered)
    if holes.size and known.size:
        pos = np.clip(np.searchsorted(known, holes), 1, known.size) - 1
        nxt = np.minimum(pos + 1, known.size - 1)
        pick = np.where(np.abs(known[nxt] - holes) < np.abs(known[pos] - holes), nxt, pos)
        labels[holes] = best[known[pick]]
    return labels


def merge_short_flips(labels: np.ndarray, min_turn: float) -> np.ndarray:
    """Relabel runs shorter than ``min_turn`` inside a stretch of speech to a neighbour's label.

    The shortest run goes first, to the longer of its neighbours, until none is left; a stretch
    of speech that is short on its own (between silences) keeps its label.
    """
    out = labels.copy()
    limit = max(1, round(min_turn / FRAME))
    while True:
        runs = _runs(out)
        best: tuple[int, int] | None = None  # (length, index in runs)
        for idx, (start, end, lab) in enumerate(runs):
            if lab < 0 or end - start >= limit:
                continue
            prev_ok = idx > 0 and runs[idx - 1][2] >= 0
            next_ok = idx + 1 < len(runs) and runs[idx + 1][2] >= 0
            if (prev_ok or next_ok) and (best is None or end - start < best[0]):
                best = (end - start, idx)
        if best is None:
            return out
        idx = best[1]
        start, end, _ = runs[idx]
        cands = [runs[j] for j in (idx - 1, idx + 1) if 0 <= j < len(runs) and runs[j][2] >= 0]
        target = max(cands, key=lambda r: r[1] - r[0])
        out[start:end] = target[2]


def fill_gaps(labels: np.ndarray, max_gap: float) -> np.ndarray:
    """Join two turns of one speaker separated by at most ``max_gap`` seconds of non-speech.

    People pause inside a turn; annotators (and readers of a transcript) count such pauses as
    part of the turn, not as silence between turns.
    """
    out = labels.copy()
    limit = round(max_gap / FRAME)
    runs = _runs(out)
    for idx in range(1, len(runs) - 1):
        start, end, lab = runs[idx]
        if lab < 0 and end - start <= limit and runs[idx - 1][2] == runs[idx + 1][2] >= 0:
            out[start:end] = runs[idx - 1][2]
    return out


def turns_from_labels(labels: np.ndarray, names: list[str], duration: float
                      ) -> tuple[SpeakerTurn, ...]:
    """Contiguous runs of one label as speaker turns (non-speech frames end a turn)."""
    turns = []
    for start, end, lab in _runs(labels):
        if lab >= 0:
            turns.append(SpeakerTurn(start * FRAME, min(end * FRAME, duration), names[lab]))
    return tuple(turns)


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    if labels.size == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [labels.size]))
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends)]
