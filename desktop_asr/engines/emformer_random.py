"""A small randomly initialised Emformer RNN-T folder, in the layout the engine loads.

Built with torchaudio's own model factory (``emformer_rnnt_model``) and a sentencepiece model
trained on the given sentences. Its weights are random, so its transcripts mean nothing: it lets
tests and benchmarks run the real loading and incremental decoding code without the 300 MB
LibriSpeech weights.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from desktop_asr.engines.emformer import CONFIG_FILE

SMALL_FACTORY: dict[str, Any] = dict(
    input_dim=80, encoding_dim=64, segment_length=16, right_context_length=4,
    time_reduction_input_dim=32, time_reduction_stride=4, transformer_num_heads=2,
    transformer_ffn_dim=64, transformer_num_layers=2, transformer_dropout=0.0,
    transformer_activation="gelu", transformer_left_context_length=30,
    transformer_max_memory_size=0, transformer_weight_init_scale_strategy="depthwise",
    transformer_tanh_on_mem=True, symbol_embedding_dim=32, num_lstm_layers=1,
    lstm_layer_norm=True, lstm_layer_norm_epsilon=1e-3, lstm_dropout=0.0)

# torchaudio's emformer_rnnt_base shape (the LibriSpeech model), for speed measurements.
BASE_FACTORY: dict[str, Any] = dict(
    SMALL_FACTORY, encoding_dim=1024, time_reduction_input_dim=128, transformer_num_heads=8,
    transformer_ffn_dim=2048, transformer_num_layers=20, symbol_embedding_dim=512,
    num_lstm_layers=3)


def build_random_emformer(dst: Path, sentences: list[str], *, vocab_size: int = 48,
                          seed: int = 0, factory: dict[str, Any] | None = None,
                          blank_bias: float = 0.0) -> Path:
    """Save a random Emformer RNN-T, its sentencepiece model and feature stats into ``dst``.

    ``blank_bias`` raises the joiner's blank logit: an unbiased random RNN-T emits dozens of
    symbols per frame, which makes its beam search far slower than a trained model's.
    """
    import sentencepiece as spm
    import torch
    from torchaudio.models import emformer_rnnt_model

    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(sentences), model_writer=buf,
                                   vocab_size=vocab_size, model_type="bpe",
                                   hard_vocab_limit=False, character_coverage=1.0,
                                   minloglevel=2)
    (dst / "spm.model").write_bytes(buf.getvalue())
    pieces = spm.SentencePieceProcessor(model_proto=buf.getvalue()).get_piece_size()
    # The symbol count follows the sentencepiece model: a random decoder must never emit an id
    # the tokenizer cannot spell (with the base shape the joiner is therefore smaller).
    kwargs = {**SMALL_FACTORY, **(factory or {}), "num_symbols": pieces + 1}
    torch.manual_seed(seed)
    model = emformer_rnnt_model(**kwargs)
    with torch.no_grad():
        model.joiner.linear.bias[pieces] += blank_bias
    torch.save(model.state_dict(), dst / "emformer_rnnt.pt")
    n_mels = kwargs["input_dim"]
    (dst / "global_stats.json").write_text(
        json.dumps({"mean": [0.0] * n_mels, "invstddev": [1.0] * n_mels}), encoding="utf-8")
    (dst / CONFIG_FILE).write_text(json.dumps({
        "model_type": "emformer-rnnt", "weights": "emformer_rnnt.pt",
        "global_stats": "global_stats.json", "sentencepiece": "spm.model",
        "blank": pieces, "n_fft": 400, "n_mels": n_mels, "hop_length": 160,
        "right_padding": 4, "factory": kwargs}, indent=2), encoding="utf-8")
    return dst
