"""`desktop-asr live`'s health reports, from scripted pipeline statuses (no model, no audio):
a status line per report with --jsonl; on a terminal, a warning when the captions fall behind,
when they catch up, and when audio is lost."""

from __future__ import annotations

import json

from desktop_asr.cli.live_printer import LAG_WARNING, CaptionPrinter
from desktop_asr.streaming.events import PipelineStatus


def status(lag: float, overflows: int = 0, dropped: int = 0, audio: float = 10.0):
    return PipelineStatus(audio_seconds=audio, lag=lag, hop=0.3, rtf=0.2, overflows=overflows,
                          frames_dropped=dropped, decodes=5, tentative_skipped=0)


def test_the_terminal_warns_once_when_behind_again_when_caught_up_and_on_lost_audio(
        capsys) -> None:
    printer = CaptionPrinter(jsonl=False, tty=False)
    for lag in (0.2, LAG_WARNING + 0.5, LAG_WARNING + 2.0, 2.0, 0.4, 0.3):
        printer.status(status(lag))
    printer.status(status(0.3, overflows=2, dropped=8000))
    printer.status(status(0.3, overflows=2, dropped=8000))
    out, err = capsys.readouterr()
    assert out == ""  # captions only on stdout
    warnings = err.splitlines()
    assert len(warnings) == 3, warnings
    assert "3.5s behind the audio" in warnings[0] and "no audio is dropped" in warnings[0]
    assert "caught up" in warnings[1]
    assert "2 capture overflow(s)" in warnings[2] and "0.5s of audio lost" in warnings[2]


def test_jsonl_prints_every_status_as_one_line(capsys) -> None:
    printer = CaptionPrinter(jsonl=True, tty=False)
    printer.status(status(0.25, overflows=1, dropped=1600, audio=12.5))
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out) == {"type": "status", "audio": 12.5, "lag": 0.25, "hop": 0.3,
                               "rtf": 0.2, "overflows": 1, "lost": 0.1, "tentative_skipped": 0}
