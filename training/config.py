"""The fine-tuning job's options: one frozen, validated dataclass built from the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

METHODS = ("full", "freeze-encoder", "lora")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")

# Learning rates that worked for Whisper tiny/base on a few minutes of speech; bigger models
# want smaller ones (--lr).
DEFAULT_LR = {"full": 2e-5, "freeze-encoder": 4e-5, "lora": 1e-3}


@dataclass(frozen=True)
class Augment:
    """Augmentation: SpecAugment on the log-mel, speed and noise on the waveform."""

    spec_augment: bool = True
    speeds: tuple[float, ...] = (0.9, 1.0, 1.1)
    noise_snr_db: tuple[float, float] | None = (15.0, 35.0)
    noise_prob: float = 0.5
    # Frozen-encoder runs encode each clip once per view (view 0 clean, the others augmented)
    # instead of at every step: several times faster on a CPU.
    cached_views: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "speeds", tuple(float(s) for s in self.speeds))
        if not self.speeds or any(not 0.5 <= s <= 2.0 for s in self.speeds):
            raise ValueError("speed factors must be within 0.5..2")
        if self.noise_snr_db is not None:
            lo, hi = self.noise_snr_db
            if not lo <= hi:
                raise ValueError("noise SNR range must be low..high")
        if not 0.0 <= self.noise_prob <= 1.0:
            raise ValueError("noise probability must be within 0..1")
        if self.cached_views < 1:
            raise ValueError("cached_views must be at least 1")

    @property
    def active(self) -> bool:
        """True when any augmentation changes the audio or the features."""
        return (self.spec_augment or self.speeds != (1.0,)
                or (self.noise_snr_db is not None and self.noise_prob > 0))


NO_AUGMENT = Augment(spec_augment=False, speeds=(1.0,), noise_snr_db=None, cached_views=1)


@dataclass(frozen=True)
class TrainConfig:
    """Everything one fine-tuning run needs."""

    data: Path
    name: str
    base: str = "tiny.en"
    method: str = "lora"
    epochs: float | None = None
    max_steps: int | None = None
    batch_size: int = 8
    grad_accum: int = 1
    lr: float | None = None
    warmup_steps: int = 10
    weight_decay: float = 0.0
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    eval_every: int | None = None     # steps between dev evaluations (None: once per epoch)
    patience: int = 3                 # dev evaluations without improvement before stopping
    augment: Augment = field(default_factory=Augment)
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")
    lora_decoder_only: bool = False   # then the encoder is frozen, and cached on the CPU
    # Token embeddings (tied to the output layer) hold what every word means: leaving them
    # alone makes full/freeze-encoder runs faster and forget less.
    freeze_embeddings: bool = False
    device: str = "auto"
    precision: str = "auto"
    threads: int = 0
    seed: int = 0
    language: str | None = None
    reference: Path | None = None     # a general manifest.jsonl, to catch forgetting
    models_dir: Path | None = None
    register: bool = True
    force: bool = False
    quantization: str = "float16"
    max_label_tokens: int = 440

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", Path(self.data))
        if not _NAME.match(self.name):
            raise ValueError(f"model name {self.name!r} may hold only letters, digits, '.', "
                             "'_', '+' and '-'")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.epochs is not None and not self.epochs > 0:
            raise ValueError("epochs must be positive")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max-steps must be at least 1")
        for what, value in (("batch size", self.batch_size), ("gradient accumulation",
                                                               self.grad_accum),
                            ("patience", self.patience), ("LoRA rank", self.lora_rank)):
            if value < 1:
                raise ValueError(f"{what} must be at least 1")
        if self.lr is not None and not self.lr > 0:
            raise ValueError("learning rate must be positive")
        if not (0 <= self.dev_fraction < 0.5 and 0 <= self.test_fraction < 0.5):
            raise ValueError("dev and test fractions must each be within 0..0.5")
        if self.eval_every is not None and self.eval_every < 1:
            raise ValueError("eval-every must be at least 1 step")
        object.__setattr__(self, "lora_targets", tuple(self.lora_targets))

    @property
    def learning_rate(self) -> float:
        """The chosen learning rate, or the method's default."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.method]

    @property
    def epochs_or_default(self) -> float:
        """Epochs when neither epochs nor max_steps was given: 5."""
        return self.epochs if self.epochs is not None else 5.0
