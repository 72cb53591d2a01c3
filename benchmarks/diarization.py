"""DER of offline, online (live) and online + finalise diarization on every clip with an RTTM.

Two scorings with pyannote.metrics: collar 0 with overlapped speech scored (the strict one),
and a +/-0.25 s forgiveness collar (pyannote's ``collar=0.5``, the total width) with overlap
skipped (the NIST / DIHARD-style one). Missed speech, false alarm and speaker confusion are
split out (collar 0), with the speaker count found against the true one, and the real-time
factor of the diarization work alone (model already loaded and run once on the clip).

* offline: ``diarize`` on the decoded file.
* online: the clip is really streamed through the live pipeline (FileSource replay at
  ``--speed``, real time by default, with the speech decoder captioning at the same time);
  the turns are the live labels as frozen while streaming (LiveDiarizer.online_turns).
* online + finalise: the same session's finalise pass at stop.
* pyannote (with ``--pyannote-model``): offline; the finalise pass runs the same call on the
  same (kept, unchanged) audio, so its numbers are these.

A second table shows what live labels cost the captions: per-window embedding time, label
delay, and committed-word latency and decode RTF of the same clip captioned with and without
speaker labels. ``--shifts`` adds the offline DER with every region's embedding windows started
later by each shift (the regions, audio and settings unchanged: ``window_offset``), with the
mean and worst over the shifts and the default placement, and the speaker count found on every
single-speaker clip of the manifest at each placement. ``--offline-only`` skips the live runs.
Usage:

    python benchmarks/diarization.py [--manifest ../shared/testdata/speech/manifest.jsonl]
        [--num-speakers] [--speed 1] [--shifts 0.1,0.2,0.3,0.4] [--offline-only]
        [--pyannote-model FOLDER_OR_ID]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_MANIFEST, load_manifest, machine, table


def read_rttm(path: Path) -> list[tuple[float, float, str]]:
    """(start, end, speaker) of each SPEAKER line of an RTTM file."""
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            turns.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return turns


def annotation(turns, uri: str):
    """A pyannote.core Annotation of (start, end, speaker) turns."""
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, (start, end, speaker) in enumerate(turns):
        ann[Segment(start, end), i] = speaker
    return ann


def score(reference, hypothesis, duration: float) -> dict[str, float]:
    """DER (%) in both scorings plus the collar-0 components (% of reference speech)."""
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    uem = Timeline([Segment(0.0, duration)])
    strict = DiarizationErrorRate(collar=0.0, skip_overlap=False)(
        reference, hypothesis, uem=uem, detailed=True)
    lenient = DiarizationErrorRate(collar=0.5, skip_overlap=True)(reference, hypothesis, uem=uem)
    total = strict["total"] or 1.0
    return {"der": 100 * strict["diarization error rate"],
            "missed": 100 * strict["missed detection"] / total,
            "false_alarm": 100 * strict["false alarm"] / total,
            "confusion": 100 * strict["confusion"] / total,
            "der_lenient": 100 * lenient}


def _row(name: str, mode: str, turns, reference, seconds: float, true_count: int,
         spent: float) -> list[str]:
    hyp = [(t.start, t.end, t.speaker) for t in turns]
    s = score(annotation(reference, name), annotation(hyp, name), seconds)
    found = len({t.speaker for t in turns})
    return [name, mode, f"{s['der']:.1f}", f"{s['missed']:.1f}", f"{s['false_alarm']:.1f}",
            f"{s['confusion']:.1f}", f"{s['der_lenient']:.1f}", f"{found} / {true_count}",
            f"{spent / seconds:.3f}"]


def _stream(engine, path: Path, speed: float, speakers):
    """Caption ``path`` through the live pipeline; returns the pipeline, updates, wall time."""
    from desktop_asr.capture.file_source import FileSource
    from desktop_asr.streaming import LiveOptions, LivePipeline

    updates: list = []
    pipe = LivePipeline(FileSource(path, speed=speed), engine,
                        LiveOptions(speakers=speakers), on_update=updates.append)
    started = time.perf_counter()
    pipe.start()
    pipe.wait(timeout=600)
    return pipe, updates, time.perf_counter() - started


def _latencies(updates, speed: float) -> list[float]:
    return [u.emitted * speed - w.end for u in updates if u.kind == "final"
            for w in u.segment.words]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values \
        else float("nan")


def main() -> int:
    """Run the benchmark and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--num-speakers", action="store_true",
                    help="give the offline diarizer the true speaker count (oracle count)")
    ap.add_argument("--speed", type=float, default=1.0,
                    help="replay speed of the live runs (default 1 = real time)")
    ap.add_argument("--shifts", type=lambda v: [float(x) for x in v.split(",") if x],
                    default=[], metavar="S,S,...",
                    help="also score offline with the windows of each region shifted by these "
                         "seconds (e.g. 0.1,0.2,0.3,0.4): sensitivity to window placement")
    ap.add_argument("--offline-only", action="store_true",
                    help="score the offline pass (and --shifts) only, without the live runs")
    ap.add_argument("--pyannote-model", default=None, metavar="FOLDER_OR_ID",
                    help="also score this pyannote pipeline, offline and as the finalise pass")
    args = ap.parse_args()

    from desktop_asr.audio import SAMPLE_RATE, decode_audio
    from desktop_asr.diarization import DiarizationOptions, diarize
    from desktop_asr.diarization.embedding import load_encoder
    from desktop_asr.diarization.live import LiveSpeakerOptions
    from desktop_asr.engines import EngineConfig, create_engine
    from desktop_asr.models import bundled_model_path

    clips = [c for c in load_manifest(args.manifest) if c.rttm is not None and c.rttm.is_file()]
    if not clips:
        print(f"no clip with an RTTM in {args.manifest}", file=sys.stderr)
        return 1
    load_encoder()
    engine = create_engine("faster-whisper", EngineConfig(
        model=str(bundled_model_path()), device="cpu", compute_type="int8", cpu_threads=2))
    base = DiarizationOptions(backend="embedded", name_from_profiles=False)
    pyannote = (replace(base, backend="pyannote", pyannote_model=args.pyannote_model)
                if args.pyannote_model else None)
    rows, cost, robust = [], [], []
    for clip in clips:
        name = clip.audio.stem
        audio = decode_audio(clip.audio)
        seconds = audio.size / SAMPLE_RATE
        reference = read_rttm(clip.rttm)
        true_count = len({s for _, _, s in reference})
        opts = replace(base, num_speakers=true_count) if args.num_speakers else base
        # Warm-up on the whole clip: the first pass in a process costs about 3 s more (VAD
        # and encoder warm-up: 4.6 s against 1.8 s for pyannote_sample), not per file.
        diarize(audio, opts)
        started = time.perf_counter()
        offline = diarize(audio, opts)
        rows.append(_row(name, "offline", offline.turns, reference, seconds, true_count,
                         time.perf_counter() - started))
        ders = []
        for shift in [0.0, *args.shifts]:
            shifted = (offline if shift == 0 else
                       diarize(audio, replace(opts, window_offset=shift),
                               regions=list(offline.regions)))
            hyp = [(t.start, t.end, t.speaker) for t in shifted.turns]
            s = score(annotation(reference, name), annotation(hyp, name), seconds)
            ders.append(s["der"])
            robust.append([name, f"{shift:.1f}", f"{s['der']:.1f}", f"{s['missed']:.1f}",
                           f"{s['false_alarm']:.1f}", f"{s['confusion']:.1f}",
                           f"{len(shifted.speakers)} / {true_count}"])
        if args.shifts:
            robust.append([name, "mean / worst", f"{statistics.mean(ders):.1f} / {max(ders):.1f}",
                           "", "", "", ""])
        if args.offline_only:
            continue
        # The same clip captioned live twice: without, then with speaker labels.
        plain_pipe, plain, _ = _stream(engine, clip.audio, args.speed, None)
        pipe, updates, _ = _stream(engine, clip.audio, args.speed, LiveSpeakerOptions(
            diarization=base))
        live = pipe.diarizer
        stats = live.stats()
        online = live.online_turns(live.diarized[0])
        rows.append(_row(name, "online (live pipeline)", online, reference, seconds,
                         true_count, stats["embed_seconds"] + stats["cluster_seconds"]))
        fin = live.finalised  # the finalise pass's turns, as the session was relabelled
        if fin is not None:
            rows.append(_row(name, "online + finalise", fin.turns[live.diarized[0]], reference,
                             seconds, true_count, fin.seconds))
        if pyannote is not None:
            started = time.perf_counter()
            result = diarize(audio, pyannote)
            rows.append(_row(name, "pyannote offline", result.turns, reference, seconds,
                             true_count, time.perf_counter() - started))
        windows = max(stats["windows"], 1.0)
        lat_plain, lat_spk = _latencies(plain, args.speed), _latencies(updates, args.speed)
        decode, plain_decode = pipe._processors[0], plain_pipe._processors[0]
        cost.append([name, f"{stats['windows']:.0f}",
                     f"{1000 * stats['embed_seconds'] / windows:.1f}",
                     f"{1000 * stats['cluster_seconds'] / windows:.1f}",
                     f"{statistics.median(live.label_delays):.2f} / "
                     f"{max(live.label_delays):.2f}",
                     f"{_pct(lat_plain, 50):.2f} / {_pct(lat_plain, 90):.2f}",
                     f"{_pct(lat_spk, 50):.2f} / {_pct(lat_spk, 90):.2f}",
                     f"{_rtf(plain_decode):.3f} / {_rtf(decode):.3f}"])
    mode = "oracle speaker count (offline)" if args.num_speakers else "speaker count estimated"
    scales = ", ".join(f"{w:g}/{h:g}" for w, h in base.scales)
    print(f"Diarization DER (Silero VAD + resemblyzer GE2E), {mode}; offline: windows (s, length/"
          f"hop) {scales}, k-means, speaker distance {base.speaker_distance}, separation "
          f"{base.min_separation}; online: window {base.window} s, hop {base.hop} s, threshold "
          f"{base.threshold}, stable re-clustering; live runs replayed at {args.speed:g}x "
          f"through the live pipeline with tiny.en captioning at the same time\n{machine()} "
          f"(shared with other jobs)\n")
    print(table(["clip", "mode", "DER % (collar 0, overlap)", "missed %", "false alarm %",
                 "confusion %", "DER % (±0.25 s, no overlap)", "speakers found / true",
                 "RTF"], rows))
    if pyannote is None:
        print("\npyannote: not run (no --pyannote-model; the hub is unreachable here)")
    if cost:
        print("\nWhat live labels cost (RTF above: diarization work / audio; label delay: "
              "seconds from a committed line to its speaker; latency: emission - word end)\n")
        print(table(["clip", "windows", "embed ms / window", "cluster ms / window",
                     "label delay median / max s", "word latency p50 / p90, captions only",
                     "word latency p50 / p90, with speakers",
                     "decode RTF without / with speakers"], cost))
    if args.shifts:
        print("\nOffline DER with every region's embedding windows started later by the shift "
              "(the same audio, speech regions and settings): how much the score depends on "
              "where the windows happen to fall\n")
        print(table(["clip", "shift s", "DER % (collar 0, overlap)", "missed %",
                     "false alarm %", "confusion %", "speakers found / true"], robust))
        print("\nSpeakers found on the single-speaker clips, at each window shift\n")
        print(table(["clip", *(f"shift {s:.1f}" for s in [0.0, *args.shifts])],
                    _single_counts(args.manifest, base, args.shifts)))
    return 0


def _single_counts(manifest: Path, opts, shifts: list[float]) -> list[list[str]]:
    from desktop_asr.audio import decode_audio
    from desktop_asr.diarization import diarize

    out = []
    for clip in load_manifest(manifest):
        if clip.speakers != 1 or clip.rttm is not None or not clip.audio.is_file():
            continue
        audio = decode_audio(clip.audio)
        first = diarize(audio, opts)
        counts = [len(first.speakers)] + [
            len(diarize(audio, replace(opts, window_offset=s), regions=list(first.regions))
                .speakers) for s in shifts]
        out.append([clip.audio.stem, *(str(c) for c in counts)])
    return out


def _rtf(processor) -> float:
    return processor.decode_seconds / max(processor.decoded_audio_seconds, 1e-9)


if __name__ == "__main__":
    raise SystemExit(main())
