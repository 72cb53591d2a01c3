"""CTC fine-tuning through the same CLI, on small randomly initialised wav2vec2 and
Conformer-CTC checkpoints (stand-ins: no pretrained CTC weights can be downloaded here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop_asr.audio import decode_audio
from desktop_asr.engines import EngineConfig, create_engine
from desktop_asr.paths import models_dir
from desktop_asr.datasets.dataset import add_clip, create_dataset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ctc_dataset(tmp_path_factory: pytest.TempPathFactory, spoken) -> Path:
    folder = tmp_path_factory.mktemp("ctc") / "ds"
    create_dataset(folder)
    for k, text in enumerate(("deploy the build", "check the logs", "call me later",
                              "ship it today", "deploy the build", "check the logs")):
        add_clip(folder, decode_audio(spoken(text)), text,
                 split="test" if k == 5 else ("dev" if k == 4 else None))
    return folder


@pytest.mark.parametrize("kind,method", [("wav2vec2", "full"), ("conformer-ctc", "lora")])
def test_ctc_finetune_saves_a_model_its_engine_loads(kind: str, method: str, ctc_dataset: Path,
                                                     tmp_path: Path, isolated_home: Path
                                                     ) -> None:
    from desktop_asr.engines.ctc_random import build_random_conformer_ctc, build_random_wav2vec2

    base = tmp_path / "base"
    (build_random_wav2vec2 if kind == "wav2vec2" else build_random_conformer_ctc)(base)
    name = f"ctc-{kind}"
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_asr", "train", "--data", str(ctc_dataset), "--name",
         name, "--base", str(base), "--method", method, "--max-steps", "3", "--batch-size",
         "2", "--lr", "1e-3", "--threads", "2", "--jsonl"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == [1, 2, 3] and all(e["loss"] > 0 for e in steps)
    done = events[-1]
    assert done["event"] == "done" and done["engine"] == ("wav2vec2" if kind == "wav2vec2"
                                                          else "conformer")
    folder = Path(done["path"])
    assert folder == models_dir() / name and folder.is_dir()
    assert not list(models_dir().glob(".partial-*"))
    meta = json.loads((folder / "desktop-asr-model.json").read_text())
    assert meta["metrics"]["after"]["held_out"]["clips"] == 1 and meta["method"] == method
    engine = create_engine(done["engine"], EngineConfig(model=str(folder), device="cpu"))
    assert isinstance(engine.transcribe(np.zeros(16000, np.float32)), list)
