"""Speaker labels on a file's transcript: diarize, assign by time, name, record the backend."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from desktop_asr.diarization.assign import assign_speakers
from desktop_asr.diarization.pipeline import diarize
from desktop_asr.diarization.types import DiarizationOptions
from desktop_asr.types import Speaker, Transcript


def label_transcript(transcript: Transcript, audio: np.ndarray,
                     options: DiarizationOptions | None = None) -> Transcript:
    """``transcript`` with speakers from diarizing ``audio`` (names from enrolled voices)."""
    found = diarize(audio, options)
    labelled = assign_speakers(transcript, found.turns)
    if found.names:
        labelled = replace(labelled, speakers=tuple(
            Speaker(s.id, s.name or found.names.get(s.id, "")) for s in labelled.speakers))
    backend = "pyannote" if found.backend == "pyannote" else "resemblyzer-ge2e"
    return replace(labelled, metadata={**labelled.metadata, "diarization": backend})
