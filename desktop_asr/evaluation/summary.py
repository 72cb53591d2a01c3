"""Breakdowns of a model's results: by duration bin, speaker, language; worst clips; top errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from desktop_asr.evaluation.alignment import ErrorTally, tally_errors
from desktop_asr.evaluation.results import ClipResult, ModelResult
from desktop_asr.evaluation.scores import ErrorCounts


@dataclass(frozen=True)
class Group:
    """Scored clips that share a key (a duration bin, a speaker...) and their summed counts."""

    key: str
    clips: int
    audio_seconds: float
    counts: ErrorCounts


def _fmt_seconds(value: float) -> str:
    return f"{value:g}"


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Names of the duration bins cut at ``edges``: ``< 2 s``, ``2-5 s``, ... ``>= 20 s``."""
    if not edges:
        return ["all"]
    labels = [f"< {_fmt_seconds(edges[0])} s"]
    labels += [f"{_fmt_seconds(a)}-{_fmt_seconds(b)} s" for a, b in zip(edges, edges[1:])]
    labels.append(f">= {_fmt_seconds(edges[-1])} s")
    return labels


def duration_bin(seconds: float, edges: Sequence[float]) -> str:
    """The label of the bin a clip of ``seconds`` falls in (bins include their lower edge)."""
    labels = bin_labels(edges)
    for i, edge in enumerate(edges):
        if seconds < edge:
            return labels[i]
    return labels[-1]


def group_by(clips: Sequence[ClipResult], key: Callable[[ClipResult], str | None],
             order: Sequence[str] = ()) -> list[Group]:
    """Sum the counts of scored clips per key; clips whose key is None are left out."""
    sums: dict[str, list] = {}
    for clip in clips:
        k = key(clip)
        if clip.counts is None or k is None:
            continue
        if k in sums:
            sums[k][0] += 1
            sums[k][1] += clip.duration
            sums[k][2] = sums[k][2] + clip.counts
        else:
            sums[k] = [1, clip.duration, clip.counts]
    keys = [k for k in order if k in sums] + sorted(k for k in sums if k not in order)
    return [Group(k, sums[k][0], sums[k][1], sums[k][2]) for k in keys]


def by_duration(model: ModelResult, edges: Sequence[float]) -> list[Group]:
    """Counts per utterance-duration bin, bins in increasing order (empty bins left out)."""
    return group_by(model.clips, lambda c: duration_bin(c.duration, edges), bin_labels(edges))


def _speaker(clip: ClipResult) -> str | None:
    entry = clip.entry
    if entry.speaker:
        return entry.speaker
    return entry.speakers[0] if len(entry.speakers) == 1 else None


def by_speaker(model: ModelResult) -> list[Group]:
    """Counts per speaker id, for manifests that name who speaks (empty otherwise)."""
    return group_by(model.clips, _speaker)


def by_speaker_count(model: ModelResult) -> list[Group]:
    """Counts per number of speakers in the clip, for manifests that give it."""
    def key(clip: ClipResult) -> str | None:
        n = clip.entry.num_speakers
        return None if n is None else f"{n} speaker{'s' if n != 1 else ''}"
    return group_by(model.clips, key)


def by_language(model: ModelResult) -> list[Group]:
    """Counts per language the clips were scored in."""
    return group_by(model.clips, lambda c: c.language or "unknown")


def worst_clips(model: ModelResult, n: int) -> list[ClipResult]:
    """The ``n`` scored clips with the highest WER (more errors first on ties)."""
    scored = [c for c in model.clips if c.counts is not None]
    scored.sort(key=lambda c: (-c.counts.wer, -c.counts.errors, c.entry.line))  # type: ignore
    return [c for c in scored[:n] if c.counts is not None and c.counts.errors > 0]


def top_errors(model: ModelResult) -> ErrorTally:
    """Substitutions, deletions and insertions of every scored clip, most frequent first."""
    return tally_errors(c.alignment for c in model.clips if c.counts is not None)
