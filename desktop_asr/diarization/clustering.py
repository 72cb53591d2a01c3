"""Per-recording normalisation and agglomerative clustering of speaker embeddings."""

from __future__ import annotations

import numpy as np

from desktop_asr.errors import MissingExtraError


def normalize_embeddings(vectors: np.ndarray) -> np.ndarray:
    """Centre on the recording's mean embedding, then scale each row to unit length."""
    if len(vectors) == 0:
        return vectors
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.maximum(norms, 1e-8)


def agglomerative(vectors: np.ndarray, *, threshold: float, num_speakers: int | None = None,
                  min_speakers: int = 1, max_speakers: int | None = None) -> np.ndarray:
    """Average-linkage cosine clustering; labels 0..k-1 numbered by first appearance.

    With ``num_speakers`` the tree is cut into exactly that many clusters (fewer only when there
    are fewer windows); otherwise at distance ``threshold``, with the count clamped to
    [min_speakers, max_speakers].
    """
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    try:
        from scipy.cluster.hierarchy import fcluster, linkage
    except ImportError as exc:
        raise MissingExtraError("Speaker clustering", "scipy", "diarization") from exc
    tree = linkage(np.asarray(vectors, dtype=np.float64), method="average", metric="cosine")
    if num_speakers is not None:
        labels = fcluster(tree, t=min(num_speakers, n), criterion="maxclust")
    else:
        labels = fcluster(tree, t=threshold, criterion="distance")
        k = len(np.unique(labels))
        low, high = min(min_speakers, n), min(max_speakers or n, n)
        if k < low or k > high:
            labels = fcluster(tree, t=max(low, min(k, high)), criterion="maxclust")
    return _by_first_appearance(labels)


def refine(vectors: np.ndarray, labels: np.ndarray, iterations: int = 5) -> np.ndarray:
    """Re-assign each window to the nearest cluster centroid until nothing moves."""
    labels = labels.copy()
    k = int(labels.max()) + 1 if labels.size else 0
    for _ in range(iterations):
        cents = centroids(vectors, labels, k)
        new = np.argmax(vectors @ cents.T, axis=1)
        if np.array_equal(new, labels):
            break
        if len(np.unique(new)) < k:  # never let a speaker vanish here
            break
        labels = new
    return _by_first_appearance(labels)


def absorb_small(vectors: np.ndarray, labels: np.ndarray, min_share: float,
                 keep: int = 1, min_windows: int = 0) -> np.ndarray:
    """Move the windows of clusters holding under ``min_share`` of all windows, or under
    ``min_windows`` windows, to the nearest remaining cluster (a real speaker talks for more
    than a few windows); at least ``keep`` clusters stay."""
    labels = labels.copy()
    while True:
        sizes = np.bincount(labels)
        alive = np.flatnonzero(sizes)
        if len(alive) <= keep:
            break
        smallest = alive[np.argmin(sizes[alive])]
        if sizes[smallest] >= max(min_share * len(labels), min_windows):
            break
        others = [c for c in alive if c != smallest]
        cents = centroids(vectors, labels, int(labels.max()) + 1)[others]
        members = labels == smallest
        labels[members] = np.asarray(others)[np.argmax(vectors[members] @ cents.T, axis=1)]
    return _by_first_appearance(labels)


def centroids(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Unit-length mean vector of each cluster (k, dim)."""
    out = np.zeros((k, vectors.shape[1]), dtype=np.float64)
    for c in range(k):
        members = vectors[labels == c]
        if len(members):
            m = members.mean(axis=0)
            out[c] = m / max(float(np.linalg.norm(m)), 1e-8)
    return out


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    order: dict[int, int] = {}
    for value in labels.tolist():
        order.setdefault(value, len(order))
    return np.array([order[v] for v in labels.tolist()], dtype=int)
