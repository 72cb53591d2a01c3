"""Speaker diarization: who spoke when, and speaker labels on transcripts.

The offline default embeds speech (regions from the Silero VAD) with resemblyzer's pretrained
GE2E encoder in windows of several lengths and clusters them (``pipeline``, ``scales``); a
pyannote.audio pipeline the user has can do it instead (``pyannote_backend``). Live,
``online``/``online_cluster`` label a stream as it comes and ``live`` runs that on a worker
thread with the finalise pass at the end; ``echo``
keeps the far side's echo out of the microphone, ``profiles`` names enrolled voices. torch,
resemblyzer and pyannote come with the ``diarization`` extra and are imported only when audio
is diarized.
"""

from __future__ import annotations

from desktop_asr.diarization.assign import assign_speakers, speaker_at
from desktop_asr.diarization.embedding import check_backend
from desktop_asr.diarization.pipeline import check_diarizer, diarize, speaker_name
from desktop_asr.diarization.types import (
                                           DiarizationOptions,
                                           DiarizationResult,
                                           SpeakerTurn,
                                           SpeechRegion,
)

__all__ = ["DiarizationOptions", "DiarizationResult", "SpeakerTurn", "SpeechRegion",
           "assign_speakers", "check_backend", "check_diarizer", "diarize", "speaker_at",
           "speaker_name"]
