"""Whisper training data: clips to log-mel features and token labels, batches, cached views."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.augment import perturb_waveform, spec_augment
from training.config import Augment

log = logging.getLogger(__name__)

HOP = 160   # Whisper's log-mel hop: 100 frames a second


@dataclass(frozen=True)
class Clip:
    """One training or evaluation pair in memory: 16 kHz samples and the reference text."""

    id: str
    samples: np.ndarray
    text: str


class WhisperText:
    """Turns text into Whisper label ids and ids back into text, for one model and language."""

    def __init__(self, tokenizer: Any, *, language: str | None, multilingual: bool) -> None:
        self.tokenizer = tokenizer
        if multilingual:
            tokenizer.set_prefix_tokens(language=language or "en", task="transcribe",
                                        predict_timestamps=False)
        self.prefix: list[int] = list(tokenizer.prefix_tokens)
        self.eot = int(tokenizer.convert_tokens_to_ids("<|endoftext|>"))
        self.sot = self.prefix[0]

    def labels(self, text: str) -> list[int]:
        """Label ids after the start token: prefix (no start), text tokens, end of text."""
        # Whisper writes a space before the first word; so must its labels.
        ids = self.tokenizer(" " + " ".join(text.split())).input_ids
        return ids[1:] if ids and ids[0] == self.sot else ids

    def decode(self, ids: list[int]) -> str:
        """Text of generated ids, special tokens removed."""
        return str(self.tokenizer.decode(ids, skip_special_tokens=True)).strip()


class FeatureMaker:
    """Log-mel features exactly as the model's WhisperFeatureExtractor makes them."""

    def __init__(self, extractor: Any) -> None:
        self.extractor = extractor

    def __call__(self, samples: list[np.ndarray]) -> "torch.Tensor":
        """(batch, mels, 3000) float32 features of 16 kHz clips (padded to 30 s)."""
        out = self.extractor(samples, sampling_rate=16000, return_tensors="pt")
        return out.input_features


def augmented_features(clip: Clip, features: FeatureMaker, augment: Augment,
                       rng: random.Random, *, clean: bool = False) -> "torch.Tensor":
    """Features of one clip, augmented (speed, noise, SpecAugment) unless ``clean``."""
    samples = clip.samples if clean else perturb_waveform(clip.samples, augment, rng)
    feats = features([samples])[0]
    if not clean and augment.spec_augment:
        feats = spec_augment(feats, samples.size // HOP)
    return feats


def pad_labels(labels: list[list[int]]) -> "torch.Tensor":
    """Label ids padded with -100 (ignored by the loss)."""
    import torch

    width = max(len(x) for x in labels)
    out = torch.full((len(labels), width), -100, dtype=torch.long)
    for row, ids in enumerate(labels):
        out[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out


class OnlineDataset:
    """Map-style dataset: every access augments afresh (the encoder is trained)."""

    def __init__(self, clips: list[Clip], labels: list[list[int]], features: FeatureMaker,
                 augment: Augment, seed: int) -> None:
        self.clips, self.labels, self.features, self.augment = clips, labels, features, augment
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict[str, Any]:
        clean = not self.augment.active
        feats = augmented_features(self.clips[index], self.features, self.augment, self.rng,
                                   clean=clean)
        return {"input_features": feats, "labels": self.labels[index]}


class CachedDataset:
    """Map-style dataset over encoder outputs computed once per view (frozen encoder)."""

    def __init__(self, views: list[list["torch.Tensor"]], labels: list[list[int]],
                 seed: int) -> None:
        self.views, self.labels = views, labels
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, Any]:
        options = self.views[index]
        return {"encoder_hidden": options[self.rng.randrange(len(options))],
                "labels": self.labels[index]}


def collate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack a batch: features or encoder outputs, and padded labels."""
    import torch

    batch: dict[str, Any] = {"labels": pad_labels([r["labels"] for r in rows])}
    if "input_features" in rows[0]:
        batch["input_features"] = torch.stack([r["input_features"] for r in rows])
    else:
        batch["encoder_hidden"] = torch.stack([r["encoder_hidden"] for r in rows]).float()
    return batch


def encode_views(encoder: Any, clips: list[Clip], features: FeatureMaker, augment: Augment,
                 views: int, seed: int, device: Any, batch_size: int = 8,
                 should_stop: Any = None) -> list[list["torch.Tensor"]]:
    """Encoder outputs (float16, on the CPU) of each clip: view 0 clean, the others augmented."""
    import torch

    rng = random.Random(seed)
    out: list[list[torch.Tensor]] = [[] for _ in clips]
    dtype = next(encoder.parameters()).dtype
    for view in range(views):
        for first in range(0, len(clips), batch_size):
            if should_stop is not None and should_stop():
                raise KeyboardInterrupt
            part = clips[first:first + batch_size]
            feats = torch.stack([augmented_features(c, features, augment, rng, clean=view == 0)
                                 for c in part])
            with torch.no_grad():
                hidden = encoder(feats.to(device=device, dtype=dtype)).last_hidden_state
            for k, h in enumerate(hidden):
                out[first + k].append(h.to("cpu", torch.float16))
    return out
