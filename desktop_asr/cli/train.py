"""``desktop-asr train``: fine-tune a model on a dataset, in the training subprocess.

Starts ``python -m training finetune`` (the core never imports ``training``), reads its
JSON-lines progress and shows a progress bar, dev WER and the before/after table. Ctrl-C sends
the job SIGINT; it stops at the next step and installs nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from desktop_asr.cli.dataset import training_command


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the train subcommand."""
    p = sub.add_parser("train", help="fine-tune a model on a dataset and install it",
                       description="Fine-tune Whisper (or a wav2vec2 / Conformer-CTC model) on a "
                                   "dataset, score it before and after, export it for the live "
                                   "engine and install it under --name.")
    p.add_argument("--data", type=Path, required=True, help="dataset folder")
    p.add_argument("--name", required=True, help="name to install the new model under")
    p.add_argument("--base", default="tiny.en",
                   help="model to start from: tiny.en, an installed model, or a folder")
    p.add_argument("--method", default="lora", choices=("lora", "full", "freeze-encoder"))
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=float, default=None, help="passes over the data "
                                                                   "(default 5)")
    length.add_argument("--max-steps", type=int, default=None, help="optimiser steps")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation steps")
    p.add_argument("--lr", type=float, default=None, help="learning rate (method default)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"))
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: automatic)")
    p.add_argument("--reference", type=Path, default=None,
                   help="a general manifest.jsonl scored before and after, to catch forgetting")
    p.add_argument("--no-augment", action="store_true", help="no speed/noise/SpecAugment")
    p.add_argument("--force", action="store_true", help="replace a model with the same name")
    p.add_argument("--use-live", action="store_true",
                   help="make the new model the app's model for live captions and files")
    p.add_argument("--jsonl", action="store_true", help="print the job's JSON-lines progress")
    p.set_defaults(func=run)


def job_args(args: argparse.Namespace) -> list[str]:
    """Arguments of ``python -m training finetune`` for these CLI options."""
    cmd = ["finetune", "--data", str(args.data), "--name", args.name, "--base", args.base,
           "--method", args.method, "--batch-size", str(args.batch_size),
           "--grad-accum", str(args.grad_accum), "--device", args.device,
           "--precision", args.precision, "--threads", str(args.threads)]
    for flag, value in (("--epochs", args.epochs), ("--max-steps", args.max_steps),
                        ("--lr", args.lr), ("--reference", args.reference)):
        if value is not None:
            cmd += [flag, str(value)]
    if args.no_augment:
        cmd.append("--no-augment")
    if args.force:
        cmd.append("--force")
    return cmd


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f} %"


def render(event: dict[str, Any], out: TextIO) -> None:
    """Show one progress event on a terminal."""
    kind = event.get("event")
    if kind == "phase":
        out.write(f"\n{event['message']}\n")
    elif kind == "step":
        total = max(1, int(event["total_steps"]))
        filled = int(30 * event["step"] / total)
        out.write(f"\r  [{'#' * filled}{'.' * (30 - filled)}] step {event['step']}/{total}  "
                  f"loss {event['loss']:.3f}  ETA {event.get('eta') or 0:.0f} s   ")
    elif kind == "eval":
        out.write(f"\n  dev WER {_pct(event['dev_wer'])} (best {_pct(event['best_dev_wer'])} "
                  f"at step {event['best_step']})\n")
    elif kind == "dataset":
        out.write(f"dataset: {event['summary']}\n")
    elif kind == "done":
        metrics = event.get("metrics") or {}
        out.write(f"\ninstalled {event['model']} at {event['path']}\n")
        for key, label in (("held_out", "held-out"), ("reference", "reference")):
            b = (metrics.get("before") or {}).get(key)
            a = (metrics.get("after") or {}).get(key)
            if b and a:
                line = f"  {label} WER {_pct(b['wer'])} -> {_pct(a['wer'])}"
                if b.get("term_error_rate") is not None:
                    line += (f"; vocabulary errors {_pct(b['term_error_rate'])} -> "
                             f"{_pct(a['term_error_rate'])}")
                out.write(line + "\n")
    elif kind == "cancelled":
        out.write(f"\n{event['message']}\n")
    elif kind == "error":
        out.write(f"\ndesktop-asr: error: {event['message']}\n")
    out.flush()


def _pump(proc: subprocess.Popen, args: argparse.Namespace, state: dict[str, Any]) -> None:
    """Show (or pass on) the job's events until its stdout closes."""
    assert proc.stdout is not None
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if args.jsonl:
            sys.stdout.write(line)
            sys.stdout.flush()
        else:
            render(event, sys.stdout)
        if event.get("event") == "done":
            state["done"] = event


def run(args: argparse.Namespace) -> int:
    """Execute ``desktop-asr train``."""
    proc = subprocess.Popen(training_command(*job_args(args)), stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    state: dict[str, Any] = {}
    try:
        _pump(proc, args, state)
    except KeyboardInterrupt:
        # The job is in the terminal's process group, so it got the same SIGINT and stops at
        # its next step; a second Ctrl-C reaches it too and stops it at once.
        print("\nstopping the training job (Ctrl-C again to stop it at once)…",
              file=sys.stderr)
        while True:
            try:
                _pump(proc, args, state)
                break
            except KeyboardInterrupt:
                continue
    status = proc.wait()
    done = state.get("done")
    if status == 0 and done is not None and args.use_live:
        from desktop_asr.settings import load_settings, save_settings

        save_settings(replace(load_settings(), model=str(done["model"])))
        print(f"{done['model']} is now the model for live captions and files")
    return status
