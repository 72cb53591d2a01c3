"""Core value types: validation, speakers, and the versioned JSON round trip."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from desktop_asr.types import SCHEMA_VERSION, Segment, Speaker, Transcript, Word


def _sample() -> Transcript:
    words = (Word(0.0, 0.4, " Hello", 0.9), Word(0.5, 0.9, " there.", 0.8))
    return Transcript(
        segments=(Segment(0.0, 0.9, " Hello there.", words, speaker="S1", avg_logprob=-0.2,
                          no_speech_prob=0.01),
                  Segment(1.2, 2.0, " Hi!", speaker="S2")),
        speakers=(Speaker("S1", "Ana"), Speaker("S2")), language="en", duration=2.5,
        source="/tmp/x.wav", model="tiny.en", metadata={"note": "ünïcode"})


def test_json_round_trip_is_lossless() -> None:
    t = _sample()
    data = json.loads(json.dumps(t.to_dict()))
    assert data["version"] == SCHEMA_VERSION
    assert Transcript.from_dict(data) == t
    assert Transcript.from_dict(data).metadata == {"note": "ünïcode"}


@pytest.mark.parametrize("bad", [
    lambda: Word(1.0, 0.5, "x"), lambda: Word(-0.1, 0.5, "x"), lambda: Word(0, 1, "x", 1.5),
    lambda: Segment(0, math.nan, "x"), lambda: Segment(2, 1, "x"),
    lambda: Segment(0, 1, "x", avg_logprob=-math.inf), lambda: Speaker(""),
    lambda: Transcript(segments=(Segment(0, 1, "x", speaker="ghost"),)),
    lambda: Transcript(speakers=(Speaker("a"), Speaker("a"))),
])
def test_invalid_values_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        bad()


def test_versions_newer_or_missing_are_refused() -> None:
    data = _sample().to_dict()
    with pytest.raises(ValueError, match="newer than this app"):
        Transcript.from_dict({**data, "version": SCHEMA_VERSION + 1})
    for bad in (None, "1", True):
        with pytest.raises(ValueError, match="integer 'version'"):
            Transcript.from_dict({**data, "version": bad})


def test_rename_follows_every_segment_and_text_joins() -> None:
    t = _sample().rename_speaker("S2", "Ben")
    assert [t.speaker_label(s.speaker) for s in t.segments] == ["Ana", "Ben"]
    assert t.text == "Hello there. Hi!"
    assert [w.text for w in t.words] == [" Hello", " there."]
    with pytest.raises(KeyError):
        t.rename_speaker("S9", "x")


def test_from_segments_sorts_and_collects_speakers() -> None:
    t = Transcript.from_segments([Segment(3, 4, "b", speaker="B"), Segment(0, 1, "a",
                                                                          speaker="A")])
    assert [s.text for s in t.segments] == ["a", "b"]
    assert [s.id for s in t.speakers] == ["A", "B"]


def test_values_are_frozen_and_shift_moves_words() -> None:
    seg = _sample().segments[0]
    with pytest.raises(AttributeError):
        seg.start = 3.0  # type: ignore[misc]
    moved = seg.shifted(10.0)
    assert (moved.start, moved.end) == (10.0, 10.9)
    assert [w.start for w in moved.words] == [10.0, 10.5]
    assert replace(seg, text="x").text == "x"
