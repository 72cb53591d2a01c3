"""CTC fine-tuning of wav2vec2 (transformers ``Wav2Vec2ForCTC``) and Conformer-CTC checkpoints.

Same job shape as Whisper (training/job.py): split, score the base with the live engine, train
with accelerate, keep the best dev WER, score the result, install it. The result stays in its
engine's own format (a transformers folder for the ``wav2vec2`` engine, a Conformer-CTC folder
for the ``conformer`` engine): there is no CTranslate2 form of these models.

Methods: ``full`` trains everything but wav2vec2's convolutional feature encoder (frozen, as
in wav2vec2's own fine-tuning recipe); ``freeze-encoder`` trains only the output layer;
``lora`` adds LoRA adapters to the attention and feed-forward projections.
"""

from __future__ import annotations

import logging
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_asr import paths
from desktop_asr.evaluation import score
from training.base_model import BaseModel
from training.config import TrainConfig
from desktop_asr.datasets.dataset import Dataset
from training.evaluate import scored
from training.progress import Reporter
from training.whisper_data import Clip

log = logging.getLogger(__name__)


class _Wav2Vec2:
    engine = "wav2vec2"

    def __init__(self, path: Path) -> None:
        import transformers

        self.model = transformers.Wav2Vec2ForCTC.from_pretrained(str(path))
        self.processor = transformers.Wav2Vec2Processor.from_pretrained(str(path))
        vocab = self.processor.tokenizer.get_vocab()
        self.known = {k for k in vocab if len(k) == 1}   # characters, not <pad> and friends
        self.upper = (any(k.isupper() for k in self.known)
                      and not any(k.islower() for k in self.known))
        self.blank = self.processor.tokenizer.pad_token_id

    def labels(self, text: str) -> list[int]:
        text = text.upper() if self.upper else text.lower()
        text = "".join(ch for ch in text if ch in self.known or ch == " ")
        return list(self.processor.tokenizer(" ".join(text.split())).input_ids)

    def head_names(self) -> list[str]:
        return ["lm_head"]

    def lora_targets(self) -> Any:
        return ["q_proj", "k_proj", "v_proj", "out_proj", "intermediate_dense", "output_dense"]

    def freeze_always(self, model: Any) -> None:
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        base.freeze_feature_encoder()

    def batch(self, clips: list[Clip], labels: list[list[int]] | None) -> dict[str, Any]:
        import torch

        extractor = self.processor.feature_extractor
        # Models with group-norm feature encoders are trained on zero padding, no mask.
        mask = bool(getattr(extractor, "return_attention_mask", False))
        feats = extractor([c.samples for c in clips], sampling_rate=16000, padding=True,
                          return_tensors="pt", return_attention_mask=mask)
        out = {"input_values": feats.input_values}
        if mask:
            out["attention_mask"] = feats.attention_mask
        if labels is not None:
            width = max(len(x) for x in labels)
            lab = torch.full((len(labels), width), -100, dtype=torch.long)
            for row, ids in enumerate(labels):
                lab[row, :len(ids)] = torch.tensor(ids)
            out["labels"] = lab
        return out

    def loss(self, model: Any, batch: dict[str, Any]) -> Any:
        return model(**batch).loss

    def transcribe(self, model: Any, batch: dict[str, Any]) -> list[str]:
        import torch

        with torch.no_grad():
            logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
        return [str(t) for t in self.processor.batch_decode(logits.argmax(-1))]

    def save(self, model: Any, dst: Path) -> None:
        model.save_pretrained(str(dst), safe_serialization=True)
        self.processor.save_pretrained(str(dst))


