"""Run an evaluation: every model over every clip, then DER for the clips with an RTTM.

No Qt, no printing: the CLI and the app drive :func:`evaluate` and follow it through a progress
callback; a bad clip or a model that fails to load becomes a result with a reason, never an
exception that loses the rest.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from importlib import metadata
from typing import Callable, Sequence

from desktop_asr.audio import SAMPLE_RATE, decode_audio
from desktop_asr.batch import transcribe_audio
from desktop_asr.diarization import DiarizationOptions, check_backend, diarize
from desktop_asr.engines import Cancelled, DecodeOptions, Engine, EngineConfig, create_engine
from desktop_asr.errors import DesktopAsrError
from desktop_asr.evaluation.alignment import align
from desktop_asr.evaluation.der import check_metrics, read_rttm, score_der
from desktop_asr.evaluation.machine import describe_machine
from desktop_asr.evaluation.manifest import Manifest, ManifestEntry, ManifestProblem
from desktop_asr.evaluation.memory import PeakMemory
from desktop_asr.evaluation.normalize import normalizer_for
from desktop_asr.evaluation.results import (ClipResult, DiarizationClip, EvaluationOptions,
                                            EvaluationProgress, EvaluationResult, ModelResult,
                                            ModelSpec, unique_labels)
from desktop_asr.evaluation.scores import score_normalized

log = logging.getLogger(__name__)

Progress = Callable[[EvaluationProgress], None]
EngineFactory = Callable[[ModelSpec, EngineConfig], Engine]

_VERSIONS = ("desktop-asr", "jiwer", "faster-whisper", "ctranslate2", "transformers",
             "pyannote.metrics", "matplotlib")


def _versions() -> dict[str, str]:
    found = {}
    for dist in _VERSIONS:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found


def _default_factory(spec: ModelSpec, config: EngineConfig) -> Engine:
    return create_engine(spec.engine, config)


def _language_problem(entry: ManifestEntry, spec: ModelSpec, known: tuple[str, ...]) -> str | None:
    if entry.language is None or not known or entry.language in known:
        return None
    if len(known) == 1:
        return (f"{spec.label} knows only {known[0]!r} and the clip is {entry.language!r} "
                "(a multilingual model decodes it)")
    return f"{spec.label} does not know the clip's language {entry.language!r}"


def _score_clip(engine: Engine, spec: ModelSpec, entry: ManifestEntry,
                options: EvaluationOptions, cancel: threading.Event | None) -> ClipResult:
    caps = engine.capabilities
    reason = _language_problem(entry, spec, caps.languages)
    if reason is not None:
        return ClipResult(entry, language=entry.language, skipped=reason)
    try:
        audio = decode_audio(entry.audio)
    except DesktopAsrError as exc:
        return ClipResult(entry, error=getattr(exc, "detail", None) or str(exc))
    duration = audio.size / SAMPLE_RATE
    language = entry.language
    if language is None and len(caps.languages) == 1:
        language = caps.languages[0]
    decode = DecodeOptions(language=language, beam_size=options.beam_size,
                           best_of=max(5, options.beam_size), vad_filter=options.vad_filter,
                           word_timestamps=options.word_timestamps and caps.word_timestamps)
    started = time.perf_counter()
    transcript = transcribe_audio(engine, audio, decode, source=str(entry.audio), cancel=cancel)
    elapsed = time.perf_counter() - started
    language = language or transcript.language
    norm = normalizer_for(language, raw=options.raw)
    assert entry.reference is not None
    ref_norm, hyp_norm = norm(entry.reference), norm(transcript.text)
    if not ref_norm.strip():
        return ClipResult(entry, duration=duration, language=language,
                          hypothesis=transcript.text, elapsed=elapsed,
                          error="the reference text is empty after normalisation")
    return ClipResult(entry, duration=duration, language=language, hypothesis=transcript.text,
                      ref_norm=ref_norm, hyp_norm=hyp_norm,
                      counts=score_normalized([ref_norm], [hyp_norm]),
                      alignment=align(ref_norm, hyp_norm), words=transcript.words,
                      elapsed=elapsed)


def _run_model(spec: ModelSpec, entries: Sequence[ManifestEntry], options: EvaluationOptions,
               factory: EngineFactory, step: Callable[[str, str, str], None],
               cancel: threading.Event | None) -> tuple[ModelResult, bool]:
    """Evaluate one model; returns its result and whether the run was cancelled."""
    config = EngineConfig(model=spec.model, device=options.device,
                          compute_type=options.compute_type, cpu_threads=options.cpu_threads)
    clips: list[ClipResult] = []
    cancelled = False
    step("load", spec.label, "")
    with PeakMemory() as memory:
        started = time.perf_counter()
        try:
            engine = factory(spec, config)
        except (DesktopAsrError, ValueError, OSError) as exc:
            return ModelResult(spec, error=f"cannot load {spec.label}: {exc}"), False
        except Exception as exc:  # a backend's own error must not lose the other models
            log.exception("loading %s failed", spec.label)
            return ModelResult(spec, error=f"cannot load {spec.label}: "
                                           f"{type(exc).__name__}: {exc}"), False
        load_seconds = time.perf_counter() - started
        try:
            for entry in entries:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                try:
                    clip = _score_clip(engine, spec, entry, options, cancel)
                except Cancelled:
                    cancelled = True
                    break
                except Exception as exc:  # one clip a backend chokes on must not end the run
                    log.exception("%s failed on %s", spec.label, entry.audio)
                    clip = ClipResult(entry, error=f"{type(exc).__name__}: {exc}")
                clips.append(clip)
                step("clip", spec.label, entry.id)
            info, languages = engine.info, engine.capabilities.languages
        finally:
            del engine
            gc.collect()  # the next model should not be measured on top of this one
    return ModelResult(spec, clips=tuple(clips), info=info, languages=languages,
                       load_seconds=load_seconds, memory=memory.result), cancelled


def _diarize_clip(entry: ManifestEntry, options: EvaluationOptions) -> DiarizationClip:
    assert entry.rttm is not None
    try:
        reference = read_rttm(entry.rttm)
        audio = decode_audio(entry.audio)
    except (DesktopAsrError, ValueError, OSError) as exc:
        return DiarizationClip(entry, error=str(exc))
    duration = audio.size / SAMPLE_RATE
    count = entry.num_speakers if options.oracle_speakers else None
    started = time.perf_counter()
    try:
        found = diarize(audio, DiarizationOptions(num_speakers=count))
    except DesktopAsrError as exc:
        return DiarizationClip(entry, error=str(exc), duration=duration)
    elapsed = time.perf_counter() - started
    return DiarizationClip(entry, score=score_der(reference, found.turns, duration),
                           duration=duration, elapsed=elapsed, turns=found.turns)


def evaluate(manifest: Manifest, specs: Sequence[ModelSpec],
             options: EvaluationOptions | None = None, *, progress: Progress | None = None,
             cancel: threading.Event | None = None,
             engine_factory: EngineFactory | None = None) -> EvaluationResult:
    """Decode and score every entry with every model; DER for entries with an RTTM."""
    opts = options or EvaluationOptions()
    specs = unique_labels(specs)
    if not specs:
        raise ValueError("evaluate needs at least one model")
    factory = engine_factory or _default_factory
    t0 = time.perf_counter()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    asr = [e for e in manifest.entries if e.reference is not None]
    rttm = [e for e in manifest.entries if e.rttm is not None] if opts.der else []
    total = len(specs) * len(asr) + len(rttm)
    done = 0

    def step(stage: str, model: str, clip: str) -> None:
        nonlocal done
        if stage in ("clip", "der"):
            done += 1
        if progress is not None:
            progress(EvaluationProgress(stage, done, total, model, clip))

    models: list[ModelResult] = []
    cancelled = False
    for spec in specs:
        result, cancelled = _run_model(spec, asr, opts, factory, step, cancel)
        models.append(result)
        if cancelled:
            break
    diarized: list[DiarizationClip] = []
    if rttm and not cancelled:
        try:
            check_backend()
            check_metrics()
        except DesktopAsrError as exc:
            diarized = [DiarizationClip(e, error=str(exc)) for e in rttm]
        else:
            for entry in rttm:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                step("der-start", "diarization", entry.id)
                diarized.append(_diarize_clip(entry, opts))
                step("der", "diarization", entry.id)
    problems = list(manifest.problems)
    for model in models:
        problems += [ManifestProblem(c.entry.line, f"{c.entry.audio.name}: {c.error}",
                                     str(manifest.path))
                     for c in model.clips if c.error]
    problems += [ManifestProblem(d.entry.line, f"{d.entry.audio.name}: DER: {d.error}",
                                 str(manifest.path)) for d in diarized if d.error]
    return EvaluationResult(manifest=manifest, options=opts, models=tuple(models),
                            diarization=tuple(diarized), problems=tuple(dict.fromkeys(problems)),
                            cancelled=cancelled, started=started,
                            elapsed=time.perf_counter() - t0, machine=describe_machine(),
                            versions=_versions())
