"""A full disk during a live session: the captions go on, the user is told once, no word is lost.

Real model (tiny.en), real VAD, jfk.wav replayed through a FileSource. Two kinds of full disk:

* a real one: the session folder on a 64 KiB tmpfs (mounted for the test, needs root; skipped
  otherwise), which the recording fills within seconds, so the kernel answers ENOSPC;
* a simulated one for the journal alone: its file is wrapped so that only ``room`` more bytes
  fit (a write that does not fit writes what fits, the next one fails with ENOSPC, as the kernel
  does). The journal's lines are too small to be made to overflow a tmpfs at a chosen moment,
  and a full disk that gets room again cannot be made without this either.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from disk_fixtures import tiny_disk
from desktop_asr.audio import decode_audio
from desktop_asr.capture.file_source import FileSource
from desktop_asr.errors import DesktopAsrError
from desktop_asr.evaluation import score
from desktop_asr.streaming import LiveSession, read_journal

JFK = ("And so my fellow Americans, ask not what your country can do for you, ask what you can "
       "do for your country.")
ENOSPC = os.strerror(errno.ENOSPC)  # "No space left on device"


class DiskWithRoomFor:
    """Stands in for the journal's open file on a disk with ``room`` bytes left (simulated)."""

    def __init__(self, file, room: int) -> None:  # noqa: ANN001
        self._file = file
        self.room = room
        self.refused = 0

    def write(self, data):  # noqa: ANN001, ANN201
        if self.room <= 0:
            self.refused += 1
            raise OSError(errno.ENOSPC, ENOSPC)
        written = self._file.write(data[:self.room])  # a short write, like the kernel's
        self.room -= written
        return written

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._file, name)


def _finals(log: list[tuple[str, object]]) -> list:
    return [u for kind, u in log if kind == "update" and u.kind == "final"]


def _words(text: str) -> str:
    return " ".join(text.split())


def _plain(text: str) -> str:
    """Lower-case words without punctuation (the model's punctuation varies)."""
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def _assert_all_words(session: LiveSession, log: list[tuple[str, object]]) -> str:
    """Every committed word reached the callback and is in the transcript in memory."""
    text = session.transcript().text
    assert _words("".join(u.segment.text for u in _finals(log))) == _words(text)
    assert score([JFK], [text]).wer <= 0.15, text
    return text


@pytest.mark.parametrize("freed", [True, False], ids=["room-again", "full-to-the-end"])
def test_journal_on_a_full_disk_keeps_the_captions_coming_and_says_so_once(
        engine, speech_dir, tmp_path, freed) -> None:
    """Simulated full disk (the journal's file wrapped, see the module docstring)."""
    log: list[tuple[str, object]] = []
    disk: DiskWithRoomFor | None = None

    def on_update(update) -> None:  # noqa: ANN001
        log.append(("update", update))
        errors_at = [i for i, (kind, _) in enumerate(log) if kind == "error"]
        if freed and errors_at and len(_finals(log[errors_at[0]:])) == 2:
            disk.room = 10 ** 9  # the user freed space

    session = LiveSession(FileSource(speech_dir / "jfk.wav", speed=0), engine,
                          folder=tmp_path / "session", on_update=on_update,
                          on_error=lambda e: log.append(("error", e)), journal_interval=0.0)
    # The header is written; the first caption fits, the second one only partly.
    disk = DiskWithRoomFor(session.journal._file, room=900)
    session.journal._file = disk
    session.start()
    assert session.wait(timeout=120)
    session.stop()

    errors = [e for kind, e in log if kind == "error"]
    assert len(errors) == 1, [e.message for e in errors]  # once, not once per caption
    assert not errors[0].fatal
    assert errors[0].message == (
        f"Cannot save the session: {ENOSPC} ({session.journal.path}). Captions continue but "
        "are not being saved; free space or stop and export.")
    failed_at = next(i for i, (kind, _) in enumerate(log) if kind == "error")
    assert _finals(log[failed_at:]), "no caption reached the callback after the failure"
    assert disk.refused >= 1
    text = _assert_all_words(session, log)

    if freed:
        session.finish(("txt",))  # the journal caught up by itself: nothing to report
        assert session.journal.error is None and session.journal_complete
    else:
        with pytest.raises(DesktopAsrError, match=f"cannot complete the journal.*{ENOSPC}"):
            session.finish(("txt",))
        assert not session.journal_complete
        # The transcript still went where there is room: every word.
        saved = json.loads((session.folder / "transcript.json").read_text(encoding="utf-8"))
        assert _words(" ".join(s["text"] for s in saved["segments"])) == _words(text)
    lines = session.journal.path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # the short write left no torn line
    journaled, closed = read_journal(session.journal.path)
    assert closed is freed
    if freed:  # the waiting lines were written once there was room: the journal is whole
        assert _words(journaled.text) == _words(text)
        assert records[-1]["type"] == "closed"
    else:  # what is there is the start, in order
        assert _words(text).startswith(_words(journaled.text)) and journaled.text.strip()


