"""Tests of the transcript exporters, checked with independent SRT/WebVTT parsers."""

from __future__ import annotations

import html
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import srt
import webvtt

from desktop_asr.errors import ExportError
from desktop_asr.export import FORMATS, ExportOptions, export, load_json, write_export
from desktop_asr.types import SCHEMA_VERSION, Segment, Speaker, Transcript, Word

try:
    import resource
except ImportError:  # Windows has no resource limits
    resource = None  # type: ignore[assignment]

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file-system semantics")

FOX_TEXT = ("The quick brown fox jumps over the lazy dog while the farmer sleeps soundly under "
            "an old oak tree and dreams of a harvest that will never come this year, because "
            "the rain stayed away all summer and the river ran dry long before the wheat was "
            "ready")
FOX = FOX_TEXT.split(" ")


def whisper_words(tokens: list[str], start: float, step: float = 0.37,
                  length: float = 0.3) -> tuple[Word, ...]:
    """Words the way Whisper gives them: leading space, one every ``step`` seconds."""
    return tuple(Word(start + i * step, start + i * step + length, " " + tok)
                 for i, tok in enumerate(tokens))


def seg_from_words(words: tuple[Word, ...], speaker: str | None = None) -> Segment:
    return Segment(words[0].start, words[-1].end, "".join(w.text for w in words), words=words,
                   speaker=speaker)


def parse_srt(text: str) -> list[srt.Subtitle]:
    return list(srt.parse(text))


def parse_vtt(text: str) -> list[webvtt.Caption]:
    return list(webvtt.from_buffer(io.StringIO(text)).captions)


def ms(delta: timedelta) -> int:
    return round(delta.total_seconds() * 1000)


def vtt_ms(caption: webvtt.Caption) -> tuple[int, int]:
    return caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()


@pytest.fixture
def dialogue() -> Transcript:
    return Transcript(
        segments=(
            Segment(1.0, 2.5, " Hello there.", speaker="S0"),
            Segment(3.0, 4.25, " Hi, how are you?", speaker="S1"),
            Segment(3725.5, 3726.0, " Fine & you <3", speaker="S0"),
        ),
        speakers=(Speaker("S0"), Speaker("S1", "Bob")),
        language="en",
    )


# ---------------------------------------------------------------- registry and options

def test_formats_are_all_exportable(dialogue: Transcript) -> None:
    assert FORMATS == ("txt", "srt", "vtt", "json", "rttm")
    for fmt in FORMATS:
        assert isinstance(export(dialogue, fmt), str)


def test_unknown_format_names_supported_ones(tmp_path: Path, dialogue: Transcript) -> None:
    with pytest.raises(ExportError) as info:
        export(dialogue, "docx")
    message = str(info.value)
    assert "docx" in message
    assert all(fmt in message for fmt in FORMATS)
    with pytest.raises(ExportError):
        write_export(dialogue, tmp_path / "x.docx", "docx")
    assert list(tmp_path.iterdir()) == []


def test_format_names_from_file_extensions(dialogue: Transcript) -> None:
    assert export(dialogue, "SRT") == export(dialogue, "srt")
    assert export(dialogue, ".vtt") == export(dialogue, "vtt")


@pytest.mark.parametrize("kwargs", [
    {"max_line_chars": 0}, {"max_line_chars": -5}, {"max_cue_lines": 0},
    {"max_cue_duration": 0}, {"max_cue_duration": 0.0004}, {"max_cue_duration": -1.0},
    {"max_cue_duration": float("nan")}, {"max_cue_duration": float("inf")},
])
def test_export_options_reject_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ExportOptions(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"max_line_chars": 4.5}, {"max_cue_lines": True}, {"max_cue_duration": "7"},
    {"txt_timestamps": "yes"}, {"txt_speakers": 1},
])
def test_export_options_reject_wrong_types(kwargs: dict) -> None:
    with pytest.raises(TypeError):
        ExportOptions(**kwargs)


