"""Offline diarization that does not hang on where the embedding windows fall.

The real-speech tests run the offline pass with every region's windows started later
(``window_offset``) and check the speaker count and a DER bound at each placement, and check
the speaker count of real voices strung together (one reader; three different people). The
always-on tests cover k-means, the two cluster-distance tests and the multi-scale windows on
numbers made here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from diarization_fixtures import backend_or_skip
from desktop_asr.diarization import DiarizationOptions, SpeechRegion, diarize
from desktop_asr.diarization.clustering import kmeans, linkage_distance, separation
from desktop_asr.diarization.scales import nearest_windows, region_windows, window_speech
from desktop_asr.diarization.smoothing import frame_labels

SAMPLE_RATE = 16000
OPTS = DiarizationOptions(backend="embedded", name_from_profiles=False)
SHIFTS = (0.1, 0.2, 0.3, 0.4)


def _rttm(path: Path) -> list[tuple[float, float, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        out.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return out


def _der(reference, turns, uri: str, seconds: float) -> float:
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    def ann(rows):
        a = Annotation(uri=uri)
        for i, (s, e, who) in enumerate(rows):
            a[Segment(s, e), i] = who
        return a

    hyp = [(t.start, t.end, t.speaker) for t in turns]
    return DiarizationErrorRate(collar=0.0, skip_overlap=False)(
        ann(reference), ann(hyp), uem=Timeline([Segment(0, seconds)]))


@pytest.mark.slow
@pytest.mark.parametrize("clip, bound", [("pyannote_sample", 0.15), ("pyannote_dev00", 0.12)])
def test_real_clip_count_and_der_hold_when_the_windows_move(speech_dir: Path, clip: str,
                                                            bound: float) -> None:
    """Measured (docs/benchmarks.md): pyannote_sample 13.2-14.8 %, pyannote_dev00 9.8-10.3 %
    over these shifts; the 1.0-s windows of before gave 16.8-18.9 % and 11.4-40.2 %."""
    backend_or_skip()
    pytest.importorskip("pyannote.metrics", reason="pyannote.metrics scores DER")
    from desktop_asr.audio import decode_audio

    if not (speech_dir / f"{clip}.rttm").is_file():
        pytest.skip(f"{clip}.rttm not in {speech_dir}")
    audio = decode_audio(speech_dir / f"{clip}.wav")
    reference = _rttm(speech_dir / f"{clip}.rttm")
    count = len({w for _, _, w in reference})
    first = diarize(audio, OPTS)
    results = {0.0: first}
    for shift in SHIFTS:
        results[shift] = diarize(audio, replace(OPTS, window_offset=shift),
                                 regions=list(first.regions))
    for shift, result in results.items():
        der = _der(reference, result.turns, clip, audio.size / SAMPLE_RATE)
        assert len(result.speakers) == count, (shift, result.speakers)
        assert der <= bound, f"DER {der:.1%} on {clip} with windows {shift} s later"


def _strung(speech_dir: Path, names: list[str]) -> tuple[np.ndarray, list[str]]:
    from desktop_asr.audio import decode_audio

    missing = [n for n in names if not (speech_dir / f"{n}.wav").is_file()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not in {speech_dir}")
    gap = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    pieces = []
    for name in names:
        pieces += [decode_audio(speech_dir / f"{name}.wav"), gap]
    return np.concatenate(pieces), names


LIBRIVOX = [f"librivox_sense_and_sensibility_{n:04d}" for n in (870, 880, 890, 920, 930)]


@pytest.mark.slow
def test_one_reader_strung_together_is_one_speaker(speech_dir: Path) -> None:
    """25 s of one LibriVox reader (five clips, 0.5-s pauses): each half has speech enough to
    be a speaker, and the 1.0-s windows of before made two of it (DER 42-50 %)."""
    backend_or_skip()
    audio, _ = _strung(speech_dir, LIBRIVOX)
    first = diarize(audio, OPTS)
    assert len(first.speakers) == 1, first.turns
    for shift in (0.2, 0.4):
        moved = diarize(audio, replace(OPTS, window_offset=shift), regions=list(first.regions))
        assert len(moved.speakers) == 1, (shift, moved.turns)


@pytest.mark.slow
def test_three_voices_strung_together_are_three_speakers(speech_dir: Path) -> None:
    """A LibriVox reader, a CMU ARCTIC speaker and JFK taking turns: three speakers, each
    line given to its own speaker."""
    backend_or_skip()
    from desktop_asr.diarization import speaker_at

    names = [LIBRIVOX[0], "cmu_arctic_us_aew_a0001", "jfk", LIBRIVOX[2],
             "cmu_arctic_us_aew_a0002", LIBRIVOX[3], "cmu_arctic_us_aew_a0003"]
    audio, _ = _strung(speech_dir, names)
    from desktop_asr.audio import decode_audio

    voice = {n: ("lib" if n.startswith("librivox") else n.split("_a0")[0]) for n in names}
    lines, at = [], 0.0
    for n in names:
        seconds = decode_audio(speech_dir / f"{n}.wav").size / SAMPLE_RATE
        lines.append((at, at + seconds, voice[n]))
        at += seconds + 0.5
    result = diarize(audio, OPTS)
    assert len(result.speakers) == 3, result.turns
    given = {}
    for s, e, who in lines:
        given.setdefault(who, set()).add(speaker_at(result.turns, s, e))
    assert all(len(v) == 1 for v in given.values()), given
    assert len({next(iter(v)) for v in given.values()}) == 3, given


def _blobs(rng: np.random.Generator, centres: list[np.ndarray], n: int, spread: float
           ) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([c + spread * rng.standard_normal((n, c.size)) for c in centres])
    truth = np.repeat(np.arange(len(centres)), n)
    return x / np.linalg.norm(x, axis=1, keepdims=True), truth


def test_kmeans_finds_the_blobs_and_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    centres = [np.eye(16)[i] * 3 for i in range(3)]
    x, truth = _blobs(rng, centres, 40, 0.5)
    labels = kmeans(x, 3)
    assert np.array_equal(labels, kmeans(x, 3))
    # Same partition as the truth, whatever the numbering.
    pairs = set(zip(labels.tolist(), truth.tolist()))
    assert len(pairs) == 3
    assert labels[0] == 0  # numbered by first appearance
    assert kmeans(x[:2], 5).tolist() in ([0, 1], [0, 0])


def test_separation_tells_one_voice_split_from_two_voices() -> None:
    """Raw-embedding separation: two halves of one cloud stay close against their scatter;
    two clouds do not. The centred linkage distance is large for both."""
    rng = np.random.default_rng(2)
    base = np.ones(32)
    one, _ = _blobs(rng, [base], 120, 0.25)
    other = base.copy()
    other[:16] *= -0.2
    two, truth = _blobs(rng, [base, other], 60, 0.25)
    split_one = kmeans(one - one.mean(axis=0), 2)
    assert separation(one, split_one, 2) < 0.35 <= separation(two, truth, 2)
    assert separation(two, truth, 1) == float("inf")

    def centred(v):
        c = v - v.mean(axis=0)
        return c / np.linalg.norm(c, axis=1, keepdims=True)

    assert linkage_distance(centred(one), split_one, 2) > 1.0
    assert linkage_distance(centred(two), truth, 2) > 1.0


def test_windows_move_with_the_offset_and_map_within_their_region() -> None:
    regions = [SpeechRegion(0.0, 3.0), SpeechRegion(3.2, 3.7), SpeechRegion(5.0, 6.1)]
    plain = region_windows(regions, 1.0, 0.25, 0.4)
    moved = region_windows(regions, 1.0, 0.25, 0.4, offset=0.3)
    assert plain.spans[0, 0] == 0.0 and moved.spans[0, 0] == pytest.approx(0.3)
    # A region too short for the offset keeps its windows; none ends beyond its region.
    assert np.allclose(moved.spans[moved.region == 1], [[3.2, 3.7]])
    assert moved.spans[moved.region == 2][0, 0] == pytest.approx(5.0)
    for i, r in enumerate(regions):
        s = moved.spans[moved.region == i]
        assert s[:, 0].min() >= r.start - 1e-9 and s[:, 1].max() <= r.end + 1e-9
    short = region_windows(regions, 0.5, 0.1, 0.4)
    idx = nearest_windows(short, plain)
    assert np.array_equal(plain.region[idx], short.region)
    # Each region's speech is shared by its windows.
    speech = window_speech(short, regions)
    assert speech.sum() == pytest.approx(sum(r.duration for r in regions))


def test_tapered_frame_labels_follow_the_window_centres() -> None:
    """Two overlapping windows that disagree: flat weights give the overlap to the higher
    score, tapered weights to the window centred nearer each frame."""
    regions = [SpeechRegion(0.0, 2.0)]
    spans = np.array([[0.0, 1.5], [0.5, 2.0]])
    scores = np.array([[1.0, 0.0], [0.0, 1.1]])
    flat = frame_labels(regions, spans, scores, 2.0)
    tapered = frame_labels(regions, spans, scores, 2.0, taper=True)
    assert (flat[10:30] == 1).all()  # 0.5-1.5 s: both windows, the second scores higher
    assert (tapered[:19] == 0).all() and (tapered[21:] == 1).all()


def test_new_options_are_validated() -> None:
    with pytest.raises(ValueError):
        DiarizationOptions(scales=())
    with pytest.raises(ValueError):
        DiarizationOptions(scales=((0.5, 1.0),))
    with pytest.raises(ValueError):
        DiarizationOptions(window_offset=-0.1)
    with pytest.raises(ValueError):
        DiarizationOptions(speaker_distance=2.5)
    with pytest.raises(ValueError):
        DiarizationOptions(min_separation=-1)
