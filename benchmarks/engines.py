"""Every available engine on the real-speech clips: WER, CER, RTF, peak memory, load time.

Each engine runs in its own worker process (so its peak RSS is its own) with the app's default
decoding options (beam 5, VAD filter, temperature fallback), 2 CPU threads, on the English clips
of the manifest that have a reference. Engines come from the registry: an engine that names a
default local checkpoint is run on it; others need ``--engine NAME=MODEL`` and are listed as
skipped otherwise. ``--compare`` adds the conversion check of issue 6: the bundled tiny.en
converted to transformers against faster-whisper on the original (greedy, same options), and the
round trip back through CTranslate2's converter. Usage:

    python benchmarks/engines.py [--manifest ...] [--engine NAME=MODEL ...] [--compare]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_MANIFEST, Clip, load_manifest, machine, table  # noqa: E402

THREADS = 2
_MIB = 1024.0  # ru_maxrss is in KiB on Linux


def english_clips(manifest: Path) -> list[Clip]:
    """Clips with a reference transcript in English."""
    return [c for c in load_manifest(manifest)
            if c.text and (c.language or "en").startswith("en") and c.audio.is_file()]


def _worker(name: str, model: str, manifest: Path) -> dict:
    """Load one engine, transcribe every clip, report texts, times and peak memory."""
    from desktop_asr.audio import decode_audio
    from desktop_asr.batch import transcribe_audio
    from desktop_asr.engines import DecodeOptions, EngineConfig, create_engine, engine_backend
    from desktop_asr.models import ModelManager

    clips = english_clips(manifest)
    audio = [decode_audio(c.audio) for c in clips]
    manager = ModelManager()
    # "load" is the model: the engine's own backend is imported before the clock starts (and
    # only that one, so the peak memory is the engine's)
    importlib.import_module(engine_backend(name))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _MIB
    started = time.perf_counter()
    config = EngineConfig(model=manager.model_for_engine(name, model), device="cpu",
                          cpu_threads=THREADS)
    engine = create_engine(name, config)
    load = time.perf_counter() - started
    engine.transcribe(audio[0][:16000 * 2])  # warm-up, not timed
    options = DecodeOptions(language="en" if "en" in engine.capabilities.languages else None)
    rows = []
    for clip, samples in zip(clips, audio):
        t0 = time.perf_counter()
        transcript = transcribe_audio(engine, samples, options)
        rows.append({"clip": clip.audio.name, "seconds": samples.size / 16000,
                     "elapsed": time.perf_counter() - t0, "text": transcript.text})
    return {"engine": name, "model": model, "info": f"{engine.info.device}/"
            f"{engine.info.compute_type}", "load": load, "rows": rows,
            "rss_before": rss_before,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _MIB}


def _run_worker(name: str, model: str, manifest: Path, timeout: float, home: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", name, model, "--manifest", str(manifest)]
    # a private data folder: conversions and downloads stay out of the user's own
    env = {**os.environ, "DESKTOP_ASR_HOME": str(home)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        # "package.ModelError: message" -> "message", short enough for a table cell
        reason = last.split("Error: ", 1)[-1]
        return {"engine": name, "model": model,
                "error": reason if len(reason) <= 90 else reason[:87] + "..."}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def engines_to_run(requested: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(engine, model) pairs to run and (engine, reason) pairs skipped."""
    from desktop_asr.engines import (engine_available, engine_default_model, engine_extra,
                                     engine_names)

    chosen = dict(item.split("=", 1) for item in requested)
    unknown = set(chosen) - set(engine_names())
    if unknown:
        raise SystemExit(f"unknown engine(s): {', '.join(sorted(unknown))}")
    run, skipped = [], []
    for name in engine_names():
        if not engine_available(name):
            skipped.append((name, f"not installed (desktop-asr[{engine_extra(name)}])"))
            continue
        model = chosen.get(name) or engine_default_model(name)
        if model is None:
            skipped.append((name, "no local checkpoint here; give --engine "
                                  f"{name}=MODEL"))
        else:
            run.append((name, model))
    return run, skipped


def engines_table(results: list[dict], skipped: list[tuple[str, str]], clips: list[Clip]) -> str:
    from desktop_asr.evaluation import score

    refs = {c.audio.name: c.text for c in clips}
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["engine"], r["model"], "-", "-", "-", "-", "-", "-",
                         f"failed: {r['error']}"])
            continue
        counts = score([refs[x["clip"]] for x in r["rows"]], [x["text"] for x in r["rows"]])
        audio = sum(x["seconds"] for x in r["rows"])
        elapsed = sum(x["elapsed"] for x in r["rows"])
        rows.append([r["engine"], r["model"], r["info"], f"{100 * counts.wer:.1f}",
                     f"{100 * counts.cer:.1f}", f"{elapsed / audio:.3f}",
                     f"{r['peak_rss']:.0f}", f"{r['load']:.1f}", ""])
    for name, reason in skipped:
        rows.append([name, "-", "-", "-", "-", "-", "-", "-", f"skipped: {reason}"])
    return table(["engine", "model", "device/precision", "WER %", "CER %", "RTF",
                  "peak RSS MiB", "load s", "note"], rows)


