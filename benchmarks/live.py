"""Live captioning benchmark: streaming WER vs offline WER, word latency, lag, CPU, long session.

Each clip of the manifest is replayed through the full live pipeline (FileSource in real time
-> VAD -> streaming decoder -> stabiliser), as a microphone would deliver it. Usage:

    python benchmarks/live.py --manifest ../shared/testdata/speech/manifest.jsonl
    python benchmarks/live.py --long-minutes 30 --long-speed 8     # long-session run
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_MANIFEST, load_manifest, machine, table  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _onset(audio: np.ndarray) -> float:
    """First moment the signal rises clearly above its quiet floor (speech onset)."""
    frames = audio[: audio.size // 160 * 160].reshape(-1, 160)
    rms = np.sqrt((frames ** 2).mean(axis=1) + 1e-12)
    floor = np.percentile(rms, 10)
    loud = np.nonzero(rms > max(4 * floor, 0.01))[0]
    return float(loud[0] * 0.01) if loud.size else 0.0


def _rss_mib() -> float:
    """Current resident memory of this process in MiB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _rttm_onset(path: Path) -> float:
    """Start of the first speaker turn in an RTTM file."""
    return min(float(line.split()[3]) for line in path.read_text().splitlines() if line.strip())


def run_clip(engine, path: Path, speed: float, options):  # noqa: ANN001, ANN201
    """Replay one file through the pipeline; returns text, updates, timing, status."""
    from desktop_asr.capture.file_source import FileSource
    from desktop_asr.streaming import LivePipeline

    updates, statuses = [], []
    source = FileSource(path, speed=speed)
    pipe = LivePipeline(source, engine, options, on_update=updates.append,
                        on_status=statuses.append)
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    pipe.start()
    pipe.wait()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return pipe.transcript.transcript().text, updates, wall, cpu, statuses


