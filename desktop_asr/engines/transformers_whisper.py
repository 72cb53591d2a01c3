"""Whisper through transformers (``WhisperForConditionalGeneration`` + processor).

Loads any local transformers Whisper checkpoint, a CTranslate2 model by name or folder (converted
once by :meth:`ModelManager.transformers_whisper`, so the bundled tiny.en works offline), or a
Hugging Face hub id where the hub is reachable. CUDA float16 or CPU float32. Decoding options,
prompts, hotwords, the VAD filter and the repetition guard behave as in the faster-whisper engine;
word times come from the cross-attention of the model's alignment heads.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from desktop_asr.engines.base import (DecodeOptions, EngineCapabilities, EngineConfig, EngineInfo,
                                      ProgressCallback, check_audio, decode_language)
from desktop_asr.engines.guards import filter_repetitions
from desktop_asr.engines.transformers_whisper_decode import (SAMPLE_RATE, Vocabulary,
                                                             WindowDecoder)
from desktop_asr.engines.transformers_whisper_vad import speech_chunks
from desktop_asr.errors import MissingExtraError, ModelError
from desktop_asr.types import Segment

log = logging.getLogger(__name__)

NAME = "transformers-whisper"
# What the engine can do before a model is loaded (the loaded engine's capabilities say which
# languages its model knows): re-decoding live mode, word times, prompts and hotwords.
CAPABILITIES = EngineCapabilities(streaming_native=False, word_timestamps=True, languages=(),
                                  translate=True, hotwords=True, needs_gpu=False)
_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}
_MAX_SINGLE_WINDOW = 27.0  # live buffers up to this long are decoded as one window
_TOKENIZER_NAMES = ("<|endoftext|>", "<|startofprev|>", "<|notimestamps|>")


class _DropGenerationConfigNotice(logging.Filter):
    """transformers' Whisper generate passes its own generation config together with
    arguments internally and then warns the caller about it on every run; nothing to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Passing `generation_config` together with" not in record.getMessage()


def _quiet_internal_notices() -> None:
    target = logging.getLogger("transformers.generation.utils")
    if not any(isinstance(f, _DropGenerationConfigNotice) for f in target.filters):
        target.addFilter(_DropGenerationConfigNotice())


