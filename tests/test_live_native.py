"""The live pipeline on a streaming-native engine: the Emformer RNN-T's own incremental decoder.

The Emformer weights here are RANDOM (torchaudio's factory, a sentencepiece model trained on a few
sentences), so the words mean nothing. What must hold regardless: each piece of VAD speech is fed
into the channel's stream once (never the whole buffer again), committed words never change,
the finals are the session transcript, and they equal the engine's own whole-region decode of the
same speech (feeding in pieces == feeding at once); an utterance's end commits everything, Stop
drains the queue, and over a 10-minute stream the decoder's inputs and state stay bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio_fixtures import write_wav
from desktop_asr.audio import decode_audio
from desktop_asr.capture.file_source import FileSource
from desktop_asr.engines import DecodeOptions, EngineConfig
from desktop_asr.streaming import LiveOptions, LivePipeline, StreamOptions
from desktop_asr.streaming.native import NativeStreamProcessor, make_processor
from desktop_asr.types import Word
from desktop_asr.vad import VadOptions, VadSegmenter, make_detector
from desktop_asr.vad.base import SpeechAudio, SpeechStarted

SR = 16000
SENTENCES = ("Please send the quarterly report to Margaret before Friday afternoon.",
             "Our team will review the budget numbers next Tuesday.",
             "The meeting moved to the small room on the third floor.")
# The sentencepiece model's text, and the seed and blank bias of the random weights, are chosen
# so that this random model says a few words per utterance and fixes some before each ends.
SPM_TEXT = ["please send the quarterly report to margaret before friday afternoon",
            "the quick brown fox jumps over the lazy dog",
            "she sells sea shells by the sea shore", "a stitch in time saves nine",
            "live captions for meetings and calls stay on this machine"]


# -- fixtures and helpers ------------------------------------------------------------------

@pytest.fixture(scope="module")
def emformer_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Emformer RNN-T folder (blank-biased so its beam search stays quick)."""
    from desktop_asr.engines.emformer_random import build_random_emformer

    return build_random_emformer(tmp_path_factory.mktemp("native") / "emformer", SPM_TEXT,
                                 blank_bias=2.0, seed=2)


@pytest.fixture(scope="module")
def emformer(emformer_folder: Path):
    """The conformer engine on the random-weight Emformer, beam 4, one CPU thread."""
    from desktop_asr.engines.conformer import create_conformer_engine

    return create_conformer_engine(
        EngineConfig(model=str(emformer_folder), device="cpu", cpu_threads=1), beam_width=4)


@pytest.fixture(scope="module")
def conversation(tmp_path_factory, spoken) -> tuple[Path, np.ndarray]:
    """Three spoken sentences with one-second silences between them."""
    gap = np.zeros(SR, np.float32)
    parts = [gap]
    for sentence in SENTENCES:
        parts += [decode_audio(spoken(sentence)), gap]
    audio = np.concatenate(parts)
    return write_wav(tmp_path_factory.mktemp("conv") / "conversation.wav", audio, SR), audio


class CountingStream:
    """A stream wrapper that notes the size of every piece fed, per utterance."""

    def __init__(self, stream, fed: list[list[int]], delay: float) -> None:
        self._stream, self._fed, self._delay = stream, fed, delay

    def reset(self) -> None:
        self._fed.append([])
        self._stream.reset()

    def accept(self, samples: np.ndarray) -> None:
        self._fed[-1].append(samples.size)
        if self._delay:
            time.sleep(self._delay)
        self._stream.accept(samples)

    def finish(self) -> None:
        self._stream.finish()

    def split_words(self):  # noqa: ANN201
        return self._stream.split_words()


class CountingEngine:
    """The random-weight Emformer engine, noting what its streams are fed (and any re-decode)."""

    def __init__(self, engine, delay: float = 0.0) -> None:
        self._engine, self._delay = engine, delay
        self.name, self.capabilities, self.info = engine.name, engine.capabilities, engine.info
        self.fed: list[list[int]] = []   # per utterance: samples of each accept() call
        self.transcribe_calls = 0

    def create_stream(self) -> CountingStream:
        return CountingStream(self._engine.create_stream(), self.fed, self._delay)

    def transcribe(self, audio, **kwargs):  # noqa: ANN001, ANN201
        self.transcribe_calls += 1
        return self._engine.transcribe(audio, **kwargs)

    def detect_language(self, audio):  # noqa: ANN001, ANN201
        return self._engine.detect_language(audio)