def test_export_options_defaults() -> None:
    opts = ExportOptions()
    assert (opts.txt_timestamps, opts.txt_speakers, opts.max_line_chars, opts.max_cue_lines,
            opts.max_cue_duration) == (False, True, 42, 2, 7.0)


# ---------------------------------------------------------------- TXT

def test_txt_one_line_per_segment_with_labels(dialogue: Transcript) -> None:
    assert export(dialogue, "txt") == ("S0: Hello there.\nBob: Hi, how are you?\n"
                                       "S0: Fine & you <3\n")


def test_txt_without_speakers_and_with_timestamps(dialogue: Transcript) -> None:
    opts = ExportOptions(txt_timestamps=True, txt_speakers=False)
    lines = export(dialogue, "txt", options=opts).splitlines()
    assert lines == ["[00:00:01.000 --> 00:00:02.500] Hello there.",
                     "[00:00:03.000 --> 00:00:04.250] Hi, how are you?",
                     "[01:02:05.500 --> 01:02:06.000] Fine & you <3"]


def test_txt_keeps_one_line_per_segment_and_skips_blank_ones() -> None:
    t = Transcript(segments=(Segment(0, 1, " first\nsecond  part"), Segment(1, 2, "   "),
                             Segment(2, 3, "third")))
    assert export(t, "txt") == "first second part\nthird\n"


# ---------------------------------------------------------------- SRT

def test_srt_parses_with_numbers_times_and_labels(dialogue: Transcript) -> None:
    subs = parse_srt(export(dialogue, "srt"))
    assert [s.index for s in subs] == [1, 2, 3]
    assert [(ms(s.start), ms(s.end)) for s in subs] == [(1000, 2500), (3000, 4250),
                                                         (3725500, 3726000)]
    # SRT is plain text: nothing is escaped.
    assert [s.content for s in subs] == ["S0: Hello there.", "Bob: Hi, how are you?",
                                         "S0: Fine & you <3"]


def test_srt_time_format_uses_comma_and_hours(dialogue: Transcript) -> None:
    assert "01:02:05,500 --> 01:02:06,000" in export(dialogue, "srt")


# ---------------------------------------------------------------- WebVTT

def test_vtt_parses_with_voices_and_escaping(dialogue: Transcript) -> None:
    text = export(dialogue, "vtt")
    assert text.startswith("WEBVTT\n\n")
    caps = parse_vtt(text)
    assert [vtt_ms(c) for c in caps] == [(1000, 2500), (3000, 4250), (3725500, 3726000)]
    assert [c.voice for c in caps] == ["S0", "Bob", "S0"]
    assert caps[2].raw_text == "<v S0>Fine &amp; you &lt;3"
    assert [html.unescape(c.text) for c in caps] == ["Hello there.", "Hi, how are you?",
                                                     "Fine & you <3"]


def test_vtt_escapes_speaker_label_and_arrow() -> None:
    t = Transcript(segments=(Segment(0, 1, "a --> b", speaker="x"),),
                   speakers=(Speaker("x", "Tom & <Jerry>"),))
    text = export(t, "vtt")
    (cap,) = parse_vtt(text)
    assert html.unescape(cap.voice) == "Tom & <Jerry>"
    assert html.unescape(cap.text) == "a --> b"
    # An unescaped arrow in cue text would read as a timing line.
    assert text.count("-->") == 1


def test_vtt_and_srt_have_the_same_cues(dialogue: Transcript) -> None:
    words = whisper_words(FOX, 10.0)
    t = Transcript(segments=dialogue.segments[:2] + (seg_from_words(words, "S1"),),
                   speakers=dialogue.speakers)
    subs, caps = parse_srt(export(t, "srt")), parse_vtt(export(t, "vtt"))
    assert len(subs) == len(caps) > 3
    assert [(ms(s.start), ms(s.end)) for s in subs] == [vtt_ms(c) for c in caps]


# ---------------------------------------------------------------- cue splitting

