"""Live speaker labels end to end: real model, real VAD, speech replayed through FileSource.

A two-voice espeak conversation goes through a LiveSession with speaker labels on; a call
with separate microphone and system-audio files goes through MixedSource ("me vs. them",
with the loudspeakers' echo in the microphone); and the CLI's --diarize and speakers
commands are run as a user would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio_fixtures import write_wav
from diarization_fixtures import (  # noqa: F401  (fixtures)
    backend_or_skip,
    conversation,
    enrolment_a,
    two_sources,
)
from desktop_asr.capture.file_source import FileSource
from desktop_asr.capture.mixed import MixedSource
from desktop_asr.diarization import DiarizationOptions
from desktop_asr.diarization.echo import echo_duplicates
from desktop_asr.diarization.live import LiveSpeakerOptions
from desktop_asr.export import export, load_json
from desktop_asr.streaming import LiveOptions, LiveSession, read_journal
from desktop_asr.streaming.events import SpeakerNamed, SpeakersSettled, SpeakerUpdate

SPEAKERS = LiveSpeakerOptions(diarization=DiarizationOptions(backend="embedded"))
_WORD = re.compile(r"[a-z']+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _line_of(time: float, truth) -> int | None:
    for i, (s, e, *_) in enumerate(truth):
        if s - 0.3 <= time <= e + 0.3:
            return i
    return None


@pytest.mark.slow
def test_live_session_labels_each_committed_line_once_then_settles(engine, conversation,
                                                                   enrolment_a,
                                                                   tmp_path) -> None:
    backend_or_skip()
    from desktop_asr.diarization.profiles import enroll

    enroll("Alice", enrolment_a)
    events = []
    session = LiveSession(FileSource(conversation.path, speed=3.0), engine,
                          LiveOptions(speakers=SPEAKERS), folder=tmp_path / "session",
                          on_update=events.append)
    session.start()
    assert session.wait(timeout=300)
    finals = [e for e in events if e.kind == "final" and e.segment.text.strip()]
    labels = [e for e in events if isinstance(e, SpeakerUpdate)]
    # Every committed piece got exactly one label, after it was committed; none changed.
    keys = [(e.channel, e.utterance, e.segment.start) for e in finals]
    assert sorted((e.channel, e.utterance, e.start) for e in labels) == sorted(keys)
    order = {id(e): i for i, e in enumerate(events)}
    by_key = {(e.channel, e.utterance, e.start): e for e in labels}
    for f in finals:
        assert order[id(by_key[(f.channel, f.utterance, f.segment.start)])] > order[id(f)]
    # The live labels tell the voices apart: each line takes the label of most of its words.
    votes: dict[int, dict[str, int]] = {}
    for f in finals:
        line = _line_of(f.segment.start, conversation.truth)
        who = by_key[(f.channel, f.utterance, f.segment.start)].speaker
        if line is not None and who is not None:
            votes.setdefault(line, {}).setdefault(who, 0)
            votes[line][who] += len(f.segment.words)
    live = {i: max(v, key=v.get) for i, v in votes.items()}
    live_a = {live[i] for i, t in enumerate(conversation.truth) if t[2] == "A" and i in live}
    live_b = {live[i] for i, t in enumerate(conversation.truth) if t[2] == "B" and i in live}
    assert len(live_a | live_b) == 2, live
    assert max(len(live_a), len(live_b)) <= 2 and live_a != live_b
    # Alice's voice was recognised live, once, on the label most of A's lines carry.
    named = [e for e in events if isinstance(e, SpeakerNamed)]
    assert [(e.name, e.source) for e in named] == [("Alice", "voice")]
    # The finalise pass: one event after all labels, the same words, every one labelled.
    settled = [e for e in events if isinstance(e, SpeakersSettled)]
    assert len(settled) == 1 and events[-1] is settled[0]
    final = settled[0].transcript
    assert _words(final.text) == _words("".join(f.segment.text for f in finals))
    assert all(seg.speaker for seg in final.segments)
    for s, e, who, _ in conversation.truth:
        inside = [seg for seg in final.segments if s - 0.3 <= seg.start <= e + 0.3]
        assert inside, (s, e)
        speaker = max({seg.speaker for seg in inside},
                      key=lambda k: sum(len(x.words) for x in inside if x.speaker == k))
        assert (final.speaker_label(speaker) == "Alice") == (who == "A"), (s, who, speaker)
    bob = next(spk.id for spk in final.speakers if spk.label != "Alice")
    # A rename follows into the journal, the saved transcript and every export.
    session.pipeline.rename_speaker(bob, "Bob")
    written = session.finish(formats=("json", "vtt", "txt"), out_dir=tmp_path / "out")
    saved = load_json(written[0].read_text(encoding="utf-8"))
    assert {s.label for s in saved.speakers} == {"Alice", "Bob"}
    vtt = next(p for p in written if p.suffix == ".vtt").read_text(encoding="utf-8")
    assert "<v Alice>" in vtt and "<v Bob>" in vtt
    txt = next(p for p in written if p.suffix == ".txt").read_text(encoding="utf-8")
    assert txt.startswith(("Alice: ", "Bob: "))
    recovered, closed = read_journal(session.journal.path)
    assert closed
    assert [(s.start, s.text, s.speaker) for s in recovered.segments] == [
        (s.start, s.text, s.speaker) for s in saved.segments]
    assert {s.id: s.label for s in recovered.speakers} == {s.id: s.label for s in saved.speakers}


@pytest.mark.slow
def test_me_vs_them_mic_is_you_system_is_diarized_and_echo_is_not_captioned_twice(
        engine, two_sources, tmp_path) -> None:
    backend_or_skip()
    mic = write_wav(tmp_path / "mic.wav", two_sources.mic, 16000)
    system = write_wav(tmp_path / "system.wav", two_sources.system, 16000)
    events = []
    # Fast replay (speed 0) keeps the two files sample-aligned, as two devices are in time.
    source = MixedSource(FileSource(mic, speed=0), FileSource(system, speed=0))
    session = LiveSession(source, engine, LiveOptions(speakers=SPEAKERS, user_name="Dana"),
                          folder=tmp_path / "session", on_update=events.append)
    session.start()
    assert session.wait(timeout=300)
    pipe = session.pipeline
    assert pipe.diarizer is not None and pipe.diarizer.diarized == ("system",)
    transcript = session.transcript()
    you = [s for s in transcript.segments if s.speaker == "mic"]
    them = [s for s in transcript.segments if s.speaker != "mic"]
    assert transcript.speaker_label("mic") == "Dana"
    user_words = {w for line in two_sources.user_lines for w in _words(line)}
    remote_only = {w for line in two_sources.remote_lines for w in _words(line)} - user_words
    said_by_you = [w for s in you for w in _words(s.text)]
    assert set(said_by_you) & {"budget", "numbers", "check"}, said_by_you
    echoed = [w for w in said_by_you if w in remote_only]
    assert len(echoed) <= 1, f"the far side was captioned as Dana too: {echoed}"
    heard = {w for s in them for w in _words(s.text)}
    assert {"morning", "release", "candidate"} <= heard
    assert all(s.speaker and s.speaker.startswith("SPEAKER_") for s in them)
    assert echo_duplicates(you, them) == []
    assert pipe.echo is not None and pipe.echo.muted_seconds > 10.0
    # The microphone's lines were labelled at once (no diarizer involved), the others later.
    mic_finals = [e for e in events if e.kind == "final" and e.channel == "mic"]
    assert mic_finals and all(e.speaker == "mic" for e in mic_finals)
    assert not any(isinstance(e, SpeakerUpdate) and e.channel == "mic" for e in events)
    session.finish(formats=())


@pytest.mark.slow
def test_cli_live_diarize_jsonl_and_outputs(conversation, tmp_path) -> None:
    backend_or_skip()
    out = tmp_path / "out"
    env = {"DESKTOP_ASR_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_asr", "live", "--source", str(conversation.path),
         "--speed", "4", "--diarize", "--jsonl", "--threads", "2", "-o", str(out),
         "-f", "json,rttm"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    events = [e for e in events if e["type"] != "status"]  # health, about once a second
    kinds = [e["type"] for e in events]
    assert {"partial", "final", "speaker", "settled"} <= set(kinds)
    finals = [e for e in events if e["type"] == "final" and e["text"]]
    speakers = [e for e in events if e["type"] == "speaker"]
    assert len(speakers) == len(finals)
    assert all(s["speaker"] and s["speaker"].startswith("SPEAKER_") for s in speakers)
    settled = events[kinds.index("settled")]
    assert kinds[-1] == "settled" and len(settled["speakers"]) == 2
    (json_out,) = out.glob("*.json")
    saved = load_json(json_out.read_text(encoding="utf-8"))
    assert [s.speaker for s in saved.segments] == [s["speaker"] for s in settled["segments"]]
    (rttm,) = out.glob("*.rttm")
    assert len({line.split()[7] for line in rttm.read_text().splitlines()}) == 2


def test_cli_flag_errors_are_one_line(tmp_path) -> None:
    env = {"DESKTOP_ASR_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    wav = write_wav(tmp_path / "x.wav", np.zeros(1600, np.float32), 16000)
    cases = [(["live", "--source", str(wav), "--max-speakers", "3"], "needs --diarize"),
             (["transcribe", str(wav), "--diarize", "--pyannote-model",
               str(tmp_path / "nope")], "no such folder"),
             (["transcribe", str(wav), "--diarizer", "embedded"], "needs --diarize")]
    for args, message in cases:
        proc = subprocess.run([sys.executable, "-m", "desktop_asr", *args], capture_output=True,
                              text=True, timeout=120, env=env)
        assert proc.returncode == 2, (args, proc.stderr)
        err = proc.stderr.strip()
        assert message in err and len(err.splitlines()) == 1, err


def test_cli_speakers_enroll_list_remove(enrolment_a, tmp_path, capsys) -> None:
    backend_or_skip()
    from desktop_asr.cli.main import main

    sample = write_wav(tmp_path / "alice.wav", enrolment_a, 16000)
    assert main(["speakers", "list"]) == 0
    assert "no voices enrolled" in capsys.readouterr().out
    assert main(["speakers", "enroll", "Alice Smith", str(sample)]) == 0
    assert "enrolled 'Alice Smith'" in capsys.readouterr().out
    assert main(["speakers", "enroll", "alice smith", str(sample)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["speakers", "list"]) == 0
    assert capsys.readouterr().out.startswith("Alice Smith\t")
    assert main(["speakers", "remove", "Alice Smith"]) == 0
    assert main(["speakers", "remove", "Alice Smith"]) == 1
    assert "no voice profile named" in capsys.readouterr().err
    assert main(["speakers", "enroll", "Nobody", str(tmp_path / "missing.wav")]) == 2
    assert "missing.wav" in capsys.readouterr().err


def test_journal_and_session_keep_labels_names_and_settled_transcript(tmp_path) -> None:
    """Live labels, renames and the finalise pass all come back from the journal."""
    from desktop_asr.diarization import SpeakerTurn
    from desktop_asr.streaming.events import TranscriptUpdate
    from desktop_asr.streaming.journal import Journal
    from desktop_asr.streaming.session import SessionTranscript
    from desktop_asr.types import Segment, Word

    def final(utt: int, start: float, text: str) -> TranscriptUpdate:
        words = tuple(Word(start + i * 0.5, start + i * 0.5 + 0.4, f" {w}")
                      for i, w in enumerate(text.split()))
        return TranscriptUpdate("final", "file", utt, Segment(start, words[-1].end, "".join(
            w.text for w in words), words), start)

    session = SessionTranscript(("file",), diarized=("file",))
    journal = Journal(tmp_path, channel_labels=("file",), model="m", source="s")
    events = [final(0, 0.0, "hello there friend"), final(0, 1.5, "how are you"),
              final(1, 4.0, "fine thanks")]
    for e in events:
        session.apply(e)
        journal.append(e)
    for utt, start, who in ((0, 0.0, "SPEAKER_00"), (0, 1.5, "SPEAKER_01"),
                            (1, 4.0, "SPEAKER_00")):
        assert session.label("file", utt, start, who)
        journal.append(SpeakerUpdate("file", utt, start, who, 5.0))
    assert not session.label("file", 0, 0.0, "SPEAKER_01")  # a label is given once
    live = session.transcript()
    assert [(s.text, s.speaker) for s in live.segments] == [
        (" hello there friend", "SPEAKER_00"), (" how are you", "SPEAKER_01"),
        (" fine thanks", "SPEAKER_00")]
    session.name("SPEAKER_01", "Bea")
    journal.append(SpeakerNamed("SPEAKER_01", "Bea", "user", 5.0))
    assert "Bea: how are you" in export(session.transcript(), "txt")
    # The finalise pass moves "friend" to the second speaker: the segment splits by word.
    turns = {"file": (SpeakerTurn(0.0, 0.95, "SPEAKER_00"), SpeakerTurn(0.95, 3.5, "SPEAKER_01"),
                      SpeakerTurn(3.5, 5.0, "SPEAKER_00"))}
    settled = session.relabel(turns)
    assert [(s.text, s.speaker) for s in settled.segments] == [
        (" hello there", "SPEAKER_00"), (" friend how are you", "SPEAKER_01"),
        (" fine thanks", "SPEAKER_00")]
    assert settled.speaker_label("SPEAKER_01") == "Bea"
    journal.append(SpeakersSettled(settled, 6.0, 0.1, "embedded"))
    journal.close(transcript_file="transcript.json")
    recovered, closed = read_journal(journal.path)
    assert closed
    assert [(s.text, s.speaker) for s in recovered.segments] == [
        (s.text, s.speaker) for s in settled.segments]
    assert recovered.speaker_label("SPEAKER_01") == "Bea"
    # Without the settled record the live labels and the name come back.
    lines = journal.path.read_text(encoding="utf-8").splitlines()
    (tmp_path / "cut").mkdir()
    cut = tmp_path / "cut" / "journal.jsonl"
    cut.write_text("\n".join(x for x in lines if '"settled"' not in x) + "\n")
    early, _ = read_journal(cut)
    assert [(s.text, s.speaker) for s in early.segments] == [
        (s.text, s.speaker) for s in live.segments]
    assert early.speaker_label("SPEAKER_01") == "Bea"
