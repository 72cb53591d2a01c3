"""Fine-tune a transformers Whisper: full, encoder frozen, or LoRA; with accelerate.

The loop is written against ``accelerate.Accelerator`` so the same code runs on one CPU, one
GPU (fp16/bf16 autocast), or several GPUs under ``accelerate launch``; only the main process
reports progress and writes files. Early stopping keeps the weights of the best dev WER
(the base model's own weights count as a candidate, so a run never ends worse than it began).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_asr.evaluation import score
from training.config import TrainConfig
from training.progress import Reporter
from training.whisper_data import (CachedDataset, Clip, FeatureMaker, OnlineDataset,
                                   WhisperText, collate, encode_views)
from training.whisper_decode import transcribe_clips

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The job was asked to stop (signal); nothing has been registered."""


@dataclass
class TrainOutcome:
    """What training produced: the loss and dev-WER history and the best step."""

    steps: int = 0
    best_step: int = 0
    best_dev_wer: float | None = None
    stopped_early: bool = False
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class LoadedWhisper:
    """A transformers Whisper with what it needs to read audio and write text."""

    model: Any
    text: WhisperText
    features: FeatureMaker
    extractor: Any
    tokenizer: Any


def load_whisper(path: Path, language: str | None) -> LoadedWhisper:
    """Load a transformers Whisper folder with its tokenizer and feature extractor."""
    import transformers

    model = transformers.WhisperForConditionalGeneration.from_pretrained(str(path))
    tokenizer = transformers.WhisperTokenizer.from_pretrained(str(path))
    if (path / "preprocessor_config.json").is_file():
        extractor = transformers.WhisperFeatureExtractor.from_pretrained(str(path))
    else:
        extractor = transformers.WhisperFeatureExtractor(feature_size=model.config.num_mel_bins)
    multilingual = model.config.vocab_size >= 51865
    text = WhisperText(tokenizer, language=language, multilingual=multilingual)
    return LoadedWhisper(model, text, FeatureMaker(extractor), extractor, tokenizer)


def prepare_method(model: Any, config: TrainConfig) -> Any:
    """Freeze or wrap the model for the chosen method; returns the model to train."""
    if config.freeze_embeddings and config.method != "lora":
        model.model.decoder.embed_tokens.weight.requires_grad = False
    if config.method == "freeze-encoder":
        for p in model.model.encoder.parameters():
            p.requires_grad = False
        return model
    if config.method == "lora":
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as exc:
            from desktop_asr.errors import MissingExtraError

            raise MissingExtraError("LoRA fine-tuning", "peft", "training") from exc
        names = "|".join(re.escape(t) for t in config.lora_targets)
        # peft reads a string as one regular expression over the full module names.
        targets: Any = (rf"model\.decoder\..*\.({names})" if config.lora_decoder_only
                        else list(config.lora_targets))
        lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha,
                          lora_dropout=config.lora_dropout, target_modules=targets, bias="none")
        return get_peft_model(model, lora)
    return model


def merged_model(model: Any) -> Any:
    """A plain Whisper with LoRA adapters merged in (the model itself otherwise)."""
    if hasattr(model, "merge_and_unload"):
        return model.merge_and_unload()
    return model


def _encoder_trainable(model: Any) -> bool:
    core = model.get_base_model() if hasattr(model, "get_base_model") else model
    return any(p.requires_grad for p in core.model.encoder.parameters())


def _precision(config: TrainConfig, use_cuda: bool) -> str:
    import torch

    if config.precision == "fp32" or not use_cuda:
        return "no"
    if config.precision == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return config.precision


def dev_wer(model: Any, loaded: LoadedWhisper, clips: list[Clip],
            hidden: list[Any] | None, language: str | None) -> float:
    """Word error rate of greedy transcripts of the dev clips."""
    hyps = transcribe_clips(model, loaded.text, clips, loaded.features, hidden=hidden)
    return score([c.text for c in clips], hyps, language=language or "en").wer


