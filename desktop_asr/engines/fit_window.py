"""Whisper decoding of short buffers without the 30-second window (for live captions).

faster-whisper always pads the log-mel input to 30 s, so the encoder costs the same for 1 s of
speech as for 30 s. CTranslate2's Whisper encoder accepts shorter inputs; encoding only the
buffer plus at least 2 s of real silence (10 s in all at least) is several times faster on a
CPU and, with the output length bounded by the audio length, scores the same WER on our clips
(see docs/benchmarks.md). This
module drives the already-loaded CTranslate2 model directly for that case.
"""

from __future__ import annotations

import math
import string
import zlib
from typing import Any

import numpy as np

from desktop_asr.engines.base import DecodeOptions
from desktop_asr.types import Segment, Word

SAMPLE_RATE = 16000
MAX_FIT_SECONDS = 27.0       # beyond this the normal 30-s window is used
_SILENCE_PAD = 2.0           # real silence after the speech lets the model end cleanly
# Below ~10 s of input the model starts to loop ("and so my fellow Americans. And so my ...");
# a 10-s window still costs about a third of the 30-s one.
_MIN_WINDOW = 10.0
_TOKENS_PER_SECOND = 50      # encoder frames per second (Whisper's 20 ms per token position)
_MAX_TEXT_TOKENS_PER_SECOND = 6.0
_OPENING = "\"'“¿([{-"


def _compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / max(1, len(zlib.compress(raw)))


class FitWindowDecoder:
    """Greedy/beam decoding of <= 27 s of audio with an encoder input fitted to the audio."""

    def __init__(self, whisper_model: Any, tokenizer_factory: Any) -> None:
        self._fw = whisper_model
        self._ct2 = whisper_model.model
        self._features = whisper_model.feature_extractor
        self._tokenizer_factory = tokenizer_factory

    def decode(self, audio: np.ndarray, *, prompt: str, options: DecodeOptions,
               language: str) -> list[Segment]:
        """Transcribe ``audio`` (<= MAX_FIT_SECONDS) into at most one segment with words."""
        import ctranslate2

        tokenizer = self._tokenizer_factory(language, options.task)
        total = max(audio.size + int(_SILENCE_PAD * SAMPLE_RATE), int(_MIN_WINDOW * SAMPLE_RATE))
        padded = np.concatenate([audio, np.zeros(total - audio.size, np.float32)])
        mel = self._features(padded)
        num_frames = min(mel.shape[-1], int(round(audio.size / 160)))
        encoder_output = self._ct2.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None])), to_cpu=False)
        prompt_tokens = self._prompt(tokenizer, prompt, options)
        # CTranslate2 counts the prompt in max_length; the text may take 6 tokens a second.
        max_new = int(audio.size / SAMPLE_RATE * _MAX_TEXT_TOKENS_PER_SECOND) + 12
        max_length = min(448, len(prompt_tokens) + max_new)
        result = self._ct2.generate(
            encoder_output, [prompt_tokens], beam_size=options.beam_size,
            patience=1.0, num_hypotheses=1, length_penalty=1.0, max_length=max_length,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=[-1], max_initial_timestamp_index=50)[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens)
        avg_logprob = result.scores[0] / (len(tokens) + 1) if tokens else -math.inf
        no_speech = float(result.no_speech_prob)
        if not text.strip():
            return []
        if (options.no_speech_threshold is not None and no_speech > options.no_speech_threshold
                and (options.log_prob_threshold is None
                     or avg_logprob < options.log_prob_threshold)):
            return []  # the model itself says this is not speech
        if (options.compression_ratio_threshold is not None
                and _compression_ratio(text) > options.compression_ratio_threshold):
            return []  # a decoder loop, not speech
        words = self._words(tokenizer, tokens, encoder_output, num_frames, audio.size)
        duration = audio.size / SAMPLE_RATE
        start = words[0].start if words else 0.0
        end = words[-1].end if words else duration
        return [Segment(start=start, end=max(start, end), text=text, words=tuple(words),
                        avg_logprob=avg_logprob if math.isfinite(avg_logprob) else None,
                        no_speech_prob=min(1.0, max(0.0, no_speech)))]

    def _prompt(self, tokenizer: Any, prompt: str, options: DecodeOptions) -> list[int]:
        tokens: list[int] = []
        context: list[int] = []
        if options.hotwords:
            context += tokenizer.encode(" " + ", ".join(options.hotwords))[:111]
        if prompt.strip():
            context += tokenizer.encode(" " + prompt.strip())[-(111 - len(context) // 2):]
        if context:
            tokens = [tokenizer.sot_prev, *context[-222:]]
        tokens += list(tokenizer.sot_sequence)
        tokens.append(tokenizer.no_timestamps)  # word times come from alignment, not tokens
        return tokens

    def _words(self, tokenizer: Any, tokens: list[int], encoder_output: Any, num_frames: int,
               n_samples: int) -> list[Word]:
        if not tokens:
            return []
        result = self._ct2.align(encoder_output, tokenizer.sot_sequence, [tokens], num_frames,
                                 median_filter_width=7)[0]
        text_idx = np.array([p[0] for p in result.alignments])
        time_idx = np.array([p[1] for p in result.alignments])
        words, word_tokens = tokenizer.split_to_word_tokens(tokens + [tokenizer.eot])
        if len(word_tokens) <= 1 or text_idx.size == 0:
            return []
        bounds = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
        jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
        jump_times = time_idx[jumps] / _TOKENS_PER_SECOND
        last = len(jump_times) - 1
        starts = jump_times[np.minimum(bounds[:-1], last)]
        ends = jump_times[np.minimum(bounds[1:], last)]
        probs = result.text_token_probs
        limit = n_samples / SAMPLE_RATE
        raw = []
        for word, i, j, start, end in zip(words, bounds[:-1], bounds[1:], starts, ends):
            prob = float(np.mean(probs[i:j])) if j > i else 0.0
            start = min(float(start), limit)
            raw.append([word, start, min(max(start, float(end)), limit), prob])
        return _merge_punctuation(raw)


def _merge_punctuation(raw: list[list[Any]]) -> list[Word]:
    """Attach punctuation-only pieces to their neighbour word, as Whisper's output does."""
    out: list[list[Any]] = []
    carry = ""
    for text, start, end, prob in raw:
        bare = text.strip()
        if bare and all(c in string.punctuation or c in "“”¿¡…" for c in bare):
            if bare[0] in _OPENING and not out:
                carry += text
                continue
            if out:
                out[-1][0] += text.strip() if not text.startswith(" ") else text.strip()
                out[-1][2] = max(out[-1][2], end)
                continue
        if carry:
            text = text[:1] + carry.strip() + text[1:] if text.startswith(" ") else carry + text
            carry = ""
        out.append([text, start, end, prob])
    return [Word(start=max(0.0, s), end=max(0.0, s, e), text=t, probability=min(1.0, max(0.0, p)))
            for t, s, e, p in out if t.strip()]
