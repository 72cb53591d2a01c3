"""The report's tables, built from an EvaluationResult (plain text cells; no markup)."""

from __future__ import annotations

from typing import Sequence

from desktop_asr.evaluation.alignment import ErrorTally
from desktop_asr.evaluation.blocks import Block, Paragraph, Table
from desktop_asr.evaluation.results import ClipResult, EvaluationResult, ModelResult
from desktop_asr.evaluation.summary import (Group, bin_labels, by_duration, by_language,
                                            by_speaker, by_speaker_count)

MIB = 2 ** 20


def pct(value: float | None) -> str:
    """A rate as a percentage with one decimal."""
    return "-" if value is None else f"{100 * value:.1f}"


def header_blocks(result: EvaluationResult) -> list[Block]:
    """Where the numbers come from: manifest, machine, normalisation, decoding, versions."""
    m, o = result.manifest, result.options
    bad = len(m.problems)
    entries = f"{len(m.entries)} usable entr{'y' if len(m.entries) == 1 else 'ies'}"
    lines = [f"Manifest: {m.path} — {entries}{f', {bad} bad line(s)' if bad else ''}. "
             f"Run {result.started}, "
             f"{result.elapsed:.1f} s, on {result.machine}."]
    if o.raw:
        lines.append("Scoring: raw (--raw) — text compared as written; only whitespace is "
                     "collapsed, so case and punctuation count as errors.")
    else:
        lines.append("Scoring: Whisper-style normalisation — transformers' "
                     "EnglishTextNormalizer for English (case, punctuation, numbers, "
                     "contractions, spellings), its BasicTextNormalizer for other languages.")
    lines.append(f"Decoding: beam {o.beam_size}, VAD {'on' if o.vad_filter else 'off'}, word "
                 f"timestamps {'on' if o.word_timestamps else 'off'}, device {o.device}, "
                 f"compute type {o.compute_type}, CPU threads "
                 f"{o.cpu_threads or 'automatic'}. Each clip is decoded in the language the "
                 "manifest gives; a clip in a language a model does not know (for example "
                 "Spanish for an English-only model) is skipped with the reason, and a clip "
                 "without a language is decoded with the model's language detection.")
    if result.versions:
        lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in result.versions.items())
                     + ".")
    if result.cancelled:
        lines.append("CANCELLED: the run was stopped; these are the results so far.")
    return [Paragraph(text) for text in lines]


def summary_table(result: EvaluationResult) -> Table:
    """One row per model: error rates, edit counts, speed and memory."""
    rows = []
    for model in result.models:
        total = model.total
        label = model.spec.label  # names the engine unless it is the default one
        if model.error or total is None:
            rows.append((label, "0", *("-",) * 10))
            continue
        mem = model.memory
        rows.append((label, str(len(model.scored)), f"{model.audio_seconds:.1f}",
                     pct(total.wer), pct(total.cer), pct(total.mer), pct(total.wil),
                     f"{total.substitutions}/{total.deletions}/{total.insertions}",
                     str(total.ref_words), f"{model.rtf:.3f}" if model.rtf is not None else "-",
                     f"{model.load_seconds:.1f}",
                     f"{mem.peak_rss / MIB:.0f} (+{mem.growth / MIB:.0f})" if mem else "-"))
    return Table(("model", "clips", "audio s", "WER %", "CER %", "MER %", "WIL %", "S/D/I",
                  "ref words", "RTF", "load s", "peak RSS MiB (+growth)"),
                 tuple(rows), (False,) + (True,) * 11)


def _group_table(title: str, models: Sequence[ModelResult],
                 groups: dict[str, list[Group]], order: Sequence[str]) -> Table:
    keys = [k for k in order if any(g.key == k for gs in groups.values() for g in gs)]
    keys += sorted({g.key for gs in groups.values() for g in gs} - set(keys))
    rows = []
    for key in keys:
        first = next((g for gs in groups.values() for g in gs if g.key == key), None)
        cells = [key, str(first.clips) if first else "0",
                 f"{first.audio_seconds:.1f}" if first else "-"]
        for model in models:
            g = next((g for g in groups[model.spec.label] if g.key == key), None)
            cells += [pct(g.counts.wer) if g else "-", pct(g.counts.cer) if g else "-"]
        rows.append(tuple(cells))
    headers = [title, "clips", "audio s"]
    for model in models:
        headers += [f"WER % {model.spec.label}", f"CER % {model.spec.label}"]
    return Table(tuple(headers), tuple(rows), (False,) + (True,) * (len(headers) - 1))


