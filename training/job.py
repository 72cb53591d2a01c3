"""One fine-tuning job from dataset to registered model, reporting JSON-lines progress.

validate → split → score the base → train → export to CTranslate2 → score the result →
register it with its metrics. Everything is built in a private work folder under the cache;
the model appears in the models folder only at the end, by one rename inside
``ModelManager.import_folder``, so a cancelled or killed job never leaves a broken model.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop_asr import paths
from desktop_asr.errors import DesktopAsrError
from desktop_asr.models import ModelManager
from training.base_model import HF_SUBDIR, BaseModel, resolve_base
from training.config import TrainConfig
from desktop_asr.datasets.dataset import Item, read_wav16
from training.evaluate import EvalResult, evaluate_ct2, load_reference, relative_change
from training.progress import Reporter
from training.validate import validate_dataset
from training.whisper_data import Clip

log = logging.getLogger(__name__)

MIN_ITEMS = 4
TRAINING_RECORD = "training.json"


class JobError(DesktopAsrError):
    """The job cannot run with this dataset or these options; the message says why."""


@dataclass(frozen=True)
class Split:
    """Items for training, for early stopping (dev) and for the before/after score (test)."""

    train: tuple[Item, ...]
    dev: tuple[Item, ...]
    test: tuple[Item, ...]


def split_items(items: tuple[Item, ...], dev_fraction: float, test_fraction: float,
                seed: int) -> Split:
    """Honour each item's ``split``; share the rest out at random (the same for one seed)."""
    fixed = {s: [i for i in items if i.split == s] for s in ("train", "dev", "test")}
    free = [i for i in items if i.split is None]
    random.Random(seed).shuffle(free)
    n = len(items)

    def share(fraction: float, already: int) -> int:
        want = round(n * fraction) if fraction > 0 else 0
        if fraction > 0 and n >= 10:
            want = max(1, want)
        return max(0, min(len(free), want - already))

    n_test = share(test_fraction, len(fixed["test"]))
    test = fixed["test"] + free[:n_test]
    free = free[n_test:]
    n_dev = share(dev_fraction, len(fixed["dev"]))
    dev = fixed["dev"] + free[:n_dev]
    train = fixed["train"] + free[n_dev:]
    return Split(tuple(train), tuple(dev), tuple(test))


def _clips(folder: Path, items: tuple[Item, ...]) -> list[Clip]:
    return [Clip(i.id, read_wav16(folder / i.audio if not Path(i.audio).is_absolute()
                                  else Path(i.audio)), i.text) for i in items]


def _work_dir(name: str) -> Path:
    root = paths.cache_dir() / "training"
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob("*.job"):   # left by a job that was killed; never a live one's
        try:
            pid = int(stale.name.rsplit("-", 1)[-1].removesuffix(".job"))
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(stale, ignore_errors=True)
        except PermissionError:
            pass
    work = root / f"{name}-{os.getpid()}.job"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    return work


def _scores(reporter: Reporter, label: str, ct2: Path, test: list[Clip],
            reference: list[Clip], config: TrainConfig, terms: tuple[str, ...],
            should_stop: Callable[[], bool]) -> dict[str, Any]:
    reporter.phase(f"evaluate-{label}", f"scoring the {label} model on {len(test)} held-out "
                                        f"and {len(reference)} reference clip(s)")
    out: dict[str, Any] = {}
    for key, clips, use_terms in (("held_out", test, terms), ("reference", reference, ())):
        result: EvalResult | None = evaluate_ct2(ct2, clips, language=config.language,
                                                 terms=use_terms, threads=config.threads,
                                                 should_stop=should_stop)
        out[key] = None if result is None else result.to_dict()
        if result is not None:
            out.setdefault("transcripts", {})[key] = [
                {"id": c.id, "reference": c.text, "hypothesis": h}
                for c, h in zip(clips, result.hypotheses)]
    return out


