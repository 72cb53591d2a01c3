"""``desktop-asr evaluate``: score models on a manifest of labelled recordings, write a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from desktop_asr.cli.progress import bar
from desktop_asr.engines import DEFAULT_ENGINE, engine_names
from desktop_asr.errors import DesktopAsrError
from desktop_asr.evaluation import (EvaluationOptions, EvaluationProgress, EvaluationResult,
                                    ModelSpec, evaluate, parse_model_spec, read_manifest,
                                    write_report)
from desktop_asr.evaluation.results import DEFAULT_BINS
from desktop_asr.models import BUNDLED_NAME

_MIB = 2 ** 20


class _EngineAction(argparse.Action):
    """--engine sets the engine of the --model options that follow it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        namespace.engine = values
        namespace.engine_pending = values


class _ModelAction(argparse.Action):
    """--model appends (engine in force, value); an ENGINE: prefix overrides the engine."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        namespace.models = [*(namespace.models or []), (namespace.engine, values)]
        namespace.engine_pending = None


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the evaluate subcommand."""
    engines = engine_names()
    p = sub.add_parser(
        "evaluate", help="measure models on labelled recordings (WER, CER, DER, report)",
        description="Decode every clip of a manifest with one or more models and score them: "
                    "WER, CER, MER, WIL with substitution/deletion/insertion counts, RTF, peak "
                    "memory, breakdowns by duration and speaker, DER for clips with an RTTM, "
                    "and an error analysis. Writes report.html, report.md (with PNG plots) and "
                    "results.json to --out and prints the summary table.",
        epilog="Manifest: one JSON object per line, e.g. {\"audio\": \"a.wav\", \"text\": "
               "\"reference words\", \"language\": \"en\", \"speaker\": \"anna\", "
               "\"speakers\": 1, \"rttm\": \"a.rttm\"}; paths relative to the manifest. "
               "Models: --model tiny.en --model /path/to/model --model ENGINE:NAME, or "
               "--engine ENGINE --model NAME pairs (an --engine applies to the --model "
               "options after it).")
    p.add_argument("--manifest", required=True, type=Path, metavar="M.jsonl",
                   help="manifest of audio files with reference text (JSON lines)")
    p.add_argument("-m", "--model", dest="models", action=_ModelAction, default=[],
                   metavar="[ENGINE:]NAME|PATH",
                   help=f"a model to evaluate; repeat for side-by-side columns (default: the "
                        f"bundled {BUNDLED_NAME})")
    p.add_argument("--engine", action=_EngineAction, choices=engines, default=DEFAULT_ENGINE,
                   help=f"engine of the --model options after it (default: {DEFAULT_ENGINE}; "
                        f"known: {', '.join(engines)})")
    p.set_defaults(engine_pending=None)
    p.add_argument("-o", "--out", default=".", type=Path, metavar="DIR",
                   help="folder for report.html, report.md, its PNGs and results.json "
                        "(default: current folder)")
    p.add_argument("--raw", action="store_true",
                   help="score the text as written (case and punctuation count) instead of "
                        "after Whisper's English normaliser")
    p.add_argument("--no-der", action="store_true",
                   help="do not diarize the clips that have an RTTM")
    p.add_argument("--oracle-speakers", action="store_true",
                   help="give the diarizer the manifest's speaker count instead of estimating it")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where to run the models (default: auto)")
    p.add_argument("--compute-type", default="auto", help="precision (default: auto)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: automatic)")
    p.add_argument("--beam-size", type=int, default=5, help="beam size (default: 5)")
    p.add_argument("--no-vad", action="store_true", help="decode without voice detection")
    p.add_argument("--bins", default=",".join(f"{b:g}" for b in DEFAULT_BINS), metavar="S,S,...",
                   help="utterance-duration bin edges in seconds (default: %(default)s)")
    p.add_argument("--worst", type=int, default=5, metavar="N",
                   help="worst files listed per model (default: 5)")
    p.add_argument("--plots", type=int, default=3, metavar="N",
                   help="worst files plotted per model: waveform, log-mel, MFCC (default: 3)")
    p.add_argument("--no-plots", action="store_true", help="tables only, no figures")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def model_specs(pairs: Sequence[tuple[str | None, str]], pending: str | None,
                default_engine: str = DEFAULT_ENGINE) -> list[ModelSpec]:
    """ModelSpecs from the (engine in force, --model value) pairs; ValueError when unusable."""
    engines = engine_names()
    if not pairs:
        return [ModelSpec(pending or default_engine, BUNDLED_NAME)]
    if pending is not None:
        raise ValueError(f"--engine {pending} is not followed by a --model")
    return [parse_model_spec(value, engines, engine or default_engine) for engine, value in pairs]


