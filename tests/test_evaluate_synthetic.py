"""`desktop-asr evaluate` end to end on espeak-ng speech (always on), with the bundled tiny.en.

The numbers it prints and writes are checked against jiwer and pyannote.metrics run directly on
the same strings and turns, with Whisper's English normaliser instantiated here on its own.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import jiwer
import numpy as np
import pytest

from desktop_asr.cli.main import main

SR = 16000
VOICES = {"anna": ("en-us+f4", 85), "ben": ("en-us+m3", 30)}
CLIPS = [  # (speaker, spoken text, reference text)
    ("anna", "Please send the quarterly report to Margaret before Friday afternoon.", None),
    # The reference deliberately disagrees with what is said: two known substitutions.
    ("ben", "The library opens early on Saturday and closes late on Sunday.",
     "The library opens late on Sunday and closes late on Sunday."),
    ("anna", "Our garden needs rain after a long and very dry summer.", None),
    ("ben", "She painted the old wooden fence a bright shade of yellow.", None),
]
TURNS = [("anna", "Good morning everyone, let us start with the release plan for this week."),
         ("ben", "The release candidate is ready, and we fixed the login bug on Monday.")]


def _speech_bounds(samples: np.ndarray) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(samples) > 0.02)
    return int(loud[0]), int(loud[-1]) + 1


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """WAVs, an RTTM and a manifest with good lines and every kind of bad line."""
    from audio_fixtures import espeak_wav, write_wav

    from desktop_asr.audio import decode_audio

    folder = tmp_path_factory.mktemp("eval-synth")
    rows: list[str] = []
    for i, (who, spoken, ref) in enumerate(CLIPS):
        voice, pitch = VOICES[who]
        espeak_wav(spoken, folder / f"clip{i}.wav", voice=voice, pitch=pitch, speed=155)
        rows.append(json.dumps({"audio": f"clip{i}.wav", "text": ref or spoken,
                                "language": "en", "speaker": who, "speakers": 1}))
    espeak_wav("Der Zug nach Berlin fährt um acht Uhr ab.", folder / "german.wav", voice="de")
    # A two-voice conversation with its ground-truth turns, for DER.
    pieces, truth, at = [], [], 0
    gap = np.zeros(int(0.7 * SR), dtype=np.float32)
    for i, (who, text) in enumerate(TURNS):
        voice, pitch = VOICES[who]
        samples = decode_audio(espeak_wav(text, folder / f"turn{i}.wav", voice=voice,
                                          pitch=pitch, speed=155))
        start, end = _speech_bounds(samples)
        # Rounded to the millisecond, as the RTTM holds them.
        onset, length = round((at + start) / SR, 3), round((end - start) / SR, 3)
        truth.append((onset, onset + length, who))
        pieces += [samples, gap]
        at += samples.size + gap.size
    write_wav(folder / "meeting.wav", np.concatenate(pieces), SR)
    (folder / "meeting.rttm").write_text("".join(
        f"SPEAKER meeting 1 {s:.3f} {e - s:.3f} <NA> <NA> {w} <NA> <NA>\n" for s, e, w in truth))
    lines = [rows[0], rows[1], '{"audio": "clip0.wav", "text": "broken',
             rows[2], json.dumps({"audio": "missing.wav", "text": "where did it go"}), rows[3],
             json.dumps({"audio": "german.wav", "text": "Der Zug nach Berlin fährt um acht "
                                                        "Uhr ab.", "language": "de"}),
             json.dumps({"audio": "clip0.wav", "text": ""}),
             json.dumps({"audio": "meeting.wav", "text": " ".join(t for _, t in TURNS),
                         "language": "en", "speakers": 2, "rttm": "meeting.rttm"})]
    manifest = folder / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"manifest": manifest, "truth": truth, "folder": folder}


@pytest.fixture(scope="module")
def run(corpus: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real `desktop-asr evaluate` run (in-process) with its outputs."""
    out = tmp_path_factory.mktemp("eval-report")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["evaluate", "--manifest", str(corpus["manifest"]), "--out", str(out),
                     "--device", "cpu", "--threads", "2", "--plots", "2", "--worst", "3",
                     "--oracle-speakers"])
    return {"code": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue(), "out": out,
            "results": json.loads((out / "results.json").read_text(encoding="utf-8"))}


def _whisper_norm():
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    return EnglishTextNormalizer({})


def _table_row(text: str, first_cell: str) -> list[str]:
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row starting with {first_cell!r} in:\n{text}")


