"""Evaluation of the bundled tiny.en on a small manifest of real speech from ../shared/testdata.

Skipped with the reason when the real recordings are absent. Scores are checked against jiwer
and pyannote.metrics run here directly on the same strings and on the RTTM as read by this test.
"""

from __future__ import annotations

import json
from pathlib import Path

import jiwer
import pytest

from desktop_asr.evaluation import (EvaluationOptions, ModelSpec, evaluate, read_manifest,
                                    render)

CLIPS = ("jfk.wav", "leopard_test.wav", "cmu_arctic_us_axb_a0005.wav",
         "librivox_sense_and_sensibility_0880.wav", "leopard_test_es.wav", "pyannote_sample.wav")


@pytest.fixture(scope="module")
def result(speech_dir: Path, speech_manifest: list[dict],
           tmp_path_factory: pytest.TempPathFactory):
    """tiny.en over six real clips (one Spanish, one two-speaker call with an RTTM)."""
    rows = {r["audio"]: r for r in speech_manifest}
    missing = [c for c in CLIPS if c not in rows]
    if missing:
        pytest.skip(f"{', '.join(missing)} not in {speech_dir / 'manifest.jsonl'}")
    folder = tmp_path_factory.mktemp("eval-real")
    lines = []
    for clip in CLIPS:
        row = dict(rows[clip])
        row["audio"] = str(speech_dir / row["audio"])
        if row.get("rttm"):
            row["rttm"] = str(speech_dir / row["rttm"])
        lines.append(json.dumps(row))
    path = folder / "manifest.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = read_manifest(path)
    assert not manifest.problems, manifest.problems
    return evaluate(manifest, [ModelSpec("faster-whisper", "tiny.en")],
                    EvaluationOptions(device="cpu", compute_type="int8", cpu_threads=2))


@pytest.mark.slow
def test_real_speech_scores_equal_jiwer_and_spanish_is_skipped(result) -> None:
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    norm = EnglishTextNormalizer({})
    (model,) = result.models
    assert model.error is None and not result.problems
    by_name = {c.entry.audio.name: c for c in model.clips}
    spanish = by_name["leopard_test_es.wav"]
    assert spanish.counts is None and "'es'" in (spanish.skipped or "")
    scored = model.scored
    assert {c.entry.audio.name for c in scored} == set(CLIPS) - {"leopard_test_es.wav"}
    refs = [norm(c.entry.reference) for c in scored]
    hyps = [norm(c.hypothesis) for c in scored]
    total = model.total
    assert total.wer == pytest.approx(jiwer.wer(refs, hyps))
    assert total.cer == pytest.approx(jiwer.cer(refs, hyps))
    assert total.mer == pytest.approx(jiwer.mer(refs, hyps))
    assert total.wil == pytest.approx(jiwer.wil(refs, hyps))
    for clip, ref, hyp in zip(scored, refs, hyps):
        direct = jiwer.process_words(ref, hyp)
        assert (clip.counts.substitutions, clip.counts.deletions, clip.counts.insertions) == (
            direct.substitutions, direct.deletions, direct.insertions), clip.entry.id
    # tiny.en on these clips: 7.7 % over the whole shared set (docs/benchmarks.md).
    assert total.wer < 0.2, list(zip(refs, hyps))
    assert 0 < model.rtf < 3 and model.memory.peak_rss > 100 * 2**20
    jfk = by_name["jfk.wav"]
    assert jfk.words and jfk.words[-1].end <= jfk.duration + 0.5  # word times for the plots


@pytest.mark.slow
def test_real_call_der_equals_pyannote_on_the_rttm(result, speech_dir: Path) -> None:
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    (clip,) = result.diarization
    assert clip.entry.audio.name == "pyannote_sample.wav" and clip.score is not None
    reference = Annotation()
    for i, line in enumerate((speech_dir / "pyannote_sample.rttm").read_text().splitlines()):
        f = line.split()
        reference[Segment(float(f[3]), float(f[3]) + float(f[4])), i] = f[7]
    found = Annotation()
    for i, t in enumerate(clip.turns):
        found[Segment(t.start, t.end), i] = t.speaker
    parts = DiarizationErrorRate(collar=0.0, skip_overlap=False)(
        reference, found, uem=Timeline([Segment(0, clip.duration)]), detailed=True)
    s = clip.score
    assert s.der == pytest.approx(parts["diarization error rate"])
    assert s.missed * s.reference_seconds == pytest.approx(parts["missed detection"])
    assert s.false_alarm * s.reference_seconds == pytest.approx(parts["false alarm"])
    assert s.confusion * s.reference_seconds == pytest.approx(parts["confusion"])
    assert (s.reference_speakers, s.hypothesis_speakers) == (2, 2)
    assert s.der < 0.2  # 13.3 % in docs/benchmarks.md


@pytest.mark.slow
def test_report_markdown_carries_the_same_numbers(result) -> None:
    html, md, images = render(result, plots=False)
    assert not images and "<img" not in html
    (model,) = result.models
    total = model.total
    summary = next(line for line in md.splitlines() if line.startswith("| tiny.en |"))
    cells = [c.strip() for c in summary.strip("|").split("|")]
    assert cells[3:7] == [f"{100 * v:.1f}" for v in (total.wer, total.cer, total.mer, total.wil)]
    assert "leopard_test_es.wav" in md.split("## Skipped clips", 1)[1].split("##", 1)[0]
    assert f"| pyannote_sample.wav | 30.0 | 2 | 2 | {100 * result.diarization[0].score.der:.1f}" \
        in md
