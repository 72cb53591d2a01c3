"""Offline speaker clustering on embedding windows of several lengths.

Every speech region is covered by windows of each length in ``DiarizationOptions.scales``. The
shortest (first) windows are what gets labelled: each carries, beside its own centred embedding,
the centred embeddings of the longer windows centred nearest to it in its region, so the
clustering sees 0.5 to 2 s of context at once and no single placement of 1-s windows decides
who is who. The number of speakers is the largest k for which k-means keeps every pair of
clusters apart and every cluster big enough (:func:`cluster_windows`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from desktop_asr.diarization.clustering import kmeans, linkage_distance, separation
from desktop_asr.diarization.embedding import window_spans
from desktop_asr.diarization.types import DiarizationOptions, SpeechRegion

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Windows:
    """Embedding windows: spans (n, 2) in seconds and the index of each one's region."""

    spans: np.ndarray
    region: np.ndarray

    def __len__(self) -> int:
        return int(self.spans.shape[0])


def region_windows(regions: Sequence[SpeechRegion], window: float, hop: float,
                   min_window: float, offset: float = 0.0) -> Windows:
    """Windows of ``window`` s every ``hop`` s over each region (as ``window_spans``).

    ``offset`` starts each region's windows that much later where the region is long enough
    (measuring how much results depend on where windows fall); the region itself is unchanged.
    """
    spans, owner = [], []
    for i, r in enumerate(regions):
        if offset > 0 and r.duration - offset >= window:
            r = SpeechRegion(r.start + offset, r.end)
        s = window_spans([r], window, hop, min(min_window, window))
        spans.append(s)
        owner.append(np.full(len(s), i, dtype=int))
    if not spans:
        return Windows(np.zeros((0, 2)), np.zeros(0, dtype=int))
    return Windows(np.concatenate(spans), np.concatenate(owner))


def nearest_windows(base: Windows, other: Windows) -> np.ndarray:
    """For each ``base`` window, the index of the ``other`` window of the same region whose
    centre is nearest its centre (every region with base windows has other windows)."""
    out = np.zeros(len(base), dtype=int)
    bc, oc = base.spans.mean(axis=1), other.spans.mean(axis=1)
    for region in np.unique(base.region):
        mine = np.flatnonzero(base.region == region)
        theirs = np.flatnonzero(other.region == region)
        if theirs.size == 0:  # not expected; fall back to the nearest anywhere
            theirs = np.arange(len(other))
        pos = np.searchsorted(oc[theirs], bc[mine])
        lo = np.clip(pos - 1, 0, theirs.size - 1)
        hi = np.clip(pos, 0, theirs.size - 1)
        pick = np.where(np.abs(oc[theirs][hi] - bc[mine]) < np.abs(oc[theirs][lo] - bc[mine]),
                        hi, lo)
        out[mine] = theirs[pick]
    return out


def window_speech(windows: Windows, regions: Sequence[SpeechRegion]) -> np.ndarray:
    """Seconds of speech each window stands for: its region's length shared by its windows."""
    counts = np.bincount(windows.region, minlength=len(regions))
    durations = np.array([r.duration for r in regions])
    return durations[windows.region] / np.maximum(counts[windows.region], 1)


def cluster_windows(features: np.ndarray, raw: np.ndarray, speech: np.ndarray,
                    opts: DiarizationOptions) -> np.ndarray:
    """Speaker label 0..k-1 of each window from its multi-scale ``features``.

    ``raw`` holds the windows' own (uncentred, unit) embeddings and ``speech`` the seconds each
    stands for. With ``num_speakers`` k-means makes that many clusters; otherwise k grows from
    1 while the k-means partition into k passes :func:`distinct`, within [min_speakers,
    max_speakers].
    """
    n = len(features)
    if n == 0:
        return np.zeros(0, dtype=int)
    if opts.num_speakers is not None:
        return kmeans(features, opts.num_speakers)
    unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    labels = np.zeros(n, dtype=int)
    high = min(opts.max_speakers or n, n // 2)
    for k in range(2, high + 1):
        candidate = kmeans(features, k)
        if int(candidate.max()) + 1 < k or not distinct(unit, raw, speech, candidate, k, opts):
            break
        labels = candidate
    if int(labels.max()) + 1 < opts.min_speakers:
        labels = kmeans(features, opts.min_speakers)
    return labels


def distinct(unit: np.ndarray, raw: np.ndarray, speech: np.ndarray, labels: np.ndarray,
             k: int, opts: DiarizationOptions) -> bool:
    """Whether k clusters are k speakers: every pair at least ``speaker_distance`` apart
    (average centred cosine distance) and ``min_separation`` apart (raw means against the windows'
    scatter), every cluster with ``min_speaker_speech`` seconds and ``min_speaker_share`` of
    the windows."""
    distance = linkage_distance(unit, labels, k)
    apart = separation(raw, labels, k)
    seconds = float(np.bincount(labels, weights=speech, minlength=k).min())
    share = float(np.bincount(labels, minlength=k).min()) / len(labels)
    ok = (distance >= opts.speaker_distance and apart >= opts.min_separation
          and seconds >= opts.min_speaker_speech and share >= opts.min_speaker_share)
    log.debug("%d clusters: distance %.3f, separation %.3f, smallest %.1f s / %.0f %% -> %s",
              k, distance, apart, seconds, 100 * share, "speakers" if ok else "stop")
    return ok


def even_subset(n: int, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` of n items, evenly spread (all of them when n <= limit)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def scale_weight(count: int) -> float:
    """Factor on each scale's unit vectors so the concatenated feature has unit length."""
    return 1.0 / math.sqrt(max(count, 1))
