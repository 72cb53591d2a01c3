"""Command line of the training subprocess: ``python -m training dataset|finetune ...``.

``desktop-asr dataset`` and ``desktop-asr train`` (and the app's Train page) start this as a
subprocess. ``finetune`` prints JSON-lines progress on stdout (training/progress.py) and logs
on stderr; SIGTERM or SIGINT cancels it cleanly (exit status 130, nothing registered).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Sequence

from desktop_asr.errors import DesktopAsrError

log = logging.getLogger(__name__)

CANCELLED_STATUS = 130


def _dataset_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("dataset", help="record, import and validate training datasets")
    actions = d.add_subparsers(dest="action", metavar="ACTION", required=True)
    v = actions.add_parser("validate", help="check a dataset and list every problem")
    v.add_argument("folder", type=Path)
    v.add_argument("--json", action="store_true", help="one JSON object on stdout")
    v.set_defaults(func=_validate)
    i = actions.add_parser("import", help="import audio + .txt files or a manifest.jsonl")
    i.add_argument("source", type=Path, help="a folder of audio with same-named .txt files, "
                   "or a JSON-lines manifest (audio, text)")
    i.add_argument("--to", type=Path, required=True, dest="dataset", help="dataset folder")
    i.add_argument("--speaker", default=None)
    i.set_defaults(func=_import)
    e = actions.add_parser("import-edits", help="corrected transcripts from the editor")
    e.add_argument("--to", type=Path, required=True, dest="dataset", help="dataset folder")
    e.add_argument("--sessions", type=Path, default=None,
                   help="sessions folder (default: the app's)")
    e.add_argument("--original", type=Path, action="append", default=[],
                   help="the JSON transcript an edited file was made from (repeatable)")
    e.add_argument("--all-segments", action="store_true",
                   help="take every segment of an edited transcript, not only changed ones")
    e.add_argument("--speaker", default=None)
    e.set_defaults(func=_import_edits)
    r = actions.add_parser("record", help="record prompts one at a time in the terminal")
    r.add_argument("--to", type=Path, required=True, dest="dataset", help="dataset folder")
    r.add_argument("--prompts", default="general",
                   help="a bundled list (general, meetings) or a text file, one per line")
    r.add_argument("--vocabulary", default="",
                   help="comma-separated words or names to record in carrier sentences")
    r.add_argument("--device", default=None, help="input device id or name")
    r.add_argument("--source", default=None,
                   help="replay this audio file instead of recording (demos, tests)")
    r.add_argument("--limit", type=int, default=None, help="record at most this many prompts")
    r.add_argument("--speaker", default=None)
    r.set_defaults(func=_record)


def _finetune_parser(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser("finetune", help="fine-tune, evaluate, export and register a model")
    f.add_argument("--data", type=Path, required=True, help="dataset folder")
    f.add_argument("--name", required=True, help="name to install the fine-tuned model under")
    f.add_argument("--base", default="tiny.en",
                   help="tiny.en, an installed model, or a transformers Whisper / wav2vec2 / "
                        "Conformer-CTC folder")
    f.add_argument("--method", default="lora", choices=("lora", "full", "freeze-encoder"))
    f.add_argument("--epochs", type=float, default=None)
    f.add_argument("--max-steps", type=int, default=None)
    f.add_argument("--batch-size", type=int, default=8)
    f.add_argument("--grad-accum", type=int, default=1)
    f.add_argument("--lr", type=float, default=None)
    f.add_argument("--warmup-steps", type=int, default=10)
    f.add_argument("--dev-fraction", type=float, default=0.1)
    f.add_argument("--test-fraction", type=float, default=0.1)
    f.add_argument("--eval-every", type=int, default=None)
    f.add_argument("--patience", type=int, default=3)
    f.add_argument("--no-augment", action="store_true")
    f.add_argument("--no-spec-augment", action="store_true")
    f.add_argument("--cached-views", type=int, default=2)
    f.add_argument("--lora-rank", type=int, default=16)
    f.add_argument("--lora-decoder-only", action="store_true",
                   help="adapt only the decoder (the encoder is then frozen and cached)")
    f.add_argument("--freeze-embeddings", action="store_true",
                   help="keep the token embeddings (and the tied output layer) as they are")
    f.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    f.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"))
    f.add_argument("--threads", type=int, default=0)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--language", default=None)
    f.add_argument("--reference", type=Path, default=None,
                   help="a general manifest.jsonl (audio, text) scored before and after")
    f.add_argument("--models-dir", type=Path, default=None)
    f.add_argument("--no-register", action="store_true")
    f.add_argument("--force", action="store_true", help="replace a model with the same name")
    f.set_defaults(func=_finetune)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m training``."""
    parser = argparse.ArgumentParser(prog="python -m training",
                                     description="desktop-asr's fine-tuning subprocess")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _dataset_parser(sub)
    _finetune_parser(sub)
    return parser


