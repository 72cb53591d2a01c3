"""Scoring transcripts against references, and evaluating models on labelled recordings.

``score`` / ``normalizer_for`` score strings; ``read_manifest`` + ``evaluate`` run engines over a
manifest (WER, CER, MER, WIL, RTF, memory, DER); ``write_report`` writes the HTML/Markdown report.
"""

from desktop_asr.evaluation.manifest import Manifest, ManifestEntry, ManifestProblem, read_manifest
from desktop_asr.evaluation.normalize import normalizer_for
from desktop_asr.evaluation.report import ReportFiles, render, write_report
from desktop_asr.evaluation.results import (ClipResult, DiarizationClip, EvaluationOptions,
                                            EvaluationProgress, EvaluationResult, ModelResult,
                                            ModelSpec, parse_model_spec)
from desktop_asr.evaluation.runner import evaluate
from desktop_asr.evaluation.scores import ErrorCounts, score, score_normalized

__all__ = ["ClipResult", "DiarizationClip", "ErrorCounts", "EvaluationOptions",
           "EvaluationProgress", "EvaluationResult", "Manifest", "ManifestEntry",
           "ManifestProblem", "ModelResult", "ModelSpec", "ReportFiles", "evaluate",
           "normalizer_for", "parse_model_spec", "read_manifest", "render", "score",
           "score_normalized", "write_report"]
