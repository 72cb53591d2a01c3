"""Diarization error rate and its parts, scored by pyannote.metrics against RTTM ground truth."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from desktop_asr.diarization import SpeakerTurn
from desktop_asr.errors import MissingExtraError

log = logging.getLogger(__name__)


def parse_rttm(text: str, source: str = "RTTM") -> tuple[SpeakerTurn, ...]:
    """The SPEAKER turns of one recording's RTTM text; ValueError names the bad line."""
    turns: list[SpeakerTurn] = []
    files: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith((";", "#")) or fields[0] != "SPEAKER":
            continue  # comments and the other RTTM record types carry no turns
        if len(fields) < 8:
            raise ValueError(f"{source}:{number}: a SPEAKER line has 10 fields, got "
                             f"{len(fields)}")
        try:
            start, duration = float(fields[3]), float(fields[4])
        except ValueError:
            raise ValueError(f"{source}:{number}: onset and duration must be numbers, got "
                             f"{fields[3]!r} {fields[4]!r}") from None
        if start < 0 or duration < 0:
            raise ValueError(f"{source}:{number}: negative onset or duration")
        files.add(fields[1])
        if duration > 0:
            turns.append(SpeakerTurn(start, start + duration, fields[7]))
    if len(files) > 1:
        raise ValueError(f"{source} holds several recordings ({', '.join(sorted(files))}); "
                         "give each clip its own RTTM")
    return tuple(sorted(turns, key=lambda t: (t.start, t.end)))


def read_rttm(path: Path) -> tuple[SpeakerTurn, ...]:
    """The speaker turns of an RTTM file."""
    return parse_rttm(Path(path).read_text(encoding="utf-8"), str(path))


@dataclass(frozen=True)
class DerScore:
    """DER of one recording; the parts are shares of the reference speech time."""

    der: float
    missed: float
    false_alarm: float
    confusion: float
    reference_seconds: float
    reference_speakers: int
    hypothesis_speakers: int


def check_metrics() -> None:
    """Raise MissingExtraError unless pyannote.metrics can be imported."""
    try:
        import pyannote.metrics.diarization  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("DER scoring", "pyannote.metrics", "eval") from exc


def score_der(reference: Sequence[SpeakerTurn], hypothesis: Sequence[SpeakerTurn],
              duration: float, *, collar: float = 0.0, skip_overlap: bool = False) -> DerScore:
    """DER over [0, duration] with pyannote.metrics (collar 0, overlap scored by default)."""
    check_metrics()
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(turns: Sequence[SpeakerTurn]) -> Annotation:
        ann = Annotation()
        for i, t in enumerate(turns):
            ann[Segment(t.start, t.end), i] = t.speaker
        return ann

    metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    parts = metric(annotation(reference), annotation(hypothesis),
                   uem=Timeline([Segment(0.0, max(duration, 1e-3))]), detailed=True)
    total = float(parts["total"])
    share = (lambda key: float(parts[key]) / total) if total > 0 else (lambda key: 0.0)
    return DerScore(der=float(parts["diarization error rate"]), missed=share("missed detection"),
                    false_alarm=share("false alarm"), confusion=share("confusion"),
                    reference_seconds=total,
                    reference_speakers=len({t.speaker for t in reference}),
                    hypothesis_speakers=len({t.speaker for t in hypothesis}))
