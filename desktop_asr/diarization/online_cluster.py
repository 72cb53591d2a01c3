"""Stable speaker labels for embedding windows that arrive a few at a time.

Each batch re-clusters everything seen so far (a bounded pool) with the offline clustering and
matches the clusters to the speakers believed so far (the assignment that keeps the most windows
with the speaker they were), so speaker numbers stay put from one batch to the next. A cluster
that matches no known speaker becomes a new speaker only when it is clearly apart from all of
them (``new_speaker_distance``, stricter than the offline merge threshold because a split shown
to the user cannot be taken back); otherwise it joins the speaker its windows were believed to
be. A window's label is *decided* (given out, never changed) ``delay`` windows after it arrived
(and, at the start of a session, once there is speech enough for two speakers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from desktop_asr.diarization.clustering import (
    absorb_small,
    agglomerative,
    centroids,
    normalize_embeddings,
    refine,
)
from desktop_asr.diarization.types import DiarizationOptions
from desktop_asr.errors import MissingExtraError

# Measured on the shared clips (docs/benchmarks.md): when a second real speaker first forms a
# cluster, its average centred cosine distance to the first is 1.19-1.47; the one spurious split
# of a single voice (OSR_us_000_0034_8k, 8 kHz telephone speech) sits at 1.14.
NEW_SPEAKER_DISTANCE = 1.16
POOL_WINDOWS = 400


@dataclass(frozen=True, eq=False)
class Decision:
    """Window ``index`` (in arrival order) is ``speaker``; ``scores`` rate it against every
    speaker given out so far (centred cosine), for frame-level labels."""

    index: int
    speaker: int
    scores: np.ndarray


class OnlineClusterer:
    """Gives every embedding window a speaker number 0..k-1 that never changes once given."""

    def __init__(self, options: DiarizationOptions | None = None, *, max_speakers: int = 8,
                 new_speaker_distance: float = NEW_SPEAKER_DISTANCE, delay: int = 0,
                 pool_windows: int = POOL_WINDOWS) -> None:
        if max_speakers < 1:
            raise ValueError("max_speakers must be >= 1")
        if not 0 <= delay < pool_windows // 4:
            raise ValueError("delay must be >= 0 and well below pool_windows")
        self.options = options or DiarizationOptions()
        self.max_speakers = max_speakers
        self.new_speaker_distance = new_speaker_distance
        self.delay = delay
        # No label is given before there is speech enough for two speakers (each needs
        # min_speaker_speech): until then every window would be the first speaker's, and a
        # second voice talking early would keep the first one's label (measured: DER 23.7 ->
        # 21.1 on pyannote_sample, unchanged on pyannote_dev00). Only the first lines of a
        # session wait for it (about 8 s of speech).
        self.warmup = 2 * math.ceil(self.options.min_speaker_speech / self.options.hop)
        self.warm = False
        self.pool_windows = pool_windows
        self._vectors = np.zeros((0, 0))       # raw embeddings of the pool
        self._index = np.zeros(0, dtype=int)   # arrival number of each pool window
        self._belief = np.zeros(0, dtype=int)  # internal speaker each is believed to be now
        self._decided = 0                      # windows [0, _decided) have been given labels
        self._internal = 0                     # internal speakers created
        self._shown: dict[int, int] = {}       # internal speaker -> number given out
        self._sums: list[np.ndarray] = []      # raw embedding sums of decided windows
        self._counts: list[int] = []
        self.windows_seen = 0

    @property
    def speakers(self) -> int:
        """How many speakers have been given out."""
        return len(self._shown)

    def speech_windows(self, speaker: int) -> int:
        """Decided windows of ``speaker`` over the whole session (not only the pool)."""
        return self._counts[speaker]

    def centroid(self, speaker: int) -> np.ndarray:
        """Unit-length mean raw embedding of every decided window of ``speaker``."""
        total = self._sums[speaker]
        return total / max(float(np.linalg.norm(total)), 1e-8)

    def voice(self, speaker: int) -> tuple[np.ndarray, int]:
        """Unit-length mean raw embedding of the pool windows now believed to be ``speaker``
        (labels given out early may have been another voice's), and how many there are."""
        internal = next((k for k, v in self._shown.items() if v == speaker), None)
        members = self._vectors[self._belief == internal] if internal is not None else []
        if not len(members):
            return np.zeros(0), 0
        mean = members.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-8), len(members)

    def add(self, vectors: np.ndarray) -> list[Decision]:
        """Take a batch of new raw embeddings (n, dim); returns the windows decided now."""
        vectors = np.asarray(vectors, dtype=np.float64)
        if vectors.size == 0:
            return []
        vectors = vectors.reshape(-1, vectors.shape[-1])
        start = self.windows_seen
        self._vectors = vectors if not len(self._vectors) else np.concatenate(
            [self._vectors, vectors])
        self._index = np.concatenate([self._index, np.arange(start, start + len(vectors))])
        self.windows_seen += len(vectors)
        self._belief, x = self._relabel(self._vectors, self._belief)
        if self.windows_seen >= self.warmup:
            self.warm = True
        out = self._decide(x, self.windows_seen - self.delay if self.warm else 0)
        self._thin()
        return out

    def end_warmup(self) -> list[Decision]:
        """Stop waiting for speech enough for two speakers (sparse speech): decide now."""
        self.warm = True
        return self.flush()

    def flush(self) -> list[Decision]:
        """Decide every window still waiting (end of the stream)."""
        if not len(self._vectors):
            return []
        return self._decide(normalize_embeddings(self._vectors), self.windows_seen)

    # -- internals ------------------------------------------------------------------------
    def _decide(self, x: np.ndarray, until: int) -> list[Decision]:
        out = []
        internal = max(self._internal, 1)
        cents = centroids(x, self._belief, internal)
        order = sorted(self._shown, key=self._shown.get)
        for pos in np.flatnonzero((self._index >= self._decided) & (self._index < until)):
            who = int(self._belief[pos])
            if who not in self._shown:
                self._shown[who] = len(self._shown)
                order.append(who)
                self._sums.append(np.zeros(self._vectors.shape[1]))
                self._counts.append(0)
            shown = self._shown[who]
            self._sums[shown] += self._vectors[pos]
            self._counts[shown] += 1
            scores = np.array([float(x[pos] @ cents[i]) for i in order])
            out.append(Decision(int(self._index[pos]), shown, scores))
        self._decided = max(self._decided, until)
        return out

    def _relabel(self, pool: np.ndarray, belief: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The current belief about every pool window's speaker, new windows included.

        Clusters are matched to the previous beliefs (not to the labels given out), so a speaker
        created from a cluster keeps that cluster's windows as its memory; a speaker that no
        cluster matches this time keeps its windows, so it is recognised when its cluster comes
        back instead of turning into yet another speaker.
        """
        opts = self.options
        old = belief.size
        x = normalize_embeddings(pool)
        if len(pool) < 2:
            self._internal = max(self._internal, 1)
            return np.zeros(len(pool), dtype=int), x
        labels = agglomerative(x, threshold=opts.threshold, min_speakers=1,
                               max_speakers=self.max_speakers)
        labels = absorb_small(x, labels, opts.min_speaker_share, keep=1,
                              min_windows=math.ceil(opts.min_speaker_speech / opts.hop))
        labels = refine(x, labels)
        k = int(labels.max()) + 1
        mapping = self._map(labels[:old], belief, k)
        undecided = self._index >= self._decided
        for c in range(k):
            if c in mapping:
                continue
            members = np.flatnonzero(labels == c)
            olds = members[members < old]
            if self._internal == 0:
                mapping[c] = 0
                self._internal = 1
            # Only a cluster holding undecided windows can make a new speaker: windows already
            # given out keep their label, so a cluster of them would be a speaker never shown.
            elif (self._internal < self.max_speakers and undecided[members].any()
                    and self._separation(x, labels, c, mapping) >= self.new_speaker_distance):
                mapping[c] = self._internal
                self._internal += 1
            elif olds.size:  # join the speaker its windows were believed to be
                mapping[c] = int(np.bincount(belief[olds]).argmax())
            else:
                cents = centroids(x[:old], belief, self._internal)
                mapping[c] = int(np.argmax(cents @ x[members].mean(axis=0)))
        out = np.array([mapping[int(c)] for c in labels], dtype=int)
        if old:
            matched = set(mapping.values())
            keep = np.array([int(b) not in matched for b in belief], dtype=bool)
            out[:old][keep] = belief[keep]
        return out, x

    @staticmethod
    def _map(clusters: np.ndarray, belief: np.ndarray, k: int) -> dict[int, int]:
        """Cluster -> believed speaker, keeping the most windows with the speaker they were."""
        if belief.size == 0:
            return {}
        try:
            from scipy.optimize import linear_sum_assignment
        except ImportError as exc:
            raise MissingExtraError("Speaker clustering", "scipy", "diarization") from exc
        overlap = np.zeros((k, int(belief.max()) + 1))
        np.add.at(overlap, (clusters, belief), 1.0)
        rows, cols = linear_sum_assignment(-overlap)
        return {int(r): int(c) for r, c in zip(rows, cols) if overlap[r, c] > 0}

    @staticmethod
    def _separation(x: np.ndarray, labels: np.ndarray, cluster: int,
                    mapping: dict[int, int]) -> float:
        """Average-linkage cosine distance from ``cluster`` to the nearest matched cluster."""
        members = x[labels == cluster]
        return min((1.0 - float(np.mean(members @ x[labels == other].T)) for other in mapping),
                   default=math.inf)

    def _thin(self) -> None:
        """Keep the pool bounded: drop every other decided window of its older half."""
        n = len(self._vectors)
        if n <= self.pool_windows:
            return
        pos = np.arange(n)
        keep = (pos >= n // 2) | (pos % 2 == 0) | (self._index >= self._decided)
        self._vectors = self._vectors[keep]
        self._index = self._index[keep]
        self._belief = self._belief[keep]