def parse_bins(text: str) -> tuple[float, ...]:
    """'2,5,10' as bin edges in seconds."""
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--bins takes comma-separated seconds, got {text!r}") from None


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    rule = "|" + "|".join("-" * (w + 1) + ("-" if i == 0 else ":")
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def summary_text(result: EvaluationResult) -> str:
    """The summary table printed on stdout: WER, CER, MER (and WIL) as percentages."""
    rows = []
    for m in result.models:
        t = m.total
        if t is None:
            rows.append([m.spec.label, "0", "-", "-", "-", "-", "-", "-", "-"])
            continue
        peak = f"{m.memory.peak_rss / _MIB:.0f}" if m.memory else "-"
        rows.append([m.spec.label, str(len(m.scored)), f"{100 * t.wer:.1f}",
                     f"{100 * t.cer:.1f}", f"{100 * t.mer:.1f}", f"{100 * t.wil:.1f}",
                     f"{t.substitutions}/{t.deletions}/{t.insertions}",
                     f"{m.rtf:.3f}" if m.rtf is not None else "-", peak])
    text = _table(["model", "clips", "WER %", "CER %", "MER %", "WIL %", "S/D/I", "RTF",
                   "peak MiB"], rows)
    scored = [d for d in result.diarization if d.score is not None]
    if scored:
        text += "\n\n" + _table(
            ["clip (DER)", "DER %", "missed %", "false alarm %", "confusion %",
             "speakers found/ref"],
            [[d.entry.id, f"{100 * d.score.der:.1f}", f"{100 * d.score.missed:.1f}",
              f"{100 * d.score.false_alarm:.1f}", f"{100 * d.score.confusion:.1f}",
              f"{d.score.hypothesis_speakers}/{d.score.reference_speakers}"]
             for d in scored if d.score is not None])
    return text


def _error(message: str) -> None:
    print(f"desktop-asr: error: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Execute ``desktop-asr evaluate``."""
    try:
        specs = model_specs(args.models, args.engine_pending)
        options = EvaluationOptions(raw=args.raw, device=args.device,
                                    compute_type=args.compute_type, cpu_threads=args.threads,
                                    beam_size=args.beam_size, vad_filter=not args.no_vad,
                                    der=not args.no_der, oracle_speakers=args.oracle_speakers,
                                    duration_bins=parse_bins(args.bins), worst=args.worst,
                                    plots=args.plots)
    except ValueError as exc:
        _error(str(exc))
        return 2
    try:
        manifest = read_manifest(args.manifest)
    except OSError as exc:
        _error(f"cannot read manifest {args.manifest}: {exc.strerror or exc}")
        return 2
    for problem in manifest.problems:
        _error(str(problem))
    if not manifest.entries:
        _error(f"nothing to evaluate in {args.manifest}")
        return 2
    out = Path(args.out).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _error(f"cannot create output folder {out}: {exc.strerror or exc}")
        return 2
    show = not args.quiet and sys.stderr.isatty()
    progress_bar = bar(desc="evaluating", total=1, disable=not show, unit="clip")

    def on_progress(event: EvaluationProgress) -> None:
        progress_bar.total = event.total
        progress_bar.set_description_str(f"{event.model} {event.clip}"[:40])
        progress_bar.update(event.done - progress_bar.n)

    try:
        result = evaluate(manifest, specs, options, progress=on_progress)
    finally:
        progress_bar.close()
    for model in result.models:
        if model.error:
            _error(model.error)
        for clip in model.clips:
            if clip.skipped:
                print(f"desktop-asr: skipped {clip.entry.id} (line {clip.entry.line}): "
                      f"{clip.skipped}", file=sys.stderr)
    for problem in result.problems[len(manifest.problems):]:
        _error(str(problem))
    try:
        files = write_report(result, out, plots=not args.no_plots)
    except (OSError, DesktopAsrError) as exc:
        _error(f"cannot write the report to {out}: {exc}")
        print(summary_text(result))
        return 1
    print(summary_text(result))
    print(f"\nreport: {files.html}  {files.markdown}  (data: {files.json})")
    return 1 if result.failed else 0