@pytest.mark.slow
def test_bad_lines_are_named_and_the_rest_is_evaluated(run: dict, corpus: dict) -> None:
    m = corpus["manifest"]
    assert run["code"] == 1, "bad manifest lines must show in the exit status"
    err = run["stderr"]
    assert f"{m}:3: not valid JSON" in err
    assert f"{m}:5: audio file not found: {corpus['folder'] / 'missing.wav'}" in err
    assert f"{m}:8: empty reference text" in err
    assert re.search(r"skipped german\.wav \(line 7\): .*'en'.*'de'", err)
    (model,) = run["results"]["models"]
    by_line = {c["line"]: c for c in model["clips"]}
    assert sorted(line for line, c in by_line.items() if c["counts"]) == [1, 2, 4, 6, 9]
    assert by_line[7]["skipped"] and by_line[7]["counts"] is None
    assert sorted(p["line"] for p in run["results"]["problems"]) == [3, 5, 8]


@pytest.mark.slow
def test_printed_and_written_rates_equal_jiwer_on_the_same_strings(run: dict) -> None:
    norm = _whisper_norm()
    (model,) = run["results"]["models"]
    scored = [c for c in model["clips"] if c["counts"]]
    refs = [norm(c["reference"]) for c in scored]
    hyps = [norm(c["hypothesis"]) for c in scored]
    direct = jiwer.process_words(refs, hyps)
    wer, cer = jiwer.wer(refs, hyps), jiwer.cer(refs, hyps)
    mer, wil = jiwer.mer(refs, hyps), jiwer.wil(refs, hyps)
    total = model["total"]
    assert total["wer"] == pytest.approx(wer) and total["cer"] == pytest.approx(cer)
    assert total["mer"] == pytest.approx(mer) and total["wil"] == pytest.approx(wil)
    assert (total["substitutions"], total["deletions"], total["insertions"]) == (
        direct.substitutions, direct.deletions, direct.insertions)
    row = _table_row(run["stdout"], "tiny.en")
    assert row[1] == str(len(scored))
    assert [float(v) for v in row[2:6]] == pytest.approx(
        [100 * wer, 100 * cer, 100 * mer, 100 * wil], abs=0.051)
    assert row[6] == f"{direct.substitutions}/{direct.deletions}/{direct.insertions}"
    assert 0 < float(row[7]) < 5, "RTF"
    # The model really listened: apart from the planted errors it hears espeak well.
    assert wer < 0.35, list(zip(refs, hyps))
    assert {("late", "early"), ("sunday", "saturday")} <= {
        (a, b) for ref, hyp in zip(refs, hyps)
        for a, b in _pairs(ref, hyp)}


def _pairs(ref: str, hyp: str) -> list[tuple[str, str]]:
    out = jiwer.process_words(ref, hyp)
    pairs = []
    for chunk in out.alignments[0]:
        if chunk.type == "substitute":
            pairs += list(zip(out.references[0][chunk.ref_start_idx:chunk.ref_end_idx],
                              out.hypotheses[0][chunk.hyp_start_idx:chunk.hyp_end_idx]))
    return pairs


@pytest.mark.slow
def test_per_speaker_breakdown_and_error_analysis_in_the_report(run: dict) -> None:
    norm = _whisper_norm()
    (model,) = run["results"]["models"]
    md = (run["out"] / "report.md").read_text(encoding="utf-8")
    for speaker in ("anna", "ben"):
        clips = [c for c in model["clips"]
                 if c["counts"] and VOICE_OF_LINE.get(c["line"]) == speaker]
        wer = jiwer.wer([norm(c["reference"]) for c in clips],
                        [norm(c["hypothesis"]) for c in clips])
        row = _table_row(md, speaker)
        assert row[1] == str(len(clips))
        assert float(row[3]) == pytest.approx(100 * wer, abs=0.051)
    worst_section = md.split("### Worst files", 1)[1]
    assert _table_row(worst_section, "1")[1] == "clip1.wav", "the planted errors are worst"
    errors_section = md.split("### Most frequent errors", 1)[1]
    row = _table_row(errors_section, "late")
    assert row[1] == "early" and int(row[2]) >= 1
    html = (run["out"] / "report.html").read_text(encoding="utf-8")
    assert '<span class="sub">late' in html and '<span class="sub">early' in html


VOICE_OF_LINE = {1: "anna", 2: "ben", 4: "anna", 6: "ben"}


