"""WER / CER / RTF / memory of `desktop-asr transcribe` next to faster-whisper called directly.

Two worker processes load the same model with the same decoding options; clips are sent to them
alternately (A, B, A, B ...) so machine noise hits both alike. Each worker reports its own peak
RSS. Usage:

    python benchmarks/wer.py --manifest ../shared/testdata/speech/manifest.jsonl [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_MANIFEST, load_manifest, machine, table  # noqa: E402

BEAM = 5
THREADS = 2


def _worker(kind: str, model: str, conn) -> None:  # noqa: ANN001
    """Serve transcription requests over a pipe until told to stop."""
    if kind == "direct":
        from faster_whisper import WhisperModel

        fw = WhisperModel(model, device="cpu", compute_type="int8", cpu_threads=THREADS)

        def run(path: str) -> str:
            segments, _ = fw.transcribe(path, beam_size=BEAM, vad_filter=True)
            return " ".join(s.text.strip() for s in segments)
    else:
        from desktop_asr.batch import transcribe_files
        from desktop_asr.engines import DecodeOptions, EngineConfig, create_engine
        from desktop_asr.export import load_json

        engine = create_engine("faster-whisper", EngineConfig(model=model, device="cpu",
                                                              compute_type="int8",
                                                              cpu_threads=THREADS))
        options = DecodeOptions(beam_size=BEAM, vad_filter=True)
        out = Path(tempfile.mkdtemp(prefix="bench-wer-"))

        def run(path: str) -> str:
            (result,) = transcribe_files(engine, [Path(path)], out_dir=out, formats=["json"],
                                         options=options)
            if not result.ok:
                raise RuntimeError(result.error)
            return load_json(result.outputs[0].read_text(encoding="utf-8")).text
    conn.send("ready")
    while True:
        msg = conn.recv()
        if msg is None:
            conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
            return
        t0 = time.perf_counter()
        text = run(msg)
        conn.send((text, time.perf_counter() - t0))


def main() -> int:
    """Run the benchmark and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats per clip (median)")
    ap.add_argument("--model", default=None, help="model folder (default: bundled tiny.en)")
    args = ap.parse_args()

    from desktop_asr.evaluation import score
    from desktop_asr.models import bundled_model_path

    model = args.model or str(bundled_model_path())
    clips = [c for c in load_manifest(args.manifest)
             if c.text and (c.language or "en").startswith("en")]
    ctx = mp.get_context("spawn")
    workers = {}
    for kind in ("direct", "app"):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(kind, model, child), daemon=True)
        proc.start()
        assert parent.recv() == "ready"
        workers[kind] = (proc, parent)

    from desktop_asr.audio import probe_audio
    rows, totals = [], {k: {"time": 0.0, "refs": [], "hyps": []} for k in workers}
    audio_total = 0.0
    for clip in clips:
        duration = probe_audio(clip.audio).duration or 0.0
        audio_total += duration
        per: dict[str, tuple[str, float]] = {}
        times: dict[str, list[float]] = {k: [] for k in workers}
        for _ in range(args.repeats):
            for kind, (_, conn) in workers.items():
                conn.send(str(clip.audio))
                text, seconds = conn.recv()
                per[kind] = (text, seconds)
                times[kind].append(seconds)
        cells = [clip.audio.name, f"{duration:.1f}"]
        counts = {}
        for kind in workers:
            text = per[kind][0]
            med = statistics.median(times[kind])
            totals[kind]["time"] += med
            totals[kind]["refs"].append(clip.text)
            totals[kind]["hyps"].append(text)
            counts[kind] = (score([clip.text], [text]), med)
        d, a = counts["direct"], counts["app"]
        cells += [f"{100 * d[0].wer:.1f}", f"{100 * a[0].wer:.1f}",
                  f"{a[0].substitutions}/{a[0].deletions}/{a[0].insertions}",
                  f"{100 * a[0].cer:.1f}", f"{d[1] / duration:.3f}", f"{a[1] / duration:.3f}"]
        rows.append(cells)
    peaks = {}
    for kind, (proc, conn) in workers.items():
        conn.send(None)
        peaks[kind] = conn.recv()
        proc.join(timeout=30)
    overall = {k: score(v["refs"], v["hyps"]) for k, v in totals.items()}
    rtf = {k: totals[k]["time"] / audio_total for k in totals}
    rows.append(["**overall**", f"{audio_total:.1f}", f"{100 * overall['direct'].wer:.1f}",
                 f"{100 * overall['app'].wer:.1f}",
                 f"{overall['app'].substitutions}/{overall['app'].deletions}/"
                 f"{overall['app'].insertions}", f"{100 * overall['app'].cer:.1f}",
                 f"{rtf['direct']:.3f}", f"{rtf['app']:.3f}"])

    # The whole CLI once over every clip: process start, model load and all, for a user's view.
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "desktop_asr", "transcribe", "-q", "-o", tmp,
                              "-f", "json", "--threads", str(THREADS), "--model", model,
                              *[str(c.audio) for c in clips]], capture_output=True, text=True)
        cli_wall = time.perf_counter() - t0

    print(f"# WER benchmark: bundled tiny.en, beam {BEAM}, VAD on, CPU int8, {THREADS} threads")
    print(f"machine: {machine()}")
    print(f"clips: {len(clips)} English clips with references from {args.manifest}; "
          f"timings are the median of {args.repeats} alternating runs\n")
    print(table(["clip", "audio s", "WER direct %", "WER app %", "S/D/I app", "CER app %",
                 "RTF direct", "RTF app"], rows))
    print()
    wer_gap = 100 * (overall["app"].wer - overall["direct"].wer)
    ratio = rtf["app"] / rtf["direct"]
    print(table(["check", "target", "measured", "result"], [
        ["WER app - direct (points)", "within ±0.5", f"{wer_gap:+.2f}",
         "met" if abs(wer_gap) <= 0.5 else "NOT met"],
        ["RTF app / direct", "<= 1.10", f"{ratio:.3f}", "met" if ratio <= 1.10 else "NOT met"],
        ["peak RSS direct / app (MiB)", "-", f"{peaks['direct'] / 2**20:.0f} / "
                                              f"{peaks['app'] / 2**20:.0f}", "-"],
        ["whole CLI run, all clips (s wall)", "-",
         f"{cli_wall:.1f} for {audio_total:.0f}s audio (exit {cli.returncode})", "-"],
    ]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
