"""The evaluation report: tables, error analysis and plots as report.md (+ PNGs), report.html and
results.json in one folder."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop_asr.audio import SAMPLE_RATE, decode_audio
from desktop_asr.errors import DesktopAsrError
from desktop_asr.evaluation.alignment import word_error_flags
from desktop_asr.evaluation.blocks import (Alignment, Block, Bullets, Heading, Image, Paragraph,
                                           Table, to_html, to_markdown)
from desktop_asr.evaluation.normalize import normalizer_for
from desktop_asr.evaluation.report_tables import (breakdown_tables, clips_table, der_table,
                                                  error_tables, header_blocks, summary_table,
                                                  worst_table)
from desktop_asr.evaluation.results import ClipResult, EvaluationResult, ModelResult
from desktop_asr.evaluation.serialize import result_to_dict
from desktop_asr.evaluation.summary import bin_labels, by_duration, top_errors, worst_clips

log = logging.getLogger(__name__)

TITLE = "desktop-asr evaluation report"


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    markdown: Path
    json: Path
    images: tuple[Path, ...]


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x"


def _clip_plot(clip: ClipResult, model: ModelResult, rank: int, raw: bool) -> Image | None:
    from desktop_asr.evaluation.plots import clip_figure

    try:
        audio = decode_audio(clip.entry.audio)
    except DesktopAsrError as exc:
        log.warning("cannot plot %s: %s", clip.entry.audio, exc)
        return None
    norm = normalizer_for(clip.language, raw=raw)
    flags = word_error_flags([w.text for w in clip.words], clip.alignment, norm)
    assert clip.counts is not None
    title = (f"{clip.entry.id} — {model.spec.label}, WER {100 * clip.counts.wer:.1f}% "
             f"({clip.counts.substitutions}S {clip.counts.deletions}D "
             f"{clip.counts.insertions}I)")
    png = clip_figure(audio, SAMPLE_RATE, clip.words, flags, title)
    return Image(f"clip-{slug(model.spec.label)}-{rank}-{slug(clip.entry.audio.stem)}.png",
                 f"waveform, log-mel spectrogram and MFCC of {clip.entry.id}", png)


def _model_section(model: ModelResult, result: EvaluationResult, plots: bool,
                   on_figure: Callable[[str], None]) -> list[Block]:
    from desktop_asr.evaluation.plots import confusion_figure

    opts = result.options
    blocks: list[Block] = [Heading(2, f"Error analysis — {model.spec.label}")]
    if model.error:
        return blocks + [Paragraph(model.error)]
    worst = worst_clips(model, opts.worst)
    if not worst:
        blocks.append(Paragraph("No errors on any scored clip."))
    else:
        blocks += [Heading(3, "Worst files"), worst_table(worst)]
        for rank, clip in enumerate(worst, start=1):
            assert clip.counts is not None
            blocks.append(Alignment(f"{rank}. {clip.entry.id} — WER "
                                    f"{100 * clip.counts.wer:.1f}%", clip.alignment))
            if plots and rank <= opts.plots:
                on_figure(f"{clip.entry.id} ({model.spec.label})")
                image = _clip_plot(clip, model, rank, opts.raw)
                if image is not None:
                    blocks.append(image)
    tally = top_errors(model)
    blocks += [Heading(3, "Most frequent errors"), *error_tables(tally)]
    if plots and (tally.substitutions or tally.deletions or tally.insertions):
        on_figure(f"confusion pairs ({model.spec.label})")
        blocks.append(Image(f"errors-{slug(model.spec.label)}.png",
                            f"most frequent errors of {model.spec.label}",
                            confusion_figure(tally, f"Most frequent errors — "
                                                    f"{model.spec.label}")))
    return blocks


def build_blocks(result: EvaluationResult, *, plots: bool = True,
                 on_figure: Callable[[str], None] | None = None) -> list[Block]:
    """The whole report as blocks; ``plots=False`` leaves the figures out (no matplotlib)."""
    note = on_figure or (lambda _name: None)
    blocks: list[Block] = [Heading(1, TITLE), *header_blocks(result)]
    blocks += [Heading(2, "Summary"), summary_table(result),
               Paragraph("WER, CER, MER and WIL are computed over all scored clips together "
                         "(errors summed, then divided). RTF is decoding time / audio time "
                         "(model loading excluded). Peak RSS is the resident memory of the "
                         "evaluating process while the model loaded and decoded; the growth in "
                         "brackets is how much it rose over the start of that model's run.")]
    if result.problems:
        blocks += [Heading(2, "Problems"),
                   Paragraph("These manifest lines or clips could not be evaluated; every other "
                             "line was."), Bullets(tuple(str(p) for p in result.problems))]
    skipped = [(m.spec.label, c) for m in result.models for c in m.clips if c.skipped]
    if skipped:
        blocks += [Heading(2, "Skipped clips"),
                   Table(("model", "line", "clip", "reason"),
                         tuple((label, str(c.entry.line), c.entry.id, c.skipped or "")
                               for label, c in skipped))]
    scored = [m for m in result.models if m.scored]
    if scored:
        blocks.append(Heading(2, "Breakdowns"))
        blocks += breakdown_tables(result)
        if plots:
            from desktop_asr.evaluation.plots import wer_by_duration_figure

            note("WER by duration")
            edges = result.options.duration_bins
            groups = {m.spec.label: by_duration(m, edges) for m in scored}
            blocks.append(Image("wer-by-duration.png", "WER by utterance duration",
                                wer_by_duration_figure(groups, bin_labels(edges))))
    if result.diarization:
        blocks += [Heading(2, "Diarization error rate (DER)"), *der_table(result)]
    for model in result.models:
        blocks += _model_section(model, result, plots, note)
    if scored:
        blocks += [Heading(2, "All clips"), clips_table(result)]
    return blocks


def render(result: EvaluationResult, *, plots: bool = True,
           on_figure: Callable[[str], None] | None = None) -> tuple[str, str, list[Image]]:
    """The report as (HTML, Markdown, images), without touching the disk."""
    try:
        blocks = build_blocks(result, plots=plots, on_figure=on_figure)
    except DesktopAsrError as exc:  # matplotlib missing: the tables are still worth having
        log.warning("report without plots: %s", exc)
        blocks = build_blocks(result, plots=False)
        blocks.insert(1, Paragraph(f"Plots left out: {exc}"))
    images = [b for b in blocks if isinstance(b, Image)]
    return to_html(blocks, TITLE), to_markdown(blocks), images


def write_report(result: EvaluationResult, out_dir: Path, *, plots: bool = True,
                 on_figure: Callable[[str], None] | None = None) -> ReportFiles:
    """Write report.html (self-contained), report.md with its PNGs, and results.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    page, markdown, images = render(result, plots=plots, on_figure=on_figure)
    written = []
    for image in images:
        path = out_dir / image.name
        path.write_bytes(image.data)
        written.append(path)
    html_path, md_path, json_path = (out_dir / "report.html", out_dir / "report.md",
                                     out_dir / "results.json")
    _atomic_text(html_path, page)
    _atomic_text(md_path, markdown)
    _atomic_text(json_path, json.dumps(result_to_dict(result), indent=1, ensure_ascii=False))
    log.info("report written to %s", out_dir)
    return ReportFiles(html_path, md_path, json_path, tuple(written))


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
