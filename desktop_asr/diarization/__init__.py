"""Speaker diarization: who spoke when, and speaker labels on transcripts.

The offline default embeds speech (regions from the Silero VAD) with resemblyzer's pretrained
GE2E encoder and clusters the embeddings; torch and resemblyzer come with the ``diarization``
extra and are imported only when audio is diarized.
"""

from __future__ import annotations

from desktop_asr.diarization.assign import assign_speakers, speaker_at
from desktop_asr.diarization.embedding import check_backend
from desktop_asr.diarization.pipeline import diarize, speaker_name
from desktop_asr.diarization.types import (
                                           DiarizationOptions,
                                           DiarizationResult,
                                           SpeakerTurn,
                                           SpeechRegion,
)

__all__ = ["DiarizationOptions", "DiarizationResult", "SpeakerTurn", "SpeechRegion",
           "assign_speakers", "check_backend", "diarize", "speaker_at", "speaker_name"]
