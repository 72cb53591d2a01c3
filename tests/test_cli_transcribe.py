"""`desktop-asr transcribe` end to end with the real bundled model on synthesised speech."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import srt
import webvtt

from audio_fixtures import espeak_wav, ffmpeg_convert, make_video
from desktop_asr.cli.main import main, version_report
from desktop_asr.evaluation import score
from desktop_asr.export import load_json

SENTENCE_A = "Please send the quarterly report to Margaret before Friday afternoon."
SENTENCE_B = "Kubernetes clusters scale automatically when traffic grows."


def _unknown_codec_wav(path: Path) -> Path:
    """A well-formed WAV whose format tag names a codec no decoder knows."""
    data = bytes(range(256)) * 100
    fmt = struct.pack("<HHIIHH", 0x3039, 1, 16000, 32000, 2, 16)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
            + struct.pack("<I", len(data)) + data)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_all_formats_from_one_file_parse_and_hold_the_words(spoken, tmp_path, capsys) -> None:
    wav = spoken(SENTENCE_A)
    out = tmp_path / "out"
    rc = main(["transcribe", str(wav), "-o", str(out), "-f", "all", "--word-timestamps",
               "--threads", "2"])
    assert rc == 0
    stem = wav.stem
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{stem}.{f}" for f in ("txt", "srt", "vtt", "json", "rttm"))
    transcript = load_json((out / f"{stem}.json").read_text(encoding="utf-8"))
    assert score([SENTENCE_A], [transcript.text]).wer <= 0.1
    assert transcript.words and all(w.end >= w.start for w in transcript.words)
    assert transcript.model == "tiny.en"  # the name the user gave, not the bundled folder
    subs = list(srt.parse((out / f"{stem}.srt").read_text(encoding="utf-8")))
    assert score([SENTENCE_A], [" ".join(s.content for s in subs)]).wer <= 0.1
    assert subs[0].start.total_seconds() < 1.0
    captions = webvtt.from_buffer(io.StringIO((out / f"{stem}.vtt").read_text(encoding="utf-8")))
    assert score([SENTENCE_A], [" ".join(c.text for c in captions)]).wer <= 0.1
    rttm = (out / f"{stem}.rttm").read_text().splitlines()
    assert rttm and all(len(line.split()) == 10 and line.startswith("SPEAKER ") for line in rttm)
    printed = capsys.readouterr().out
    assert "Margaret" in printed and "-->" in printed  # captions are shown when a file is done


def test_bad_files_get_one_line_each_and_good_files_still_finish(spoken, tmp_path, capsys
                                                                  ) -> None:
    src = tmp_path / "in"
    src.mkdir()
    good_wav = shutil.copy(spoken(SENTENCE_A), src / "good-a.wav")
    good_mp3 = ffmpeg_convert(spoken(SENTENCE_B), src / "good-b.mp3")
    bad = {
        "missing": src / "missing.wav",
        "empty": src / "empty.wav",
        "not audio": src / "notes.txt",
        "no audio stream": make_video(None, src / "silent-film.mp4", 1.0),
        "unsupported": _unknown_codec_wav(src / "odd-codec.wav"),
        "corrupt": src / "garbage.mp3",
    }
    bad["empty"].write_bytes(b"")
    bad["not audio"].write_text("meeting notes, not a recording\n" * 20)
    # An MP3 name, an MP3-looking first frame header, then noise bytes (seeded, so every run
    # gets the same ones): nothing decodes.
    bad["corrupt"].write_bytes(b"\xff\xfb\x90\x00" + random.Random(3000).randbytes(3000))
    files = [good_wav, *bad.values(), good_mp3]
    out = tmp_path / "out"
    rc = main(["transcribe", *map(str, files), "-o", str(out), "-f", "txt,json", "-q",
               "--threads", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert len(err) == len(bad), err
    expected = {
        "missing": "not found",
        "empty": "empty",
        "not audio": "not an audio or video file",
        "no audio stream": "no audio",
        "unsupported": "cannot decode",
        "corrupt": "damaged or incomplete: no audio could be decoded",
    }
    for (kind, path), line in zip(bad.items(), err):
        assert line.startswith(f"desktop-asr: error: {path}: "), (kind, line)
        assert expected[kind] in line, (kind, line)
    for good, sentence in ((good_wav, SENTENCE_A), (good_mp3, SENTENCE_B)):
        text = (out / f"{Path(good).stem}.txt").read_text(encoding="utf-8")
        assert score([sentence], [text]).wer <= 0.15, text
        assert (out / f"{Path(good).stem}.json").is_file()
    assert not any(p.stem in {b.stem for b in bad.values()} for p in out.iterdir())


def _drop_file_permission_override() -> None:
    """In the child: give up root's power to read any file (CAP_DAC_OVERRIDE/READ_SEARCH)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_unreadable_file_is_reported_and_the_rest_still_finish(spoken, tmp_path) -> None:
    """As root every file is readable, so there the CLI runs without root's override rights."""
    secret = shutil.copy(spoken(SENTENCE_B), tmp_path / "secret.wav")
    good = shutil.copy(spoken(SENTENCE_A), tmp_path / "good.wav")
    os.chmod(secret, 0)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_asr", "transcribe", str(secret), str(good), "-o",
         str(out), "-f", "txt", "-q", "--threads", "2"], capture_output=True, text=True,
        preexec_fn=_drop_file_permission_override if os.geteuid() == 0 else None, timeout=300)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"desktop-asr: error: {secret}: "), lines
    assert "permission denied" in lines[0]
    assert "margaret" in (out / "good.txt").read_text().lower()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny tmpfs to fill up needs root")