def _check_cue_limits(subs: list[srt.Subtitle], opts: ExportOptions) -> None:
    for sub in subs:
        lines = sub.content.split("\n")
        assert 1 <= len(lines) <= opts.max_cue_lines, sub
        assert all(0 < len(line) <= opts.max_line_chars for line in lines), sub
        assert 0 < ms(sub.end) - ms(sub.start) <= opts.max_cue_duration * 1000, sub


@pytest.mark.parametrize("opts", [ExportOptions(),
                                  ExportOptions(max_line_chars=20, max_cue_lines=1,
                                                max_cue_duration=3.0),
                                  ExportOptions(max_line_chars=30, max_cue_lines=3,
                                                max_cue_duration=2.5)])
def test_long_segment_with_words_splits_within_limits(opts: ExportOptions) -> None:
    words = whisper_words(FOX, 12.0)
    t = Transcript.from_segments([seg_from_words(words, "SPK")])
    subs = parse_srt(export(t, "srt", options=opts))
    assert len(subs) >= 3
    _check_cue_limits(subs, opts)
    # No word lost, duplicated or reordered; every cue carries the speaker prefix.
    assert all(s.content.startswith("SPK: ") for s in subs)
    joined = " ".join(s.content.removeprefix("SPK: ").replace("\n", " ") for s in subs)
    assert joined == " ".join(FOX)
    # Cue times come from the words, not from the segment.
    starts = {round(w.start * 1000) for w in words}
    ends = {round(w.end * 1000) for w in words}
    for sub in subs:
        assert ms(sub.start) in starts and ms(sub.end) in ends
    assert ms(subs[0].start) == 12000 and ms(subs[-1].end) == round(words[-1].end * 1000)


def test_segment_without_words_splits_proportionally() -> None:
    text = " ".join(FOX)
    seg = Segment(20.0, 50.0, " " + text)
    opts = ExportOptions(max_line_chars=30, max_cue_lines=2, max_cue_duration=100.0)
    subs = parse_srt(export(Transcript(segments=(seg,)), "srt", options=opts))
    assert len(subs) >= 3
    _check_cue_limits(subs, opts)
    assert " ".join(s.content.replace("\n", " ") for s in subs) == text
    assert ms(subs[0].start) == 20000 and ms(subs[-1].end) == 50000
    per_char = seg.duration / len(text)
    pos = 0
    for prev, sub in zip([None] + subs[:-1], subs):
        pos = text.index(sub.content.split("\n")[0], pos)
        # Each cue starts where its text starts in the segment, give or take the space.
        assert abs(sub.start.total_seconds() - (20.0 + pos * per_char)) <= 1.5 * per_char
        if prev is not None:
            assert prev.end == sub.start


def test_proportional_split_respects_duration_limit() -> None:
    seg = Segment(0.0, 30.0, " ".join(FOX[:12]))
    opts = ExportOptions(max_cue_duration=4.0)
    subs = parse_srt(export(Transcript(segments=(seg,)), "srt", options=opts))
    assert len(subs) >= 30 // 4
    _check_cue_limits(subs, opts)


def test_cues_never_end_at_or_before_start() -> None:
    words = (Word(5.0, 5.0, " zero"), Word(5.0, 5.0, " length"), Word(6.0, 6.0004, " tiny"))
    t = Transcript(segments=(Segment(5.0, 6.0004, " zero length tiny", words=words),
                             Segment(8.0, 8.0, " instant")))
    opts = ExportOptions(max_line_chars=7, max_cue_lines=1)
    subs = parse_srt(export(t, "srt", options=opts))
    assert [s.content for s in subs] == ["zero", "length", "tiny", "instant"]
    assert all(s.end > s.start for s in subs)
    assert all(end > start for start, end in map(vtt_ms, parse_vtt(export(t, "vtt", options=opts))))


