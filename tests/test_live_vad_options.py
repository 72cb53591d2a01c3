"""Voice-detection choices reach the live pipeline: the CLI flags on real speech with the real
tiny.en, and the Settings the Live page builds its request from."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from desktop_asr.settings import Settings


def _utterance_spans(path, *extra: str) -> list[float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "desktop_asr", "live", "--source", str(path),
                           "--speed", "4", "--threads", "2", "--jsonl", *extra],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    spans: dict[int, list[float]] = {}
    for line in done.stdout.splitlines():
        event = json.loads(line)
        if event["type"] == "final":
            span = spans.setdefault(event["utterance"], [event["start"], event["end"]])
            span[0], span[1] = min(span[0], event["start"]), max(span[1], event["end"])
    assert spans, done.stdout[-2000:]
    return [end - start for start, end in spans.values()]


def test_max_utterance_cuts_long_speech_into_short_lines(speech_dir) -> None:
    call = speech_dir / "pyannote_sample.wav"  # a phone call with a 20-s stretch of no pause
    if not call.is_file():
        pytest.skip(f"{call} is not here")
    default = _utterance_spans(call)
    short = _utterance_spans(call, "--max-utterance", "6", "--min-silence", "0.3")
    assert max(default) > 10.0, default
    assert max(short) <= 6.5, short          # 6 s of speech, plus word-time slack
    assert len(short) > len(default)


def test_webrtc_flags_are_checked_before_anything_starts(speech_dir) -> None:
    done = subprocess.run([sys.executable, "-m", "desktop_asr", "live", "--source",
                           str(speech_dir / "jfk.wav"), "--vad", "webrtc",
                           "--vad-aggressiveness", "5"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "--vad-aggressiveness" in done.stderr


def test_the_live_page_asks_for_the_voice_detection_of_the_settings(qtbot) -> None:
    from desktop_asr.ui.live_page import LivePage

    settings = Settings(vad_kind="webrtc", vad_aggressiveness=3, vad_min_silence=0.8,
                        vad_max_utterance=12.0)
    page = LivePage(settings)
    qtbot.addWidget(page)
    try:
        vad = page.request().vad
    finally:
        page.shutdown()  # join its worker thread: a QThread destroyed running aborts the process
        assert not page.runner.thread_running
    assert (vad.kind, vad.aggressiveness, vad.min_silence, vad.max_utterance) == (
        "webrtc", 3, 0.8, 12.0)
