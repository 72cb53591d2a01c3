"""pyannote.audio speaker-diarization pipelines (community-1, 3.1), for users who have one.

The model is a local folder holding the pipeline's ``config.yaml`` (a downloaded
``pyannote/speaker-diarization-community-1`` or ``-3.1`` snapshot, or a ``config.yaml`` file) or
a Hugging Face hub id, which needs network access and, for the gated pyannote models, a token
whose account accepted the model's conditions. pyannote.audio is imported only here, with its
usage telemetry switched off: nothing about the user's audio leaves the machine.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from desktop_asr.diarization.types import DiarizationOptions, DiarizationResult, SpeakerTurn
from desktop_asr.errors import MissingExtraError, ModelError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
DEFAULT_MODEL = "pyannote/speaker-diarization-community-1"


def _import_pyannote() -> tuple[Any, Any]:
    # pyannote.audio 4 reports pipeline use to a remote server unless told not to; a private
    # app never sends anything, so this is forced off before the first import.
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError("The pyannote diarizer", "torch", "diarization") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pyannote.audio import Pipeline
    except ImportError as exc:
        raise MissingExtraError("The pyannote diarizer", "pyannote.audio", "diarization") from exc
    return torch, Pipeline


def check_pyannote() -> None:
    """Raise MissingExtraError now when pyannote.audio or torch is missing."""
    _import_pyannote()


def _describe(model: str) -> str:
    return f"pyannote model {model!r}"


@functools.lru_cache(maxsize=2)
def load_pipeline(model: str, token: str | None = None) -> Any:
    """The pyannote pipeline from a local folder / config.yaml or a hub id, loaded once.

    Raises ModelError with what to do when it is not available.
    """
    path = Path(model).expanduser()
    local = path.exists()
    if local and path.is_dir() and not (path / "config.yaml").is_file():
        raise ModelError(f"{_describe(model)}: the folder has no config.yaml (it should hold a "
                         "downloaded pyannote speaker-diarization pipeline)")
    # A hub id is "owner/name"; anything else that does not exist is a mistyped folder.
    if not local and (model.startswith((".", "/", "~")) or model.count("/") != 1):
        raise ModelError(f"{_describe(model)}: no such folder (nor an owner/name hub id)")
    _, pipeline_cls = _import_pyannote()
    hub_log = logging.getLogger("huggingface_hub")
    level = hub_log.level
    hub_log.setLevel(logging.ERROR)  # its retry warnings would add lines to our one-line error
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipeline = pipeline_cls.from_pretrained(str(path) if local else model,
                                                    token=token or None)
    except Exception as exc:  # network, gated repo, bad checkpoint: all mean "not available"
        hint = ("check the folder's files" if local else
                "the Hugging Face hub could not be reached or refused the download; download "
                "the pipeline where the network allows (accepting its conditions on "
                "huggingface.co), then choose its folder in Settings or pass "
                "--pyannote-model FOLDER; a token goes in Settings > Speakers")
        raise ModelError(f"{_describe(model)} is not available: {_one_line(exc)}; {hint}") from exc
    finally:
        hub_log.setLevel(level)
    if pipeline is None:
        raise ModelError(f"{_describe(model)} is not available (the hub gave no config.yaml); "
                         "a gated model needs a token in Settings > Speakers")
    log.info("loaded %s", _describe(model))
    return pipeline


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def diarize_pyannote(audio: np.ndarray, options: DiarizationOptions) -> DiarizationResult:
    """Who spoke when in 16 kHz mono ``audio`` according to the pyannote pipeline."""
    torch, _ = _import_pyannote()
    model = options.pyannote_model or DEFAULT_MODEL
    pipeline = load_pipeline(model, options.hf_token)
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    duration = audio.size / SAMPLE_RATE
    if audio.size < SAMPLE_RATE // 2:
        return DiarizationResult((), (), duration, backend="pyannote")
    counts: dict[str, int] = {}
    if options.num_speakers is not None:
        counts["num_speakers"] = options.num_speakers
    else:
        if options.min_speakers > 1:
            counts["min_speakers"] = options.min_speakers
        if options.max_speakers is not None:
            counts["max_speakers"] = options.max_speakers
    file = {"waveform": torch.from_numpy(audio).unsqueeze(0), "sample_rate": SAMPLE_RATE,
            "uri": "desktop-asr"}
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = pipeline(file, **counts)
    except Exception as exc:
        raise ModelError(f"{_describe(model)} failed on this audio: {_one_line(exc)}") from exc
    # pyannote 4 returns DiarizeOutput; 3.x pipelines (and legacy mode) an Annotation. The
    # exclusive form has one speaker at a time, which is what a transcript can show.
    annotation = getattr(output, "exclusive_speaker_diarization", None) or getattr(
        output, "speaker_diarization", output)
    return result_from_annotation(annotation, duration)


def result_from_annotation(annotation: Any, duration: float) -> DiarizationResult:
    """Turns of a pyannote.core Annotation, speakers renamed SPEAKER_00.. by first turn."""
    raw = sorted(((float(seg.start), float(seg.end), str(label))
                  for seg, _, label in annotation.itertracks(yield_label=True)),
                 key=lambda t: (t[0], t[1]))
    order: dict[str, str] = {}
    turns = []
    for start, end, label in raw:
        start, end = max(0.0, start), min(duration, end)
        if end <= start:
            continue
        name = order.setdefault(label, f"SPEAKER_{len(order):02d}")
        turns.append(SpeakerTurn(start, end, name))
    return DiarizationResult(tuple(turns), tuple(order.values()), duration, backend="pyannote")