def train_whisper(loaded: LoadedWhisper, train: list[Clip], dev: list[Clip],
                  config: TrainConfig, reporter: Reporter,
                  should_stop: Callable[[], bool]) -> tuple[Any, TrainOutcome]:
    """Train; returns the best model (LoRA merged) and the history. Raises Cancelled."""
    import torch
    from accelerate import Accelerator
    from transformers import get_linear_schedule_with_warmup

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    use_cuda = config.device in ("auto", "cuda") and torch.cuda.is_available()
    if config.device == "cuda" and not use_cuda:
        from desktop_asr.errors import DesktopAsrError

        raise DesktopAsrError("--device cuda was asked for but no CUDA GPU is available")
    # Gradient accumulation is done by hand (see the loop), not by accelerate's: that one
    # averages the batches' mean losses, so a token of a batch of short transcripts counted
    # more than one of long ones, and an epoch's short last window got a shrunken gradient.
    accelerator = Accelerator(cpu=not use_cuda, mixed_precision=_precision(config, use_cuda))
    reporter.enabled = reporter.enabled and accelerator.is_main_process
    model = prepare_method(loaded.model, config)
    model.to(accelerator.device)
    labels = [loaded.text.labels(c.text) for c in train]
    too_long = [c.id for c, ids in zip(train, labels) if len(ids) > config.max_label_tokens]
    if too_long:
        raise ValueError(f"transcripts too long for Whisper (over {config.max_label_tokens} "
                         f"tokens): items {', '.join(too_long[:5])}")
    cached = not _encoder_trainable(model)
    started = time.monotonic()
    dev_hidden = None
    if cached:
        reporter.phase("encode", f"encoding {len(train)} clips × {config.augment.cached_views} "
                                 "view(s) once (the encoder is frozen)")
        core = model.get_base_model() if hasattr(model, "get_base_model") else model
        views = encode_views(core.model.encoder, train, loaded.features, config.augment,
                             config.augment.cached_views if config.augment.active else 1,
                             config.seed, accelerator.device, should_stop=should_stop)
        dataset: Any = CachedDataset(views, labels, config.seed)
        if dev:
            dev_hidden = [v[0] for v in encode_views(core.model.encoder, dev, loaded.features,
                                                     config.augment, 1, config.seed,
                                                     accelerator.device)]
    else:
        dataset = OnlineDataset(train, labels, loaded.features, config.augment, config.seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size, shuffle=True,
                                         collate_fn=collate,
                                         generator=torch.Generator().manual_seed(config.seed))
    per_epoch = max(1, math.ceil(len(loader) / config.grad_accum))
    total = config.max_steps or max(1, math.ceil(config.epochs_or_default * per_epoch))
    eval_every = config.eval_every or per_epoch
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    scheduler = get_linear_schedule_with_warmup(optimizer, min(config.warmup_steps, total // 5),
                                                total)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader,
                                                              scheduler)
    outcome = TrainOutcome()
    reporter.emit("train", total_steps=total, steps_per_epoch=per_epoch,
                  train_items=len(train), dev_items=len(dev), cached_encoder=cached,
                  trainable_params=sum(p.numel() for p in params), lr=config.learning_rate)

    def snapshot() -> dict[str, Any]:
        unwrapped = accelerator.unwrap_model(model)
        return {k: v.detach().to("cpu", copy=True) for k, v in unwrapped.state_dict().items()
                if k in trainable_names}

    unwrapped = accelerator.unwrap_model(model)
    trainable_names = {n for n, p in unwrapped.named_parameters() if p.requires_grad}
    best_state: dict[str, Any] | None = None
    bad_evals = 0

    def evaluate(step: int) -> bool:
        """Dev WER now; True when training should stop early."""
        nonlocal best_state, bad_evals
        if not dev:
            return False
        wer = dev_wer(accelerator.unwrap_model(model), loaded, dev, dev_hidden, config.language)
        improved = outcome.best_dev_wer is None or wer < outcome.best_dev_wer - 1e-9
        if improved:
            outcome.best_dev_wer, outcome.best_step, bad_evals = wer, step, 0
            best_state = snapshot()
        else:
            bad_evals += 1
        outcome.history.append({"step": step, "dev_wer": wer})
        reporter.emit("eval", step=step, dev_wer=wer, best_dev_wer=outcome.best_dev_wer,
                      best_step=outcome.best_step)
        return bad_evals >= config.patience

    reporter.phase("train", f"training {config.method} for {total} step(s)")
    evaluate(0)
    step, epoch = 0, 0
    loop_started = time.monotonic()  # the ETA is of the steps alone, not of the encoding
    model.train()
    while step < total and not outcome.stopped_early:
        epoch += 1
        batches = iter(loader)
        # One optimizer step per window of grad_accum batches (the last one of an epoch may
        # be shorter). Each batch's mean loss is weighted by its share of the window's label
        # tokens, so the step's gradient is that of one batch holding the whole window.
        while window := list(itertools.islice(batches, config.grad_accum)):
            counts = [int((b["labels"] != -100).sum()) for b in window]
            tokens = max(1, sum(counts))
            loss = 0.0
            for k, (batch, count) in enumerate(zip(window, counts)):
                if should_stop():
                    raise Cancelled
                last = k == len(window) - 1
                with contextlib.nullcontext() if last else accelerator.no_sync(model):
                    if "encoder_hidden" in batch:
                        out = model(encoder_outputs=(batch["encoder_hidden"],),
                                    labels=batch["labels"])
                    else:
                        out = model(input_features=batch["input_features"],
                                    labels=batch["labels"])
                    accelerator.backward(out.loss * (count / tokens))
                loss += float(out.loss.detach()) * count / tokens
            accelerator.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            elapsed = time.monotonic() - started
            outcome.history.append({"step": step, "loss": loss})
            reporter.emit("step", step=step, total_steps=total, epoch=epoch, loss=loss,
                          lr=scheduler.get_last_lr()[0], elapsed=elapsed,
                          eta=(time.monotonic() - loop_started) / step * (total - step))
            if step % eval_every == 0 or step == total:
                if evaluate(step):
                    outcome.stopped_early = True
            if step >= total or outcome.stopped_early:
                break
    accelerator.wait_for_everyone()
    final = accelerator.unwrap_model(model)
    if best_state is not None and outcome.best_step != step:
        log.info("restoring the weights of step %d (best dev WER)", outcome.best_step)
        final.load_state_dict(best_state, strict=False)
    outcome.steps = step
    outcome.seconds = time.monotonic() - started
    return merged_model(final), outcome