def run_job(config: TrainConfig, reporter: Reporter, should_stop: Callable[[], bool]
            ) -> dict[str, Any]:
    """Run the whole job; returns the final ``done`` fields. Raises Cancelled or JobError."""
    manager = ModelManager(config.models_dir)
    if config.register and manager.installed_path(config.name) and not config.force:
        raise JobError(f"a model called {config.name!r} is already installed; choose another "
                       "--name or pass --force to replace it")
    validation = validate_dataset(config.data)
    for problem in validation.problems:
        log.warning("%s", problem)
    reporter.emit("dataset", summary=validation.summary(), usable=len(validation.usable),
                  errors=[str(p) for p in validation.errors][:20])
    if len(validation.usable) < MIN_ITEMS:
        raise JobError(f"{config.data} has {len(validation.usable)} usable clip(s); at least "
                       f"{MIN_ITEMS} are needed ('desktop-asr dataset validate' says why)")
    dataset = validation.dataset
    language = config.language or dataset.language
    split = split_items(validation.usable, config.dev_fraction, config.test_fraction,
                        config.seed)
    if not split.train:
        raise JobError("no clips are left for training after the dev/test split")
    base = resolve_base(config.base, manager)
    if base.kind != "whisper":
        from training.ctc_job import run_ctc_job

        return run_ctc_job(config, base, dataset, split, reporter, should_stop)
    started = time.monotonic()
    cpu_started = time.process_time()
    from dataclasses import replace as _replace

    config = _replace(config, language=language)
    train, dev, test = (_clips(dataset.folder, s) for s in (split.train, split.dev, split.test))
    reference = load_reference(config.reference, language) if config.reference else []
    reporter.emit("start", base=base.name, method=config.method, train_items=len(train),
                  dev_items=len(dev), test_items=len(test), reference_items=len(reference))
    work = _work_dir(config.name)
    try:
        return _run_whisper(config, base, dataset.vocabulary, train, dev, test, reference,
                            work, manager, reporter, should_stop, started, cpu_started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _base_ct2(base: BaseModel, work: Path, config: TrainConfig, reporter: Reporter) -> Path:
    if base.ct2_path is not None:
        return base.ct2_path
    from desktop_asr.models.convert import export_ct2_whisper

    reporter.phase("export-base", "exporting the base model to CTranslate2 to score it")
    return export_ct2_whisper(base.path, work / "base-ct2", quantization=config.quantization)


def _run_whisper(config: TrainConfig, base: BaseModel, terms: tuple[str, ...],
                 train: list[Clip], dev: list[Clip], test: list[Clip], reference: list[Clip],
                 work: Path, manager: ModelManager, reporter: Reporter,
                 should_stop: Callable[[], bool], started: float, cpu_started: float
                 ) -> dict[str, Any]:
    import torch

    from desktop_asr.models.convert import export_ct2_whisper
    from training.whisper_train import load_whisper, train_whisper

    if config.threads:
        torch.set_num_threads(config.threads)
    from accelerate import PartialState

    # Under `accelerate launch` every process trains; only the main one scores, exports and
    # installs (the others would race it for the same files).
    main = PartialState().is_main_process
    reporter.enabled = reporter.enabled and main
    before = (_scores(reporter, "before", _base_ct2(base, work, config, reporter), test,
                      reference, config, terms, should_stop) if main else {})
    reporter.emit("metrics", stage="before",
                  **{k: v for k, v in before.items() if k != "transcripts"})
    loaded = load_whisper(base.path, config.language)
    model, outcome = train_whisper(loaded, train, dev, config, reporter, should_stop)
    train_seconds, train_cpu = outcome.seconds, time.process_time() - cpu_started
    if not main:
        return {"model": config.name, "steps": outcome.steps, "registered": False}
    reporter.phase("export", "saving and exporting to CTranslate2")
    hf_dir = work / "checkpoint"
    model.save_pretrained(str(hf_dir), safe_serialization=True)
    loaded.tokenizer.save_pretrained(str(hf_dir))
    loaded.extractor.save_pretrained(str(hf_dir))
    final = export_ct2_whisper(hf_dir, work / "model", quantization=config.quantization)
    shutil.move(str(hf_dir), str(final / HF_SUBDIR))
    after = _scores(reporter, "after", final, test, reference, config, terms, should_stop)
    reporter.emit("metrics", stage="after",
                  **{k: v for k, v in after.items() if k != "transcripts"})
    transcripts = {"before": before.pop("transcripts", {}),
                   "after": after.pop("transcripts", {})}
    metrics = _metrics(before, after)
    record = {"base": base.name, "base_path": str(base.path), "method": config.method,
              "dataset": str(config.data.resolve()), "steps": outcome.steps,
              "best_step": outcome.best_step, "best_dev_wer": outcome.best_dev_wer,
              "stopped_early": outcome.stopped_early, "train_seconds": train_seconds,
              "train_cpu_seconds": train_cpu, "wall_seconds": time.monotonic() - started,
              "items": {"train": len(train), "dev": len(dev), "test": len(test),
                        "reference": len(reference)},
              "metrics": metrics, "history": outcome.history, "transcripts": transcripts,
              "config": {k: str(v) if isinstance(v, Path) else v
                         for k, v in asdict(config).items()}}
    (final / TRAINING_RECORD).write_text(json.dumps(record, indent=2, default=str) + "\n",
                                         encoding="utf-8")
    if should_stop():
        from training.whisper_train import Cancelled

        raise Cancelled
    installed = final
    if config.register:
        reporter.phase("register", f"installing the model as {config.name!r}")
        installed = manager.import_folder(final, config.name, force=config.force, meta={
            "source": "fine-tune", "base": base.name, "method": config.method,
            "dataset": str(config.data.resolve()), "metrics": metrics,
            "description": describe(base.name, config.method, metrics)})
    else:
        keep = paths.cache_dir() / "training" / f"{config.name}.unregistered"
        shutil.rmtree(keep, ignore_errors=True)
        installed = Path(shutil.move(str(final), str(keep)))
    return {"model": config.name, "path": str(installed), "metrics": metrics,
            "steps": outcome.steps, "best_step": outcome.best_step,
            "best_dev_wer": outcome.best_dev_wer, "stopped_early": outcome.stopped_early,
            "train_seconds": train_seconds,
            "train_cpu_seconds": train_cpu, "registered": config.register}


def _metrics(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"before": before, "after": after}
    for key in ("held_out", "reference"):
        b, a = before.get(key), after.get(key)
        if b and a:
            out[f"{key}_wer_change"] = relative_change(b["wer"], a["wer"])
            out[f"{key}_term_change"] = relative_change(b.get("term_error_rate"),
                                                        a.get("term_error_rate"))
    return out


def describe(base: str, method: str, metrics: dict[str, Any]) -> str:
    """One line for the model list: where it came from and what it gained."""
    text = f"fine-tuned from {base} ({method})"
    b = (metrics.get("before") or {}).get("held_out")
    a = (metrics.get("after") or {}).get("held_out")
    if b and a:
        text += f"; held-out WER {b['wer'] * 100:.1f}% → {a['wer'] * 100:.1f}%"
    return text
