"""Synthetic conversations for the speaker tests: espeak-ng voices taking turns, with the truth.

Imported by the diarization test modules (``from diarization_fixtures import ...``); the
fixtures are session-scoped, so each recording is made once per test run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

SAMPLE_RATE = 16000
PAUSE_S = 0.6
# Clearly different espeak-ng voices: a low male and a high female variant (plain en-us and
# en-gb+f3 at one pitch are one voice to the GE2E encoder: cosine 0.97), and the "user".
VOICES = {"A": ("en-us+m3", 30), "B": ("en-us+f4", 85), "C": ("en-gb+m1", 55)}
CONVERSATION = (
    ("A", "Good morning everyone. Let's start with the release plan for this week."),
    ("B", "The release candidate is ready. We fixed the login bug on Monday afternoon."),
    ("A", "Great. Did the new onboarding screens make it into the build?"),
    ("B", ("They did. Margaret reviewed them on Friday, and the design team signed off on "
           "the final copy and the illustrations.")),
    ("A", "Then we ship the release on Thursday, as planned. Any objections?"),
    ("B", "None from me. I will update the changelog and tell the support team."),
)
# What A says when enrolling: other words than in the conversation.
ENROLMENT = ("Hello, this is my voice sample for the meeting notes. I speak for a few seconds "
             "so that my voice can be recognised later on.")


@dataclass(frozen=True)
class Conversation:
    """A recording, its 16 kHz samples and who spoke when: (start, end, voice, text)."""

    path: Path
    audio: np.ndarray
    truth: tuple[tuple[float, float, str, str], ...]


def speak(text: str, voice: str, path: Path) -> np.ndarray:
    """``text`` in the espeak voice ``voice`` ("A", "B", "C") as 16 kHz samples."""
    from audio_fixtures import espeak_wav

    from desktop_asr.audio import decode_audio

    name, pitch = VOICES[voice]
    return decode_audio(espeak_wav(text, path, voice=name, pitch=pitch, speed=160))


def build_conversation(folder: Path, lines=CONVERSATION, name: str = "conversation"
                       ) -> Conversation:
    """The voices taking turns with ``PAUSE_S`` between lines, written as a WAV."""
    from audio_fixtures import write_wav

    from desktop_asr.audio import decode_audio

    pieces, truth, at = [], [], 0.0
    gap = np.zeros(int(PAUSE_S * SAMPLE_RATE), dtype=np.float32)
    for i, (who, text) in enumerate(lines):
        samples = speak(text, who, folder / f"{name}-line{i}.wav")
        pieces += [samples, gap]
        truth.append((at, at + samples.size / SAMPLE_RATE, who, text))
        at += (samples.size + gap.size) / SAMPLE_RATE
    path = write_wav(folder / f"{name}.wav", np.concatenate(pieces), SAMPLE_RATE)
    return Conversation(path, decode_audio(path), tuple(truth))


@pytest.fixture(scope="session")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Conversation:
    """The six-line, two-voice conversation (about 34 s)."""
    return build_conversation(tmp_path_factory.mktemp("conversation"))


@pytest.fixture(scope="session")
def enrolment_a(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """Voice A reading a sample that is not part of the conversation."""
    return speak(ENROLMENT, "A", tmp_path_factory.mktemp("enrol") / "a.wav")


def overlap_mapping(turns, truth) -> dict[str, str]:
    """Which found speaker overlaps each true voice most (turns: .start/.end/.speaker)."""
    best: dict[str, str] = {}
    for voice in {t[2] for t in truth}:
        overlap: dict[str, float] = {}
        for s, e, v, *_ in truth:
            if v != voice:
                continue
            for t in turns:
                o = min(e, t.end) - max(s, t.start)
                if o > 0:
                    overlap[t.speaker] = overlap.get(t.speaker, 0.0) + o
        best[voice] = max(overlap, key=lambda k: overlap[k])
    return best


def correct_share(turns, truth) -> float:
    """Share of the true speech time labelled with the speaker mapped to its voice."""
    mapping = overlap_mapping(turns, truth)
    good = total = 0.0
    for s, e, v, *_ in truth:
        total += e - s
        for t in turns:
            if t.speaker == mapping[v]:
                good += max(0.0, min(e, t.end) - max(s, t.start))
    return good / total


def backend_or_skip() -> None:
    """Skip when torch / resemblyzer are missing (the diarization extra)."""
    from desktop_asr.diarization import check_backend
    from desktop_asr.errors import MissingExtraError

    try:
        check_backend()
    except MissingExtraError as exc:
        pytest.skip(f"diarization extra not installed: {exc}")


@dataclass(frozen=True)
class TwoSources:
    """Microphone and system audio of one call: ``mic`` hears the user (voice C) and the
    loudspeakers' echo of ``system`` (voices A and B); ``parts`` marks sample ranges."""

    mic: np.ndarray
    system: np.ndarray
    parts: dict[str, np.ndarray]
    user_lines: tuple[str, ...]
    remote_lines: tuple[str, ...]


