"""Small randomly initialised CTC checkpoints, saved in the real on-disk formats.

Their weights are random, so their transcripts mean nothing; they exist so the tests and the
engines benchmark can run the real loading, decoding and alignment code on a machine that
cannot download pretrained weights. ``blank_bias`` / ``delimiter_bias`` raise those logits so a
random model emits word-like bursts rather than one endless token soup.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CHAR_TOKENS = tuple("ETAONISHRDLUMWCFGYPBVK'XJQZ")


def build_random_wav2vec2(dst: Path, *, kind: str = "wav2vec2", hidden: int = 32,
                          layers: int = 2, seed: int = 0, feat_extract_norm: str = "group",
                          blank_bias: float = 0.0, delimiter_bias: float = 0.0,
                          language: str | None = "en", size: str = "tiny",
                          logit_scale: float = 1.0) -> Path:
    """Save a random ``Wav2Vec2ForCTC`` (or ``HubertForCTC``) with processor files in ``dst``.

    ``size="tiny"`` uses ``hidden``/``layers``; ``size="base"`` the wav2vec2-base shape (95 M
    parameters), so speed and memory match the real model even though the weights do not.
    ``logit_scale`` sharpens the output distribution towards the peaky emissions of a trained
    CTC model (what LM beam search speed depends on).
    """
    import torch
    from transformers import (HubertConfig, HubertForCTC, Wav2Vec2Config, Wav2Vec2CTCTokenizer,
                              Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC, Wav2Vec2Processor)

    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    vocab.update({c: 5 + i for i, c in enumerate(CHAR_TOKENS)})
    (dst / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = Wav2Vec2CTCTokenizer(str(dst / "vocab.json"), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(dst)
    if size == "base":  # the shape of facebook/wav2vec2-base-960h, for speed measurements
        hidden, layers, heads, ffn, conv, pos, groups = 768, 12, 12, 3072, 512, 128, 16
    elif size == "tiny":
        heads, ffn, conv, pos, groups = 2, 2 * hidden, 32, 16, 2
    else:
        raise ValueError(f"size must be 'tiny' or 'base', got {size!r}")
    shape: dict[str, Any] = dict(
        vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=heads, intermediate_size=ffn, conv_dim=(conv,) * 7,
        num_conv_pos_embeddings=pos, num_conv_pos_embedding_groups=groups, pad_token_id=0,
        feat_extract_norm=feat_extract_norm, hidden_dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0, feat_proj_dropout=0.0, layerdrop=0.0)
    torch.manual_seed(seed)
    if kind == "hubert":
        model: Any = HubertForCTC(HubertConfig(**shape))
    elif kind == "wav2vec2":
        model = Wav2Vec2ForCTC(Wav2Vec2Config(**shape))
    else:
        raise ValueError(f"kind must be 'wav2vec2' or 'hubert', got {kind!r}")
    with torch.no_grad():
        model.lm_head.bias[0] += blank_bias
        model.lm_head.bias[vocab["|"]] += delimiter_bias
        model.lm_head.weight *= logit_scale
        model.lm_head.bias *= logit_scale
    model.save_pretrained(dst)
    if language:
        (dst / "README.md").write_text(f"---\nlanguage: {language}\nlicense: mit\n---\n"
                                       "Randomly initialised test model; its output is "
                                       "meaningless.\n", encoding="utf-8")
    return dst


def build_random_conformer_ctc(dst: Path, *, seed: int = 0, blank_bias: float = 0.0,
                               delimiter_bias: float = 0.0, size: str = "tiny",
                               logit_scale: float = 1.0, **shape: Any) -> Path:
    """Save a random :class:`ConformerCTC` in ``dst``.

    ``size="tiny"`` is a toy network for tests; ``size="default"`` keeps
    :class:`ConformerCTCConfig`'s own shape (the one the training module starts from).
    ``logit_scale`` sharpens the output as in :func:`build_random_wav2vec2`.
    """
    import torch

    from desktop_asr.engines.conformer_ctc import (ConformerCTC, ConformerCTCConfig,
                                                   save_conformer_ctc)

    small: dict[str, Any] = dict(d_model=32, num_heads=2, ffn_dim=64, num_layers=2,
                                 subsampling_channels=8, depthwise_conv_kernel_size=15,
                                 dropout=0.0)
    if size not in ("tiny", "default"):
        raise ValueError(f"size must be 'tiny' or 'default', got {size!r}")
    config = ConformerCTCConfig(**{**(small if size == "tiny" else {}), **shape})
    torch.manual_seed(seed)
    model = ConformerCTC(config).eval()
    with torch.no_grad():
        model.head.bias[config.blank_id] += blank_bias
        model.head.bias[config.vocabulary.index(config.word_delimiter)] += delimiter_bias
        model.head.weight *= logit_scale
        model.head.bias *= logit_scale
    return save_conformer_ctc(model, config, dst)


def write_bigram_arpa(path: Path, text: str) -> tuple[int, int]:
    """Write a maximum-likelihood bigram ARPA LM of ``text``'s words; return n-gram counts."""
    import math
    import re
    from collections import Counter

    words = re.findall(r"[a-z']+", text.lower())
    if len(words) < 2:
        raise ValueError("need at least two words to build a bigram LM")
    uni, bi = Counter(words), Counter(zip(words, words[1:]))
    total = sum(uni.values())
    lines = ["\\data\\", f"ngram 1={len(uni) + 3}", f"ngram 2={len(bi)}", "", "\\1-grams:",
             "-99\t<s>\t-0.5", "-1.5\t</s>", "-4.0\t<unk>"]
    lines += [f"{math.log10(c / total):.4f}\t{w}\t-0.3" for w, c in uni.items()]
    lines += ["", "\\2-grams:"]
    lines += [f"{math.log10(c / uni[a]):.4f}\t{a} {b}" for (a, b), c in bi.items()]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join([*lines, "", "\\end\\", ""]), encoding="utf-8")
    return len(uni), len(bi)


def build_speed_checkpoints(root: Path, text: str) -> dict[str, Path]:
    """Real-size random checkpoints for the engines benchmark (speed and memory only).

    wav2vec2-base with and without a bigram LM of ``text``, the default Conformer-CTC shape and
    the Emformer base shape (its tokenizer trained on ``text``'s lines). Biases and scales make
    the outputs about as sparse as a trained model's, which decoding speed depends on.
    """
    from desktop_asr.engines.emformer_random import BASE_FACTORY, build_random_emformer

    root = Path(root)
    out = {"wav2vec2": root / "wav2vec2-base-random",
           "wav2vec2-lm": root / "wav2vec2-base-random-lm",
           "conformer-ctc": root / "conformer-ctc-random",
           "emformer": root / "emformer-base-random"}
    for key in ("wav2vec2", "wav2vec2-lm"):
        build_random_wav2vec2(out[key], size="base", blank_bias=1.5, delimiter_bias=1.5,
                              logit_scale=10.0)
    write_bigram_arpa(out["wav2vec2-lm"] / "language_model" / "lm.arpa", text)
    build_random_conformer_ctc(out["conformer-ctc"], size="default", blank_bias=0.3,
                               delimiter_bias=0.6)
    lines = [line for line in text.lower().splitlines() if len(line.split()) > 3]
    build_random_emformer(out["emformer"], lines, vocab_size=256, factory=BASE_FACTORY,
                          blank_bias=8.0)
    return out
