"""The finalise pass: re-diarize a whole live session and keep the speaker numbers users saw."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from desktop_asr.diarization.types import SpeakerTurn
from desktop_asr.errors import MissingExtraError


@dataclass(frozen=True)
class Finalisation:
    """Final turns per diarized channel, in the live labels' ids, with names from voices."""

    turns: dict[str, tuple[SpeakerTurn, ...]]
    names: dict[str, str]
    seconds: float
    backend: str


def overlap_matrix(a: Sequence[SpeakerTurn], b: Sequence[SpeakerTurn], a_ids: list[str],
                   b_ids: list[str]) -> np.ndarray:
    """Seconds that each speaker of ``a`` (rows) talks at the same time as each of ``b``."""
    out = np.zeros((len(a_ids), len(b_ids)))
    ia = {s: i for i, s in enumerate(a_ids)}
    ib = {s: i for i, s in enumerate(b_ids)}
    for x in a:
        for y in b:
            common = min(x.end, y.end) - max(x.start, y.start)
            if common > 0:
                out[ia[x.speaker], ib[y.speaker]] += common
    return out


def map_speakers(final: Sequence[SpeakerTurn], online: Sequence[SpeakerTurn],
                 new_id: Callable[[int], str]) -> dict[str, str]:
    """Final speaker id -> id shown live (the pairing that agrees for the most time).

    Final speakers no live speaker pairs with get fresh ids from ``new_id(index)``, numbered
    after the live ones, so no label the user saw is reused for someone else.
    """
    f_ids = list(dict.fromkeys(t.speaker for t in final))
    o_ids = list(dict.fromkeys(t.speaker for t in online))
    mapping: dict[str, str] = {}
    if f_ids and o_ids:
        try:
            from scipy.optimize import linear_sum_assignment
        except ImportError as exc:
            raise MissingExtraError("Speaker clustering", "scipy", "diarization") from exc
        common = overlap_matrix(final, online, f_ids, o_ids)
        rows, cols = linear_sum_assignment(-common)
        mapping = {f_ids[r]: o_ids[c] for r, c in zip(rows, cols) if common[r, c] > 0}
    taken = set(o_ids)
    index = 0
    for f in f_ids:
        if f in mapping:
            continue
        while new_id(index) in taken:
            index += 1
        mapping[f] = new_id(index)
        taken.add(mapping[f])
    return mapping


def rename_turns(turns: Sequence[SpeakerTurn], mapping: dict[str, str]
                 ) -> tuple[SpeakerTurn, ...]:
    """Turns with their speaker ids replaced through ``mapping``."""
    return tuple(replace(t, speaker=mapping.get(t.speaker, t.speaker)) for t in turns)
