"""The project's own Conformer-CTC model: definition, text encoding and checkpoint format.

A checkpoint is a folder with ``model.safetensors`` (the weights) and ``config.json``
(``"model_type": "conformer-ctc"``, the vocabulary, the log-mel feature settings and the network
shape). The training module builds a :class:`ConformerCTC` from a :class:`ConformerCTCConfig`,
trains it with ``torch.nn.functional.ctc_loss`` on ``forward``'s log-probabilities (time-major
after a transpose, blank = ``config.blank_id``, targets from ``config.encode``) and exports it
with :func:`save_conformer_ctc`; the ``conformer`` engine reads it back with
:func:`load_conformer_ctc`.

This module imports torch at top level; nothing in the core imports it eagerly.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torchaudio
from torch import nn

from desktop_asr.errors import ModelError

MODEL_TYPE = "conformer-ctc"
FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
# Letters, apostrophe and the word delimiter; index 0 is the CTC blank.
DEFAULT_VOCABULARY = ("<blank>", "|", *"abcdefghijklmnopqrstuvwxyz'")


@dataclass(frozen=True)
class ConformerCTCConfig:
    """Everything needed to rebuild the network and feed it: vocabulary, features, shape."""

    vocabulary: tuple[str, ...] = DEFAULT_VOCABULARY
    blank_id: int = 0
    word_delimiter: str = "|"
    language: str = "en"
    # Log-mel features: 25 ms windows every 10 ms at 16 kHz.
    sample_rate: int = 16000
    n_fft: int = 400
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 80
    log_offset: float = 1e-6
    # Network: two stride-2 convolutions (4x subsampling), then a Conformer encoder.
    subsampling_channels: int = 64
    d_model: int = 144
    num_heads: int = 4
    ffn_dim: int = 576
    num_layers: int = 8
    depthwise_conv_kernel_size: int = 31
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.vocabulary, tuple):
            object.__setattr__(self, "vocabulary", tuple(self.vocabulary))
        if len(self.vocabulary) < 3 or len(set(self.vocabulary)) != len(self.vocabulary):
            raise ValueError("vocabulary needs >= 3 distinct tokens (blank, delimiter, letters)")
        if not 0 <= self.blank_id < len(self.vocabulary):
            raise ValueError("blank_id is outside the vocabulary")
        if self.word_delimiter not in self.vocabulary:
            raise ValueError(f"word delimiter {self.word_delimiter!r} is not in the vocabulary")
        if self.sample_rate != 16000:
            raise ValueError("the app feeds 16 kHz audio; sample_rate must be 16000")
        if not 0 < self.win_length <= self.n_fft or self.hop_length <= 0 or self.n_mels <= 0:
            raise ValueError("need 0 < win_length <= n_fft, hop_length > 0 and n_mels > 0")
        if self.d_model % self.num_heads:
            raise ValueError("d_model must be a multiple of num_heads")
        if self.depthwise_conv_kernel_size % 2 == 0:
            raise ValueError("depthwise_conv_kernel_size must be odd")
        if min(self.num_layers, self.ffn_dim, self.subsampling_channels) < 1:
            raise ValueError("num_layers, ffn_dim and subsampling_channels must be >= 1")
        if not 0.0 <= self.dropout < 1.0 or not self.log_offset > 0:
            raise ValueError("dropout must be within [0, 1) and log_offset > 0")

    @property
    def frame_stride(self) -> int:
        """Input samples per output frame (hop length times the 4x subsampling)."""
        return self.hop_length * 4

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` for CTC training: lower-cased, unknown characters dropped."""
        index = {t: i for i, t in enumerate(self.vocabulary)}
        ids: list[int] = []
        for word in text.lower().split():
            chars = [index[c] for c in word if c in index and index[c] != self.blank_id]
            if chars:
                if ids:
                    ids.append(index[self.word_delimiter])
                ids.extend(chars)
        return ids

    def to_json(self) -> dict[str, Any]:
        """The ``config.json`` form, tagged with model type and format version."""
        data = asdict(self)
        data["vocabulary"] = list(self.vocabulary)
        return {"model_type": MODEL_TYPE, "format_version": FORMAT_VERSION, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConformerCTCConfig:
        """Read the ``config.json`` form; unknown keys are refused so typos do not pass."""
        if data.get("model_type") != MODEL_TYPE:
            raise ValueError(f"model_type is {data.get('model_type')!r}, not {MODEL_TYPE!r}")
        version = data.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(f"format_version {version!r} is not one this app reads "
                             f"(up to {FORMAT_VERSION}); please update desktop-asr")
        body = {k: v for k, v in data.items() if k not in ("model_type", "format_version")}
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(body) - names)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        if "vocabulary" in body:
            body["vocabulary"] = tuple(body["vocabulary"])
        return cls(**body)


