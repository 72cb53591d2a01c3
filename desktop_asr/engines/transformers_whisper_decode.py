"""One 30-second window of Whisper decoding with transformers' ``generate``, and the window loop.

The features and the loop follow faster-whisper (and OpenAI's ``transcribe``), so both engines see
the same input: the log-mel of the audio plus 160 samples, without its last frame, cut into
windows of 3000 frames that are zero-padded at the end; after each window, decoding resumes at
the last complete timestamp (or after the window when it ended cleanly). Inside a window,
``generate`` does the temperature fallback and the no-speech / log-prob / compression guards.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from desktop_asr.engines.base import Cancelled, DecodeOptions
from desktop_asr.engines.transformers_whisper_words import align_tokens, window_words
from desktop_asr.types import Segment, Word

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WINDOW_FRAMES = 3000
_FRAMES_PER_SECOND = 100        # log-mel frames
_SECONDS_PER_TIMESTAMP = 0.02
_MAX_PROMPT = 223               # text tokens of context, as faster-whisper (max_length // 2 - 1)
_MAX_TEXT_TOKENS_PER_SECOND = 6.0  # live buffers: a bound on the output, as the fitted window


@dataclass(frozen=True)
class Vocabulary:
    """The token ids the window loop needs."""

    eot: int
    sot_prev: int
    no_timestamps: int
    timestamp_begin: int


def log_mel(feature_extractor: Any, audio: np.ndarray) -> np.ndarray:
    """Log-mel frames of ``audio`` exactly as faster-whisper computes them (no 30-s padding)."""
    padded = np.pad(audio, (0, 160))
    mel = feature_extractor(padded, sampling_rate=SAMPLE_RATE, return_tensors="np",
                            padding="longest", truncation=False).input_features[0]
    return np.ascontiguousarray(mel[:, :-1], dtype=np.float32)


class _StepCheck:
    """A stopping criterion: raises Cancelled between decoding steps, and optionally ends the
    text after ``max_new`` tokens (a short live buffer cannot hold more; a loop stops there)."""

    def __init__(self, cancel: threading.Event | None, max_new: int | None = None) -> None:
        self.cancel = cancel
        self.max_new = max_new
        self.start: int | None = None

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("transcription cancelled")
        if self.start is None:
            self.start = int(input_ids.shape[-1]) - 1
        done = self.max_new is not None and input_ids.shape[-1] - self.start >= self.max_new
        return torch.full((input_ids.shape[0],), bool(done), dtype=torch.bool,
                          device=input_ids.device)


class WindowDecoder:
    """Decodes the windows of one recording with a loaded model; no state between calls."""

    def __init__(self, model: Any, processor: Any, vocab: Vocabulary, *, device: str,
                 dtype: Any, word_heads: Sequence[Sequence[int]]) -> None:
        self.model = model
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.vocab = vocab
        self.device = device
        self.dtype = dtype
        self.word_heads = [tuple(h) for h in word_heads]

    def encode_text(self, text: str) -> list[int]:
        """Text tokens of ``text`` with a leading space, as Whisper's prompts are written."""
        return list(self.tokenizer.encode(" " + text.strip(), add_special_tokens=False))

    def transcribe(self, audio: np.ndarray, *, prompt: str, options: DecodeOptions,
                   language: str | None, single_window: bool,
                   on_window: Callable[[float], None] | None,
                   cancel: threading.Event | None) -> list[Segment]:
        """Segments of ``audio`` (times from its first sample), window after window."""
        import torch

        mel = log_mel(self.processor.feature_extractor, audio)
        total = mel.shape[-1]
        duration = audio.size / SAMPLE_RATE
        hotwords = self.encode_text(", ".join(options.hotwords))[:_MAX_PROMPT] \
            if options.hotwords else []
        history = self.encode_text(prompt) if prompt.strip() else []
        segments: list[Segment] = []
        seek = 0
        last_speech = 0.0
        while seek < total:
            if cancel is not None and cancel.is_set():
                raise Cancelled("transcription cancelled")
            frames = min(WINDOW_FRAMES, total - seek)
            window = np.zeros((1, mel.shape[0], WINDOW_FRAMES), dtype=np.float32)
            window[0, :, :frames] = mel[:, seek:seek + frames]
            features = torch.from_numpy(window).to(self.device, self.dtype)
            context = [*hotwords, *history[-(_MAX_PROMPT - len(hotwords) // 2):]] \
                if hotwords or history else []
            found, advance = self._window(features, frames, context, options, language,
                                          single_window, duration - seek / _FRAMES_PER_SECOND,
                                          cancel)
            offset = seek / _FRAMES_PER_SECOND
            words: list[list[Word]] = [[] for _ in found]
            if options.word_timestamps and self.word_heads:
                words, last_speech = self._window_words(features, frames, found,
                                                        language or "en", options.task, offset,
                                                        duration, last_speech)
            for (tokens, start, end), seg_words in zip(found, words):
                text = self.tokenizer.decode([t for t in tokens if t < self.vocab.eot])
                if not text.strip():
                    continue
                seg_start = min(offset + start, duration)
                seg_end = min(max(seg_start, offset + end), duration)
                if seg_words:
                    seg_start = min(seg_start, seg_words[0].start)
                    seg_end = max(seg_end, seg_words[-1].end)
                segments.append(Segment(start=seg_start, end=seg_end, text=text,
                                        words=tuple(seg_words)))
                if options.condition_on_previous_text:
                    history.extend(tokens)
            timed = [w for seg_words in words for w in seg_words]
            if timed and advance < frames:
                # cut mid-speech: resume after the last word heard, as faster-whisper does
                resume = int(round(timed[-1].end * _FRAMES_PER_SECOND))
                if resume > seek:
                    advance = resume - seek
            seek += advance
            if on_window is not None:
                on_window(min(duration, seek / _FRAMES_PER_SECOND))
        return segments

    def _generate_kwargs(self, options: DecodeOptions, language: str | None,
                         timestamps: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(
            num_beams=options.beam_size, do_sample=False, return_timestamps=timestamps,
            # one window per call (this module does the seeking); segments, not raw outputs
            return_segments=True, return_dict_in_generate=False, force_unique_generate_call=True,
            temperature=options.temperature if len(options.temperature) > 1
            else options.temperature[0],
            compression_ratio_threshold=options.compression_ratio_threshold,
            logprob_threshold=options.log_prob_threshold,
            no_speech_threshold=(options.no_speech_threshold
                                 if options.log_prob_threshold is not None else None),
            condition_on_prev_tokens=False)
        if self.model.generation_config.is_multilingual:
            # English-only models take neither (transformers refuses them)
            kwargs["task"] = options.task
            if language is not None:
                kwargs["language"] = language
        return kwargs

    def _window(self, features: Any, frames: int, context: list[int],
                options: DecodeOptions, language: str | None, single_window: bool,
                remaining: float, cancel: threading.Event | None
                ) -> tuple[list[tuple[list[int], float, float]], int]:
        """(tokens, start, end) of each segment in one window, and the frames to advance."""
        import torch
        from transformers import StoppingCriteriaList

        timestamps = not single_window
        kwargs = self._generate_kwargs(options, language, timestamps)
        if context:
            kwargs["prompt_ids"] = torch.tensor([self.vocab.sot_prev, *context],
                                                device=self.device)
        stop = _StepCheck(cancel, min(int(remaining * _MAX_TEXT_TOKENS_PER_SECOND) + 12,
                                      self.model.config.max_target_positions // 2 - 1)
                          if single_window else None)
        with torch.inference_mode():
            out = self.model.generate(features, stopping_criteria=StoppingCriteriaList([stop]),
                                      **kwargs)
        raw = out["segments"][0] if isinstance(out, dict) and "segments" in out else []
        window_seconds = frames / _FRAMES_PER_SECOND
        found: list[tuple[list[int], float, float]] = []
        for seg in raw:
            tokens = [int(t) for t in seg["tokens"].tolist()]
            start = float(seg["start"])
            end = min(float(seg["end"]), window_seconds)
            found.append((tokens, start, end))
        if not timestamps:
            found = [(tokens, 0.0, window_seconds) for tokens, _, _ in found[:1]]
        return found, self._advance(found, frames)

    def _advance(self, found: list[tuple[list[int], float, float]], frames: int) -> int:
        """Frames to move on: to the last complete timestamp, or past the whole window."""
        if not found:
            return frames
        tokens = found[-1][0]
        begin = self.vocab.timestamp_begin
        if len(tokens) >= 2 and tokens[-1] >= begin and tokens[-2] >= begin:
            # the window ended mid-speech: decode again from the last timestamp
            last = int(round(found[-1][2] * _FRAMES_PER_SECOND))
            return max(1, min(frames, last))
        return frames

    def _window_words(self, features: Any, frames: int,
                      found: list[tuple[list[int], float, float]], language: str, task: str,
                      offset: float, duration: float, last_speech: float
                      ) -> tuple[list[list[Word]], float]:
        """Words of each segment of a window, aligned together as faster-whisper does."""
        texts = [([t for t in tokens if t < self.vocab.eot], start, end)
                 for tokens, start, end in found]
        flat = [t for text, _, _ in texts for t in text]
        if not flat:
            return [[] for _ in found], last_speech
        import torch

        start_tokens = [*self._sot_sequence(language, task), self.vocab.no_timestamps]
        with torch.inference_mode():
            encoded = self.model.model.encoder(features).last_hidden_state
        times = align_tokens(self.model, encoded, start_tokens, flat,
                             self.vocab.eot, frames, self.word_heads)
        return window_words(self.tokenizer, texts, times, language, offset, duration,
                            last_speech)

    def _sot_sequence(self, language: str, task: str) -> list[int]:
        generation = self.model.generation_config
        sequence = [int(generation.decoder_start_token_id)]
        if generation.is_multilingual:
            sequence.append(int(generation.lang_to_id[f"<|{language}|>"]))
            sequence.append(int(generation.task_to_id[task]))
        return sequence
