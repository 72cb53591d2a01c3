"""`desktop-asr live --system` on a real PulseAudio server: speech played into a null sink is
captured from its monitor (PortAudio -> ALSA pulse plugin -> libpulse) and captioned live.
There is no sound card here: the null sink stands in for the speakers, the rest is real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from audio_fixtures import write_wav
from desktop_asr.audio import decode_audio
from desktop_asr.evaluation import score
from pulse_fixtures import PulseServer, pulse_server  # noqa: F401  (fixture)

SENTENCES = ("Please send the quarterly report to Margaret before Friday afternoon.",
             "The meeting moved to the small room on the third floor.")


def test_live_system_audio_captions_what_the_computer_plays(pulse_server: PulseServer,  # noqa: F811
                                                             spoken, tmp_path: Path) -> None:
    gap = np.zeros(12000, np.float32)
    audio = np.concatenate([gap, decode_audio(spoken(SENTENCES[0])), gap,
                            decode_audio(spoken(SENTENCES[1])), gap])
    wav = write_wav(tmp_path / "call.wav", audio, 16000)
    env = {**os.environ, **pulse_server.client_env, "DESKTOP_ASR_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "desktop_asr", "live", "--system", "--jsonl",
                             "-o", str(tmp_path / "out"), "-f", "txt", "--threads", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sessions = tmp_path / "home" / "data" / "sessions"
    deadline = time.monotonic() + 60
    while not list(sessions.glob("*/journal.jsonl")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)  # the journal appears once capture has started
    time.sleep(0.5)
    player = pulse_server.play(wav)
    assert player.wait(timeout=60) == 0, player.stderr.read()
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)  # Ctrl-C: drain, commit, write outputs
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    finals = " ".join(e["text"] for e in events if e["type"] == "final")
    assert score([" ".join(SENTENCES)], [finals]).wer <= 0.15, finals
    assert any(e["type"] == "partial" for e in events)
    (txt,) = (tmp_path / "out").glob("*.txt")
    saved = txt.read_text()
    # the saved file holds what was captioned (one tiny.en word error on espeak speech, e.g.
    # "to Margaret" -> "tomorrow", happens on a loaded machine; the WER bound allows it)
    assert score([finals], [saved]).wer == 0.0, (finals, saved)
    assert score([" ".join(SENTENCES)], [saved]).wer <= 0.15, saved