def compare_table(clips: list[Clip]) -> str:
    """Converted tiny.en (transformers) vs faster-whisper, and the CT2 round trip, per clip."""
    from desktop_asr.audio import decode_audio
    from desktop_asr.engines import DecodeOptions, EngineConfig, create_engine
    from desktop_asr.evaluation import normalizer_for, score
    from desktop_asr.models import ModelManager, bundled_model_path
    from desktop_asr.models.convert import export_ct2_whisper

    work = Path(tempfile.mkdtemp(prefix="bench-engines-"))
    started = time.perf_counter()
    converted = ModelManager(work / "models").transformers_whisper("tiny.en")
    convert_s = time.perf_counter() - started
    started = time.perf_counter()
    back = export_ct2_whisper(converted, work / "tiny.en-roundtrip", quantization="float16")
    export_s = time.perf_counter() - started
    greedy = DecodeOptions(beam_size=1, best_of=1, temperature=(0.0,), vad_filter=False)
    cpu = dict(device="cpu", cpu_threads=THREADS)
    original = create_engine("faster-whisper", EngineConfig(
        model=str(bundled_model_path()), compute_type="float32", **cpu))
    ours = create_engine("transformers-whisper", EngineConfig(model=str(converted), **cpu))
    roundtrip = create_engine("faster-whisper", EngineConfig(model=str(back),
                                                             compute_type="float32", **cpu))
    norm = normalizer_for("en")
    rows, same, identical = [], 0, 0
    for clip in clips:
        audio = decode_audio(clip.audio)
        texts = ["".join(s.text for s in e.transcribe(audio, options=greedy))
                 for e in (original, ours, roundtrip)]
        match = norm(texts[0]) == norm(texts[1])
        same += match
        identical += texts[0] == texts[2]
        wer = [100 * score([clip.text], [t]).wer for t in texts[:2]]
        rows.append([clip.audio.name, f"{audio.size / 16000:.1f}", f"{wer[0]:.1f}",
                     f"{wer[1]:.1f}", "yes" if match else "NO",
                     "yes" if texts[0] == texts[2] else "NO"])
    n = len(clips)
    rows.append(["**all clips**", "", "", "", f"{same}/{n} ({100 * same / n:.0f} %)",
                 f"{identical}/{n}"])
    head = (f"conversion {convert_s:.1f} s (CTranslate2 -> transformers, ours), export "
            f"{export_s:.1f} s (transformers -> CTranslate2 float16, CTranslate2's converter); "
            "greedy, no VAD, no fallback, CPU float32 on both sides\n\n")
    return head + table(["clip", "audio s", "WER faster-whisper %", "WER transformers %",
                         "same words", "round trip = original"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--engine", action="append", default=[], metavar="NAME=MODEL",
                        help="run NAME on MODEL (default: each engine's own local checkpoint)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only these engines")
    parser.add_argument("--compare", action="store_true",
                        help="also the per-clip conversion check (transformers vs CTranslate2)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per engine")
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker[0], args.worker[1], args.manifest)))
        return 0
    clips = english_clips(args.manifest)
    if not clips:
        print(f"no English clips with references in {args.manifest}", file=sys.stderr)
        return 2
    run, skipped = engines_to_run(args.engine)
    if args.only:
        skipped += [(n, "not selected (--only)") for n, _ in run if n not in args.only]
        run = [(n, m) for n, m in run if n in args.only]
    results = []
    home = Path(tempfile.mkdtemp(prefix="bench-engines-home-"))
    for name, model in run:
        if name == "transformers-whisper" and not Path(model).is_dir():
            # the one-time conversion runs before (in its own process: a child inherits its
            # parent's peak RSS), so the worker's load time and peak memory are the engine's
            subprocess.run([sys.executable, "-m", "desktop_asr", "models", "convert", model],
                           env={**os.environ, "DESKTOP_ASR_HOME": str(home)}, check=True,
                           capture_output=True, timeout=args.timeout)
    for name, model in run:
        print(f"running {name} on {model} ...", file=sys.stderr, flush=True)
        results.append(_run_worker(name, model, args.manifest, args.timeout, home))
    audio = sum((c.duration or 0.0) for c in clips)
    print(f"# Engines on real speech: {len(clips)} English clips, {audio:.0f} s of audio")
    print(f"machine: {machine()}; shared with other engineers' jobs, so RTF is noisy")
    print("app defaults: beam 5, VAD filter, temperature fallback, repetition filter; "
          f"{THREADS} CPU threads; WER after Whisper's English normaliser; load = model load "
          "with the backends already imported (a one-time conversion not included)\n")
    print(engines_table(results, skipped, clips))
    if args.compare:
        print("\n## Conversion check: bundled tiny.en as transformers vs CTranslate2\n")
        print(compare_table(clips))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