@contextlib.contextmanager
def recorded_steps(engine) -> Iterator[list[tuple[int, int]]]:
    """(input samples, tokens in the best hypothesis going in) of every decoder step."""
    steps: list[tuple[int, int]] = []
    real = engine._step

    def step(chunk, state, hyps):  # noqa: ANN001, ANN202
        steps.append((chunk.size, len(hyps[0][0]) if hyps else 0))
        return real(chunk, state, hyps)

    engine._step = step
    try:
        yield steps
    finally:
        del engine._step


def speech_regions(audio: np.ndarray, vad: VadOptions) -> list[tuple[float, np.ndarray]]:
    """(start, samples) of each utterance the VAD finds in ``audio``, found on its own."""
    seg = VadSegmenter(vad, make_detector(vad))
    regions: list[tuple[float, list[np.ndarray]]] = []
    for event in [*seg.feed(audio), *seg.flush()]:
        if isinstance(event, SpeechStarted):
            regions.append((event.start, []))
        elif isinstance(event, SpeechAudio):
            regions[-1][1].append(np.asarray(event.samples, np.float32))
    return [(start, np.concatenate(parts)) for start, parts in regions]


def whole_region_words(engine, audio: np.ndarray, vad: VadOptions) -> list[list[Word]]:
    """Per utterance: the engine's own decode of the whole region, in stream time."""
    out = []
    for start, samples in speech_regions(audio, vad):
        segments = engine.transcribe(samples, options=DecodeOptions(word_timestamps=True))
        words = [w for s in segments for w in s.words]
        out.append([Word(w.start + start, w.end + start, w.text) for w in words])
    return out


def finals_by_utterance(updates) -> dict[int, list[Word]]:
    out: dict[int, list[Word]] = {}
    for u in updates:
        if u.kind == "final":
            out.setdefault(u.utterance, []).extend(u.segment.words)
    return out


def assert_same_words(got: list[Word], want: list[Word], seg_s: float) -> None:
    assert [w.text for w in got] == [w.text for w in want]
    # Tokens emitted in one segment share its span, so a word committed before the rest of
    # its segment's tokens were known may be timed up to one segment differently.
    for g, w in zip(got, want):
        assert abs(g.start - w.start) <= seg_s + 1e-6 and abs(g.end - w.end) <= seg_s + 1e-6


def run(engine, path: Path, speed: float, options: LiveOptions | None = None,
        stop_at: float | None = None, **source_kwargs):
    updates, statuses = [], []
    pipe = LivePipeline(FileSource(path, speed=speed, **source_kwargs), engine, options,
                        on_update=updates.append, on_status=statuses.append)
    pipe.start()
    before_stop = None
    if stop_at is not None:
        deadline = time.monotonic() + 120
        while pipe.audio_seconds < stop_at and time.monotonic() < deadline:
            time.sleep(0.01)
        before_stop = pipe.audio_seconds
        pipe.stop()
    assert pipe.wait(timeout=300)
    return pipe, updates, statuses, before_stop


@pytest.fixture(scope="module")
def replay(emformer, conversation):
    """The conversation replayed at 4x through the live pipeline on the counting engine."""
    path, _ = conversation
    counting = CountingEngine(emformer)
    with recorded_steps(emformer) as steps:
        pipe, updates, statuses, _ = run(counting, path, speed=4.0)
    return pipe, updates, counting, steps


# -- the native path on a random-weight Emformer -----------------------------------------------

@pytest.mark.slow
def test_random_emformer_live_feeds_each_piece_once_and_never_redecodes(replay, emformer,
                                                                        conversation) -> None:
    pipe, updates, counting, steps = replay
    _, audio = conversation
    assert all(isinstance(p, NativeStreamProcessor) for p in pipe._processors)
    assert counting.transcribe_calls == 0                    # no re-decode of a buffer
    regions = speech_regions(audio, pipe.options.vad)
    assert len(regions) == len(SENTENCES)
    fed = [f for f in counting.fed if f]
    assert len(fed) == len(regions)                          # one stream reset per utterance
    for pieces, (_, samples) in zip(fed, regions):
        assert sum(pieces) == samples.size                   # every sample fed exactly once
        assert len(pieces) >= 3 and max(pieces) < samples.size / 2   # in pieces, as it came
    seg = emformer.segment_samples + emformer.context_samples
    assert steps and all(size <= seg for size, _ in steps)   # the decoder sees one segment
    for utt in {u.utterance for u in updates}:               # tentative text before commits
        first_final = next(i for i, u in enumerate(updates)
                           if u.kind == "final" and u.utterance == utt)
        assert any(u.kind == "partial" and u.utterance == utt and u.segment.text.strip()
                   for u in updates[:first_final])


