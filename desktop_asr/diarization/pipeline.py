"""Offline diarization of a whole recording: VAD regions, GE2E windows, clustering, smoothing."""

from __future__ import annotations

import logging
import math

import numpy as np

from desktop_asr.diarization.clustering import (
    absorb_small,
    agglomerative,
    centroids,
    normalize_embeddings,
    refine,
)
from desktop_asr.diarization.embedding import embed_windows, window_spans
from desktop_asr.diarization.regions import speech_regions
from desktop_asr.diarization.smoothing import (
    fill_gaps,
    frame_labels,
    merge_short_flips,
    turns_from_labels,
)
from desktop_asr.diarization.types import DiarizationOptions, DiarizationResult, SpeechRegion

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


def speaker_name(index: int) -> str:
    """The id of the index-th speaker found: SPEAKER_00, SPEAKER_01, ..."""
    return f"SPEAKER_{index:02d}"


def diarize(audio: np.ndarray, options: DiarizationOptions | None = None, *,
            regions: list[SpeechRegion] | None = None) -> DiarizationResult:
    """Who spoke when in 16 kHz mono float32 ``audio``; ``regions`` skips the VAD when given."""
    opts = options or DiarizationOptions()
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    duration = audio.size / SAMPLE_RATE
    if regions is None:
        regions = speech_regions(audio, threshold=opts.vad_threshold, min_speech=opts.min_speech,
                                 min_silence=opts.min_silence, pad=opts.pad)
    found = tuple(regions)
    spans = window_spans(found, opts.window, opts.hop, opts.min_window)
    if len(spans) == 0:
        log.info("no speech long enough to tell speakers apart")
        return DiarizationResult(turns=(), speakers=(), duration=duration, regions=found)
    windows = embed_windows(audio, spans)
    vectors = normalize_embeddings(windows.vectors) if opts.normalize else windows.vectors
    labels = agglomerative(vectors, threshold=opts.threshold, num_speakers=opts.num_speakers,
                           min_speakers=opts.min_speakers, max_speakers=opts.max_speakers)
    if opts.num_speakers is None:
        labels = absorb_small(vectors, labels, opts.min_speaker_share, keep=opts.min_speakers,
                              min_windows=math.ceil(opts.min_speaker_speech / opts.hop))
    labels = refine(vectors, labels)
    k = int(labels.max()) + 1
    scores = vectors @ centroids(vectors, labels, k).T
    frames = frame_labels(found, spans, scores, duration)
    frames = merge_short_flips(frames, opts.min_turn)
    frames = fill_gaps(frames, opts.max_gap)
    used = [lab for lab in dict.fromkeys(frames.tolist()) if lab >= 0]
    renumber = {lab: i for i, lab in enumerate(used)}
    frames = np.array([renumber.get(v, -1) for v in frames.tolist()], dtype=int)
    names = [speaker_name(i) for i in range(len(used))]
    turns = turns_from_labels(frames, names, duration)
    log.info("diarization: %d speech regions, %d windows, %d speakers", len(found), len(spans),
             len(names))
    return DiarizationResult(turns=turns, speakers=tuple(names), duration=duration, regions=found)