REMOTE = (("A", "Good morning everyone. Let's start with the release plan for this week."),
          ("B", "The release candidate is ready. We fixed the login bug on Monday afternoon."),
          ("A", "Great. Did the new onboarding screens make it into the build?"),
          ("B", "They did. Margaret reviewed them on Friday, and the design team signed off."))
USER = ("I think we should check the budget numbers first.",
        "Sounds good to me, thank you.")


def echo_of(system: np.ndarray, *, delay: float = 0.06, gain: float = 0.3,
            seed: int = 0) -> np.ndarray:
    """What a microphone near the loudspeakers hears of ``system``: late, through a small
    room (a decaying noise impulse response) and a low-pass, at ``gain`` of its peak level."""
    rng = np.random.default_rng(seed)
    shift = int(delay * SAMPLE_RATE)
    late = np.concatenate([np.zeros(shift, np.float32), system[:-shift]])
    n = int(0.08 * SAMPLE_RATE)
    room = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.02 * SAMPLE_RATE))
    room[0] = 3.0
    echo = np.convolve(late, room / np.abs(room).sum())[: system.size]
    echo = np.convolve(echo, np.ones(4) / 4, "same")
    return (gain * echo / max(np.abs(echo).max(), 1e-9) * np.abs(system).max()).astype(
        np.float32)


def build_two_sources(folder: Path) -> TwoSources:
    """A1 | user 1 | B1 | A2 | B2 with user 2 over B2's end (double talk)."""
    gap = np.zeros(int(0.8 * SAMPLE_RATE), np.float32)
    remote = [speak(text, who, folder / f"remote{i}.wav") for i, (who, text) in enumerate(REMOTE)]
    user = [speak(text, "C", folder / f"user{i}.wav") for i, text in enumerate(USER)]
    system_parts, at, marks = [gap], gap.size, {}
    marks["echo"] = [(at, at + remote[0].size)]
    system_parts += [remote[0], gap]
    at += remote[0].size + gap.size
    marks["user"] = [(at, at + user[0].size)]
    system_parts += [np.zeros(user[0].size, np.float32), gap]
    at += user[0].size + gap.size
    for piece in remote[1:3]:
        marks["echo"].append((at, at + piece.size))
        system_parts += [piece, gap]
        at += piece.size + gap.size
    b2_at = at
    system_parts += [remote[3], np.zeros(user[1].size, np.float32), gap]
    system = np.concatenate(system_parts)
    mic = np.zeros_like(system)
    mic[marks["user"][0][0]:marks["user"][0][1]] += user[0]
    u2_at = b2_at + remote[3].size - user[1].size // 2
    mic[u2_at:u2_at + user[1].size] += user[1]
    marks["echo"].append((b2_at, u2_at))
    marks["double_talk"] = [(u2_at, b2_at + remote[3].size)]
    marks["user_after"] = [(b2_at + remote[3].size + int(0.3 * SAMPLE_RATE),
                            u2_at + user[1].size)]
    mic += echo_of(system)
    mic += 0.002 * np.random.default_rng(1).standard_normal(mic.size).astype(np.float32)
    parts = {k: np.concatenate([np.arange(a, b) for a, b in v]) for k, v in marks.items()}
    return TwoSources(mic.astype(np.float32), system.astype(np.float32), parts, USER,
                      tuple(text for _, text in REMOTE))


@pytest.fixture(scope="session")
def two_sources(tmp_path_factory: pytest.TempPathFactory) -> TwoSources:
    """The call of :func:`build_two_sources`, made once."""
    return build_two_sources(tmp_path_factory.mktemp("two_sources"))