@pytest.mark.slow
def test_der_equals_pyannote_on_the_written_turns(run: dict, corpus: dict) -> None:
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    (clip,) = run["results"]["diarization"]
    ref, hyp = Annotation(), Annotation()
    for i, (s, e, who) in enumerate(corpus["truth"]):
        ref[Segment(s, e), i] = who
    for i, t in enumerate(clip["turns"]):
        hyp[Segment(t["start"], t["end"]), i] = t["speaker"]
    parts = DiarizationErrorRate(collar=0.0, skip_overlap=False)(
        ref, hyp, uem=Timeline([Segment(0, clip["duration"])]), detailed=True)
    assert clip["der"] == pytest.approx(parts["diarization error rate"])
    total = parts["total"]
    assert (clip["missed"], clip["false_alarm"], clip["confusion"]) == pytest.approx(
        (parts["missed detection"] / total, parts["false alarm"] / total,
         parts["confusion"] / total))
    assert clip["hypothesis_speakers"] == 2 and clip["der"] < 0.3
    row = _table_row(run["stdout"], "meeting.wav")
    assert float(row[1]) == pytest.approx(100 * clip["der"], abs=0.051)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "img":
            self.sources.append(a.get("src", ""))
        if tag in ("link", "script") or (tag == "a" and a.get("href", "").startswith("http")):
            self.links.append(tag)


@pytest.mark.slow
def test_html_is_self_contained_and_markdown_pngs_are_real(run: dict) -> None:
    import base64

    from PIL import Image

    out = run["out"]
    parser = _Images()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    assert parser.sources and not parser.links
    prefix = "data:image/png;base64,"
    sizes = []
    for src in parser.sources:
        assert src.startswith(prefix), src[:60]
        with Image.open(io.BytesIO(base64.b64decode(src[len(prefix):]))) as img:
            assert img.format == "PNG"
            sizes.append(img.size)
    md = (out / "report.md").read_text(encoding="utf-8")
    names = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(names) == len(parser.sources)
    assert "wer-by-duration.png" in names
    clip_plots = [n for n in names if n.startswith("clip-")]
    assert len(clip_plots) == 2  # --plots 2
    for name in names:
        with Image.open(out / name) as img:
            assert img.format == "PNG" and img.size[0] >= 600 and img.size[1] >= 250


@pytest.mark.slow
def test_raw_scoring_counts_case_and_punctuation(corpus: dict, tmp_path: Path) -> None:
    plain = CLIPS[0][1].lower().replace(".", "").replace(",", "")
    manifest = tmp_path / "raw.jsonl"
    manifest.write_text(json.dumps({"audio": str(corpus["folder"] / "clip0.wav"),
                                    "text": plain}) + "\n", encoding="utf-8")
    rates = {}
    for flag in ("--raw", None):
        out = tmp_path / (flag or "normalised").strip("-")
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            code = main(["evaluate", "--manifest", str(manifest), "--out", str(out),
                         "--device", "cpu", "--threads", "2", "--no-plots", "-q",
                         *([flag] if flag else [])])
        assert code == 0
        (model,) = json.loads((out / "results.json").read_text())["models"]
        (clip,) = model["clips"]
        if flag:
            # Raw: only whitespace is collapsed, so "Please" != "please" and "afternoon." counts.
            expected = jiwer.wer(" ".join(plain.split()), " ".join(clip["hypothesis"].split()))
        else:
            norm = _whisper_norm()
            expected = jiwer.wer(norm(plain), norm(clip["hypothesis"]))
        assert model["total"]["wer"] == pytest.approx(expected)
        assert float(_table_row(stdout.getvalue(), "tiny.en")[2]) == pytest.approx(
            100 * expected, abs=0.051)
        rates[flag] = expected
    assert rates["--raw"] > rates[None]


@pytest.mark.slow
def test_a_model_that_cannot_load_is_reported_and_the_next_one_still_runs(corpus: dict,
                                                                          tmp_path: Path) -> None:
    manifest = tmp_path / "one.jsonl"
    manifest.write_text(json.dumps({"audio": str(corpus["folder"] / "clip2.wav"),
                                    "text": CLIPS[2][1]}) + "\n", encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["evaluate", "--manifest", str(manifest), "--out", str(tmp_path / "out"),
                     "--model", str(tmp_path / "no-such-model"), "--model", "tiny.en",
                     "--device", "cpu", "--threads", "2", "--no-plots", "-q"])
    assert code == 1
    assert "cannot load no-such-model" in stderr.getvalue()
    assert _table_row(stdout.getvalue(), "no-such-model")[1] == "0"
    assert _table_row(stdout.getvalue(), "tiny.en")[1] == "1"
