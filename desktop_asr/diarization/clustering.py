"""Per-recording normalisation and clustering of speaker embeddings.

Agglomerative clustering (online re-clustering) and k-means with the tests that decide how many
speakers a recording has (offline); both on embeddings centred per recording.
"""

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


def kmeans(vectors: np.ndarray, k: int, *, restarts: int = 20, iterations: int = 50,
           seed: int = 0) -> np.ndarray:
    """Lloyd's k-means (squared Euclidean) from ``restarts`` k-means++ starts; the labels of the
    start that ends with the smallest within-cluster sum of squares, numbered by first appearance.

    Deterministic for a given ``seed``. On centred GE2E windows the partitions that single
    starts end in differ in how well they follow the speakers, and the lowest sum of squares is
    the one that followed them on the shared clips (docs/benchmarks.md).
    """
    x = np.asarray(vectors, dtype=np.float64)
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=int)
    k = max(1, min(k, n))
    if k == 1:
        return np.zeros(n, dtype=int)
    rng = np.random.default_rng(seed)
    norms = np.einsum("ij,ij->i", x, x)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(restarts):
        cents = _kmeanspp(x, norms, k, rng)
        labels = np.full(n, -1)
        for _ in range(iterations):
            dist = norms[:, None] - 2.0 * x @ cents.T + np.einsum("ij,ij->i", cents, cents)
            new = np.argmin(dist, axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            for c in range(k):
                members = labels == c
                # An emptied cluster restarts at the point worst served by the others.
                cents[c] = (x[members].mean(axis=0) if members.any()
                            else x[int(np.argmax(dist.min(axis=1)))])
        sse = float(np.sum(np.min(dist, axis=1)))
        if len(np.unique(labels)) == k and (best is None or sse < best[0] - 1e-9):
            best = (sse, labels)
    if best is None:  # every start lost a cluster (duplicate points): fewer clusters
        return _by_first_appearance(labels)
    return _by_first_appearance(best[1])


def _kmeanspp(x: np.ndarray, norms: np.ndarray, k: int, rng: np.random.Generator
              ) -> np.ndarray:
    cents = [x[int(rng.integers(len(x)))]]
    for _ in range(1, k):
        d = np.min(norms[:, None] - 2.0 * x @ np.asarray(cents).T
                   + np.einsum("ij,ij->i", cents, cents)[None, :], axis=1)
        d = np.maximum(d, 0.0)
        total = float(d.sum())
        pick = int(rng.choice(len(x), p=d / total)) if total > 0 else int(rng.integers(len(x)))
        cents.append(x[pick])
    return np.array(cents, dtype=np.float64)


def linkage_distance(vectors: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Smallest average-linkage cosine distance between two of the k clusters of unit vectors.

    The mean cosine over all pairs of two clusters is the dot product of their (unnormalised)
    mean vectors, so this costs one pass over the windows, not one per pair.
    """
    if k < 2:
        return float("inf")
    means = np.stack([vectors[labels == c].mean(axis=0) for c in range(k)])
    sims = means @ means.T
    return float(1.0 - np.max(sims[np.triu_indices(k, 1)]))


def separation(raw: np.ndarray, labels: np.ndarray, k: int) -> float:
    """How far apart the closest two of the k clusters are, against how spread out they are.

    For each pair: the cosine distance between the clusters' mean raw (uncentred, unit-length)
    embeddings over the mean cosine distance of their windows from their own cluster's mean;
    the smallest over the pairs. A single voice split in two keeps its halves' means close
    compared with the windows' own scatter; two voices do not (docs/benchmarks.md).
    """
    if k < 2:
        return float("inf")
    cents = centroids(raw, labels, k)
    spread = np.array([float(np.mean(1.0 - raw[labels == c] @ cents[c])) for c in range(k)])
    best = float("inf")
    for a in range(k):
        for b in range(a + 1, k):
            within = max((spread[a] + spread[b]) / 2, 1e-9)
            best = min(best, float(1.0 - cents[a] @ cents[b]) / within)
    return best


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
