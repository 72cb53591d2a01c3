"""The report's figures, drawn with matplotlib's Agg canvas into PNG bytes.

matplotlib is imported here only, when a report is drawn; figures are built on their own
``Figure`` objects (no pyplot state), so drawing in a worker thread is safe.
"""

from __future__ import annotations

import io
import logging
from typing import Any, Sequence

import numpy as np

from desktop_asr.errors import MissingExtraError
from desktop_asr.evaluation.alignment import ErrorTally
from desktop_asr.evaluation.features import features
from desktop_asr.evaluation.summary import Group
from desktop_asr.types import Word

log = logging.getLogger(__name__)

DPI = 100
ERROR_COLOUR = "#c62828"
WORD_COLOUR = "#1565c0"
BAR_COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457")


def _figure(width: float, height: float) -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("report plots", "matplotlib", "eval") from exc
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, FigureCanvasAgg


def _png(fig: Any) -> bytes:
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=DPI)
    try:
        from PIL import Image  # matplotlib depends on Pillow, so it is there with matplotlib
    except ImportError:
        return raw.getvalue()
    # A 256-colour palette keeps spectrograms legible at a third of the size, which matters
    # because report.html carries every figure inline.
    raw.seek(0)
    with Image.open(raw) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def plot_window(words: Sequence[Word], flags: Sequence[bool] | None, duration: float,
                seconds: float) -> tuple[float, float]:
    """The stretch of at most ``seconds`` to draw: the one holding the most erroneous words."""
    if duration <= seconds:
        return 0.0, duration
    starts = [w.start for w in words] or [0.0]
    bad = [w for w, f in zip(words, flags or ()) if f]
    best, best_at = -1, max(0.0, starts[0] - 0.3)
    for w in bad or words[:1]:
        at = min(max(0.0, w.start - 0.3), duration - seconds)
        n = sum(1 for b in bad if at <= b.start and b.end <= at + seconds)
        if n > best:
            best, best_at = n, at
    return best_at, min(duration, best_at + seconds)