def test_word_longer_than_limit_is_cut_short() -> None:
    words = (Word(1.0, 1.5, " Hmm"), Word(1.5, 15.0, " well"))
    t = Transcript(segments=(Segment(1.0, 15.0, " Hmm well", words=words),))
    subs = parse_srt(export(t, "srt"))
    _check_cue_limits(subs, ExportOptions())
    assert " ".join(s.content for s in subs) == "Hmm well"


def test_no_empty_cues() -> None:
    t = Transcript(segments=(Segment(0, 1, "  "), Segment(1, 2, "", words=(Word(1, 2, " "),)),
                             Segment(2, 3, " real")))
    assert [s.content for s in parse_srt(export(t, "srt"))] == ["real"]
    assert [c.text for c in parse_vtt(export(t, "vtt"))] == ["real"]


def test_word_spacing_follows_the_engine() -> None:
    cjk = (Word(0.0, 0.5, "你好"), Word(0.5, 1.0, "世界"))
    bare = (Word(2.0, 2.5, "hello"), Word(2.5, 3.0, "world"))
    t = Transcript(segments=(Segment(0, 1, "你好世界", words=cjk),
                             Segment(2, 3, "hello world", words=bare)))
    assert [s.content for s in parse_srt(export(t, "srt"))] == ["你好世界", "hello world"]


def test_unspaced_text_without_words_is_wrapped() -> None:
    text = "今日はとても良い天気ですね。" * 6
    t = Transcript(segments=(Segment(0, 12, text),))
    opts = ExportOptions(max_line_chars=16)
    subs = parse_srt(export(t, "srt", options=opts))
    _check_cue_limits(subs, opts)
    assert "".join(s.content.replace("\n", "") for s in subs) == text


# ---------------------------------------------------------------- unicode and empty

def test_unicode_survives_every_format(tmp_path: Path) -> None:
    t = Transcript(segments=(Segment(0, 2, " Ça va? Ünïcödé — 日本語 🎉", speaker="z"),),
                   speakers=(Speaker("z", "Zoë Ω"),))
    assert "Zoë Ω: Ça va? Ünïcödé — 日本語 🎉" in export(t, "txt")
    assert parse_srt(export(t, "srt"))[0].content == "Zoë Ω: Ça va? Ünïcödé — 日本語 🎉"
    (cap,) = parse_vtt(export(t, "vtt"))
    assert (cap.voice, cap.text) == ("Zoë Ω", "Ça va? Ünïcödé — 日本語 🎉")
    assert "Zoë_Ω" in export(t, "rttm")
    assert "🎉" in export(t, "json")  # written as itself, not as \ud83c escapes
    path = write_export(t, tmp_path / "u.txt", "txt")
    assert path.read_bytes().decode("utf-8") == export(t, "txt")


def test_empty_transcript_gives_valid_files() -> None:
    empty = Transcript()
    assert export(empty, "txt") == ""
    assert export(empty, "srt") == "" and parse_srt(export(empty, "srt")) == []
    assert export(empty, "vtt") == "WEBVTT\n" and parse_vtt(export(empty, "vtt")) == []
    assert export(empty, "rttm") == ""
    assert load_json(export(empty, "json")) == empty


# ---------------------------------------------------------------- RTTM

def rttm_rows(text: str) -> list[list[str]]:
    rows = [line.split(" ") for line in text.splitlines()]
    assert all(len(row) == 10 for row in rows), rows
    return rows


def test_rttm_fields_and_merging() -> None:
    t = Transcript(
        segments=(
            Segment(0.0, 1.0, "a", speaker="A"),
            Segment(1.5, 2.0, "b", speaker="A"),    # gap 0.5: same turn
            Segment(2.6, 3.0, "c", speaker="A"),    # gap 0.6: new turn
            Segment(3.1, 4.25, "d", speaker="B"),
            Segment(4.3, 5.0, "e"),                 # no speaker
            Segment(6.0, 6.0, "f", speaker="B"),    # zero length
        ),
        speakers=(Speaker("A", "Ann Lee"), Speaker("B")),
    )
    rows = rttm_rows(export(t, "rttm", file_id="my meeting"))
    assert [r[:3] + r[5:7] + r[8:] for r in rows] == [
        ["SPEAKER", "my_meeting", "1", "<NA>", "<NA>", "<NA>", "<NA>"]] * 4
    assert [(r[3], r[4], r[7]) for r in rows] == [
        ("0.000", "2.000", "Ann_Lee"), ("2.600", "0.400", "Ann_Lee"),
        ("3.100", "1.150", "B"), ("4.300", "0.700", "unknown")]


