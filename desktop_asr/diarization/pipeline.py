"""Offline diarization of a whole recording: VAD regions, GE2E windows, clustering, smoothing.

``diarize`` runs the backend the options choose (the embedded GE2E pipeline here, or a
pyannote.audio pipeline) and then names speakers whose voice matches an enrolled profile.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

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
from desktop_asr.errors import MissingExtraError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
# Average-linkage clustering needs memory quadratic in the windows: beyond this many (about
# 70 minutes of speech) an evenly spread subset is clustered and the rest join the nearest
# cluster, which ``refine`` then settles.
MAX_CLUSTER_WINDOWS = 8000


def speaker_name(index: int) -> str:
    """The id of the index-th speaker found: SPEAKER_00, SPEAKER_01, ..."""
    return f"SPEAKER_{index:02d}"


def resolve_backend(options: DiarizationOptions) -> DiarizationOptions:
    """Options with ``backend="auto"`` replaced by the app's settings (embedded by default)."""
    if options.backend != "auto":
        return options
    from desktop_asr.settings import load_settings

    settings = load_settings()
    if settings.diarizer == "pyannote":
        return replace(options, backend="pyannote",
                       pyannote_model=options.pyannote_model or settings.pyannote_model or None,
                       hf_token=options.hf_token or settings.hf_token or None)
    return replace(options, backend="embedded")


def check_diarizer(options: DiarizationOptions) -> None:
    """Fail now, with the reason, when the chosen diarizer cannot run (missing packages, or a
    pyannote model that is not there): before any audio is captioned or transcribed."""
    opts = resolve_backend(options)
    if opts.backend == "pyannote":
        from desktop_asr.diarization.pyannote_backend import DEFAULT_MODEL, load_pipeline

        load_pipeline(opts.pyannote_model or DEFAULT_MODEL, opts.hf_token)
    else:
        from desktop_asr.diarization.embedding import check_backend

        check_backend()


def diarize(audio: np.ndarray, options: DiarizationOptions | None = None, *,
            regions: list[SpeechRegion] | None = None) -> DiarizationResult:
    """Who spoke when in 16 kHz mono float32 ``audio``; ``regions`` skips the VAD when given.

    Raises MissingExtraError when the backend's packages are missing and ModelError when a
    pyannote model cannot be loaded.
    """
    opts = resolve_backend(options or DiarizationOptions())
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if opts.backend == "pyannote":
        from desktop_asr.diarization.pyannote_backend import diarize_pyannote

        result = diarize_pyannote(audio, opts)
    else:
        result = diarize_embedded(audio, opts, regions=regions)
    if opts.name_from_profiles and result.speakers:
        result = name_speakers(result, audio)
    return result


def name_speakers(result: DiarizationResult, audio: np.ndarray) -> DiarizationResult:
    """Give speakers the names of enrolled voices they confidently match (none enrolled: as is)."""
    from desktop_asr.diarization.profiles import load_profiles, match_voices

    profiles = load_profiles()
    if not profiles:
        return result
    try:
        voices = result.voices or turn_voices(audio, result)
    except MissingExtraError as exc:  # e.g. pyannote without resemblyzer: no names, no failure
        log.warning("cannot match enrolled voices: %s", exc)
        return result
    names = match_voices(voices, profiles)
    if names:
        log.info("named %d speaker(s) from enrolled voices", len(names))
    return replace(result, voices=voices, names={**result.names, **names})


def turn_voices(audio: np.ndarray, result: DiarizationResult) -> dict[str, np.ndarray]:
    """Each speaker's mean GE2E embedding over its turns (for backends that give none)."""
    opts = DiarizationOptions()
    out: dict[str, np.ndarray] = {}
    for who in result.speakers:
        turns = [SpeechRegion(t.start, t.end) for t in result.turns if t.speaker == who]
        spans = window_spans(turns, opts.window, opts.hop, opts.min_window)
        if len(spans):
            mean = embed_windows(audio, spans).vectors.astype(np.float64).mean(axis=0)
            out[who] = mean / max(float(np.linalg.norm(mean)), 1e-8)
    return out


def diarize_embedded(audio: np.ndarray, opts: DiarizationOptions, *,
                     regions: list[SpeechRegion] | None = None) -> DiarizationResult:
    """The embedded pipeline: Silero regions, GE2E windows, clustering, smoothing."""
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
    labels = _cluster(vectors, opts)
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
    raw = windows.vectors.astype(np.float64)
    voices = {}
    for lab, i in renumber.items():
        mean = raw[labels == lab].mean(axis=0)
        voices[speaker_name(i)] = mean / max(float(np.linalg.norm(mean)), 1e-8)
    log.info("diarization: %d speech regions, %d windows, %d speakers", len(found), len(spans),
             len(names))
    return DiarizationResult(turns=turns, speakers=tuple(names), duration=duration, regions=found,
                             voices=voices)


def _cluster(vectors: np.ndarray, opts: DiarizationOptions) -> np.ndarray:
    n = len(vectors)
    subset = (np.arange(n) if n <= MAX_CLUSTER_WINDOWS
              else np.linspace(0, n - 1, MAX_CLUSTER_WINDOWS).round().astype(int))
    sub = vectors[subset]
    labels = agglomerative(sub, threshold=opts.threshold, num_speakers=opts.num_speakers,
                           min_speakers=opts.min_speakers, max_speakers=opts.max_speakers)
    if opts.num_speakers is None:
        labels = absorb_small(sub, labels, opts.min_speaker_share, keep=opts.min_speakers,
                              min_windows=math.ceil(opts.min_speaker_speech / opts.hop
                                                    * len(subset) / n))
    if len(subset) < n:
        cents = centroids(sub, labels, int(labels.max()) + 1)
        labels = np.argmax(vectors @ cents.T, axis=1)
    return refine(vectors, labels)