def breakdown_tables(result: EvaluationResult) -> list[Block]:
    """WER/CER per duration bin, and per speaker, speaker count and language when present."""
    models = [m for m in result.models if m.scored]
    edges = result.options.duration_bins
    out: list[Block] = [Paragraph("By utterance duration (clip length after decoding):"),
                        _group_table("duration", models,
                                     {m.spec.label: by_duration(m, edges) for m in models},
                                     bin_labels(edges))]
    for title, fn, intro in (
            ("speaker", by_speaker, "By speaker (the manifest's \"speaker\" field):"),
            ("speakers", by_speaker_count, "By number of speakers in the clip "
                                           "(the manifest's \"speakers\" field):"),
            ("language", by_language, "By language:")):
        groups = {m.spec.label: fn(m) for m in models}
        keys = {g.key for gs in groups.values() for g in gs}
        if not keys or (title == "language" and len(keys) < 2):
            continue
        out += [Paragraph(intro), _group_table(title, models, groups, ())]
    return out


def der_table(result: EvaluationResult) -> list[Block]:
    """DER and its parts per clip with an RTTM, and how they were computed."""
    rows = []
    for d in result.diarization:
        s = d.score
        if s is None:
            rows.append((d.entry.id, f"{d.duration:.1f}", "-", "-", "-", "-", "-", "-",
                         d.error or ""))
            continue
        rows.append((d.entry.id, f"{d.duration:.1f}", str(s.reference_speakers),
                     str(s.hypothesis_speakers), pct(s.der), pct(s.missed),
                     pct(s.false_alarm), pct(s.confusion), f"{d.elapsed:.1f} s"))
    count = ("the manifest's speaker count given to the diarizer" if result.options.oracle_speakers
             else "speaker count estimated by the diarizer")
    return [Table(("clip", "audio s", "speakers (ref)", "speakers (found)", "DER %",
                   "missed %", "false alarm %", "confusion %", "diarized in"), tuple(rows),
                  (False,) + (True,) * 7 + (False,)),
            Paragraph("DER by pyannote.metrics against the RTTM, collar 0 s, overlapping speech "
                      "scored, over the whole clip; parts are shares of the reference speech "
                      "time. Diarizer: desktop-asr's offline pipeline (Silero VAD, resemblyzer "
                      f"GE2E embeddings, clustering), {count}. DER does not depend on the ASR "
                      "model.")]


def error_tables(tally: ErrorTally, n: int = 10) -> list[Block]:
    """Top substitutions, deletions and insertions."""
    out: list[Block] = []
    if tally.substitutions:
        out.append(Table(("reference word", "recognised as", "count"),
                         tuple((r, h, str(c)) for (r, h), c in tally.substitutions[:n]),
                         (False, False, True)))
    if tally.deletions:
        out.append(Table(("deleted word", "count"),
                         tuple((w, str(c)) for w, c in tally.deletions[:n]), (False, True)))
    if tally.insertions:
        out.append(Table(("inserted word", "count"),
                         tuple((w, str(c)) for w, c in tally.insertions[:n]), (False, True)))
    if not out:
        out.append(Paragraph("No errors."))
    return out


def worst_table(worst: Sequence[ClipResult]) -> Table:
    """The worst clips with their reference and hypothesis as written."""
    rows = []
    for rank, c in enumerate(worst, start=1):
        assert c.counts is not None
        rows.append((str(rank), c.entry.id, f"{c.duration:.1f}", pct(c.counts.wer),
                     f"{c.counts.substitutions}/{c.counts.deletions}/{c.counts.insertions}",
                     c.entry.reference or "", c.hypothesis))
    return Table(("#", "clip", "s", "WER %", "S/D/I", "reference", "hypothesis"), tuple(rows),
                 (True, False, True, True, True, False, False))


def clips_table(result: EvaluationResult) -> Table:
    """Every ASR entry with its WER under each model (or why it has none)."""
    models = list(result.models)
    entries = [e for e in result.manifest.entries if e.reference is not None]
    rows = []
    for entry in entries:
        cells = [str(entry.line), entry.id, entry.language or "?"]
        duration, words = "-", "-"
        per_model = []
        for model in models:
            clip = next((c for c in model.clips if c.entry.line == entry.line), None)
            if clip is None:
                per_model += ["-", "-"]
            elif clip.counts is not None:
                duration, words = f"{clip.duration:.1f}", str(clip.counts.ref_words)
                per_model += [pct(clip.counts.wer), f"{clip.rtf:.3f}" if clip.rtf else "-"]
            else:
                per_model += ["skipped" if clip.skipped else "error", "-"]
        rows.append(tuple(cells + [duration, words] + per_model))
    headers = ["line", "clip", "lang", "s", "ref words"]
    for model in models:
        headers += [f"WER % {model.spec.label}", f"RTF {model.spec.label}"]
    return Table(tuple(headers), tuple(rows),
                 (True, False, False, True, True) + (True,) * (2 * len(models)))