def test_rttm_default_file_id_and_empty_segments() -> None:
    t = Transcript(segments=(Segment(0.0, 0.0, "", speaker="A"),), speakers=(Speaker("A"),))
    assert export(t, "rttm") == ""
    t2 = Transcript(segments=(Segment(1.0, 2.0, "x"),))
    assert rttm_rows(export(t2, "rttm"))[0][1] == "audio"


# ---------------------------------------------------------------- renaming

def test_renamed_speaker_shows_in_txt_vtt_rttm(dialogue: Transcript) -> None:
    renamed = dialogue.rename_speaker("S0", "Dr. Alice Smith")
    assert export(renamed, "txt").splitlines()[0] == "Dr. Alice Smith: Hello there."
    assert parse_vtt(export(renamed, "vtt"))[0].voice == "Dr. Alice Smith"
    assert parse_srt(export(renamed, "srt"))[0].content.startswith("Dr. Alice Smith: ")
    assert rttm_rows(export(renamed, "rttm"))[0][7] == "Dr._Alice_Smith"
    assert "S0" not in export(renamed, "txt")


# ---------------------------------------------------------------- JSON

def test_json_round_trip_keeps_everything() -> None:
    words = (Word(0.0, 0.4, " Grüß", 0.91), Word(0.4, 0.9, " dich!", 0.5))
    t = Transcript(segments=(Segment(0.0, 0.9, " Grüß dich!", words=words, speaker="s",
                                     avg_logprob=-0.25, no_speech_prob=0.01),
                             Segment(1.0, 2.0, " 你好")),
                   speakers=(Speaker("s", "Jürgen"),), language="de", duration=2.5,
                   source="/tmp/a.wav", model="small", metadata={"beam": 5})
    text = export(t, "json")
    assert text.endswith("}\n")
    back = load_json(text)
    assert back == t
    assert back.metadata == {"beam": 5}
    assert json.loads(text)["version"] == SCHEMA_VERSION


def test_json_newer_version_is_refused(dialogue: Transcript) -> None:
    data = json.loads(export(dialogue, "json"))
    data["version"] = SCHEMA_VERSION + 1
    with pytest.raises(ExportError, match="newer"):
        load_json(json.dumps(data))


@pytest.mark.parametrize("text", [
    "", "{not json", "[1, 2]", '{"segments": []}',
    '{"version": 1, "segments": [{"end": 1, "text": "x"}]}',
    '{"version": 1, "segments": [{"start": 2, "end": 1, "text": "x"}]}',
    '{"version": 1, "segments": [{"start": 0, "end": 1, "text": "x", "speaker": "ghost"}]}',
    '{"version": 1, "segments": ["oops"]}',
])
def test_json_invalid_input_gives_export_error(text: str) -> None:
    with pytest.raises(ExportError) as info:
        load_json(text)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- writing files

def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_write_export_writes_exactly_the_content(tmp_path: Path, dialogue: Transcript) -> None:
    target = tmp_path / "out.srt"
    assert write_export(dialogue, target, "srt") == target
    data = target.read_bytes()
    assert data == export(dialogue, "srt").encode("utf-8")
    assert b"\r" not in data
    assert _listing(tmp_path) == ["out.srt"]


def test_write_export_file_id_defaults_to_stem(tmp_path: Path, dialogue: Transcript) -> None:
    target = write_export(dialogue, tmp_path / "team call.rttm", "rttm")
    assert {row[1] for row in rttm_rows(target.read_text("utf-8"))} == {"team_call"}
    write_export(dialogue, target, "rttm", file_id="x")
    assert {row[1] for row in rttm_rows(target.read_text("utf-8"))} == {"x"}