def default_model() -> str:
    """The checkpoint benchmarks and the app use by default: the bundled tiny.en (converted)."""
    return "tiny.en"


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "/", "~"))


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers on port 443 (seconds, not the client's retries)."""
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    if os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy"):
        return True  # only the proxy knows; let the hub client find out
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        with socket.create_connection((endpoint.hostname or "huggingface.co",
                                       endpoint.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_checkpoint(name_or_path: str) -> tuple[str, str, bool]:
    """(what to load, display name, is it a hub id) for a folder, a model name or a hub id."""
    from desktop_asr.models.convert import is_ct2_whisper, is_transformers_whisper
    from desktop_asr.models.manager import ModelManager

    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir():
        if is_transformers_whisper(candidate) or is_ct2_whisper(candidate):
            path = ModelManager().transformers_whisper(str(candidate))
            return str(path), candidate.name, False
        raise ModelError(f"{candidate} holds neither a transformers nor a CTranslate2 Whisper "
                         "model")
    try:
        return str(ModelManager().transformers_whisper(name_or_path)), name_or_path, False
    except ModelError:
        if not _looks_like_hub_id(name_or_path):
            raise
    if not hub_reachable():
        raise ModelError(f"{name_or_path!r} looks like a Hugging Face hub id, but the hub cannot "
                         "be reached from here; give a local model folder instead")
    return name_or_path, name_or_path, True


def _choose_device(torch: Any, device: str, compute_type: str) -> tuple[str, str]:
    """CUDA float16 when a GPU is there, else CPU float32; explicit choices are checked."""
    has_cuda = bool(torch.cuda.is_available())
    if device == "auto":
        device = "cuda" if has_cuda else "cpu"
    elif device == "cuda" and not has_cuda:
        raise ModelError("device 'cuda' was requested but torch sees no CUDA GPU here; use "
                         "--device cpu or --device auto")
    if compute_type in ("auto", "", "default"):
        compute_type = "float16" if device == "cuda" else "float32"
    if compute_type not in _DTYPES:
        raise ModelError(f"the {NAME} engine runs in {', '.join(_DTYPES)}, not "
                         f"{compute_type!r} (int8 is for the faster-whisper engine)")
    if compute_type == "float16" and device == "cpu":
        raise ModelError("float16 on the CPU is slow and unsupported by some layers; use "
                         "float32 (or bfloat16) on the CPU")
    return device, compute_type


def _import_backend() -> tuple[Any, Any]:
    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError(f"the {NAME} engine", "torch", "torch") from exc
    try:
        import transformers
    except ImportError as exc:
        raise MissingExtraError(f"the {NAME} engine", "transformers", "torch") from exc
    return torch, transformers


class TransformersWhisperEngine:
    """Whisper via transformers; one loaded model shared by every call."""

    name = NAME

    def __init__(self, config: EngineConfig | None = None) -> None:
        torch, transformers = _import_backend()
        from desktop_asr.engines.faster_whisper import default_cpu_threads

        _quiet_internal_notices()
        self.config = config or EngineConfig()
        source, model_name, from_hub = resolve_checkpoint(self.config.model)
        device, compute_type = _choose_device(torch, self.config.device,
                                              self.config.compute_type)
        threads = self.config.cpu_threads or default_cpu_threads()
        if device == "cpu":
            # torch's pool is per process; faster-whisper keeps its own, so this only sets ours
            torch.set_num_threads(threads)
        dtype = getattr(torch, _DTYPES[compute_type])
        target = f"cuda:{self.config.device_index}" if device == "cuda" else "cpu"
        from desktop_asr.models.convert import quiet_progress

        try:
            with quiet_progress(transformers):
                # sdpa decodes faster; word alignment switches to eager for the weights
                attention = ("sdpa" if hasattr(transformers.PreTrainedModel,
                                               "set_attn_implementation") else "eager")
                self._model = transformers.WhisperForConditionalGeneration.from_pretrained(
                    source, dtype=dtype, attn_implementation=attention,
                    local_files_only=not from_hub).to(target).eval()
            self._processor = transformers.WhisperProcessor.from_pretrained(
                source, local_files_only=not from_hub)
        except (OSError, ValueError, RuntimeError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if from_hub:
                raise ModelError(f"cannot get {source!r} from the Hugging Face hub (is it "
                                 f"reachable from here?): {first}; give a local model folder "
                                 "instead") from exc
            raise ModelError(f"cannot load a transformers Whisper model from {source}: "
                             f"{first}") from exc
        generation = self._model.generation_config
        multilingual = bool(getattr(generation, "is_multilingual", False))
        languages = (tuple(code.strip("<|>") for code in generation.lang_to_id)
                     if multilingual and getattr(generation, "lang_to_id", None) else ("en",))
        heads = [tuple(h) for h in (getattr(generation, "alignment_heads", None) or [])]
        self.capabilities = EngineCapabilities(
            streaming_native=False, word_timestamps=bool(heads), languages=languages,
            translate=multilingual, hotwords=True, needs_gpu=False)
        self.info = EngineInfo(engine=self.name, model=model_name, model_path=str(source),
                               device=device, compute_type=compute_type, cpu_threads=threads,
                               extra={"backend": f"transformers {transformers.__version__}"})
        self._decoder = WindowDecoder(self._model, self._processor, self._vocabulary(),
                                      device=target, dtype=dtype, word_heads=heads)
        self._lock = threading.Lock()  # one generate at a time on the shared model
        log.info("loaded %s from %s on %s/%s (%d threads)", model_name, source, device,
                 compute_type, threads)

    def _vocabulary(self) -> Vocabulary:
        tokenizer = self._processor.tokenizer
        eot, sot_prev, no_ts = (int(tokenizer.convert_tokens_to_ids(t)) for t in _TOKENIZER_NAMES)
        generation = self._model.generation_config
        no_ts = int(getattr(generation, "no_timestamps_token_id", no_ts) or no_ts)
        return Vocabulary(eot=eot, sot_prev=sot_prev, no_timestamps=no_ts,
                          timestamp_begin=no_ts + 1)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """Return the most likely language code and its probability (first 30 s)."""
        if not self.capabilities.multilingual:
            return self.capabilities.languages[0], 1.0
        import torch

        from desktop_asr.engines.transformers_whisper_decode import WINDOW_FRAMES, log_mel

        mel = log_mel(self._processor.feature_extractor, check_audio(audio))[:, :WINDOW_FRAMES]
        window = np.zeros((1, mel.shape[0], WINDOW_FRAMES), dtype=np.float32)
        window[0, :, :mel.shape[1]] = mel
        generation = self._model.generation_config
        lang_ids = list(generation.lang_to_id.values())
        codes = [code.strip("<|>") for code in generation.lang_to_id]
        with self._lock, torch.inference_mode():
            features = torch.from_numpy(window).to(self._model.device, self._model.dtype)
            encoded = self._model.model.encoder(features)
            start = torch.tensor([[generation.decoder_start_token_id]], device=features.device)
            logits = self._model(encoder_outputs=encoded, decoder_input_ids=start).logits[0, -1]
            probs = torch.softmax(logits[lang_ids].float(), dim=-1)
        best = int(torch.argmax(probs))
        return codes[best], float(probs[best])

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
        if language is None:
            language, _ = self.detect_language(audio)
        if opts.hallucination_silence_threshold is not None:
            log.debug("%s: hallucination_silence_threshold is a faster-whisper option; the "
                      "repetition filter still applies", self.name)
        duration = audio.size / SAMPLE_RATE
        single = opts.fit_window and duration <= _MAX_SINGLE_WINDOW
        chunks = speech_chunks(audio) if opts.vad_filter and not single else None
        with self._lock:
            if chunks is None:
                segments = self._decoder.transcribe(
                    audio, prompt=prompt, options=opts, language=language, single_window=single,
                    on_window=progress, cancel=cancel)
            else:
                segments = chunks.transcribe(self._decoder, prompt=prompt, options=opts,
                                             language=language, progress=progress,
                                             cancel=cancel)
        if progress is not None:
            progress(duration)
        return filter_repetitions(segments) if opts.repetition_filter else segments