class _Conformer:
    engine = "conformer"

    def __init__(self, path: Path) -> None:
        from desktop_asr.engines.conformer_ctc import load_conformer_ctc

        self.model, self.config = load_conformer_ctc(path)
        self.model.train()
        self.blank = self.config.blank_id

    def labels(self, text: str) -> list[int]:
        return list(self.config.encode(text))

    def head_names(self) -> list[str]:
        return ["head"]

    def lora_targets(self) -> Any:
        return r".*ffn\d\.sequential\.(1|4)"

    def freeze_always(self, model: Any) -> None:
        pass

    def batch(self, clips: list[Clip], labels: list[list[int]] | None) -> dict[str, Any]:
        import torch

        n = max(c.samples.size for c in clips)
        waves = torch.zeros(len(clips), n)
        for row, c in enumerate(clips):
            waves[row, :c.samples.size] = torch.from_numpy(c.samples)
        out: dict[str, Any] = {"waves": waves,
                               "lengths": torch.tensor([c.samples.size for c in clips])}
        if labels is not None:
            out["targets"] = torch.tensor([i for ids in labels for i in ids], dtype=torch.long)
            out["target_lengths"] = torch.tensor([len(ids) for ids in labels])
        return out

    def loss(self, model: Any, batch: dict[str, Any]) -> Any:
        import torch.nn.functional as F

        log_probs, out_lengths = model(batch["waves"], batch["lengths"])
        return F.ctc_loss(log_probs.transpose(0, 1), batch["targets"], out_lengths,
                          batch["target_lengths"], blank=self.blank, zero_infinity=True)

    def transcribe(self, model: Any, batch: dict[str, Any]) -> list[str]:
        import torch

        from desktop_asr.engines.ctc_decode import greedy_ids

        with torch.no_grad():
            log_probs, lengths = model(batch["waves"], batch["lengths"])
        texts = []
        for row in range(log_probs.shape[0]):
            ids = greedy_ids(log_probs[row, :int(lengths[row])].float().numpy(), self.blank)
            chars = "".join(self.config.vocabulary[i] for i in ids)
            texts.append(" ".join(chars.replace(self.config.word_delimiter, " ").split()))
        return texts

    def save(self, model: Any, dst: Path) -> None:
        from desktop_asr.engines.conformer_ctc import save_conformer_ctc

        save_conformer_ctc(model, self.config, dst)


def _adapter(base: BaseModel) -> Any:
    return _Wav2Vec2(base.path) if base.kind == "wav2vec2" else _Conformer(base.path)


def _prepare(adapter: Any, config: TrainConfig) -> Any:
    model = adapter.model
    if config.method == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(
            r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
            target_modules=adapter.lora_targets(), modules_to_save=adapter.head_names()))
    elif config.method == "freeze-encoder":
        for name, p in model.named_parameters():
            p.requires_grad = any(name.startswith(h + ".") for h in adapter.head_names())
    adapter.freeze_always(model)
    return model


def _engine_texts(engine_name: str, folder: Path, clips: list[Clip], language: str | None,
                  should_stop: Callable[[], bool]) -> list[str]:
    from desktop_asr.batch import transcribe_audio
    from desktop_asr.engines import DecodeOptions, EngineConfig, create_engine

    engine = create_engine(engine_name, EngineConfig(model=str(folder), device="cpu"))
    texts = []
    for clip in clips:
        if should_stop():
            raise KeyboardInterrupt
        texts.append(transcribe_audio(engine, clip.samples,
                                      DecodeOptions(language=language or "en")).text)
    return texts