def test_a_real_full_disk_stops_the_recording_not_the_captions(engine, speech_dir,
                                                               tmp_path) -> None:
    """The session folder on a real 64 KiB tmpfs; the recording fills it (see the docstring)."""
    log: list[tuple[str, object]] = []
    out = tmp_path / "elsewhere"
    with tiny_disk(tmp_path / "disk") as disk:
        session = LiveSession(FileSource(speech_dir / "jfk.wav", speed=4.0), engine,
                              record=True, folder=disk / "session",
                              on_update=lambda u: log.append(("update", u)),
                              on_error=lambda e: log.append(("error", e)))
        session.start()
        assert session.wait(timeout=120)
        session.stop()
        # At stop the session folder has no room for transcript.json; the exports elsewhere
        # are still written.
        with pytest.raises(DesktopAsrError, match=f"transcript.json: {ENOSPC}"):
            session.finish(("txt", "json"), out_dir=out)
        assert os.statvfs(disk).f_bavail == 0  # it really was full
        recorded = decode_audio(disk / "session" / "recording.flac")
        read_journal(session.journal.path)  # left for recovery, readable

    errors = [e for kind, e in log if kind == "error"]
    recording = [e for e in errors if "recording.flac" in e.message]
    assert len(recording) == 1, [e.message for e in errors]
    assert len({e.message for e in errors}) == len(errors)  # none said twice
    assert all(not e.fatal and e.message.startswith(f"Cannot save the session: {ENOSPC} (")
               for e in errors)
    assert recording[0].message.endswith(
        "recording.flac). Captions continue but the audio is no longer recorded; free space "
        "or stop and export.")
    assert session.pipeline.error is None  # captioning itself never stopped
    failed_at = next(i for i, (kind, _) in enumerate(log) if kind == "error")
    assert _finals(log[failed_at:]), "no caption reached the callback after the failure"
    text = _assert_all_words(session, log)
    assert [p.name for p in session.saved] == ["session.txt", "session.json"]
    assert _plain((out / "session.txt").read_text(encoding="utf-8")).endswith(
        "what you can do for your country")
    exported = json.loads((out / "session.json").read_text(encoding="utf-8"))
    assert _words(" ".join(s["text"] for s in exported["segments"])) == _words(text)
    assert 0.5 < recorded.size / 16000 < 10.0  # what was recorded before the disk filled plays


def test_cli_warns_on_stderr_while_captioning_and_saves_the_words_elsewhere(speech_dir,
                                                                           tmp_path) -> None:
    """``desktop-asr live --record`` with its data folder on a real 64 KiB tmpfs."""
    out = tmp_path / "out"
    with tiny_disk(tmp_path / "data") as data:
        env = {**os.environ, "DESKTOP_ASR_HOME": str(tmp_path / "home"),
               "DESKTOP_ASR_DATA_DIR": str(data)}
        with open(tmp_path / "stdout.jsonl", "w", encoding="utf-8") as stdout:
            proc = subprocess.Popen(
                [sys.executable, "-m", "desktop_asr", "live", "--source",
                 str(speech_dir / "jfk.wav"), "--speed", "2", "--record", "--jsonl",
                 "--threads", "2", "-o", str(out), "-f", "txt"],
                env=env, stdout=stdout, stderr=subprocess.PIPE, text=True)
            warned_while_running = None
            lines = []
            try:
                for line in proc.stderr:
                    lines.append(line)
                    if "Cannot save the session" in line and warned_while_running is None:
                        warned_while_running = proc.poll() is None
                proc.wait(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
    err = "".join(lines)
    warnings = [line for line in lines if "Cannot save the session" in line]
    # Once per file that cannot be written: the recording fills the disk, and the journal may
    # need a new block of it before the end too.
    assert "recording.flac" in warnings[0] and len(warnings) <= 2, err
    assert len({w.split("(")[1].split(")")[0] for w in warnings}) == len(warnings), err
    for warning in warnings:
        assert warning.startswith(f"desktop-asr: warning: Cannot save the session: {ENOSPC} (")
        assert "Captions continue" in warning
    assert warned_while_running, "the warning came only after the session had ended"
    assert proc.returncode == 1, err  # transcript.json did not fit: said, and the exit says so
    assert f"transcript.json: {ENOSPC}" in err
    events = [json.loads(line) for line in
              (tmp_path / "stdout.jsonl").read_text(encoding="utf-8").splitlines()]
    finals = " ".join(e["text"] for e in events if e["type"] == "final")
    assert score([JFK], [finals]).wer <= 0.15, finals
    (txt,) = out.glob("*.txt")
    assert _plain(txt.read_text(encoding="utf-8")).endswith("what you can do for your country")
    assert str(txt) in err  # where the transcript went


def test_cli_with_nowhere_to_save_writes_the_transcript_to_the_temporary_folder(
        speech_dir, tmp_path) -> None:
    """No ``-o`` and the data folder on a real full tmpfs: the words go to the temp folder."""
    with tiny_disk(tmp_path / "data") as data:
        env = {**os.environ, "DESKTOP_ASR_HOME": str(tmp_path / "home"),
               "DESKTOP_ASR_DATA_DIR": str(data), "TMPDIR": str(tmp_path / "tmp")}
        (tmp_path / "tmp").mkdir()
        done = subprocess.run(
            [sys.executable, "-m", "desktop_asr", "live", "--source",
             str(speech_dir / "jfk.wav"), "--speed", "0", "--record", "--threads", "2",
             "-f", "txt"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr
    (txt,) = (tmp_path / "tmp").glob("desktop-asr-*/*.txt")
    assert _plain(txt.read_text(encoding="utf-8")).endswith("what you can do for your country")
    assert (txt.with_suffix(".json")).is_file()
    assert f"transcript: {txt.with_suffix('.json')}, {txt}" in done.stderr