def main() -> int:
    """Run the benchmark and print its tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = real time)")
    ap.add_argument("--clips", type=int, default=0, help="only the first N clips (0 = all)")
    ap.add_argument("--long-minutes", type=float, default=0.0,
                    help="also run a long session of this many minutes of looped clips")
    ap.add_argument("--long-speed", type=float, default=1.5)
    ap.add_argument("--long-only", action="store_true", help="skip the per-clip table")
    args = ap.parse_args()

    from desktop_asr.audio import decode_audio
    from desktop_asr.engines import DecodeOptions, EngineConfig, create_engine
    from desktop_asr.evaluation import score
    from desktop_asr.models import bundled_model_path
    from desktop_asr.streaming import LiveOptions

    engine = create_engine("faster-whisper", EngineConfig(model=str(bundled_model_path()),
                                                          device="cpu", cpu_threads=2))
    options = LiveOptions()
    clips = [c for c in load_manifest(args.manifest)
             if c.text and (c.language or "en").startswith("en")]
    if args.long_only:
        long_session(engine, options, clips, args.long_minutes or 30.0, args.long_speed)
        return 0
    if args.clips:
        clips = clips[: args.clips]
    rows, refs, live_hyps, off_hyps = [], [], [], []
    all_lat, all_first, lags, cpu_total, wall_total = [], [], [], 0.0, 0.0
    for clip in clips:
        audio = decode_audio(clip.audio)
        offline = " ".join(s.text for s in engine.transcribe(
            audio, options=DecodeOptions(beam_size=5, vad_filter=True)))
        text, updates, wall, cpu, statuses = run_clip(engine, clip.audio, args.speed, options)
        lat = [u.emitted * args.speed - w.end for u in updates if u.kind == "final"
               for w in u.segment.words]
        onset = _rttm_onset(clip.rttm) if clip.rttm else _onset(audio)
        first = next((u.emitted * args.speed - onset for u in updates
                      if u.kind == "partial" and u.segment.text.strip()), float("nan"))
        refs.append(clip.text)
        live_hyps.append(text)
        off_hyps.append(offline)
        all_lat += lat
        all_first.append(first)
        lags += [s.lag for s in statuses]
        cpu_total += cpu
        wall_total += wall
        rows.append([clip.audio.name, f"{audio.size / 16000:.1f}",
                     f"{100 * score([clip.text], [offline]).wer:.1f}",
                     f"{100 * score([clip.text], [text]).wer:.1f}",
                     f"{_pct(lat, 50):.2f}", f"{_pct(lat, 90):.2f}",
                     f"{max(lat) if lat else float('nan'):.2f}", f"{first:.2f}",
                     f"{max((s.lag for s in statuses), default=0):.2f}",
                     f"{100 * cpu / wall / 2:.0f}"])
    off = score(refs, off_hyps)
    live = score(refs, live_hyps)
    rows.append(["**overall**", "", f"{100 * off.wer:.1f}", f"{100 * live.wer:.1f}",
                 f"{_pct(all_lat, 50):.2f}", f"{_pct(all_lat, 90):.2f}",
                 f"{max(all_lat):.2f}", f"{statistics.median(all_first):.2f}",
                 f"{max(lags, default=0):.2f}", f"{100 * cpu_total / wall_total / 2:.0f}"])
    print("# Live captioning benchmark: bundled tiny.en, CPU int8, 2 threads")
    print(f"machine: {machine()}")
    print(f"replay speed {args.speed}x; latency = emission time - word end time in the audio "
          f"(seconds of audio time); first = first tentative text after speech onset; "
          f"CPU = share of 2 cores\n")
    print(table(["clip", "s", "offline WER %", "live WER %", "lat p50", "lat p90", "lat max",
                 "first", "max lag", "CPU %"], rows))
    ratio = live.wer / off.wer if off.wer else float("inf")
    print()
    print(table(["check", "target", "measured", "result"], [
        ["streaming WER / offline WER", "<= 1.15", f"{ratio:.2f}",
         "met" if ratio <= 1.15 else "NOT met"],
        ["committed-word latency median", "<= 1.0 s", f"{_pct(all_lat, 50):.2f}",
         "met" if _pct(all_lat, 50) <= 1.0 else "NOT met"],
        ["committed-word latency p90", "<= 2.0 s", f"{_pct(all_lat, 90):.2f}",
         "met" if _pct(all_lat, 90) <= 2.0 else "NOT met"],
        ["first tentative after onset (median)", "<= 0.6 s",
         f"{statistics.median(all_first):.2f}",
         "met" if statistics.median(all_first) <= 0.6 else "NOT met"],
    ]))
    if args.long_minutes > 0:
        long_session(engine, options, clips, args.long_minutes, args.long_speed)
    return 0


def long_session(engine, options, clips, minutes: float, speed: float) -> None:  # noqa: ANN001
    """Loop the clips into one long stream and report latency and memory per tenth."""
    import tempfile

    import av  # noqa: F401  (PyAV writes the long file)

    from desktop_asr.audio import decode_audio
    from desktop_asr.capture.file_source import FileSource
    from desktop_asr.streaming import LivePipeline

    pieces, total = [], 0.0
    gap = np.zeros(8000, np.float32)
    while total < minutes * 60:
        for clip in clips:
            a = decode_audio(clip.audio)
            pieces += [a, gap]
            total += (a.size + gap.size) / 16000
            if total >= minutes * 60:
                break
    audio = np.concatenate(pieces)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        import wave
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
        # Only (word end, latency) pairs are kept: holding every update object, as the per-clip
        # runs do, adds tens of MiB over 30 minutes to the growth the RSS column is meant to
        # show, the pipeline's own.
        latencies: list[tuple[float, float]] = []
        marks = []

        def on_update(update) -> None:  # noqa: ANN001
            if update.kind == "final":
                latencies.extend((w.end, update.emitted * speed - w.end)
                                 for w in update.segment.words)

        def on_status(status) -> None:  # noqa: ANN001
            marks.append((status.audio_seconds, _rss_mib(), status.lag))

        source = FileSource(path, speed=speed)
        pipe = LivePipeline(source, engine, options, on_update=on_update,
                            on_status=on_status)
        pipe.start()
        pipe.wait()
    duration = audio.size / 16000
    rows = []
    for k in range(10):
        lo, hi = duration * k / 10, duration * (k + 1) / 10
        lat = [late for end, late in latencies if lo <= end < hi]
        mem = [m[1] for m in marks if lo <= m[0] < hi]
        lag = [m[2] for m in marks if lo <= m[0] < hi]
        rows.append([f"{lo / 60:.0f}-{hi / 60:.0f} min", f"{_pct(lat, 50):.2f}",
                     f"{_pct(lat, 90):.2f}", f"{max(lag, default=0) * speed:.2f}",
                     f"{max(mem, default=0):.0f}"])
    print(f"\n## Long session: {duration / 60:.1f} min of looped clips at {speed}x "
          f"(latency in audio seconds)\n")
    print(table(["stretch", "lat p50", "lat p90", "max lag", "max RSS MiB"], rows))


if __name__ == "__main__":
    raise SystemExit(main())
