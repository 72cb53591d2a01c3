"""What every CTC engine shares: chunked emissions, greedy or LM decoding, aligned word times.

A subclass loads its acoustic model and implements :meth:`CtcEngineBase._emit` (log-probs of one
chunk). This class turns audio of any length into segments: long audio is cut into chunks that
overlap by a context margin on each side and start on output-frame boundaries, and only each
chunk's central frames are kept, so a model whose receptive field fits in the margin gives the
same emissions chunked as unchunked. Decoding and forced alignment then run per speech region.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_asr.engines.base import (Cancelled, DecodeOptions, EngineCapabilities, EngineConfig,
                                      EngineInfo, ProgressCallback, check_audio)
from desktop_asr.engines.ctc_decode import (CtcVocabulary, greedy_ids, prefix_beam_search,
                                            speech_regions, words_from_spans)
from desktop_asr.engines.ctc_lm import ArpaLanguageModel, LmWeights
from desktop_asr.errors import ModelError
from desktop_asr.types import Segment

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_DEFAULTS = DecodeOptions()
# Whisper decoding knobs a CTC model has no use for; ignored (logged once) when changed.
_WHISPER_ONLY = ("beam_size", "best_of", "temperature", "condition_on_previous_text",
                 "no_speech_threshold", "log_prob_threshold", "compression_ratio_threshold",
                 "hallucination_silence_threshold", "fit_window")


@dataclass(frozen=True)
class Chunking:
    """How long audio is cut: chunk length and the context margin added on each side."""

    chunk_seconds: float = 30.0
    context_seconds: float = 2.0
    # Pauses at least this long split segments (and bound forced alignment's work).
    min_gap_seconds: float = 0.5
    max_region_seconds: float = 20.0

    def __post_init__(self) -> None:
        if self.chunk_seconds < 1.0 or self.context_seconds < 0.0:
            raise ValueError("chunk_seconds must be >= 1 and context_seconds >= 0")
        if not 0.0 < self.min_gap_seconds < self.max_region_seconds:
            raise ValueError("need 0 < min_gap_seconds < max_region_seconds")


def resolve_torch_device(config: EngineConfig) -> tuple[str, str]:
    """Pick the torch device and dtype name: CUDA float16 when a GPU is usable, else CPU float32."""
    import torch

    device = config.device
    has_cuda = torch.cuda.is_available()
    if device == "auto":
        device = "cuda" if has_cuda else "cpu"
    elif device == "cuda" and not has_cuda:
        raise ModelError("device 'cuda' was requested but torch sees no CUDA GPU here; "
                         "use --device cpu or --device auto")
    compute = config.compute_type
    if compute in ("auto", "default", ""):
        compute = "float16" if device == "cuda" else "float32"
    if compute not in ("float32", "float16", "bfloat16"):
        raise ModelError(f"compute type {compute!r} is not supported by torch engines; "
                         "choose float32, float16 or bfloat16")
    if compute == "float16" and device == "cpu":
        raise ModelError("float16 inference needs a GPU; use float32 (or bfloat16) on the CPU")
    if device == "cuda":
        device = f"cuda:{config.device_index}"
    if config.cpu_threads:
        torch.set_num_threads(config.cpu_threads)
    return device, compute


class CtcEngineBase:
    """Shared CTC machinery; subclasses set the attributes below and implement ``_emit``."""

    name = "ctc"
    vocab: CtcVocabulary
    frame_stride: int        # input samples per output frame
    min_samples: int         # fewest samples that give at least one frame
    capabilities: EngineCapabilities
    info: EngineInfo

    def __init__(self, *, chunking: Chunking | None = None, lm_path: Path | None = None,
                 lm_weights: LmWeights | None = None) -> None:
        self.chunking = chunking or Chunking()
        self.lm: ArpaLanguageModel | None = None
        self.lm_weights = lm_weights or LmWeights()
        if lm_path is not None:
            self.lm = ArpaLanguageModel.load(Path(lm_path))
            if self.vocab.delimiter is None:
                raise ModelError("this model's vocabulary has no word delimiter, so a word "
                                 "language model cannot be used with it")
        self._lock = threading.Lock()  # one forward pass at a time; the model is shared
        self._warned: set[str] = set()

    # -- to implement ----------------------------------------------------------------------
    def _emit(self, audio: np.ndarray) -> np.ndarray:
        """Log-probabilities ``(frames, tokens)`` for one chunk of prepared audio."""
        raise NotImplementedError

    def _prepare(self, audio: np.ndarray) -> np.ndarray:
        """Whole-input preprocessing done once before chunking (e.g. normalisation)."""
        return audio

    # -- shared ----------------------------------------------------------------------------
    @property
    def decoder_name(self) -> str:
        """'beam+lm' when a language model is loaded, else 'greedy'."""
        return "beam+lm" if self.lm is not None else "greedy"

    def emissions(self, audio: np.ndarray, *, progress: ProgressCallback | None = None,
                  cancel: threading.Event | None = None) -> np.ndarray:
        """Log-probabilities of the whole input, computed in overlapping chunks when long."""
        audio = self._prepare(check_audio(audio))
        stride = self.frame_stride
        chunk = max(stride, int(self.chunking.chunk_seconds * SAMPLE_RATE) // stride * stride)
        ctx = -(-int(self.chunking.context_seconds * SAMPLE_RATE) // stride) * stride
        n = audio.size
        if n <= chunk + 2 * ctx:
            with self._lock:
                return self._emit(audio)
        pieces = []
        for start in range(0, n, chunk):
            if cancel is not None and cancel.is_set():
                raise Cancelled("transcription cancelled")
            lo, hi = max(0, start - ctx), min(n, start + chunk + ctx)
            with self._lock:
                em = self._emit(audio[lo:hi])
            first = (start - lo) // stride
            last = first + chunk // stride if start + chunk < n else em.shape[0]
            pieces.append(em[first:last])
            if progress is not None:
                progress(min(n, start + chunk) / SAMPLE_RATE)
        return np.concatenate(pieces, axis=0)

    def decode(self, log_probs: np.ndarray, *, offset: float = 0.0, duration: float | None = None,
               words: bool = True) -> list[Segment]:
        """Decode an emission matrix into segments, one per speech region."""
        from desktop_asr.engines.ctc_align import forced_align_spans, greedy_spans

        frame_s = self.frame_stride / SAMPLE_RATE
        blank = self.vocab.blank
        regions = speech_regions(log_probs, blank,
                                 min_gap=max(1, round(self.chunking.min_gap_seconds / frame_s)),
                                 max_len=max(2, round(self.chunking.max_region_seconds / frame_s)))
        segments: list[Segment] = []
        context: tuple[str, ...] = ()
        for a, b in regions:
            sub = log_probs[a:b]
            if self.lm is not None:
                ids = prefix_beam_search(sub, self.vocab, self.lm, self.lm_weights,
                                         context=context)
            else:
                ids = greedy_ids(sub, blank)
            if not self.vocab.split_words(ids):
                continue
            spans = forced_align_spans(sub, ids, blank)
            if spans is None:
                ids, spans = greedy_spans(sub, blank)
            found = words_from_spans(ids, spans, self.vocab, frame_s, offset + a * frame_s)
            if duration is not None:
                limit = offset + duration
                found = [w if w.end <= limit else
                         type(w)(start=min(w.start, limit), end=limit, text=w.text,
                                 probability=w.probability) for w in found]
            if not found:
                continue
            context = (*context, *(w.text.strip() for w in found))[-8:]
            probs = [max(w.probability or 0.0, 1e-6) for w in found]
            segments.append(Segment(start=found[0].start, end=found[-1].end,
                                    text="".join(w.text for w in found),
                                    words=tuple(found) if words else (),
                                    avg_logprob=float(np.mean(np.log(probs)))))
        return segments

    def transcribe(self, audio: np.ndarray, *, prompt: str = "",
                   options: DecodeOptions | None = None,
                   progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None) -> list[Segment]:
        """Transcribe 16 kHz mono float32 audio; times are relative to its first sample."""
        opts = options or DecodeOptions()
        self._check_options(prompt, opts)
        audio = check_audio(audio)
        if audio.size < self.min_samples:
            return []
        em = self.emissions(audio, progress=progress, cancel=cancel)
        if cancel is not None and cancel.is_set():
            raise Cancelled("transcription cancelled")
        segments = self.decode(em, duration=audio.size / SAMPLE_RATE,
                               words=opts.word_timestamps)
        if progress is not None:
            progress(audio.size / SAMPLE_RATE)
        return segments

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """A CTC model knows one language: return it with probability 1."""
        return self.capabilities.languages[0], 1.0

    def _check_options(self, prompt: str, opts: DecodeOptions) -> None:
        if opts.hotwords:
            raise ValueError(f"the {self.name} engine cannot boost hotwords (CTC decoding has "
                             "no text prompt); remove them or use the faster-whisper engine")
        if opts.task != "transcribe":
            raise ValueError(f"the {self.name} engine can only transcribe, not translate")
        if opts.language is not None and opts.language not in self.capabilities.languages:
            raise ValueError(f"model {self.info.model} only knows "
                             f"{', '.join(self.capabilities.languages)}, not {opts.language!r}")
        if prompt:
            self._once("prompt", "the %s engine ignores the text prompt (CTC models are not "
                       "conditioned on text)")
        changed = [f for f in _WHISPER_ONLY if getattr(opts, f) != getattr(_DEFAULTS, f)]
        if changed:
            self._once("whisper:" + ",".join(changed),
                       "the %s engine ignores Whisper decoding options " + ", ".join(changed))

    def _once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.debug(message, self.name)
