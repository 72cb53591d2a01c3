"""results.json: every number of an evaluation in a form other programs (and tests) can read."""

from __future__ import annotations

from typing import Any

from desktop_asr.evaluation.results import ClipResult, EvaluationResult, ModelResult
from desktop_asr.evaluation.scores import ErrorCounts

RESULTS_VERSION = 1


def counts_to_dict(counts: ErrorCounts | None) -> dict[str, Any] | None:
    """Edit counts and the rates derived from them."""
    if counts is None:
        return None
    return {"hits": counts.hits, "substitutions": counts.substitutions,
            "deletions": counts.deletions, "insertions": counts.insertions,
            "ref_words": counts.ref_words, "hyp_words": counts.hyp_words,
            "char_errors": counts.char_errors, "ref_chars": counts.ref_chars,
            "wer": counts.wer, "cer": counts.cer, "mer": counts.mer, "wil": counts.wil}


def _clip(c: ClipResult) -> dict[str, Any]:
    return {"line": c.entry.line, "id": c.entry.id, "audio": str(c.entry.audio),
            "language": c.language, "duration": c.duration, "reference": c.entry.reference,
            "hypothesis": c.hypothesis, "reference_normalized": c.ref_norm,
            "hypothesis_normalized": c.hyp_norm, "counts": counts_to_dict(c.counts),
            "decode_seconds": c.elapsed, "rtf": c.rtf, "skipped": c.skipped, "error": c.error,
            "words": [{"start": w.start, "end": w.end, "text": w.text} for w in c.words]}


def _model(m: ModelResult) -> dict[str, Any]:
    mem = m.memory
    return {"label": m.spec.label, "engine": m.spec.engine, "model": m.spec.model,
            "model_path": m.info.model_path if m.info else None,
            "device": m.info.device if m.info else None,
            "compute_type": m.info.compute_type if m.info else None,
            "error": m.error, "load_seconds": m.load_seconds,
            "peak_rss_bytes": mem.peak_rss if mem else None,
            "rss_growth_bytes": mem.growth if mem else None,
            "gpu_peak_bytes": mem.gpu_peak if mem else None,
            "audio_seconds": m.audio_seconds, "rtf": m.rtf, "total": counts_to_dict(m.total),
            "clips": [_clip(c) for c in m.clips]}


def result_to_dict(result: EvaluationResult) -> dict[str, Any]:
    """The whole result as JSON-ready data."""
    o = result.options
    return {
        "version": RESULTS_VERSION, "manifest": str(result.manifest.path),
        "started": result.started, "elapsed_seconds": result.elapsed,
        "machine": result.machine, "versions": dict(result.versions),
        "cancelled": result.cancelled,
        "options": {"raw": o.raw, "beam_size": o.beam_size, "vad_filter": o.vad_filter,
                    "word_timestamps": o.word_timestamps, "device": o.device,
                    "compute_type": o.compute_type, "cpu_threads": o.cpu_threads,
                    "der": o.der, "oracle_speakers": o.oracle_speakers,
                    "duration_bins": list(o.duration_bins)},
        "problems": [{"line": p.line, "message": p.message} for p in result.problems],
        "models": [_model(m) for m in result.models],
        "diarization": [{"line": d.entry.line, "id": d.entry.id, "duration": d.duration,
                         "error": d.error, "diarize_seconds": d.elapsed,
                         "turns": [{"start": t.start, "end": t.end, "speaker": t.speaker}
                                   for t in d.turns],
                         **({"der": d.score.der, "missed": d.score.missed,
                             "false_alarm": d.score.false_alarm,
                             "confusion": d.score.confusion,
                             "reference_seconds": d.score.reference_seconds,
                             "reference_speakers": d.score.reference_speakers,
                             "hypothesis_speakers": d.score.hypothesis_speakers}
                            if d.score else {})}
                        for d in result.diarization],
    }
