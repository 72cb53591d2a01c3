"""Configs of a transformers Whisper checkpoint built from a CTranslate2 model folder.

``config.json`` sizes come from the weights; ``generation_config.json`` takes the alignment
heads, suppressed tokens, begin-suppressed tokens and language ids of the CTranslate2
``config.json``, and the special token ids from ``tokenizer.json`` (by their text, so English-only
and multilingual vocabularies both come out right).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from desktop_asr.errors import ModelError
from desktop_asr.models.convert_weights import WhisperShape

# Whisper's multilingual vocabularies have 51865 or more entries; English-only ones 51864.
_MULTILINGUAL_VOCAB = 51865
_SPECIAL = {"eot": "<|endoftext|>", "sot": "<|startoftranscript|>",
            "translate": "<|translate|>", "transcribe": "<|transcribe|>",
            "sot_lm": "<|startoflm|>", "sot_prev": "<|startofprev|>",
            "no_speech": "<|nocaptions|>", "no_timestamps": "<|notimestamps|>"}


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or ModelError saying what is wrong with it."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ModelError(f"{path} does not hold a JSON object")
    return value


def added_tokens(tokenizer_json: dict[str, Any]) -> dict[str, int]:
    """Special token text -> id, from a tokenizers ``tokenizer.json``."""
    return {str(t["content"]): int(t["id"]) for t in tokenizer_json.get("added_tokens", ())}


def special_ids(tokens: dict[str, int]) -> dict[str, int]:
    """Ids of Whisper's control tokens, or ModelError naming a missing one."""
    missing = [text for text in _SPECIAL.values() if text not in tokens]
    if missing:
        raise ModelError(f"tokenizer.json lacks Whisper's special tokens {', '.join(missing)}")
    return {key: tokens[text] for key, text in _SPECIAL.items()}


def model_config(shape: WhisperShape, ids: dict[str, int]) -> dict[str, Any]:
    """Keyword arguments of ``transformers.WhisperConfig`` for this model."""
    return dict(
        vocab_size=shape.vocab_size, num_mel_bins=shape.num_mel_bins, d_model=shape.d_model,
        encoder_layers=shape.encoder_layers, decoder_layers=shape.decoder_layers,
        encoder_attention_heads=shape.encoder_heads, decoder_attention_heads=shape.decoder_heads,
        encoder_ffn_dim=shape.encoder_ffn_dim, decoder_ffn_dim=shape.decoder_ffn_dim,
        max_source_positions=shape.max_source_positions,
        max_target_positions=shape.max_target_positions,
        activation_function="gelu", scale_embedding=False,
        tie_word_embeddings=shape.tied_projection,
        pad_token_id=ids["eot"], bos_token_id=ids["sot"], eos_token_id=ids["eot"],
        decoder_start_token_id=ids["sot"],
        # decoding settings live in generation_config.json only (transformers warns when the
        # model config carries them too)
        suppress_tokens=None, begin_suppress_tokens=None,
        dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, use_cache=True)


def generation_config(shape: WhisperShape, ids: dict[str, int], tokens: dict[str, int],
                      ct2: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``transformers.GenerationConfig`` for Whisper decoding."""
    multilingual = shape.vocab_size >= _MULTILINGUAL_VOCAB
    heads = [[int(layer), int(head)] for layer, head in ct2.get("alignment_heads") or []]
    if not heads:  # the CTranslate2 converter's default: every head of the last half
        heads = [[layer, head] for layer in range(shape.decoder_layers // 2,
                                                   shape.decoder_layers)
                 for head in range(shape.decoder_heads)]
    config: dict[str, Any] = dict(
        alignment_heads=heads,
        suppress_tokens=list(ct2.get("suppress_ids") or []),
        begin_suppress_tokens=list(ct2.get("suppress_ids_begin") or []),
        bos_token_id=ids["sot"], decoder_start_token_id=ids["sot"], eos_token_id=ids["eot"],
        pad_token_id=ids["eot"], no_timestamps_token_id=ids["no_timestamps"],
        prev_sot_token_id=ids["sot_prev"], is_multilingual=multilingual,
        max_initial_timestamp_index=50, max_length=shape.max_target_positions,
        return_timestamps=False)
    if multilingual:
        # transformers detects the language whenever lang_to_id exists and none is given, so
        # an English-only model must not have one.
        by_id = {v: k for k, v in tokens.items()}
        lang_ids = [int(i) for i in ct2.get("lang_ids") or []]
        unnamed = [i for i in lang_ids if i not in by_id]
        if unnamed:
            raise ModelError(f"language ids {unnamed[:5]} of config.json are not in "
                             "tokenizer.json")
        config["lang_to_id"] = {by_id[i]: i for i in lang_ids}
        config["task_to_id"] = {"transcribe": ids["transcribe"], "translate": ids["translate"]}
    return config


def preprocessor_config(shape: WhisperShape) -> dict[str, Any]:
    """Keyword arguments of ``transformers.WhisperFeatureExtractor``: 16 kHz, 30-s windows."""
    return dict(feature_size=shape.num_mel_bins, sampling_rate=16000, hop_length=160,
                chunk_length=30, n_fft=400, padding_value=0.0)
