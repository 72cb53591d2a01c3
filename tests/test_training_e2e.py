"""The whole flow on the real bundled tiny.en, tiny: a few clips, a few steps; then the
installed model captions a replayed file (FileSource) in the live pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import test_training_helpers as helpers
from audio_fixtures import write_wav

from desktop_asr.audio import decode_audio
from desktop_asr.capture import FileSource
from desktop_asr.engines import EngineConfig, create_engine
from desktop_asr.evaluation import score
from desktop_asr.models import ModelManager
from desktop_asr.streaming import LivePipeline

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_finetune_tiny_en_export_register_and_caption_live(spoken, tmp_path: Path,
                                                           isolated_home: Path) -> None:
    data = helpers.small_dataset(tmp_path / "ds", spoken)
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_asr", "train", "--data", str(data), "--name",
         "tiny-tuned", "--base", "tiny.en", "--method", "freeze-encoder", "--max-steps", "3",
         "--batch-size", "3", "--lr", "1e-5", "--no-augment", "--threads", "2", "--jsonl"],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    done = events[-1]
    assert done["event"] == "done" and done["steps"] == 3
    before = done["metrics"]["before"]["held_out"]
    after = done["metrics"]["after"]["held_out"]
    # The real model was scored: only the two invented names of the held-out sentence
    # ("Veltrion needs more memory on Friday.") may be wrong, before and after.
    assert before["wer"] <= 0.5 and after["wer"] <= 0.5, done["metrics"]
    assert before["term_count"] == 1 and after["clips"] == 1
    folder = ModelManager().installed_path("tiny-tuned")
    assert folder is not None
    record = json.loads((folder / "training.json").read_text())
    assert record["base"] == "tiny.en" and record["train_seconds"] > 0

    gap = np.zeros(16000, np.float32)
    sentence = "The meeting moved to the small room on the third floor."
    wav = write_wav(tmp_path / "live.wav",
                    np.concatenate([gap, decode_audio(spoken(sentence)), gap]), 16000)
    engine = create_engine("faster-whisper", EngineConfig(model="tiny-tuned", device="cpu",
                                                          compute_type="int8", cpu_threads=2))
    assert engine.info.model in ("tiny-tuned", str(folder))
    pipe = LivePipeline(FileSource(wav, speed=4.0), engine)
    pipe.start()
    assert pipe.wait(timeout=300)
    text = pipe.transcript.transcript().text
    assert score([sentence], [text]).wer <= 0.25, text
