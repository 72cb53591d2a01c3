"""Offline diarization of a whole recording: VAD regions, GE2E windows of several lengths,
k-means with a speaker-count test, centroid scores of the shortest windows, smoothing.

``diarize`` runs the backend the options choose (the embedded GE2E pipeline here, or a
pyannote.audio pipeline) and then names speakers whose voice matches an enrolled profile.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from desktop_asr.diarization.clustering import centroids, normalize_embeddings
from desktop_asr.diarization.embedding import embed_windows, window_spans
from desktop_asr.diarization.regions import speech_regions
from desktop_asr.diarization.scales import (
    cluster_windows,
    even_subset,
    nearest_windows,
    region_windows,
    scale_weight,
    window_speech,
)
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
# k-means restarts cost time linear in the windows (on 2 cores, k = 2 and 3 on 4000 windows of
# noise: 7 s; 8000: 34 s): beyond this many shortest windows (about 7 minutes of speech at a
# 0.1-s hop) an evenly spread subset is clustered, and every window is then scored against the
# subset's speakers.
MAX_CLUSTER_WINDOWS = 4000


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
    """The embedded pipeline: Silero regions, GE2E windows at several lengths, k-means with a
    speaker-count test, centroid scores of the shortest windows, smoothing."""
    duration = audio.size / SAMPLE_RATE
    if regions is None:
        regions = speech_regions(audio, threshold=opts.vad_threshold, min_speech=opts.min_speech,
                                 min_silence=opts.min_silence, pad=opts.pad)
    found = tuple(regions)
    (base_window, base_hop), longer = opts.scales[0], opts.scales[1:]
    base = region_windows(found, base_window, base_hop, opts.min_window, opts.window_offset)
    if len(base) == 0:
        log.info("no speech long enough to tell speakers apart")
        return DiarizationResult(turns=(), speakers=(), duration=duration, regions=found)
    centre = normalize_embeddings if opts.normalize else np.asarray
    base_raw = embed_windows(audio, base.spans).vectors.astype(np.float64)
    base_vec = centre(base_raw)
    # Clustering cost grows with the windows; beyond this many an evenly spread subset is
    # clustered (and only its longer windows embedded); every window is scored afterwards.
    subset = even_subset(len(base), MAX_CLUSTER_WINDOWS)
    weight = scale_weight(len(opts.scales))
    features = [base_vec[subset] * weight]
    voice_raw, voice_gap = base_raw[subset], abs(base_window - opts.window)
    for window, hop in longer:
        other = region_windows(found, window, hop, opts.min_window, opts.window_offset)
        wanted, inverse = np.unique(nearest_windows(base, other)[subset], return_inverse=True)
        raw = embed_windows(audio, other.spans[wanted]).vectors.astype(np.float64)
        features.append(centre(raw)[inverse] * weight)
        if abs(window - opts.window) < voice_gap:  # voices as enrolled profiles measure them
            voice_raw, voice_gap = raw[inverse], abs(window - opts.window)
    speech = window_speech(base, found)[subset] * (len(base) / len(subset))
    labels = cluster_windows(np.concatenate(features, axis=1), base_raw[subset], speech, opts)
    k = int(labels.max()) + 1
    scores = base_vec @ centroids(base_vec[subset], labels, k).T
    frames = frame_labels(found, base.spans, scores, duration, taper=True)
    frames = merge_short_flips(frames, opts.min_turn)
    frames = fill_gaps(frames, opts.max_gap)
    used = [lab for lab in dict.fromkeys(frames.tolist()) if lab >= 0]
    renumber = {lab: i for i, lab in enumerate(used)}
    frames = np.array([renumber.get(v, -1) for v in frames.tolist()], dtype=int)
    names = [speaker_name(i) for i in range(len(used))]
    turns = turns_from_labels(frames, names, duration)
    voices = {}
    for lab, i in renumber.items():
        mean = voice_raw[labels == lab].mean(axis=0)
        voices[speaker_name(i)] = mean / max(float(np.linalg.norm(mean)), 1e-8)
    log.info("diarization: %d speech regions, %d windows, %d speakers", len(found), len(base),
             len(names))
    return DiarizationResult(turns=turns, speakers=tuple(names), duration=duration, regions=found,
                             voices=voices)
