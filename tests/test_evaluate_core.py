"""Evaluation building blocks checked against independent computations (jiwer, librosa,
pyannote.metrics on hand-worked cases); no model runs here."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jiwer
import numpy as np
import pytest

from desktop_asr.engines import DEFAULT_ENGINE, engine_names
from desktop_asr.evaluation import parse_model_spec, read_manifest, score_normalized
from desktop_asr.evaluation.alignment import (DELETE, EQUAL, INSERT, SUBSTITUTE, align_many,
                                              tally_errors, text_rows, word_error_flags)
from desktop_asr.evaluation.der import parse_rttm, score_der
from desktop_asr.evaluation.manifest import ManifestEntry
from desktop_asr.evaluation.results import ClipResult, EvaluationOptions, ModelResult, ModelSpec
from desktop_asr.evaluation.summary import by_duration, by_speaker, worst_clips

REFS = ["the cat sat on the mat", "hello there general kenobi", "one two three four five",
        "a quick brown fox jumps over the lazy dog"]
HYPS = ["the cat sit on mat", "hello general kenobi and more", "one two three four five",
        "the quick brown box jumped over a lazy lazy dog"]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_manifest_lines_are_reported_with_their_line_and_the_rest_is_read(tmp_path) -> None:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.wav").write_bytes(b"RIFF")
    (tmp_path / "b.rttm").write_text("SPEAKER b 1 0.0 1.0 <NA> <NA> x <NA> <NA>\n")
    manifest = _write(tmp_path / "m.jsonl", [
        json.dumps({"audio": "a.wav", "text": "Hello there.", "language": "EN",
                    "speaker": "anna", "speakers": 1}),
        '{"audio": "a.wav", "text": "unterminated',
        json.dumps({"audio": "missing.wav", "text": "words"}),
        json.dumps({"audio": "a.wav", "text": "   "}),
        "",
        json.dumps({"text": "no audio field"}),
        json.dumps({"audio": "sub/b.wav", "text": None, "rttm": "b.rttm",
                    "speakers": ["x", "y"]}),
        json.dumps({"audio": "a.wav", "text": None}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"audio": "a.wav", "text": "ok", "rttm": "gone.rttm"}),
        json.dumps({"audio": "a.wav", "text": "ok", "speakers": 0}),
        json.dumps({"audio": "a.wav", "text": 42}),
        json.dumps({"audio": "a.wav", "text": "second line for a.wav"}),
    ])
    m = read_manifest(manifest)
    problems = {p.line: p.message for p in m.problems}
    assert sorted(problems) == [2, 3, 4, 6, 8, 9, 10, 11, 12]
    assert problems[2].startswith("not valid JSON")
    assert problems[3] == f"audio file not found: {tmp_path / 'missing.wav'}"
    assert problems[4] == "empty reference text"
    assert "audio" in problems[6]
    assert "no reference" in problems[8]
    assert "JSON object" in problems[9]
    assert problems[10] == f"RTTM file not found: {tmp_path / 'gone.rttm'}"
    assert "speakers" in problems[11] and "text" in problems[12]
    for p in m.problems:
        assert "\n" not in str(p) and str(p).startswith(f"{manifest}:{p.line}: ")
    assert [e.line for e in m.entries] == [1, 7, 13]
    first, diar, again = m.entries
    assert first.audio == tmp_path / "a.wav" and first.language == "en"
    assert (first.speaker, first.num_speakers) == ("anna", 1)
    assert diar.reference is None and diar.rttm == tmp_path / "b.rttm"
    assert diar.speakers == ("x", "y") and diar.num_speakers == 2
    assert again.id != first.id  # two lines on one file stay two rows


def test_unreadable_or_empty_manifest(tmp_path) -> None:
    with pytest.raises(OSError):
        read_manifest(tmp_path / "absent.jsonl")
    m = read_manifest(_write(tmp_path / "empty.jsonl", ["", "  "]))
    assert not m.entries and "no entries" in m.problems[0].message


def test_corpus_rates_and_counts_match_jiwer() -> None:
    counts = score_normalized(REFS, HYPS)
    direct = jiwer.process_words(REFS, HYPS)
    assert (counts.substitutions, counts.deletions, counts.insertions, counts.hits) == (
        direct.substitutions, direct.deletions, direct.insertions, direct.hits)
    assert counts.wer == pytest.approx(jiwer.wer(REFS, HYPS))
    assert counts.mer == pytest.approx(jiwer.mer(REFS, HYPS))
    assert counts.wil == pytest.approx(jiwer.wil(REFS, HYPS))
    assert counts.cer == pytest.approx(jiwer.cer(REFS, HYPS))
    # Summing per-utterance counts gives the corpus rates, not the mean of utterance rates.
    summed = score_normalized(REFS[:1], HYPS[:1])
    for r, h in zip(REFS[1:], HYPS[1:]):
        summed = summed + score_normalized([r], [h])
    assert (summed.wer, summed.mer, summed.wil) == pytest.approx((counts.wer, counts.mer,
                                                                  counts.wil))
    empty = score_normalized(["alpha beta"], [""])
    assert empty.wil == pytest.approx(jiwer.wil(["alpha beta"], [""]))


def test_alignment_columns_rebuild_both_sides_and_tally_matches_jiwer() -> None:
    aligned = align_many(REFS, HYPS)
    for columns, ref, hyp in zip(aligned, REFS, HYPS):
        assert [c.ref for c in columns if c.op != INSERT] == ref.split()
        assert [c.hyp for c in columns if c.op != DELETE] == hyp.split()
    ops = [c.op for cols in aligned for c in cols]
    direct = jiwer.process_words(REFS, HYPS)
    assert ops.count(SUBSTITUTE) == direct.substitutions
    assert ops.count(DELETE) == direct.deletions
    assert ops.count(INSERT) == direct.insertions
    assert ops.count(EQUAL) == direct.hits
    # jiwer tallies whole chunks ("fox jumps" -> "box jumped"); the report counts word pairs.
    subs, ins, dels = jiwer.collect_error_counts(direct)
    word_subs: Counter = Counter()
    for (r, h), n in subs.items():
        for pair in zip(r.split(), h.split()):
            word_subs[pair] += n
    tally = tally_errors(aligned)
    assert dict(tally.substitutions) == dict(word_subs)
    assert ("fox", "box") in dict(tally.substitutions)
    assert dict(tally.insertions) == Counter(w for k, n in ins.items() for w in k.split() * n)
    assert dict(tally.deletions) == Counter(w for k, n in dels.items() for w in k.split() * n)
    counts = [c for _, c in tally.substitutions]
    assert counts == sorted(counts, reverse=True)


def test_text_alignment_lines_up_columns_and_wraps() -> None:
    ref_text, hyp_text = "the cat sat down on the mat", "the cat sit on the mat right now"
    (columns,) = align_many([ref_text], [hyp_text])
    rows = text_rows(columns, width=12)
    assert len(rows) > 1
    for ref, hyp, mark in rows:
        # Every word starts in the same column on the REF and HYP lines.
        starts = [i for i, ch in enumerate(ref) if ch != " " and (i == 0 or ref[i - 1] == " ")]
        hyp_starts = [i for i, ch in enumerate(hyp) if ch != " " and (i == 0 or hyp[i - 1] == " ")]
        assert starts == hyp_starts
    marks = " ".join(r[2] for r in rows).split()
    direct = jiwer.process_words(ref_text, hyp_text)
    assert (marks.count("S"), marks.count("D"), marks.count("I")) == (
        direct.substitutions, direct.deletions, direct.insertions)
    assert " ".join(r[0] for r in rows).replace("*", "").split() == ref_text.split()


def test_word_error_flags_follow_the_normalised_alignment() -> None:
    from desktop_asr.evaluation import normalizer_for

    norm = normalizer_for("en")
    words = [" Mr.", " Quilter", " is", " the", " apostle", " of", " the", " middle", " glasses."]
    ref = norm("Mr. Quilter is the apostle of the middle classes")
    hyp = norm("".join(words))
    (columns,) = align_many([ref], [hyp])
    flags = word_error_flags(words, columns, norm)
    assert flags == [False] * 8 + [True]
    assert word_error_flags(words[:3], columns, norm) is None  # tokens do not line up


def test_features_match_librosa() -> None:
    librosa = pytest.importorskip("librosa", reason="librosa is the independent reference")
    from desktop_asr.evaluation.features import features

    rng = np.random.default_rng(1)
    t = np.arange(24000) / 16000
    y = (0.3 * np.sin(2 * np.pi * 300 * t) * (1 + np.sin(2 * np.pi * 3 * t))
         + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
    ours = features(y)
    mel = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=400, hop_length=160, n_mels=80,
                                         center=True, pad_mode="constant")
    log_mel = librosa.power_to_db(mel, ref=1.0, top_db=80.0)
    assert ours.log_mel.shape == log_mel.shape
    assert np.abs(ours.log_mel - log_mel).max() < 1e-3
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=13)
    assert np.abs(ours.mfcc - mfcc).max() < 1e-2


def test_der_parts_on_a_hand_worked_case() -> None:
    # Reference: a speaks 0-5 s, b 5-10 s. Hypothesis: x 0-6 s, y 6-9 s.
    # Mapping x->a, y->b: 5-6 s is b labelled x (confusion 1 s), 9-10 s is missed (1 s),
    # nothing is false alarm; DER = 2 s / 10 s.
    reference = parse_rttm("SPEAKER rec 1 0.00 5.00 <NA> <NA> a <NA> <NA>\n"
                           ";; a comment\n"
                           "SPEAKER rec 1 5.00 5.00 <NA> <NA> b <NA> <NA>\n")
    hypothesis = parse_rttm("SPEAKER rec 1 0 6 <NA> <NA> x <NA> <NA>\n"
                            "SPEAKER rec 1 6 3 <NA> <NA> y <NA> <NA>\n")
    s = score_der(reference, hypothesis, duration=10.0)
    assert s.der == pytest.approx(0.2)
    assert (s.missed, s.false_alarm, s.confusion) == pytest.approx((0.1, 0.0, 0.1))
    assert s.reference_seconds == pytest.approx(10.0)
    assert (s.reference_speakers, s.hypothesis_speakers) == (2, 2)


@pytest.mark.parametrize("text, message", [
    ("SPEAKER rec 1 zero 1.0 <NA> <NA> a <NA> <NA>", ":1: onset and duration must be numbers"),
    ("SPEAKER rec 1 0.0", ":1: a SPEAKER line has 10 fields"),
    ("SPEAKER a 1 0 1 <NA> <NA> s <NA> <NA>\nSPEAKER b 1 0 1 <NA> <NA> s <NA> <NA>",
     "several recordings"),
])
def test_bad_rttm_is_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rttm(text, "x.rttm")


def test_model_specs_take_an_engine_prefix_only_when_it_names_an_engine() -> None:
    from desktop_asr.cli.evaluate import model_specs

    engines = engine_names()
    spec = parse_model_spec("tiny.en", engines, DEFAULT_ENGINE)
    assert (spec.engine, spec.model, spec.label) == (DEFAULT_ENGINE, "tiny.en", "tiny.en")
    spec = parse_model_spec(f"{DEFAULT_ENGINE}:/models/small", engines, DEFAULT_ENGINE)
    assert (spec.engine, spec.model, spec.label) == (DEFAULT_ENGINE, "/models/small", "small")
    assert parse_model_spec(r"C:\models\mine", engines, DEFAULT_ENGINE).model == r"C:\models\mine"
    with pytest.raises(ValueError, match="no model"):
        parse_model_spec(f"{DEFAULT_ENGINE}:", engines, DEFAULT_ENGINE)
    assert [s.model for s in model_specs([], None)] == ["tiny.en"]
    pairs = [(DEFAULT_ENGINE, "a"), (DEFAULT_ENGINE, "b")]
    assert [s.label for s in model_specs(pairs, None)] == ["a", "b"]
    with pytest.raises(ValueError, match="not followed by a --model"):
        model_specs(pairs, DEFAULT_ENGINE)


def _clip(line: int, ref: str, hyp: str, duration: float, speaker: str) -> ClipResult:
    entry = ManifestEntry(line=line, id=f"c{line}", audio=Path(f"/x/c{line}.wav"),
                          reference=ref, speaker=speaker)
    (columns,) = align_many([ref], [hyp])
    return ClipResult(entry, duration=duration, language="en", hypothesis=hyp, ref_norm=ref,
                      hyp_norm=hyp, counts=score_normalized([ref], [hyp]), alignment=columns)


def test_breakdowns_equal_jiwer_on_each_subset() -> None:
    durations = [1.5, 3.0, 12.0, 4.0]
    speakers = ["anna", "ben", "anna", "ben"]
    clips = tuple(_clip(i + 1, r, h, d, s)
                  for i, (r, h, d, s) in enumerate(zip(REFS, HYPS, durations, speakers)))
    model = ModelResult(ModelSpec(DEFAULT_ENGINE, "tiny.en"), clips=clips)
    groups = {g.key: g for g in by_duration(model, EvaluationOptions().duration_bins)}
    assert list(groups) == ["< 2 s", "2-5 s", "10-20 s"]
    assert groups["2-5 s"].clips == 2
    assert groups["2-5 s"].counts.wer == pytest.approx(jiwer.wer([REFS[1], REFS[3]],
                                                                 [HYPS[1], HYPS[3]]))
    anna = next(g for g in by_speaker(model) if g.key == "anna")
    assert anna.counts.wer == pytest.approx(jiwer.wer([REFS[0], REFS[2]], [HYPS[0], HYPS[2]]))
    worst = worst_clips(model, 10)
    rates = [jiwer.wer(c.ref_norm, c.hyp_norm) for c in worst]
    assert rates == sorted(rates, reverse=True) and len(worst) == 3  # the perfect clip is out


def test_evaluation_and_its_cli_import_no_qt_torch_or_matplotlib() -> None:
    import subprocess
    import sys

    code = ("import sys, desktop_asr.evaluation, desktop_asr.cli.evaluate; "
            "bad = [m for m in ('PySide6', 'torch', 'matplotlib', 'pyannote') "
            "if m in sys.modules]; print(bad); raise SystemExit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_pairs_each_model_with_the_engine_given_before_it(tmp_path, capsys) -> None:
    from desktop_asr.cli.evaluate import model_specs
    from desktop_asr.cli.main import build_parser, main

    engines = engine_names()
    other = next((e for e in engines if e != DEFAULT_ENGINE), DEFAULT_ENGINE)
    args = build_parser().parse_args(["evaluate", "--manifest", "m.jsonl", "--model", "a",
                                      "--engine", other, "--model", "b",
                                      "--model", f"{DEFAULT_ENGINE}:c"])
    specs = model_specs(args.models, args.engine_pending)
    assert [(s.engine, s.model) for s in specs] == [(DEFAULT_ENGINE, "a"), (other, "b"),
                                                    (DEFAULT_ENGINE, "c")]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"audio": "x.wav", "text": "t"}\n')
    assert main(["evaluate", "--manifest", str(manifest), "--model", "a", "--engine",
                 DEFAULT_ENGINE]) == 2
    assert "not followed by a --model" in capsys.readouterr().err
    assert main(["evaluate", "--manifest", str(manifest), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{manifest}:1: audio file not found" in err and "nothing to evaluate" in err