@pytest.mark.slow
def test_random_emformer_live_commits_equal_the_engines_whole_region_decode(
        replay, emformer, conversation) -> None:
    """Feeding the stream in live pieces gives the words of feeding each region at once."""
    pipe, updates, _, _ = replay
    _, audio = conversation
    want = whole_region_words(emformer, audio, pipe.options.vad)
    got = finals_by_utterance(updates)
    assert sorted(got) == list(range(len(want)))
    seg_s = emformer.segment_samples / SR
    for utt, words in enumerate(want):
        assert words, "the random model should say something in every utterance"
        assert_same_words(got[utt], words, seg_s)


@pytest.mark.slow
def test_random_emformer_live_committed_words_never_change_and_ends_commit_all(replay
                                                                               ) -> None:
    pipe, updates, _, _ = replay
    finals = [u for u in updates if u.kind == "final"]
    # committed words are never taken back: the finals, in order, are the session transcript
    session = [w for s in pipe.transcript.transcript().segments for w in s.words]
    assert [w for u in finals for w in u.segment.words] == session
    assert "".join(u.segment.text for u in finals) == "".join(
        s.text for s in pipe.transcript.transcript().segments)
    # the decoder fixed words before the utterance ended (not only at the endpoint)
    assert any(sum(1 for u in finals if u.utterance == utt) > 1
               for utt in {u.utterance for u in finals})
    committed: dict[int, list[Word]] = {}
    for u in updates:
        assert u.speaker is None and u.channel == "file"
        done = committed.setdefault(u.utterance, [])
        if u.kind == "final":
            done.extend(u.segment.words)
        elif u.segment.words and done:                       # tentative text follows them
            assert u.segment.words[0].start >= done[-1].start
    for utt in committed:                                    # each end left nothing tentative
        last = [u for u in updates if u.utterance == utt][-1]
        assert last.kind == "final" or not last.segment.text
    assert updates[-1].kind == "final" or not updates[-1].segment.text


@pytest.mark.slow
def test_random_emformer_live_behind_real_time_widens_hop_and_stop_drains_the_queue(
        emformer, conversation) -> None:
    """A stream slowed to 1.6 s per piece, stopped once 7 s of audio were read (in the second
    sentence; what was queued by then is read too)."""
    path, audio = conversation
    slow = CountingEngine(emformer, delay=1.6)
    options = LiveOptions(stream=StreamOptions(hop=0.2, max_hop=2.0), status_interval=0.25)
    pipe, updates, statuses, before = run(slow, path, speed=2.0, options=options, stop_at=7.0)
    assert pipe.audio_seconds > before                      # Stop read what was still queued
    assert pipe.audio_seconds < audio.size / SR - 2.0       # ... and it really stopped early
    assert max(s.lag for s in statuses) > 1.0               # lag is measured and reported
    assert max(s.hop for s in statuses) > 0.2               # the hop grew to catch up
    assert statuses[-1].tentative_skipped > 0
    assert statuses[-1].overflows == 0 and statuses[-1].frames_dropped == 0
    # everything consumed, up to the stop, is committed: the whole-region decode of it
    consumed = audio[:round(pipe.audio_seconds * SR)]
    want = whole_region_words(emformer, consumed, pipe.options.vad)
    got = finals_by_utterance(updates)
    # Two sentences or more, by how much the queue held at Stop (more on a loaded machine).
    assert len(want) >= 2 and sorted(got) == list(range(len(want)))
    for utt, words in enumerate(want):
        assert_same_words(got[utt], words, emformer.segment_samples / SR)
    assert not updates[-1].segment.text or updates[-1].kind == "final"