def _validate(args: argparse.Namespace) -> int:
    from training.validate import validate_dataset

    result = validate_dataset(args.folder)
    if args.json:
        print(json.dumps({"folder": str(result.dataset.folder), "items": len(result.dataset.items),
                          "usable": len(result.usable), "seconds": round(result.seconds, 2),
                          "summary": result.summary(),
                          "problems": [p.to_dict() for p in result.problems]}))
    else:
        for problem in result.problems:
            print(problem)
        print(result.summary())
    return 1 if result.errors else 0


def _import(args: argparse.Namespace) -> int:
    from training.dataset_import import import_any

    result = import_any(args.source, args.dataset, speaker=args.speaker)
    for skipped in result.skipped:
        print(skipped, file=sys.stderr)
    print(result.summary())
    return 0 if result.added or not result.skipped else 1


def _import_edits(args: argparse.Namespace) -> int:
    from desktop_asr.export import load_json
    from training.dataset_edits import import_edits

    originals = {}
    for path in args.original:
        transcript = load_json(Path(path).read_text(encoding="utf-8"))
        if transcript.source:
            originals[Path(transcript.source).resolve()] = transcript
    result = import_edits(args.dataset, sessions_root=args.sessions, originals=originals,
                          include_unedited=args.all_segments, speaker=args.speaker)
    for skipped in result.skipped:
        print(skipped, file=sys.stderr)
    print(result.summary())
    return 0


def _record(args: argparse.Namespace) -> int:
    from desktop_asr.capture import DeviceSource, FileSource
    from training.dataset_record import record_prompts
    from training.prompts import load_prompts, vocabulary_prompts

    prompts = load_prompts(args.prompts) if args.prompts else []
    terms = [t for t in args.vocabulary.split(",") if t.strip()]
    prompts = vocabulary_prompts(terms) + prompts
    if args.limit is not None:
        prompts = prompts[:args.limit]

    def source():
        if args.source:
            return FileSource(args.source, speed=0)
        return DeviceSource(args.device)

    def play(path: Path) -> None:
        from desktop_asr.audio.playback import Player

        player = Player(path)
        try:
            player.play(0.0, 3600.0)
            player.wait(60)
        finally:
            player.close()

    result = record_prompts(args.dataset, prompts, source, speaker=args.speaker,
                            stop_on_enter=args.source is None, play=play)
    print(f"saved {len(result.saved)} clip(s) to {args.dataset}")
    return 0


def _train_config(args: argparse.Namespace):
    from training.config import NO_AUGMENT, Augment, TrainConfig

    augment = NO_AUGMENT if args.no_augment else Augment(
        spec_augment=not args.no_spec_augment, cached_views=args.cached_views)
    return TrainConfig(
        data=args.data, name=args.name, base=args.base, method=args.method,
        epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size,
        grad_accum=args.grad_accum, lr=args.lr, warmup_steps=args.warmup_steps,
        dev_fraction=args.dev_fraction, test_fraction=args.test_fraction,
        eval_every=args.eval_every, patience=args.patience, augment=augment,
        lora_rank=args.lora_rank, lora_alpha=2 * args.lora_rank,
        lora_decoder_only=args.lora_decoder_only, freeze_embeddings=args.freeze_embeddings,
        device=args.device, precision=args.precision, threads=args.threads, seed=args.seed,
        language=args.language, reference=args.reference, models_dir=args.models_dir,
        register=not args.no_register, force=args.force)


def _finetune(args: argparse.Namespace) -> int:
    from training.job import run_job
    from training.progress import Reporter
    from training.whisper_train import Cancelled

    reporter = Reporter()
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():  # asked twice: the job is stuck somewhere; stop now
            raise KeyboardInterrupt
        log.warning("signal %d: cancelling at the next step", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        config = _train_config(args)
        done = run_job(config, reporter, stop.is_set)
    except (Cancelled, KeyboardInterrupt):
        reporter.emit("cancelled", message="cancelled; no model was installed")
        return CANCELLED_STATUS
    except (DesktopAsrError, ValueError, FileNotFoundError) as exc:
        reporter.emit("error", message=str(exc))
        print(f"training: error: {exc}", file=sys.stderr)
        return 1
    reporter.emit("done", **done)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m training``; returns the exit status."""
    args = build_parser().parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except DesktopAsrError as exc:
        print(f"training: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("training: interrupted", file=sys.stderr)
        return CANCELLED_STATUS
