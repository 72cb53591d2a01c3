"""DER of the offline speaker diarization on every clip of the manifest that has an RTTM.

Two scorings with pyannote.metrics: collar 0 with overlapped speech scored (the strict one),
and a +/-0.25 s forgiveness collar (pyannote's ``collar=0.5``, the total width) with overlap
skipped (the NIST / DIHARD-style one). Missed speech, false alarm and speaker confusion are
split out (collar 0), with the speaker count found against the true one, and the real-time
factor (diarization only, model already loaded). Usage:

    python benchmarks/diarization.py [--manifest ../shared/testdata/speech/manifest.jsonl]
        [--num-speakers]  # tell the diarizer the true count instead of estimating it
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--num-speakers", action="store_true",
                    help="give the diarizer the true speaker count (oracle count)")
    args = ap.parse_args()

    from desktop_asr.audio import SAMPLE_RATE, decode_audio
    from desktop_asr.diarization import DiarizationOptions, diarize
    from desktop_asr.diarization.embedding import load_encoder

    clips = [c for c in load_manifest(args.manifest) if c.rttm is not None and c.rttm.is_file()]
    if not clips:
        print(f"no clip with an RTTM in {args.manifest}", file=sys.stderr)
        return 1
    load_encoder()
    base = DiarizationOptions()
    rows = []
    for clip in clips:
        audio = decode_audio(clip.audio)
        seconds = audio.size / SAMPLE_RATE
        reference = read_rttm(clip.rttm)
        true_count = len({s for _, _, s in reference})
        opts = replace(base, num_speakers=true_count) if args.num_speakers else base
        diarize(audio[: SAMPLE_RATE * 5], opts)  # warm-up: first-call costs are not per-file
        started = time.perf_counter()
        result = diarize(audio, opts)
        elapsed = time.perf_counter() - started
        hyp = [(t.start, t.end, t.speaker) for t in result.turns]
        s = score(annotation(reference, clip.audio.stem), annotation(hyp, clip.audio.stem),
                  seconds)
        rows.append([clip.audio.stem, f"{s['der']:.1f}", f"{s['missed']:.1f}",
                     f"{s['false_alarm']:.1f}", f"{s['confusion']:.1f}",
                     f"{s['der_lenient']:.1f}", f"{len(result.speakers)} / {true_count}",
                     f"{elapsed / seconds:.3f}"])
    mode = "oracle speaker count" if args.num_speakers else "speaker count estimated"
    print(f"Offline diarization (Silero VAD + resemblyzer GE2E + AHC), {mode}; "
          f"window {base.window} s, hop {base.hop} s, threshold {base.threshold}\n"
          f"{machine()}\n")
    print(table(["clip", "DER % (collar 0, overlap)", "missed %", "false alarm %",
                 "confusion %", "DER % (±0.25 s, no overlap)", "speakers found / true",
                 "RTF"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