@pytest.mark.slow
def test_random_emformer_ten_minute_stream_keeps_decoder_work_per_piece_bounded(
        emformer, spoken) -> None:
    """Ten minutes of continuous speech (three sentences looped) through VAD and the processor.

    Driven as the pipeline drives it (20-ms capture blocks into the VAD, a decode whenever one
    is due) but without the replay thread, so the pieces are those of a real-time session and
    the counts are exact. Bounded work, counted rather than timed: every decoder step takes one
    segment, the steps of a piece follow its length, pieces stay short, and the hypothesis (with
    it torchaudio's per-step beam bookkeeping) restarts with each utterance, so it is no longer
    in the last minutes than in the first.
    """
    pause = np.zeros(3200, np.float32)
    loop = np.concatenate([x for s in SENTENCES for x in (decode_audio(spoken(s)), pause)])
    vad = VadOptions(min_silence=1.5)          # never a pause long enough: max_utterance cuts
    segmenter = VadSegmenter(vad, make_detector(vad))
    counting = CountingEngine(emformer)
    updates: list = []
    proc = make_processor(counting, "file", StreamOptions(), updates.append, lambda: 0.0)
    fed_steps: list[tuple[int, int]] = []      # (samples fed, decoder steps) per accept call
    accept = CountingStream.accept

    def counted(self, samples):  # noqa: ANN001, ANN202
        n = len(steps)
        accept(self, samples)
        fed_steps.append((samples.size, len(steps) - n))

    block, total = 320, 600 * SR
    with recorded_steps(emformer) as steps, pytest.MonkeyPatch.context() as mp:
        mp.setattr(CountingStream, "accept", counted)
        for pos in range(0, total, block):
            at = pos % loop.size
            chunk = loop[at:at + block]
            if chunk.size < block:
                chunk = np.concatenate([chunk, loop[:block - chunk.size]])
            for event in segmenter.feed(chunk):
                proc.handle(event)
            if proc.due():
                proc.decode()
        for event in segmenter.flush():
            proc.handle(event)
    seg, ctx = emformer.segment_samples, emformer.context_samples
    assert all(size <= seg + ctx for size, _ in steps)        # one segment per decoder step
    assert all(n <= samples / seg + 1 for samples, n in fed_steps)
    pieces = [samples / SR for samples, _ in fed_steps]
    assert max(pieces) <= 2.0 and float(np.median(pieces)) <= 0.5   # about one hop each
    assert counting.transcribe_calls == 0
    assert not proc._queued
    utterances = [f for f in counting.fed if f]
    assert len(utterances) >= 600 / vad.max_utterance         # each one a reset stream
    assert max(map(sum, utterances)) <= (vad.max_utterance + 0.1) * SR
    tokens = [t for _, t in steps]
    quarter = len(tokens) // 4
    first, last = max(tokens[:quarter]), max(tokens[-quarter:])
    assert last <= 1.5 * first, (first, last)                 # no growth over the session
    per_minute = np.histogram([u.segment.start for u in updates if u.kind == "partial"],
                              bins=10, range=(0, 600))[0]
    assert per_minute.min() >= 0.5 * per_minute.max()         # captions keep coming
    finals = [u for u in updates if u.kind == "final"]
    assert finals[-1].segment.end > 590


@pytest.mark.slow
def test_random_emformer_cli_live_jsonl_emits_partial_and_final_events(
        emformer_folder, conversation, tmp_path) -> None:
    path, _ = conversation
    env = {**os.environ, "DESKTOP_ASR_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_asr", "live", "--engine", "conformer", "--model",
         str(emformer_folder), "--source", str(path), "--speed", "4", "--jsonl", "--threads",
         "1", "-o", str(tmp_path / "out"), "-f", "txt"],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    events = [e for e in events if e["type"] != "status"]  # health, about once a second
    assert {e["type"] for e in events} == {"partial", "final"}
    for e in events:
        assert set(e) >= {"type", "text", "start", "end", "emitted", "speaker", "words"}
        assert e["speaker"] is None and e["emitted"] >= 0
    assert {e["utterance"] for e in events if e["type"] == "final"} == {0, 1, 2}
    finals = " ".join(e["text"] for e in events if e["type"] == "final")
    (txt,) = (tmp_path / "out").glob("*.txt")
    assert " ".join(finals.split()) in " ".join(txt.read_text(encoding="utf-8").split())


@pytest.mark.slow
def test_random_emformer_stream_fixed_words_lead_every_later_hypothesis(emformer,
                                                                         conversation) -> None:
    """The stream API the processor relies on: fixed words stay, finish fixes all, reset."""
    _, audio = conversation
    speech = audio[SR:5 * SR]
    stream = emformer.create_stream()
    seen: list[str] = []
    for pos in range(0, speech.size, 2400):
        stream.accept(speech[pos:pos + 2400])
        fixed, tentative = stream.split_words()
        assert [w.text for w in fixed + tentative][:len(seen)] == seen
        assert len(fixed) >= len(seen)
        seen = [w.text for w in fixed]
    assert seen, "the decoder should fix words before the end"
    stream.finish()
    final, rest = stream.split_words()
    assert rest == [] and [w.text for w in final][:len(seen)] == seen
    whole = emformer.transcribe(speech, options=DecodeOptions(word_timestamps=True))
    assert final == [w for s in whole for w in s.words]
    stream.reset()                                  # a new utterance: same as a fresh stream
    stream.accept(speech)
    stream.finish()
    assert stream.words() == final
