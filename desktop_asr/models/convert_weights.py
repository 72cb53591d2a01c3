"""CTranslate2 Whisper variables -> transformers ``WhisperForConditionalGeneration`` tensors.

The mapping is the inverse of CTranslate2's own ``WhisperLoader`` (in
``ctranslate2/converters/transformers.py``): CTranslate2 fuses the self-attention
``q/k/v`` projections into one ``linear_0`` (and the cross-attention ``k/v`` into one
``linear_1``), filling the bias of ``k_proj`` (which Whisper does not have) with zeros.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from desktop_asr.errors import ModelError
from desktop_asr.models.ct2_format import Ct2Model, dequantized

log = logging.getLogger(__name__)

WHISPER_SPEC = "WhisperSpec"


@dataclass(frozen=True)
class WhisperShape:
    """Sizes of a Whisper model, read from its CTranslate2 variables."""

    vocab_size: int
    d_model: int
    num_mel_bins: int
    encoder_layers: int
    decoder_layers: int
    encoder_heads: int
    decoder_heads: int
    encoder_ffn_dim: int
    decoder_ffn_dim: int
    max_source_positions: int
    max_target_positions: int
    tied_projection: bool


def _count_layers(model: Ct2Model, stack: str) -> int:
    pattern = re.compile(rf"^{stack}/layer_(\d+)/")
    found = {int(m.group(1)) for name in model.variables if (m := pattern.match(name))}
    if not found or found != set(range(len(found))):
        raise ModelError(f"the CTranslate2 model has no usable {stack} layers")
    return len(found)


def whisper_shape(model: Ct2Model) -> WhisperShape:
    """Read the architecture sizes of a CTranslate2 Whisper model, or raise ModelError."""
    if model.spec != WHISPER_SPEC:
        raise ModelError(f"not a Whisper model: its CTranslate2 spec is {model.spec!r}")
    embeddings = model.get("decoder/embeddings/weight")
    conv1 = model.get("encoder/conv1/weight")
    projection_target = model.aliases.get("decoder/projection/weight")
    return WhisperShape(
        vocab_size=int(embeddings.shape[0]), d_model=int(embeddings.shape[1]),
        num_mel_bins=int(conv1.shape[1]),
        encoder_layers=_count_layers(model, "encoder"),
        decoder_layers=_count_layers(model, "decoder"),
        encoder_heads=int(model.scalar("encoder/num_heads")),
        decoder_heads=int(model.scalar("decoder/num_heads")),
        encoder_ffn_dim=int(model.get("encoder/layer_0/ffn/linear_0/weight").shape[0]),
        decoder_ffn_dim=int(model.get("decoder/layer_0/ffn/linear_0/weight").shape[0]),
        max_source_positions=int(model.get("encoder/position_encodings/encodings").shape[0]),
        max_target_positions=int(model.get("decoder/position_encodings/encodings").shape[0]),
        tied_projection=projection_target == "decoder/embeddings/weight")


def _f32(array: np.ndarray) -> np.ndarray:
    # Always a fresh copy: CTranslate2 stores identical variables once (an alias), and tensors
    # sharing memory would look like undeclared tied weights to transformers.
    return np.array(array, dtype=np.float32, copy=True, order="C")


def _linear(model: Ct2Model, src: str, dst: str, out: dict[str, np.ndarray]) -> None:
    out[f"{dst}.weight"] = _f32(dequantized(model, src))
    if model.has(f"{src}/bias"):
        out[f"{dst}.bias"] = _f32(model.get(f"{src}/bias"))


def _layer_norm(model: Ct2Model, src: str, dst: str, out: dict[str, np.ndarray]) -> None:
    out[f"{dst}.weight"] = _f32(model.get(f"{src}/gamma"))
    out[f"{dst}.bias"] = _f32(model.get(f"{src}/beta"))


def _split(model: Ct2Model, src: str, dst: str, names: tuple[str, ...],
           out: dict[str, np.ndarray]) -> None:
    """Split a fused projection into ``names``; the k projection keeps no bias."""
    weight = dequantized(model, src)
    bias = model.get(f"{src}/bias") if model.has(f"{src}/bias") else None
    parts = len(names)
    if weight.shape[0] % parts:
        raise ModelError(f"{src}: fused weight of {weight.shape[0]} rows does not split in "
                         f"{parts}")
    for name, w, b in zip(names, np.split(weight, parts),
                          np.split(bias, parts) if bias is not None else [None] * parts):
        out[f"{dst}.{name}.weight"] = _f32(w)
        if b is None:
            continue
        if name == "k_proj":
            # A bias on the keys adds the same q.b to every score of a query, which softmax
            # cancels: dropping it changes nothing, even where a converter stored non-zeros.
            if np.any(b):
                log.debug("%s: dropping a non-zero key bias (it cancels in softmax)", src)
            continue
        out[f"{dst}.{name}.bias"] = _f32(b)


def _attention_layer(model: Ct2Model, src: str, dst: str, out: dict[str, np.ndarray],
                     *, cross: bool = False) -> None:
    if cross:
        _linear(model, f"{src}/attention/linear_0", f"{dst}.encoder_attn.q_proj", out)
        _split(model, f"{src}/attention/linear_1", f"{dst}.encoder_attn", ("k_proj", "v_proj"),
               out)
        _linear(model, f"{src}/attention/linear_2", f"{dst}.encoder_attn.out_proj", out)
        _layer_norm(model, f"{src}/attention/layer_norm", f"{dst}.encoder_attn_layer_norm", out)
        return
    _split(model, f"{src}/self_attention/linear_0", f"{dst}.self_attn",
           ("q_proj", "k_proj", "v_proj"), out)
    _linear(model, f"{src}/self_attention/linear_1", f"{dst}.self_attn.out_proj", out)
    _layer_norm(model, f"{src}/self_attention/layer_norm", f"{dst}.self_attn_layer_norm", out)


def _ffn(model: Ct2Model, src: str, dst: str, out: dict[str, np.ndarray]) -> None:
    _linear(model, f"{src}/ffn/linear_0", f"{dst}.fc1", out)
    _linear(model, f"{src}/ffn/linear_1", f"{dst}.fc2", out)
    _layer_norm(model, f"{src}/ffn/layer_norm", f"{dst}.final_layer_norm", out)


def transformers_state_dict(model: Ct2Model) -> dict[str, np.ndarray]:
    """The float32 state dict of ``WhisperForConditionalGeneration`` for a CT2 Whisper model."""
    shape = whisper_shape(model)
    if model.scalar("decoder/scale_embeddings", 1.0) not in (0.0, 1.0):
        raise ModelError("the CTranslate2 decoder scales its embeddings; Whisper does not")
    out: dict[str, np.ndarray] = {}
    enc, dec = "model.encoder", "model.decoder"
    for conv in ("conv1", "conv2"):
        out[f"{enc}.{conv}.weight"] = _f32(model.get(f"encoder/{conv}/weight"))
        out[f"{enc}.{conv}.bias"] = _f32(model.get(f"encoder/{conv}/bias"))
    out[f"{enc}.embed_positions.weight"] = _f32(model.get("encoder/position_encodings/encodings"))
    for i in range(shape.encoder_layers):
        _attention_layer(model, f"encoder/layer_{i}", f"{enc}.layers.{i}", out)
        _ffn(model, f"encoder/layer_{i}", f"{enc}.layers.{i}", out)
    _layer_norm(model, "encoder/layer_norm", f"{enc}.layer_norm", out)
    out[f"{dec}.embed_tokens.weight"] = _f32(model.get("decoder/embeddings/weight"))
    out[f"{dec}.embed_positions.weight"] = _f32(model.get("decoder/position_encodings/encodings"))
    for i in range(shape.decoder_layers):
        _attention_layer(model, f"decoder/layer_{i}", f"{dec}.layers.{i}", out)
        _attention_layer(model, f"decoder/layer_{i}", f"{dec}.layers.{i}", out, cross=True)
        _ffn(model, f"decoder/layer_{i}", f"{dec}.layers.{i}", out)
    _layer_norm(model, "decoder/layer_norm", f"{dec}.layer_norm", out)
    if shape.tied_projection:
        out["proj_out.weight"] = out[f"{dec}.embed_tokens.weight"]
    else:
        out["proj_out.weight"] = _f32(dequantized(model, "decoder/projection"))
    return out