def test_write_export_overwrites_and_keeps_mode(tmp_path: Path, dialogue: Transcript) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old content that is longer than the new one " * 20)
    target.chmod(0o640)
    write_export(dialogue, target, "txt")
    assert target.read_text("utf-8") == export(dialogue, "txt")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@posix_only
def test_new_file_permissions_follow_umask(tmp_path: Path, dialogue: Transcript) -> None:
    old = os.umask(0o022)
    try:
        target = write_export(dialogue, tmp_path / "new.txt", "txt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_missing_directory_gives_export_error(tmp_path: Path, dialogue: Transcript) -> None:
    target = tmp_path / "nope" / "out.srt"
    with pytest.raises(ExportError) as info:
        write_export(dialogue, target, "srt")
    assert str(info.value) == f"cannot write {target}: No such file or directory"
    assert _listing(tmp_path) == []


def test_failure_after_temp_file_removes_it(tmp_path: Path, dialogue: Transcript) -> None:
    # os.replace onto a non-empty directory fails only after the temp file is fully written.
    target = tmp_path / "out.vtt"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(ExportError, match=f"^cannot write {target}: "):
        write_export(dialogue, target, "vtt")
    assert _listing(tmp_path) == ["out.vtt"]
    assert _listing(target) == ["keep"]


@posix_only
def test_read_only_directory_gives_export_error(dialogue: Transcript) -> None:
    # Root ignores permission bits, so as root the write runs with an unprivileged effective
    # uid; the directory lives under the system temp dir so that uid can reach it.
    base = Path(tempfile.mkdtemp(prefix="export-ro-"))
    try:
        base.chmod(0o755)
        ro = base / "ro"
        ro.mkdir()
        (ro / "out.txt").write_text("old")
        ro.chmod(0o555)
        as_root = os.geteuid() == 0
        if as_root:
            try:
                os.seteuid(65534)
            except PermissionError:
                pytest.skip("running as root without the right to drop privileges")
        try:
            with pytest.raises(ExportError) as info:
                write_export(dialogue, ro / "out.txt", "txt")
        finally:
            if as_root:
                os.seteuid(0)
        assert str(info.value) == f"cannot write {ro / 'out.txt'}: Permission denied"
        assert _listing(ro) == ["out.txt"]
        assert (ro / "out.txt").read_text() == "old"
    finally:
        (base / "ro").chmod(0o755)
        shutil.rmtree(base)


def _big_transcript() -> Transcript:
    segs = [Segment(i, i + 0.9, f" sentence number {i} with some filler words in it")
            for i in range(3000)]
    return Transcript(segments=tuple(segs))


@pytest.mark.skipif(sys.platform != "linux" or resource is None,
                    reason="RLIMIT_FSIZE behaviour checked on Linux")
def test_write_failing_midway_leaves_old_file_intact(tmp_path: Path) -> None:
    # A real kernel write failure part-way through the file (EFBIG from a file-size limit),
    # the same situation as a disk filling up during the write.
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, hard))
    try:
        with pytest.raises(ExportError) as info:
            write_export(_big_transcript(), target, "txt")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert str(info.value) == f"cannot write {target}: File too large"
    assert target.read_text() == "old\n"
    assert _listing(tmp_path) == ["out.txt"]


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):
    """A 64 KiB tmpfs, for a real "No space left on device"; skipped where mounting is denied."""
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root on Linux")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                          check=False, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_disk_full_leaves_old_file_intact(tiny_tmpfs: Path) -> None:
    target = tiny_tmpfs / "out.txt"
    target.write_text("old\n")
    with pytest.raises(ExportError) as info:
        write_export(_big_transcript(), target, "txt")
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert target.read_text() == "old\n"
    assert _listing(tiny_tmpfs) == ["out.txt"]
