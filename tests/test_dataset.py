"""Datasets: manifest format, validation messages, imports (files, manifests, editor edits),
the terminal recorder driven by a file-replay source, and the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import espeak_wav, read_wav, write_wav

from desktop_asr import transcript_store
from desktop_asr.audio import decode_audio
from desktop_asr.capture import FileSource
from desktop_asr.export import write_export
from desktop_asr.types import Segment, Transcript, Word
from desktop_asr.datasets.dataset import (DatasetError, Item, add_clip, create_dataset, read_dataset,
                              replace_item)
from training.dataset_edits import import_edits
from training.dataset_import import import_any, import_folder, import_manifest
from training.dataset_record import record_prompts
from desktop_asr.datasets.levels import check_levels
from training.validate import validate_dataset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sentence_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One espeak sentence at espeak's own 22050 Hz."""
    return espeak_wav("Please deploy the new build tonight.",
                      tmp_path_factory.mktemp("say") / "say.wav")


def tone(seconds: float, amplitude: float = 0.3, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_manifest_round_trip_is_plain_json_lines(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    item = add_clip(ds, tone(1.2), "  hello   world ", origin="wizard", speaker="me")
    second = add_clip(ds, tone(0.8), "second clip", split="test")
    lines = (ds / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]  # an independent parser reads it back
    assert [r["id"] for r in rows] == ["0001", "0002"]
    assert rows[0]["text"] == "hello world" and rows[0]["origin"] == "wizard"
    assert rows[1]["split"] == "test"
    with wave.open(str(ds / rows[0]["audio"]), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert abs(w.getnframes() / 16000 - 1.2) < 1e-3
    dataset = read_dataset(ds)
    assert dataset.items == (item, second)
    changed = replace_item(ds, item, text="hello there")
    assert read_dataset(ds).items[0].text == "hello there" == changed.text


def test_bad_manifest_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    ds = create_dataset(tmp_path / "ds").folder
    add_clip(ds, tone(1.0), "fine")
    with open(ds / "manifest.jsonl", "a", encoding="utf-8") as fh:
        fh.write("{not json\n")
        fh.write(json.dumps({"audio": "audio/x.wav"}) + "\n")
        fh.write(json.dumps({"id": "0001", "audio": "audio/0001.wav", "text": "dup"}) + "\n")
        fh.write(json.dumps({"audio": "a.wav", "text": "t", "split": "holiday"}) + "\n")
    result = validate_dataset(ds)
    messages = [str(p) for p in result.errors]
    assert any("line 2" in m and "not valid JSON" in m for m in messages), messages
    assert any("line 3" in m and "'text'" in m for m in messages), messages
    assert any("line 4" in m and "earlier line" in m for m in messages), messages
    assert any("line 5" in m and "split" in m for m in messages), messages
    assert [i.id for i in result.usable] == ["0001"]


def test_validation_names_each_problem(tmp_path: Path, sentence_wav: Path) -> None:
    ds = create_dataset(tmp_path / "ds").folder
    speech = decode_audio(sentence_wav)
    good = add_clip(ds, speech, "Please deploy the new build tonight.")
    add_clip(ds, speech, "   ")                                   # empty text
    add_clip(ds, speech[:3200], "short")                          # 0.2 s
    add_clip(ds, np.tile(speech, 20)[:16000 * 31], "long")        # 31 s
    add_clip(ds, np.zeros(16000 * 2, np.float32), "silent")       # nothing recorded
    loud = np.clip(speech * 40, -1, 1)
    add_clip(ds, loud, "clipped")                                 # clipping: a warning
    missing = add_clip(ds, speech, "missing audio")
    (ds / missing.audio).unlink()
    rate44 = write_wav(ds / "audio" / "rate.wav", np.zeros(44100), 44100)
    with open(ds / "manifest.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(Item("rate", "audio/rate.wav", "wrong rate").to_dict()) + "\n")
    assert rate44.is_file()
    result = validate_dataset(ds)
    by_item = {p.where.split()[1]: (p.severity, p.message) for p in result.problems}
    assert by_item["0002"] == ("error", "the transcript is empty")
    assert "too short" in by_item["0003"][1] and by_item["0003"][0] == "error"
    assert "too long" in by_item["0004"][1]
    assert "silent" in by_item["0005"][1]
    assert by_item["0006"][0] == "warning" and "clipped" in by_item["0006"][1]
    assert "missing" in by_item["0007"][1]
    assert "44100 Hz" in by_item["rate"][1] and "16 kHz mono" in by_item["rate"][1]
    assert {i.id for i in result.usable} == {good.id, "0006"}
    for problem in result.problems:
        assert "\n" not in str(problem)


def test_level_check_tells_quiet_from_silent() -> None:
    assert check_levels(tone(1.0, 0.3)).ok and not check_levels(tone(1.0, 0.3)).warnings
    quiet = check_levels(tone(1.0, 0.005))
    assert quiet.ok and "very quiet" in quiet.warnings[0]
    assert not check_levels(tone(1.0, 0.0001)).ok


def test_import_folder_pairs_audio_with_text_and_converts(tmp_path: Path,
                                                          sentence_wav: Path) -> None:
    src = tmp_path / "recordings"
    (src / "sub").mkdir(parents=True)
    (src / "one.wav").write_bytes(sentence_wav.read_bytes())
    (src / "one.txt").write_text("Please deploy the new build tonight.\n", encoding="utf-8")
    (src / "sub" / "two.wav").write_bytes(sentence_wav.read_bytes())
    (src / "sub" / "two.txt").write_text("Second copy.", encoding="utf-8")
    (src / "orphan.wav").write_bytes(sentence_wav.read_bytes())
    (src / "broken.wav").write_bytes(b"RIFF nonsense")
    (src / "broken.txt").write_text("broken", encoding="utf-8")
    result = import_folder(src, tmp_path / "ds")
    assert len(result.added) == 2
    reasons = {Path(s.source).name: s.reason for s in result.skipped}
    assert "no transcript" in reasons["orphan.wav"]
    assert "broken.wav" in reasons
    samples, rate = read_wav(tmp_path / "ds" / result.added[0].audio)
    assert rate == 16000 and samples.shape[1] == 1
    assert validate_dataset(tmp_path / "ds").errors == ()


def test_import_manifest_accepts_other_tools_keys(tmp_path: Path, sentence_wav: Path) -> None:
    src = tmp_path / "other"
    src.mkdir()
    (src / "a.wav").write_bytes(sentence_wav.read_bytes())
    lines = [{"audio_filepath": "a.wav", "text": "nemo style"},
             {"path": "a.wav", "sentence": "common voice style", "split": "test"},
             {"audio": "gone.wav", "text": "missing"}, {"text": "no audio"}]
    manifest = src / "list.jsonl"
    manifest.write_text("".join(json.dumps(x) + "\n" for x in lines) + "oops\n")
    result = import_manifest(manifest, tmp_path / "ds")
    assert [i.text for i in result.added] == ["nemo style", "common voice style"]
    assert result.added[1].split == "test"
    assert len(result.skipped) == 3
    assert import_any(manifest, tmp_path / "ds2").summary().startswith("imported 2 clip(s)")
    with pytest.raises(DatasetError, match="no folder"):
        import_folder(tmp_path / "nowhere", tmp_path / "ds3")


def _session_with_edit(root: Path, spoken: Path) -> tuple[Path, Transcript]:
    """A live-session folder as LiveSession leaves it, plus an edit saved like the editor."""
    folder = root / "20260101-120000"
    folder.mkdir(parents=True)
    audio = decode_audio(spoken)
    pad = np.zeros(16000, np.float32)
    both = np.concatenate([pad, audio, pad, audio, pad])
    import av

    with av.open(str(folder / "recording.flac"), "w") as out:  # FLAC, as the recorder writes
        stream = out.add_stream("flac", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray((both * 32767).astype(np.int16)[None], format="s16",
                                           layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    d = audio.size / 16000
    first = Segment(1.0, 1.0 + d, " Please deploy the new bill tonight.",
                    words=(Word(1.0, 1.5, " Please", 0.9), Word(1.5, 1.0 + d, " deploy", 0.8)))
    second = Segment(2.0 + d, 2.0 + 2 * d, " Please deploy the new build tonight.")
    original = Transcript(segments=(first, second), language="en", source="mic")
    write_export(original, folder / "transcript.json", "json")
    edited = Transcript(segments=(Segment(first.start, first.end,
                                          " Please deploy the new build tonight."), second),
                        language="en", source="mic")
    transcript_store.save_edited(folder / "recording.flac", edited,
                                 transcript_store.fingerprint(original))
    return folder, original


def test_editor_corrections_become_training_pairs(tmp_path: Path, sentence_wav: Path) -> None:
    sessions = tmp_path / "sessions"
    _session_with_edit(sessions, sentence_wav)
    result = import_edits(tmp_path / "ds", sessions_root=sessions)
    # Only the segment the user corrected, with the corrected text and its own audio.
    assert [i.text for i in result.added] == ["Please deploy the new build tonight."]
    clip = decode_audio(tmp_path / "ds" / result.added[0].audio)
    speech = decode_audio(sentence_wav)
    assert abs(clip.size - (speech.size + 2 * 0.15 * 16000)) < 400
    assert np.sqrt(np.mean(clip ** 2)) > 0.5 * np.sqrt(np.mean(speech ** 2))
    everything = import_edits(tmp_path / "ds2", sessions_root=sessions, include_unedited=True)
    assert len(everything.added) == 2


def test_file_transcript_edits_use_word_marks_without_original(tmp_path: Path,
                                                               sentence_wav: Path) -> None:
    audio_file = tmp_path / "talk.wav"
    audio_file.write_bytes(sentence_wav.read_bytes())
    d = decode_audio(audio_file).size / 16000
    edited = Transcript(segments=(
        Segment(0.0, d, " Please deploy the new build tonight.",
                words=(Word(0.0, 0.5, " Please", 0.9), Word(0.5, d, " build", None))),
    ), source=str(audio_file))
    transcript_store.save_edited(audio_file, edited, "some-fingerprint")
    result = import_edits(tmp_path / "ds", sessions_root=tmp_path / "no-sessions")
    assert [i.text for i in result.added] == ["Please deploy the new build tonight."]
    assert result.added[0].origin == "editor"


def test_terminal_recorder_with_file_replay(tmp_path: Path, sentence_wav: Path) -> None:
    """The recorder reads a FileSource (a replayed espeak file) instead of a microphone."""
    ds = tmp_path / "ds"
    prompts = ["Please deploy the new build tonight.", "Skipped prompt.", "Third prompt."]
    # prompt 1: start, re-record, keep; prompt 2: skip; prompt 3: quit.
    answers = io.StringIO("\nr\n\n\ns\nq\n")
    out = io.StringIO()
    result = record_prompts(ds, prompts, lambda: FileSource(sentence_wav, speed=0), inp=answers,
                            out=out, stop_on_enter=False)
    assert [i.text for i in result.saved] == [prompts[0]] and result.quit
    text = out.getvalue()
    assert "[1/3]" in text and "dBFS" in text and "sounds good" in text
    saved = decode_audio(ds / result.saved[0].audio)
    assert abs(saved.size - decode_audio(sentence_wav).size) < 1600
    assert validate_dataset(ds).errors == ()


def test_cli_validate_and_import_run_the_training_subprocess(tmp_path: Path,
                                                             sentence_wav: Path) -> None:
    src = tmp_path / "rec"
    src.mkdir()
    (src / "a.wav").write_bytes(sentence_wav.read_bytes())
    (src / "a.txt").write_text("Please deploy the new build tonight.")
    ds = tmp_path / "ds"
    run = [sys.executable, "-m", "desktop_asr", "dataset"]
    imported = subprocess.run([*run, "import", str(src), str(ds)], capture_output=True,
                              text=True, timeout=120, cwd=REPO)
    assert imported.returncode == 0, imported.stderr
    assert "imported 1 clip(s)" in imported.stdout
    ok = subprocess.run([*run, "validate", str(ds), "--json"], capture_output=True, text=True,
                        timeout=120, cwd=REPO)
    assert ok.returncode == 0 and json.loads(ok.stdout)["usable"] == 1
    (ds / read_dataset(ds).items[0].audio).unlink()
    bad = subprocess.run([*run, "validate", str(ds)], capture_output=True, text=True,
                         timeout=120, cwd=REPO)
    assert bad.returncode == 1 and "is missing" in bad.stdout
    nothing = subprocess.run([*run, "validate", str(tmp_path / "nope")], capture_output=True,
                             text=True, timeout=120, cwd=REPO)
    assert nothing.returncode == 1 and "no dataset folder" in nothing.stderr
    assert len(nothing.stderr.strip().splitlines()) == 1