def clip_figure(audio: np.ndarray, sample_rate: int, words: Sequence[Word],
                flags: Sequence[bool] | None, title: str, max_seconds: float = 12.0) -> bytes:
    """Waveform, log-mel spectrogram and MFCC of a clip with the hypothesis words overlaid.

    Word starts and ends are drawn as lines; word labels sit on the waveform, red where the word
    took part in an error (when ``flags`` are known). A clip longer than ``max_seconds`` is
    drawn over the stretch with the most errors, so the words stay legible.
    """
    fig, _ = _figure(10.0, 6.4)
    duration = max(audio.size / sample_rate, 1e-3)
    t0, t1 = plot_window(words, flags, duration, max_seconds)
    piece = audio[int(t0 * sample_rate):int(t1 * sample_rate)]
    keep = [i for i, w in enumerate(words) if w.end > t0 and w.start < t1]
    feats = features(piece, sample_rate)
    grid = fig.subplots(3, 2, sharex="col", gridspec_kw={"height_ratios": [1.1, 1.4, 1.0],
                                                         "width_ratios": [60, 1]})
    axes = grid[:, 0]
    grid[0, 1].axis("off")  # the waveform has no colour scale; its column stays empty
    step = max(1, piece.size // 12000)  # enough points for the eye, few for the file
    axes[0].plot(t0 + np.arange(0, piece.size, step) / sample_rate, piece[::step],
                 color="#455a64", linewidth=0.5)
    peak = max(float(np.max(np.abs(piece))) if piece.size else 1.0, 1e-3)
    axes[0].set_ylim(-1.15 * peak, 2.0 * peak)
    axes[0].set_ylabel("amplitude")
    axes[0].set_yticks([])
    span = (t0, t0 + feats.frames * feats.hop_seconds)
    image = axes[1].imshow(feats.log_mel, origin="lower", aspect="auto", cmap="magma",
                           extent=(*span, 0, feats.log_mel.shape[0]))
    axes[1].set_ylabel("mel band")
    fig.colorbar(image, cax=grid[1, 1], label="dB")
    # Per-coefficient normalisation (as for CMVN) so c1-c12 are visible next to the energy.
    mfcc = feats.mfcc[1:]
    mfcc = (mfcc - mfcc.mean(axis=1, keepdims=True)) / (mfcc.std(axis=1, keepdims=True) + 1e-6)
    image = axes[2].imshow(mfcc, origin="lower", aspect="auto", cmap="coolwarm",
                           extent=(*span, 0.5, mfcc.shape[0] + 0.5), vmin=-3, vmax=3)
    axes[2].set_ylabel("MFCC 1-12")
    axes[2].set_yticks([1, 4, 8, 12])
    fig.colorbar(image, cax=grid[2, 1], label="z")
    axes[2].set_xlabel("seconds")
    axes[2].set_xlim(t0, t1)
    crowded = len(keep) > 14
    for i in keep:
        word = words[i]
        bad = bool(flags[i]) if flags is not None else False
        colour = ERROR_COLOUR if bad else WORD_COLOUR
        axes[0].axvline(word.start, color=colour, linewidth=0.7, alpha=0.9)
        axes[0].axvline(word.end, color=colour, linewidth=0.6, alpha=0.4, linestyle="--")
        for ax in axes[1:]:
            ax.axvline(word.start, color="white" if not bad else ERROR_COLOUR,
                       linewidth=0.6 if bad else 0.4, alpha=0.9 if bad else 0.45)
        axes[0].text(max(word.start, t0) + 0.02, 1.08 * peak, word.text.strip(),
                     rotation=50 if crowded else 0, ha="left", va="bottom",
                     fontsize=7.5 if crowded else 8.5, color=colour,
                     fontweight="bold" if bad else "normal", rotation_mode="anchor",
                     clip_on=True)
    shown = "" if (t0, t1) == (0.0, duration) else (
        f" — {t0:.1f}-{t1:.1f} s of {duration:.1f} s, the stretch with the most errors")
    legend = "hypothesis words: start (solid) / end (dashed)"
    if flags is not None:
        legend += "; red: word in an error"
    axes[0].set_title(f"{title}{shown}\n{legend}", fontsize=9.5, loc="left")
    fig.tight_layout()
    return _png(fig)


def wer_by_duration_figure(groups: dict[str, list[Group]], bins: Sequence[str]) -> bytes:
    """Grouped bars: WER per utterance-duration bin for each model, clip counts on the bars."""
    fig, _ = _figure(8.5, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    used = [b for b in bins if any(g.key == b for gs in groups.values() for g in gs)]
    width = 0.8 / max(1, len(groups))
    for m, (label, gs) in enumerate(groups.items()):
        by_key = {g.key: g for g in gs}
        xs = [i + (m - (len(groups) - 1) / 2) * width for i in range(len(used))]
        values = [100 * by_key[b].counts.wer if b in by_key else 0.0 for b in used]
        bars = ax.bar(xs, values, width=width * 0.95, label=label,
                      color=BAR_COLOURS[m % len(BAR_COLOURS)])
        for bar, b in zip(bars, used):
            if b in by_key:
                ax.annotate(f"{bar.get_height():.1f}%\nn={by_key[b].clips}",
                            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(used)), used)
    ax.set_xlabel("utterance duration")
    ax.set_ylabel("WER %")
    top = max([100 * g.counts.wer for gs in groups.values() for g in gs] or [1.0])
    ax.set_ylim(0, max(5.0, top * 1.35))
    ax.set_title("WER by utterance duration", fontsize=10, loc="left")
    if len(groups) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def confusion_figure(tally: ErrorTally, title: str, n: int = 12) -> bytes:
    """Horizontal bars of the most frequent substitution pairs, deletions and insertions."""
    rows = ([(f"{r} → {h}", c, "substitution") for (r, h), c in tally.substitutions[:n]]
            + [(f"{w} → ∅", c, "deletion") for w, c in tally.deletions[:max(3, n // 3)]]
            + [(f"∅ → {w}", c, "insertion") for w, c in tally.insertions[:max(3, n // 3)]])
    rows.sort(key=lambda r: -r[1])
    rows = rows[:n]
    fig, _ = _figure(8.5, 0.9 + 0.28 * max(3, len(rows)))
    ax = fig.add_subplot(1, 1, 1)
    colours = {"substitution": "#ef6c00", "deletion": "#c62828", "insertion": "#2e7d32"}
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r[1] for r in rows], color=[colours[r[2]] for r in rows])
    ax.set_yticks(ys, [r[0] for r in rows], fontsize=8)
    ax.set_xlabel("count")
    ax.xaxis.get_major_locator().set_params(integer=True)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=c, label=k) for k, c in colours.items()], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title, fontsize=10, loc="left")
    if not rows:
        ax.text(0.5, 0.5, "no errors", transform=ax.transAxes, ha="center")
    fig.tight_layout()
    return _png(fig)
