"""Word error rates before and after: through the live engine, on held-out and reference clips.

Before/after numbers are measured the way the user will meet the model: the CTranslate2 folder
loaded by desktop-asr's faster-whisper engine with the ``transcribe`` command's decoding
(beam 5, VAD), so "after" is exactly what ``desktop-asr transcribe --model NAME`` gives.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_asr.evaluation import score
from desktop_asr.datasets.dataset import read_wav16
from training.whisper_data import Clip

log = logging.getLogger(__name__)

SEED = 1234


@dataclass(frozen=True)
class EvalResult:
    """Scores of one model on one set of clips (and what it wrote for each)."""

    wer: float
    ref_words: int
    clips: int
    term_error_rate: float | None = None
    term_count: int = 0
    hypotheses: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON form for progress events and the model's metadata."""
        return {"wer": self.wer, "ref_words": self.ref_words, "clips": self.clips,
                "term_error_rate": self.term_error_rate, "term_count": self.term_count}


def _plain(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def term_errors(references: Sequence[str], hypotheses: Sequence[str],
                terms: Sequence[str]) -> tuple[int, int]:
    """(missed, total) occurrences of vocabulary terms: a term counts as recognised when the
    hypothesis of the same clip contains it as many times (case and punctuation ignored)."""
    patterns = [t for t in (tuple(_plain(term)) for term in terms) if t]
    missed = total = 0
    for ref, hyp in zip(references, hypotheses):
        r, h = _plain(ref), _plain(hyp)
        for pat in patterns:
            n = len(pat)
            in_ref = sum(tuple(r[i:i + n]) == pat for i in range(len(r) - n + 1))
            if not in_ref:
                continue
            in_hyp = sum(tuple(h[i:i + n]) == pat for i in range(len(h) - n + 1))
            total += in_ref
            missed += max(0, in_ref - in_hyp)
    return missed, total


def scored(references: Sequence[str], hypotheses: Sequence[str], *, language: str | None,
           terms: Sequence[str] = ()) -> EvalResult:
    """WER (Whisper-normalised) and, with ``terms``, the term error rate."""
    counts = score(list(references), list(hypotheses), language=language or "en")
    missed, total = term_errors(references, hypotheses, terms) if terms else (0, 0)
    return EvalResult(counts.wer, counts.ref_words, len(references),
                      (missed / total) if total else None, total, tuple(hypotheses))


def transcribe_ct2(model_dir: Path, clips: Sequence[Clip], *, language: str | None,
                   threads: int = 0, should_stop: Callable[[], bool] | None = None
                   ) -> list[str]:
    """Transcripts of clips by the faster-whisper engine, decoded as ``transcribe`` does."""
    from desktop_asr.batch import transcribe_audio
    from desktop_asr.engines import DecodeOptions, EngineConfig, create_engine

    try:
        import ctranslate2

        # Whisper's temperature fallback samples when a greedy/beam result looks bad; a fixed
        # seed makes the job's scores repeatable (CTranslate2 otherwise seeds at random).
        ctranslate2.set_random_seed(SEED)
    except (ImportError, AttributeError):
        pass
    engine = create_engine("faster-whisper", EngineConfig(model=str(model_dir), device="auto",
                                                          compute_type="auto",
                                                          cpu_threads=threads))
    options = DecodeOptions(language=language)
    hyps = []
    for clip in clips:
        if should_stop is not None and should_stop():
            raise KeyboardInterrupt
        hyps.append(transcribe_audio(engine, clip.samples, options).text)
    return hyps


def evaluate_ct2(model_dir: Path, clips: Sequence[Clip], *, language: str | None,
                 terms: Sequence[str] = (), threads: int = 0,
                 should_stop: Callable[[], bool] | None = None) -> EvalResult | None:
    """Score a CTranslate2 model on clips (None when there are no clips)."""
    if not clips:
        return None
    hyps = transcribe_ct2(model_dir, clips, language=language, threads=threads,
                          should_stop=should_stop)
    return scored([c.text for c in clips], hyps, language=language, terms=terms)


def load_reference(manifest: Path, language: str | None = "en") -> list[Clip]:
    """Clips of a general reference manifest (JSON lines with ``audio`` and ``text``).

    Lines without text, or in another language than ``language``, are left out; audio paths
    are relative to the manifest.
    """
    clips: list[Clip] = []
    for n, line in enumerate(Path(manifest).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        lang = row.get("language")
        if not row.get("text") or (language and lang and not str(lang).startswith(language)):
            continue
        audio = Path(manifest).parent / row["audio"]
        clips.append(Clip(str(row.get("id") or audio.stem), read_wav16(audio), row["text"]))
    return clips


def relative_change(before: float | None, after: float | None) -> float | None:
    """(after - before) / before; None when not defined."""
    if before is None or after is None or before == 0:
        return None
    return (after - before) / before