def test_full_disk_reports_the_file_and_leaves_no_partial_output(spoken, tmp_path, capsys
                                                                 ) -> None:
    disk = tmp_path / "tiny-disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (disk / "filler").write_bytes(b"x" * 6000)
        wav = spoken(SENTENCE_A)
        rc = main(["transcribe", str(wav), "-o", str(disk), "-f", "json", "-q",
                   "--word-timestamps", "--threads", "2"])
        err = capsys.readouterr().err
        assert rc == 1
        assert "No space left on device" in err and str(wav) in err
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_folders_expand_and_same_names_do_not_overwrite(spoken, tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(spoken(SENTENCE_A), tmp_path / "a" / "talk.wav")
    ffmpeg_convert(spoken(SENTENCE_B), tmp_path / "b" / "talk.flac")
    out = tmp_path / "out"
    assert main(["transcribe", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out),
                 "-f", "txt", "-q", "--threads", "2"]) == 0
    assert "margaret" in (out / "talk.txt").read_text().lower()
    assert "traffic" in (out / "talk-2.txt").read_text().lower()


def test_video_file_and_channel_choice(tmp_path, spoken) -> None:
    video = make_video(spoken(SENTENCE_A), tmp_path / "meeting.mkv", 5.0)
    assert main(["transcribe", str(video), "-o", str(tmp_path), "-f", "txt", "-q",
                 "--threads", "2"]) == 0
    assert "margaret" in (tmp_path / "meeting.txt").read_text().lower()
    stereo = tmp_path / "stereo.wav"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(spoken(SENTENCE_A)), "-i",
                    str(spoken(SENTENCE_B)), "-filter_complex", "[0:a][1:a]amerge=inputs=2",
                    "-ac", "2", str(stereo)], check=True)
    assert main(["transcribe", str(stereo), "-o", str(tmp_path / "r"), "-f", "txt", "-q",
                 "--channel", "1", "--threads", "2"]) == 0
    right = (tmp_path / "r" / "stereo.txt").read_text().lower()
    assert "traffic" in right and "margaret" not in right


def test_usage_errors_exit_2_with_a_reason(tmp_path, spoken, capsys) -> None:
    wav = str(spoken(SENTENCE_A))
    assert main(["transcribe", wav, "-f", "docx", "-o", str(tmp_path)]) == 2
    assert "unknown output format 'docx'" in capsys.readouterr().err
    assert main(["transcribe", wav, "--model", "nonexistent-model", "-o", str(tmp_path)]) == 2
    assert "unknown model 'nonexistent-model'" in capsys.readouterr().err
    assert main(["transcribe", wav, "--language", "de", "-o", str(tmp_path), "-q"]) == 2
    assert "does not know language 'de'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_version_names_the_engines() -> None:
    from importlib.metadata import version
    report = version_report()
    assert report.splitlines()[0].startswith("desktop-asr 0.")
    assert f"faster-whisper         {version('faster-whisper')}" in report
    assert f"ctranslate2            {version('ctranslate2')}" in report


def test_console_script_and_module_entry_points(tmp_path) -> None:
    exe = Path(sys.executable).with_name("desktop-asr")
    for cmd in ([str(exe), "--version"], [sys.executable, "-m", "desktop_asr", "--version"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("desktop-asr ")
        assert "faster-whisper" in proc.stdout


def test_json_output_is_valid_json_with_a_version(spoken, tmp_path) -> None:
    wav = spoken(SENTENCE_B)
    assert main(["transcribe", str(wav), "-o", str(tmp_path), "-f", "json", "-q"]) == 0
    data = json.loads((tmp_path / f"{wav.stem}.json").read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["language"] == "en"
    assert data["segments"] and data["duration"] > 2.0