def _scores(engine: str, folder: Path, test: list[Clip], reference: list[Clip],
            language: str | None, terms: tuple[str, ...],
            should_stop: Callable[[], bool]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, clips, use_terms in (("held_out", test, terms), ("reference", reference, ())):
        if not clips:
            out[key] = None
            continue
        hyps = _engine_texts(engine, folder, clips, language, should_stop)
        out[key] = scored([c.text for c in clips], hyps, language=language,
                          terms=use_terms).to_dict()
    return out


def run_ctc_job(config: TrainConfig, base: BaseModel, dataset: Dataset, split: Any,
                reporter: Reporter, should_stop: Callable[[], bool]) -> dict[str, Any]:
    """Fine-tune a CTC model; returns the ``done`` fields. Raises Cancelled."""
    import torch
    from accelerate import Accelerator
    from transformers import get_linear_schedule_with_warmup

    from training.evaluate import load_reference
    from training.job import _clips, _metrics
    from training.whisper_train import Cancelled

    language = config.language or dataset.language
    train, dev, test = (_clips(dataset.folder, s) for s in (split.train, split.dev, split.test))
    reference = load_reference(config.reference, language) if config.reference else []
    reporter.emit("start", base=base.name, method=config.method, kind=base.kind,
                  train_items=len(train), dev_items=len(dev), test_items=len(test),
                  reference_items=len(reference))
    if config.threads:
        torch.set_num_threads(config.threads)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    started, cpu0 = time.monotonic(), time.process_time()
    adapter = _adapter(base)
    reporter.phase("evaluate-before", "scoring the base model")
    before = _scores(adapter.engine, base.path, test, reference, language, dataset.vocabulary,
                     should_stop)
    reporter.emit("metrics", stage="before", **before)
    labels = [adapter.labels(c.text) for c in train]
    keep = [k for k, ids in enumerate(labels) if ids]
    train, labels = [train[k] for k in keep], [labels[k] for k in keep]
    if not train:
        from training.job import JobError

        raise JobError(f"none of the transcripts can be written with {base.name}'s "
                       "vocabulary (its characters are not those of the dataset's language)")
    use_cuda = config.device in ("auto", "cuda") and torch.cuda.is_available()
    accelerator = Accelerator(cpu=not use_cuda, gradient_accumulation_steps=config.grad_accum,
                              mixed_precision="no" if not use_cuda else (
                                  "bf16" if torch.cuda.is_bf16_supported() else "fp16"))
    reporter.enabled = reporter.enabled and accelerator.is_main_process
    model = _prepare(adapter, config)
    order = list(range(len(train)))
    per_epoch = max(1, math.ceil(len(train) / config.batch_size / config.grad_accum))
    total = config.max_steps or max(1, math.ceil(config.epochs_or_default * per_epoch))
    params = [p for p in model.parameters() if p.requires_grad]
    lr = config.lr if config.lr is not None else (1e-3 if config.method != "full" else 1e-4)
    optimizer = torch.optim.AdamW(params, lr=lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, min(config.warmup_steps, total // 5),
                                                total)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    history: list[dict[str, float]] = []
    best: tuple[float, int, dict[str, Any]] | None = None
    bad = 0

    def dev_wer(step: int) -> bool:
        nonlocal best, bad
        if not dev:
            return False
        model.eval()
        hyps: list[str] = []
        for first in range(0, len(dev), config.batch_size):
            part = dev[first:first + config.batch_size]
            batch = {k: v.to(accelerator.device) for k, v in adapter.batch(part, None).items()}
            hyps += adapter.transcribe(accelerator.unwrap_model(model), batch)
        model.train()
        wer = score([c.text for c in dev], hyps, language=language or "en").wer
        history.append({"step": step, "dev_wer": wer})
        if best is None or wer < best[0] - 1e-9:
            unwrapped = accelerator.unwrap_model(model)
            best, bad = (wer, step, {k: v.detach().cpu().clone()
                                     for k, v in unwrapped.state_dict().items()}), 0
        else:
            bad += 1
        reporter.emit("eval", step=step, dev_wer=wer, best_dev_wer=best[0], best_step=best[1])
        return bad >= config.patience

    reporter.emit("train", total_steps=total, steps_per_epoch=per_epoch, train_items=len(train),
                  dev_items=len(dev), trainable_params=sum(p.numel() for p in params), lr=lr)
    reporter.phase("train", f"training {config.method} for {total} step(s)")
    dev_wer(0)
    model.train()
    step, stop_early = 0, False
    rng = random.Random(config.seed)
    while step < total and not stop_early:
        rng.shuffle(order)
        for first in range(0, len(order), config.batch_size):
            if should_stop():
                raise Cancelled
            idx = order[first:first + config.batch_size]
            batch = adapter.batch([train[k] for k in idx], [labels[k] for k in idx])
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            with accelerator.accumulate(model):
                loss = adapter.loss(model, batch)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            if not accelerator.sync_gradients:
                continue
            step += 1
            elapsed = time.monotonic() - started
            history.append({"step": step, "loss": float(loss.detach())})
            reporter.emit("step", step=step, total_steps=total, loss=float(loss.detach()),
                          elapsed=elapsed, eta=elapsed / step * (total - step))
            if step % per_epoch == 0 or step == total:
                stop_early = dev_wer(step)
            if step >= total or stop_early:
                break
    final = accelerator.unwrap_model(model)
    if best is not None and best[1] != step:
        final.load_state_dict(best[2])
    if hasattr(final, "merge_and_unload"):
        final = final.merge_and_unload()
    train_seconds, train_cpu = time.monotonic() - started, time.process_time() - cpu0
    root = Path(config.models_dir) if config.models_dir else paths.models_dir()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".partial-{config.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        reporter.phase("export", f"saving the {base.kind} checkpoint")
        adapter.save(final, staging)
        after = _scores(adapter.engine, staging, test, reference, language, dataset.vocabulary,
                        should_stop)
        reporter.emit("metrics", stage="after", **after)
        metrics = _metrics(before, after)
        import json

        (staging / "desktop-asr-model.json").write_text(json.dumps({
            "source": "fine-tune", "engine": adapter.engine, "base": base.name,
            "method": config.method, "dataset": str(config.data.resolve()),
            "metrics": metrics, "history": history}, indent=2, default=str) + "\n",
            encoding="utf-8")
        if should_stop():
            raise Cancelled
        target = root / config.name
        if target.exists():
            if not config.force:
                raise FileExistsError(f"{target} exists; pass --force to replace it")
            shutil.rmtree(target)
        os.replace(staging, target)   # the model appears whole or not at all
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"model": config.name, "path": str(target), "engine": adapter.engine,
            "metrics": metrics, "steps": step, "best_step": best[1] if best else 0,
            "best_dev_wer": best[0] if best else None, "train_seconds": train_seconds,
            "train_cpu_seconds": train_cpu, "registered": False}