class ConformerCTC(nn.Module):
    """Log-mel front end, 4x convolutional subsampling, Conformer encoder and a CTC head."""

    def __init__(self, config: ConformerCTCConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        # Front-end constants are not weights: rebuilt from the config, never saved.
        self.register_buffer("window", torch.hann_window(c.win_length), persistent=False)
        fbank = torchaudio.functional.melscale_fbanks(c.n_fft // 2 + 1, 0.0, c.sample_rate / 2,
                                                      c.n_mels, c.sample_rate)
        self.register_buffer("fbank", fbank, persistent=False)
        ch = c.subsampling_channels
        self.subsample = nn.Sequential(nn.Conv2d(1, ch, 3, stride=2, padding=1), nn.ReLU(),
                                       nn.Conv2d(ch, ch, 3, stride=2, padding=1), nn.ReLU())
        self.project = nn.Linear(ch * math.ceil(math.ceil(c.n_mels / 2) / 2), c.d_model)
        self.dropout = nn.Dropout(c.dropout)
        self.encoder = torchaudio.models.Conformer(
            input_dim=c.d_model, num_heads=c.num_heads, ffn_dim=c.ffn_dim,
            num_layers=c.num_layers, depthwise_conv_kernel_size=c.depthwise_conv_kernel_size,
            dropout=c.dropout)
        self.head = nn.Linear(c.d_model, len(c.vocabulary))

    def features(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Log-mel features ``(batch, frames, n_mels)`` of ``(batch, samples)`` audio."""
        c = self.config
        # Always float32: the STFT and log are unstable in half precision, and a model moved
        # to float16 has float16 buffers.
        spec = torch.stft(waveforms.float(), c.n_fft, hop_length=c.hop_length,
                          win_length=c.win_length, window=self.window.float(), center=True,
                          pad_mode="reflect", return_complex=True).abs().pow(2)
        mel = torch.matmul(spec.transpose(1, 2), self.fbank.float())
        return torch.log(mel + c.log_offset)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Output frames for inputs of ``lengths`` samples."""
        frames = torch.div(lengths, self.config.hop_length, rounding_mode="floor") + 1
        for _ in range(2):
            frames = torch.div(frames + 1, 2, rounding_mode="floor")
        return frames

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities ``(batch, frames, vocab)`` and their valid lengths."""
        x = self.features(waveforms).to(self.head.weight.dtype)
        x = self.subsample(x.unsqueeze(1))              # (B, C, T/4, F/4)
        b, ch, t, f = x.shape
        x = self.dropout(self.project(x.permute(0, 2, 1, 3).reshape(b, t, ch * f)))
        out_lengths = torch.clamp(self.output_lengths(lengths), max=t)
        x, _ = self.encoder(x, out_lengths)
        return torch.log_softmax(self.head(x).float(), dim=-1), out_lengths


def save_conformer_ctc(model: ConformerCTC, config: ConformerCTCConfig, dst: Path) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into folder ``dst``; return the folder."""
    from safetensors.torch import save_file

    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    # Write both files under temporary names first, so a crash never leaves half a checkpoint.
    tmp_weights = dst / (WEIGHTS_FILE + ".tmp")
    tmp_config = dst / (CONFIG_FILE + ".tmp")
    save_file(state, str(tmp_weights), metadata={"format": "pt", "model_type": MODEL_TYPE})
    tmp_config.write_text(json.dumps(config.to_json(), indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    os.replace(tmp_weights, dst / WEIGHTS_FILE)
    os.replace(tmp_config, dst / CONFIG_FILE)
    return dst


def is_conformer_ctc_folder(folder: Path) -> bool:
    """True when ``folder`` holds a checkpoint in this module's format."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("model_type") == MODEL_TYPE
    except (ValueError, OSError, AttributeError):
        return False


def load_conformer_ctc(src: Path) -> tuple[ConformerCTC, ConformerCTCConfig]:
    """Read a checkpoint folder back into an eval-mode model and its config."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    src = Path(src)
    missing = [n for n in (CONFIG_FILE, WEIGHTS_FILE) if not (src / n).is_file()]
    if missing:
        raise ModelError(f"{src} is not a Conformer-CTC checkpoint: missing {', '.join(missing)}")
    try:
        config = ConformerCTCConfig.from_json(
            json.loads((src / CONFIG_FILE).read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{src / CONFIG_FILE}: {exc}") from exc
    try:
        state = load_file(str(src / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{src / WEIGHTS_FILE} is not a readable safetensors file: {exc}"
                         ) from exc
    model = ConformerCTC(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # missing or unexpected names, or different shapes
        detail = " ".join(str(exc).split())
        raise ModelError(f"{src / WEIGHTS_FILE} does not match its config.json: "
                         f"{detail[:300]}") from exc
    return model.eval(), config
