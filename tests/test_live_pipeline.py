"""The live pipeline end to end: real model, real VAD, speech replayed through a FileSource."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from audio_fixtures import write_wav
from desktop_asr.audio import decode_audio
from desktop_asr.capture.file_source import FileSource
from desktop_asr.evaluation import score
from desktop_asr.streaming import LiveOptions, LivePipeline, StreamOptions, read_journal
from desktop_asr.vad import VadOptions

SENTENCES = ("Please send the quarterly report to Margaret before Friday afternoon.",
             "Our team will review the budget numbers next Tuesday.",
             "The meeting moved to the small room on the third floor.")


@pytest.fixture(scope="module")
def conversation(tmp_path_factory, spoken) -> Path:
    """Three spoken sentences with silences between them, as one WAV."""
    gap = np.zeros(16000, np.float32)
    parts = [gap]
    for sentence in SENTENCES:
        parts += [decode_audio(spoken(sentence)), gap]
    path = tmp_path_factory.mktemp("live") / "conversation.wav"
    return write_wav(path, np.concatenate(parts), 16000)


def _run(engine, path: Path, speed: float, options: LiveOptions | None = None):
    updates, statuses = [], []
    pipe = LivePipeline(FileSource(path, speed=speed), engine, options,
                        on_update=updates.append, on_status=statuses.append)
    pipe.start()
    assert pipe.wait(timeout=300)
    return pipe, updates, statuses


def test_tentative_then_committed_captions_with_the_right_words(engine, conversation) -> None:
    pipe, updates, _ = _run(engine, conversation, speed=3.0)
    text = pipe.transcript.transcript().text
    assert score([" ".join(SENTENCES)], [text]).wer <= 0.15, text
    finals = [u for u in updates if u.kind == "final"]
    partials = [u for u in updates if u.kind == "partial" and u.segment.text.strip()]
    assert partials and finals
    # each utterance shows tentative text before its first committed words
    for utt in {u.utterance for u in finals}:
        first_final = next(i for i, u in enumerate(updates)
                           if u.kind == "final" and u.utterance == utt)
        assert any(u.kind == "partial" and u.utterance == utt and u.segment.text.strip()
                   for u in updates[:first_final])
    # committed words never change: the finals, concatenated, are the transcript
    assert " ".join("".join(u.segment.text for u in finals).split()) == " ".join(text.split())
    assert len({u.utterance for u in finals}) == len(SENTENCES)  # one per VAD utterance
    words = [w for u in finals for w in u.segment.words]
    assert all(b.start >= a.start - 0.3 for a, b in zip(words, words[1:]))


def test_silence_and_noise_give_no_captions(engine, tmp_path) -> None:
    rng = np.random.default_rng(1)
    audio = np.concatenate([np.zeros(16000 * 3), 0.005 * rng.standard_normal(16000 * 3)])
    path = write_wav(tmp_path / "quiet.wav", audio.astype(np.float32), 16000)
    pipe, updates, _ = _run(engine, path, speed=0)
    assert updates == []
    assert pipe.transcript.transcript().segments == ()


def test_stop_drains_the_queue_and_commits_the_last_words(engine, conversation) -> None:
    """Stop in the middle of the second sentence: what was captured is still captioned."""
    updates = []
    pipe = LivePipeline(FileSource(conversation, speed=1.0), engine, on_update=updates.append)
    pipe.start()
    deadline = time.monotonic() + 60
    while pipe.audio_seconds < 9.0 and time.monotonic() < deadline:  # into sentence two
        time.sleep(0.05)
    pipe.stop()
    assert not pipe.running
    text = pipe.transcript.transcript().text.lower()
    assert "margaret" in text and "friday" in text
    assert "team" in text and "review" in text  # said just before the stop: committed
    assert "third floor" not in text     # never captured
    assert updates[-1].kind in ("final", "partial")


class SlowEngine:
    """A stand-in that wraps the real engine and sleeps, to force the pipeline behind."""

    def __init__(self, engine, delay: float) -> None:
        self._engine, self._delay = engine, delay
        self.name, self.capabilities, self.info = engine.name, engine.capabilities, engine.info

    def transcribe(self, audio, **kwargs):  # noqa: ANN001, ANN201
        time.sleep(self._delay)
        return self._engine.transcribe(audio, **kwargs)

    def detect_language(self, audio):  # noqa: ANN001, ANN201
        return self._engine.detect_language(audio)


def test_falling_behind_widens_the_hop_reports_lag_and_loses_nothing(engine, conversation
                                                                     ) -> None:
    slow = SlowEngine(engine, delay=1.2)
    options = LiveOptions(stream=StreamOptions(hop=0.2, max_hop=2.0), status_interval=0.25)
    pipe, updates, statuses = _run(slow, conversation, speed=2.0, options=options)
    assert max(s.lag for s in statuses) > 1.0                 # lag is measured and reported
    assert max(s.hop for s in statuses) > 0.2                 # the hop grew to catch up
    assert statuses[-1].tentative_skipped > 0                 # fewer tentative re-decodes
    assert statuses[-1].overflows == 0                        # ...and no audio was dropped
    text = pipe.transcript.transcript().text
    assert score([" ".join(SENTENCES)], [text]).wer <= 0.2, text


def _cli(home: Path, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "DESKTOP_ASR_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "desktop_asr", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_killed_session_is_recovered_from_its_journal_and_recording(conversation, tmp_path
                                                                    ) -> None:
    home = tmp_path / "home"
    proc = _cli(home, "live", "--source", str(conversation), "--record", "--jsonl",
                "--threads", "2")
    sessions = home / "data" / "sessions"
    deadline = time.monotonic() + 120
    journal = None
    # wait until the first sentence is committed and journaled, then kill without warning
    while time.monotonic() < deadline:
        found = list(sessions.glob("*/journal.jsonl"))
        if found and "Friday" in found[0].read_text(encoding="utf-8"):
            journal = found[0]
            break
        time.sleep(0.2)
    assert journal is not None, proc.stderr.read() if proc.poll() is not None else "timeout"
    time.sleep(2.5)  # the recording is pushed to the disk every 2 s of audio
    killed_at = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    transcript, closed = read_journal(journal)
    assert not closed
    assert "margaret" in transcript.text.lower()

    env = {**os.environ, "DESKTOP_ASR_HOME": str(home)}
    listed = subprocess.run([sys.executable, "-m", "desktop_asr", "recover", "--list"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert str(journal.parent) in listed.stdout
    rec = subprocess.run([sys.executable, "-m", "desktop_asr", "recover", "-f", "txt,json"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert rec.returncode == 0, rec.stderr
    assert "Margaret" in rec.stdout and "was interrupted" in rec.stderr
    txt = journal.parent / f"{journal.parent.name}.txt"
    assert "margaret" in txt.read_text(encoding="utf-8").lower()
    again = subprocess.run([sys.executable, "-m", "desktop_asr", "recover", "--list"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert str(journal.parent) not in again.stdout
    # the recording made before the kill decodes, and holds at least the first sentence
    audio = decode_audio(journal.parent / "recording.flac")
    assert audio.size / 16000 > 5.0
    assert killed_at > 0


def test_jsonl_events_carry_the_documented_fields(conversation, tmp_path) -> None:
    proc = _cli(tmp_path / "home", "live", "--source", str(conversation), "--speed", "3",
                "--jsonl", "-o", str(tmp_path / "out"), "-f", "txt")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert {e["type"] for e in lines} == {"partial", "final", "status"}
    events = [e for e in lines if e["type"] != "status"]
    for e in events:
        assert set(e) >= {"type", "text", "start", "end", "emitted", "speaker", "words"}
        assert e["speaker"] is None and e["emitted"] >= 0
    statuses = [e for e in lines if e["type"] == "status"]  # about once a second
    for s in statuses:
        assert set(s) == {"type", "audio", "lag", "hop", "rtf", "overflows", "lost",
                          "tentative_skipped"}
        assert s["overflows"] == 0 and s["lost"] == 0 and s["lag"] >= 0
    assert [s["audio"] for s in statuses] == sorted(s["audio"] for s in statuses)
    finals = " ".join(e["text"] for e in events if e["type"] == "final")
    assert score([" ".join(SENTENCES)], [finals]).wer <= 0.15
    (txt,) = (tmp_path / "out").glob("*.txt")
    assert "margaret" in txt.read_text().lower()


class RecordingEngine(SlowEngine):
    """The real engine, noting the length of every buffer it is asked to decode."""

    def __init__(self, engine) -> None:
        super().__init__(engine, delay=0.0)
        self.lengths: list[float] = []

    def transcribe(self, audio, **kwargs):  # noqa: ANN001, ANN201
        self.lengths.append(audio.size / 16000)
        return super().transcribe(audio, **kwargs)


def test_long_utterance_buffer_is_trimmed_so_work_per_hop_stays_bounded(engine, spoken,
                                                                         tmp_path) -> None:
    sentences = ["The quick brown fox jumps over the lazy dog.",
                 "Please send the quarterly report to Margaret before Friday afternoon.",
                 "Our team will review the budget numbers next Tuesday.",
                 "The meeting moved to the small room on the third floor."] * 2
    pause = np.zeros(3200, np.float32)  # with espeak's own silences, still < the 1.5-s endpoint
    audio = np.concatenate([x for s in sentences for x in (decode_audio(spoken(s)), pause)])
    path = write_wav(tmp_path / "monologue.wav", audio, 16000)
    recorder = RecordingEngine(engine)
    options = LiveOptions(stream=StreamOptions(trim_after=6.0),
                          vad=VadOptions(min_silence=1.5, max_utterance=120.0))
    pipe, updates, _ = _run(recorder, path, speed=3.0, options=options)
    assert audio.size / 16000 > 30
    assert len({u.utterance for u in updates}) == 1           # really one long utterance
    # never the whole 30+ s: trimmed at 6 s, plus what arrives before the next commit (at 3x
    # speed on a loaded machine the back-pressure hop grows, so that can be several seconds)
    assert max(recorder.lengths) < 6.0 + 8.0, recorder.lengths
    text = pipe.transcript.transcript().text
    assert score([" ".join(sentences)], [text]).wer <= 0.15, text


class _RefusingSource(FileSource):
    """A source whose device will not open (held by another program)."""

    def start(self) -> None:
        from desktop_asr.capture import CaptureError
        raise CaptureError("device busy")


def test_a_session_whose_source_fails_to_start_leaves_no_folder(engine, conversation,
                                                                tmp_path) -> None:
    from desktop_asr.capture import CaptureError
    from desktop_asr.streaming.journal import unfinished_sessions
    from desktop_asr.streaming.live_session import LiveSession

    folder = tmp_path / "sessions" / "20240101-000000"
    session = LiveSession(_RefusingSource(conversation), engine, record=True, folder=folder)
    assert (folder / "journal.jsonl").exists() and (folder / "recording.flac").exists()
    with pytest.raises(CaptureError, match="device busy"):
        session.start()
    assert not folder.exists()  # nothing for the recovery prompt to offer later
    assert unfinished_sessions(tmp_path / "sessions") == []
