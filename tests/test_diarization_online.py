"""Online speaker labels, the finalise pass, echo suppression and enrolled voices (no ASR).

The always-on tests use a synthetic two-voice espeak conversation; the real-speech ones the
shared clips (skipped with the reason when absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diarization_fixtures import (  # noqa: F401  (fixtures)
    SAMPLE_RATE,
    backend_or_skip,
    conversation,
    correct_share,
    enrolment_a,
    overlap_mapping,
    two_sources,
)
from desktop_asr.diarization import DiarizationOptions, SpeakerTurn, diarize
from desktop_asr.diarization.echo import EchoGate, echo_duplicates
from desktop_asr.diarization.finalise import map_speakers
from desktop_asr.diarization.live import LiveDiarizer, LiveSpeakerOptions
from desktop_asr.diarization.online import OnlineDiarizer
from desktop_asr.types import Segment

EMBEDDED = DiarizationOptions(backend="embedded")


def _feed(od: OnlineDiarizer, audio: np.ndarray, chunk: float, on_step=None) -> None:
    n = int(chunk * SAMPLE_RATE)
    for i in range(0, audio.size, n):
        od.feed(audio[i:i + n])
        if on_step is not None:
            on_step()
    od.flush()


def test_online_labels_tell_two_voices_apart_and_never_change(conversation) -> None:
    backend_or_skip()
    od = OnlineDiarizer(EMBEDDED)
    first_answer: dict[int, str | None] = {}
    snapshots: list[np.ndarray] = []

    def ask() -> None:
        # Each line's speaker, asked as soon as its frames are decided, as the pipeline does.
        for i, (s, e, _, _) in enumerate(conversation.truth):
            if i not in first_answer and od.decided_until >= e:
                first_answer[i] = od.speaker_of([(s, e)])
        snapshots.append(od._frames[: od._decided].copy())

    _feed(od, conversation.audio, 0.2, ask)
    ask()  # the stream ended: the last line is decided now
    assert od.speakers() == ("SPEAKER_00", "SPEAKER_01")
    # Decided frames and the answers given live are what they are at the end.
    final = od._frames[: od._decided]
    for snap in snapshots:
        assert np.array_equal(final[: snap.size], snap)
    assert len(first_answer) == len(conversation.truth)
    assert all(first_answer[i] == od.speaker_of([(s, e)])
               for i, (s, e, _, _) in enumerate(conversation.truth))
    turns = od.turns()
    mapping = overlap_mapping(turns, conversation.truth)
    assert mapping["A"] != mapping["B"]
    share = correct_share(turns, conversation.truth)
    assert share > 0.8, f"only {share:.0%} of the speech carries its speaker's live label"
    # Every line but at most one: until the second voice has spoken for a few seconds both
    # voices carry one label, and one of the first two lines ends up with the other's.
    wrong = [i for i, (_, _, who, _) in enumerate(conversation.truth)
             if first_answer[i] != mapping[who]]
    assert wrong in ([], [0], [1]), wrong


def test_online_labels_do_not_depend_on_how_audio_arrives(conversation) -> None:
    backend_or_skip()
    small, large = OnlineDiarizer(EMBEDDED), OnlineDiarizer(EMBEDDED)
    _feed(small, conversation.audio, 0.1)
    _feed(large, conversation.audio, 7.0)
    assert small.turns() == large.turns() and len(small.turns()) > 4


def test_online_speaker_cap(conversation) -> None:
    backend_or_skip()
    od = OnlineDiarizer(EMBEDDED, max_speakers=1)
    _feed(od, conversation.audio, 0.5)
    assert od.speakers() == ("SPEAKER_00",)


@pytest.mark.parametrize("clip", ["jfk.wav", "OSR_us_000_0034_8k.wav",
                                  "librivox_sense_and_sensibility_0870.wav"])
def test_online_one_voice_is_one_speaker(speech_dir: Path, clip: str) -> None:
    backend_or_skip()
    from desktop_asr.audio import decode_audio

    if not (speech_dir / clip).is_file():
        pytest.skip(f"{clip} not in {speech_dir}")
    od = OnlineDiarizer(EMBEDDED)
    _feed(od, decode_audio(speech_dir / clip), 0.5)
    assert od.speakers() == ("SPEAKER_00",)


def _rttm(path: Path) -> list[SpeakerTurn]:
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        turns.append(SpeakerTurn(float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return turns


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["pyannote_sample", "pyannote_dev00"])
def test_real_clip_online_count_and_finalise_equals_offline(speech_dir: Path, clip: str
                                                            ) -> None:
    """Online: the right count and most speech with its speaker; finalise: the offline turns."""
    backend_or_skip()
    from desktop_asr.audio import decode_audio

    if not (speech_dir / f"{clip}.rttm").is_file():
        pytest.skip(f"{clip}.rttm not in {speech_dir}")
    audio = decode_audio(speech_dir / f"{clip}.wav")
    reference = _rttm(speech_dir / f"{clip}.rttm")
    live = LiveDiarizer(("file",), ("file",), LiveSpeakerOptions(diarization=EMBEDDED))
    live.start()
    for i in range(0, audio.size, 1600):
        live.feed(audio[i:i + 1600, None])
    live.close()
    online = live.online_turns("file")
    assert len({t.speaker for t in online}) == 2
    truth = [(t.start, t.end, t.speaker) for t in reference]
    assert correct_share(online, truth) > 0.7
    finalised = live.finalise()
    offline = diarize(audio, EMBEDDED)
    assert [(t.start, t.end) for t in finalised.turns["file"]] == [
        (t.start, t.end) for t in offline.turns]
    # The final ids are the live ones wherever they agree.
    assert {t.speaker for t in finalised.turns["file"]} == {t.speaker for t in online}


def test_map_speakers_keeps_live_ids_and_numbers_new_ones_after_them() -> None:
    online = [SpeakerTurn(0, 5, "SPEAKER_00"), SpeakerTurn(5, 9, "SPEAKER_01")]
    final = [SpeakerTurn(0, 4.5, "SPEAKER_00"), SpeakerTurn(4.5, 8, "SPEAKER_01"),
             SpeakerTurn(8, 9, "SPEAKER_02"), SpeakerTurn(9.5, 12, "SPEAKER_03")]
    # Final ids that swap relative to the live ones are mapped back.
    swapped = [SpeakerTurn(t.start, t.end, {"SPEAKER_00": "SPEAKER_01",
                                           "SPEAKER_01": "SPEAKER_00"}.get(t.speaker, t.speaker))
               for t in final]
    mapping = map_speakers(swapped, online, lambda i: f"SPEAKER_{i:02d}")
    assert mapping["SPEAKER_01"] == "SPEAKER_00" and mapping["SPEAKER_00"] == "SPEAKER_01"
    assert sorted([mapping["SPEAKER_02"], mapping["SPEAKER_03"]]) == ["SPEAKER_02",
                                                                     "SPEAKER_03"]


def test_echo_gate_mutes_the_far_side_and_keeps_the_user(two_sources) -> None:
    """Echo is muted, the user alone passes. Not asserted (a known limit, see echo.py): the
    user talking over the far side is muted while the echo dominates."""
    mic, system, parts = two_sources.mic, two_sources.system, two_sources.parts
    gate = EchoGate()
    out = [gate.process(mic[i:i + 320], system[i:i + 320]) for i in range(0, mic.size, 320)]
    out = np.concatenate([*out, gate.flush()])
    assert out.size == mic.size
    kept = out != 0
    assert np.array_equal(out[kept], mic[kept])  # what passes is the mic, in place
    muted = ~kept
    assert muted[parts["echo"]].mean() > 0.9
    assert muted[parts["user"]].mean() < 0.02
    # Once the far side stops, the rest of what the user says passes again at once.
    assert muted[parts["user_after"]].mean() < 0.05


def test_echo_duplicates_are_the_mic_lines_repeating_the_system() -> None:
    system = [Segment(1.0, 4.0, " The release candidate is ready."),
              Segment(6.0, 9.0, " We ship on Thursday.")]
    mic = [Segment(1.1, 4.2, " the release candidate is ready"),     # echo
           Segment(4.5, 5.5, " I agree completely, thanks."),       # the user
           Segment(6.3, 8.0, " ship on thursday"),                   # echo, shorter
           Segment(12.0, 13.0, " the release candidate")]            # later: the user
    assert echo_duplicates(mic, system) == [0, 2]


def test_enrolled_voice_names_its_speaker_and_no_other(conversation, enrolment_a,
                                                        monkeypatch) -> None:
    backend_or_skip()
    from desktop_asr.diarization.profiles import (ProfileError, enroll, load_profiles,
                                                  remove_profile)

    made = enroll("Alice", enrolment_a)
    assert made.speech_seconds > 3 and [p.name for p in load_profiles()] == ["Alice"]
    with pytest.raises(ProfileError, match="already exists"):
        enroll("alice", enrolment_a)
    with pytest.raises(ProfileError, match="at least 3 s"):
        enroll("Bob", enrolment_a[: SAMPLE_RATE * 2])
    result = diarize(conversation.audio, EMBEDDED)
    mapping = overlap_mapping(result.turns, conversation.truth)
    assert result.names == {mapping["A"]: "Alice"}
    # A file's transcript carries the name (TXT/SRT/VTT/JSON all print it).
    import desktop_asr.diarization.label as label_mod
    from desktop_asr.types import Transcript

    lines = tuple(Segment(s, e, f" {text}") for s, e, _, text in conversation.truth)
    monkeypatch.setattr(label_mod, "diarize", lambda audio, options=None: result)  # not again
    named = label_mod.label_transcript(Transcript(segments=lines), conversation.audio, EMBEDDED)
    said = {named.speaker_label(seg.speaker) for seg, t in zip(named.segments,
                                                               conversation.truth)
            if t[2] == "A"}
    assert said == {"Alice"}
    remove_profile("ALICE")
    assert load_profiles() == []
    with pytest.raises(ProfileError):
        remove_profile("Alice")


def test_enrolled_real_voice_is_recognised_in_another_recording(speech_dir: Path) -> None:
    backend_or_skip()
    from desktop_asr.audio import decode_audio
    from desktop_asr.diarization.profiles import enroll

    clips = ["cmu_arctic_us_aew_a0001.wav", "cmu_arctic_us_aew_a0002.wav",
             "cmu_arctic_us_axb_a0006.wav"]
    if not all((speech_dir / c).is_file() for c in clips):
        pytest.skip(f"the CMU ARCTIC clips are not in {speech_dir}")
    enroll("Aew", decode_audio(speech_dir / clips[0]))
    aew, axb = decode_audio(speech_dir / clips[1]), decode_audio(speech_dir / clips[2])
    gap = np.zeros(SAMPLE_RATE, np.float32)
    audio = np.concatenate([aew, gap, axb])
    result = diarize(audio, DiarizationOptions(backend="embedded", num_speakers=2))
    aew_end = aew.size / SAMPLE_RATE
    first = max(result.speakers, key=lambda s: sum(
        max(0.0, min(t.end, aew_end) - t.start) for t in result.turns if t.speaker == s))
    assert result.names == {first: "Aew"}
