"""The default engine: Whisper through faster-whisper (CTranslate2), CPU int8 or CUDA float16."""

from __future__ import annotations

import logging
import math
import os
import threading
from typing import Any

import numpy as np

from desktop_asr.engines.base import (Cancelled, DecodeOptions, EngineCapabilities, EngineConfig,
                                      EngineInfo, ProgressCallback, check_audio,
                                      decode_language)
from desktop_asr.engines.fit_window import MAX_FIT_SECONDS, FitWindowDecoder
from desktop_asr.engines.guards import filter_repetitions
from desktop_asr.errors import ModelError
from desktop_asr.types import Segment, Word

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


def default_cpu_threads() -> int:
    """Threads for CPU inference: the cores this process may use, capped where gains stop."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def choose_device(device: str, compute_type: str) -> tuple[str, str]:
    """Resolve ``auto`` device and precision: CUDA float16 when a GPU is present, else CPU int8."""
    import ctranslate2

    cuda_count = ctranslate2.get_cuda_device_count()
    if device == "auto":
        device = "cuda" if cuda_count > 0 else "cpu"
    elif device == "cuda" and cuda_count == 0:
        raise ModelError("device 'cuda' was requested but no CUDA GPU is usable here; "
                         "use --device cpu or --device auto")
    if compute_type in ("auto", ""):
        compute_type = "float16" if device == "cuda" else "int8"
    supported = ctranslate2.get_supported_compute_types(device)
    if compute_type != "default" and compute_type not in supported:
        raise ModelError(f"compute type {compute_type!r} is not supported on {device}; "
                         f"choose one of {sorted(supported)}")
    return device, compute_type


class FasterWhisperEngine:
    """Whisper via faster-whisper; one loaded model shared by every call."""

    name = "faster-whisper"

    def __init__(self, config: EngineConfig | None = None, *, model_path: str | None = None) -> None:
        from faster_whisper import WhisperModel

        from desktop_asr.models.manager import ModelManager

        self.config = config or EngineConfig()
        if model_path is None:
            resolved = ModelManager().resolve(self.config.model)
            model_path, model_name = str(resolved.path), resolved.name
        else:
            model_name = self.config.model
        device, compute_type = choose_device(self.config.device, self.config.compute_type)
        threads = self.config.cpu_threads or default_cpu_threads()
        try:
            self._model = WhisperModel(str(model_path), device=device,
                                       device_index=self.config.device_index,
                                       compute_type=compute_type, cpu_threads=threads,
                                       local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load Whisper model from {model_path}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                             ) from exc
        multilingual = bool(self._model.model.is_multilingual)
        langs = tuple(self._model.supported_languages) if multilingual else ("en",)
        self.capabilities = EngineCapabilities(streaming_native=False, word_timestamps=True,
                                               languages=langs, translate=multilingual,
                                               hotwords=True, needs_gpu=False)
        self.info = EngineInfo(engine=self.name, model=model_name, model_path=str(model_path),
                               device=device, compute_type=compute_type, cpu_threads=threads)
        self._lock = threading.Lock()  # CTranslate2 models are not safe for concurrent generate
        self._fit = FitWindowDecoder(self._model, self._tokenizer)
        self._tokenizers: dict[tuple[str, str], Any] = {}
        log.info("loaded %s from %s on %s/%s (%d threads)", model_name, model_path, device,
                 compute_type, threads)

    def _tokenizer(self, language: str, task: str) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        key = (language, task)
        if key not in self._tokenizers:
            self._tokenizers[key] = Tokenizer(self._model.hf_tokenizer,
                                              self._model.model.is_multilingual, task=task,
                                              language=language)
        return self._tokenizers[key]

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """Return the most likely language code and its probability."""
        if not self.capabilities.multilingual:
            return self.capabilities.languages[0], 1.0
        with self._lock:
            language, probability, _ = self._model.detect_language(check_audio(audio))
        return language, float(probability)

    def transcribe(self, audio: np.ndarray, *, prompt: str = "",
                   options: DecodeOptions | None = None,
                   progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None) -> list[Segment]:
        """Transcribe 16 kHz mono float32 audio; times are relative to its first sample."""
        opts = options or DecodeOptions()
        audio = check_audio(audio)
        if audio.size == 0:
            return []
        language = decode_language(self.info, self.capabilities, opts.language)
        if opts.fit_window and audio.size / SAMPLE_RATE <= MAX_FIT_SECONDS:
            with self._lock:
                segments = self._fit.decode(audio, prompt=prompt, options=opts,
                                            language=language or "en")
            if progress is not None:
                progress(audio.size / SAMPLE_RATE)
            return filter_repetitions(segments) if opts.repetition_filter else segments
        segments = []
        with self._lock:
            raw, _info = self._model.transcribe(
                audio, language=language, task=opts.task, beam_size=opts.beam_size,
                best_of=opts.best_of, temperature=list(opts.temperature),
                compression_ratio_threshold=opts.compression_ratio_threshold,
                log_prob_threshold=opts.log_prob_threshold,
                no_speech_threshold=opts.no_speech_threshold,
                condition_on_previous_text=opts.condition_on_previous_text,
                initial_prompt=prompt or None,
                hotwords=", ".join(opts.hotwords) or None,
                word_timestamps=opts.word_timestamps, vad_filter=opts.vad_filter,
                hallucination_silence_threshold=opts.hallucination_silence_threshold)
            # The generator decodes lazily: progress and cancel are checked between segments.
            for seg in raw:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("transcription cancelled")
                segments.append(_convert(seg))
                if progress is not None:
                    progress(min(seg.end, audio.size / SAMPLE_RATE))
        if progress is not None:
            progress(audio.size / SAMPLE_RATE)
        return filter_repetitions(segments) if opts.repetition_filter else segments


def _convert(seg: Any) -> Segment:
    words = tuple(
        Word(start=max(0.0, float(w.start)), end=max(0.0, float(w.start), float(w.end)),
             text=w.word, probability=min(1.0, max(0.0, float(w.probability))))
        for w in (getattr(seg, "words", None) or ()))
    start = max(0.0, float(seg.start))
    logprob = float(seg.avg_logprob)
    return Segment(start=start, end=max(start, float(seg.end)),
                   text=seg.text, words=words,
                   avg_logprob=logprob if math.isfinite(logprob) else None,
                   no_speech_prob=min(1.0, max(0.0, float(seg.no_speech_prob))))
