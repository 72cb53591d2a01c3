"""Fine-tuning jobs on small, randomly initialised checkpoints (stand-ins: the real tiny.en
takes minutes per epoch on two cores; tests/test_training_e2e.py runs it for a few steps).

The random Whisper has tiny.en's real tokenizer, feature extractor and generation config, so
label encoding, feature extraction, export to CTranslate2 and loading in faster-whisper all run
the real code; only what the weights say is meaningless.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import test_training_helpers as helpers

from desktop_asr.models import ModelManager
from training.config import NO_AUGMENT, TrainConfig
from desktop_asr.datasets.dataset import create_dataset
from training.job import split_items
from training.progress import Reporter

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def random_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The random-weights Whisper of tests/test_training_helpers.py."""
    return helpers.random_whisper(tmp_path_factory)


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory, spoken) -> Path:
    """Eight espeak clips (four sentences, two copies) with a vocabulary list."""
    return helpers.small_dataset(tmp_path_factory.mktemp("data") / "ds", spoken)


def _job(args: list[str], env_home: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if env_home is not None:
        env["DESKTOP_ASR_HOME"] = str(env_home)
    return subprocess.Popen([sys.executable, "-m", "training", "finetune", *args], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_options_are_validated_with_plain_messages(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="model name"):
        TrainConfig(data=tmp_path, name="bad name!")
    with pytest.raises(ValueError, match="method"):
        TrainConfig(data=tmp_path, name="ok", method="magic")
    with pytest.raises(ValueError, match="max-steps"):
        TrainConfig(data=tmp_path, name="ok", max_steps=0)
    assert TrainConfig(data=tmp_path, name="ok", method="full").learning_rate > 0


def test_split_keeps_fixed_splits_and_is_repeatable(small_dataset: Path) -> None:
    from desktop_asr.datasets.dataset import read_dataset

    items = read_dataset(small_dataset).items
    a = split_items(items, 0.1, 0.1, seed=3)
    assert a == split_items(items, 0.1, 0.1, seed=3)
    # The fixed items already fill a tenth each; nothing else is taken from training.
    assert [i.id for i in a.test] == ["0008"] and [i.id for i in a.dev] == ["0007"]
    assert len(a.train) == 6
    wider = split_items(items, 0.25, 0.25, seed=3)  # two each: one fixed, one drawn
    assert len(wider.test) == 2 and wider.test[0].id == "0008" and len(wider.train) == 4
    assert not set(wider.train) & (set(wider.dev) | set(wider.test))


def test_training_lowers_the_loss_and_freezing_keeps_the_encoder(random_whisper: Path,
                                                                 small_dataset: Path) -> None:
    """In-process: a random model overfits four clips; frozen parts stay bit-identical."""
    import torch

    from desktop_asr.datasets.dataset import read_dataset
    from training.job import _clips
    from training.whisper_train import load_whisper, train_whisper

    clips = _clips(small_dataset, read_dataset(small_dataset).items[:4])
    for method, steps in (("freeze-encoder", 15), ("full", 2)):
        loaded = load_whisper(random_whisper, "en")
        with torch.no_grad():  # undo the helper's "end at once" bias: a plain random decoder
            loaded.model.model.decoder.layer_norm.weight.fill_(1.0)
            loaded.model.model.decoder.layer_norm.bias.zero_()
        enc0 = {k: v.clone() for k, v in loaded.model.model.encoder.state_dict().items()}
        dec0 = loaded.model.model.decoder.layers[0].fc1.weight.clone()
        config = TrainConfig(data=small_dataset, name="t", method=method, max_steps=steps,
                             batch_size=4, lr=1e-2, warmup_steps=0, augment=NO_AUGMENT)
        events: list[dict] = []

        class Capture(Reporter):
            def emit(self, event: str, **fields) -> None:  # noqa: ANN003
                events.append({"event": event, **fields})

        model, outcome = train_whisper(loaded, clips, [], config, Capture(), lambda: False)
        losses = [e["loss"] for e in events if e["event"] == "step"]
        assert len(losses) == steps and outcome.steps == steps
        if method == "freeze-encoder":   # encoded once, so 15 steps are cheap
            assert np.mean(losses[-3:]) < 0.6 * np.mean(losses[:3]), losses
        enc1 = model.model.encoder.state_dict()
        same = all(torch.equal(enc0[k], enc1[k]) for k in enc0)
        assert same == (method == "freeze-encoder")
        assert not torch.equal(dec0, model.model.decoder.layers[0].fc1.weight)


def test_lora_job_end_to_end_random_whisper(random_whisper: Path, small_dataset: Path,
                                            isolated_home: Path) -> None:
    """`desktop-asr train` → training subprocess's JSON lines → exported CT2 model →
    installed with metrics → loads in the live engine → made the app's model (--use-live)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_asr", "train", "--data", str(small_dataset), "--name",
         "mine", "--base", str(random_whisper), "--method", "lora", "--max-steps", "2",
         "--batch-size", "4", "--threads", "2", "--jsonl", "--use-live"], cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=600)
    assert out.splitlines()[-1] == "mine is now the model for live captions and files"
    from desktop_asr.settings import load_settings

    assert load_settings().model == "mine"
    out = "\n".join(out.splitlines()[:-1])
    assert proc.returncode == 0, err[-3000:]
    events = [json.loads(line) for line in out.splitlines()]  # nothing but JSON on stdout
    kinds = [e["event"] for e in events]
    for kind in ("dataset", "start", "train", "step", "eval", "metrics", "done"):
        assert kind in kinds, kinds
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == [1, 2]
    assert all(e["total_steps"] == 2 and e["loss"] > 0 and e["eta"] >= 0 for e in steps)
    start = next(e for e in events if e["event"] == "start")
    assert (start["train_items"], start["dev_items"], start["test_items"]) == (6, 1, 1)
    done = events[-1]
    assert done["event"] == "done" and done["registered"]
    manager = ModelManager()
    folder = manager.installed_path("mine")
    assert folder is not None and Path(done["path"]) == folder
    meta = manager.model_meta("mine")
    assert meta["method"] == "lora" and meta["base"] == random_whisper.name
    held = meta["metrics"]["after"]["held_out"]
    assert held["clips"] == 1 and held["term_count"] >= 1
    assert any(e.name == "mine" and "fine-tuned" in e.description for e in manager.list())
    record = json.loads((folder / "training.json").read_text())
    assert record["steps"] == 2 and record["method"] == "lora"
    # LoRA was merged: the saved checkpoint is a plain Whisper that transformers loads.
    import transformers

    transformers.WhisperForConditionalGeneration.from_pretrained(folder / "transformers")
    from desktop_asr.engines import EngineConfig, create_engine

    engine = create_engine("faster-whisper", EngineConfig(model="mine", device="cpu",
                                                          compute_type="int8"))
    assert isinstance(engine.transcribe(np.zeros(8000, np.float32)), list)
    # The same name again is refused with one line, and nothing changes.
    again = _job(["--data", str(small_dataset), "--name", "mine", "--base",
                  str(random_whisper), "--max-steps", "1"])
    out2, err2 = again.communicate(timeout=300)
    assert again.returncode == 1 and "already installed" in err2
    assert json.loads(out2.splitlines()[-1])["event"] == "error"


def test_ctrl_c_cancels_cleanly_and_installs_nothing(random_whisper: Path, small_dataset: Path,
                                                    isolated_home: Path) -> None:
    """Ctrl-C on `desktop-asr train`: the terminal's SIGINT reaches the CLI and the job."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_asr", "train", "--data", str(small_dataset), "--name",
         "cancelled", "--base", str(random_whisper), "--method", "full", "--max-steps", "500",
         "--batch-size", "2", "--no-augment", "--jsonl"], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if json.loads(line)["event"] == "step":
            os.killpg(proc.pid, signal.SIGINT)   # what the terminal does on Ctrl-C
            break
        assert time.monotonic() < deadline
    rest = proc.stdout.read()
    proc.wait(timeout=120)
    assert proc.returncode == 130
    assert json.loads(rest.splitlines()[-1])["event"] == "cancelled"
    models = ModelManager().models_dir
    assert ModelManager().installed_path("cancelled") is None
    assert not (models.is_dir() and [p for p in models.iterdir() if "cancelled" in p.name])
    work = isolated_home / "cache" / "training"
    assert not list(work.glob("*.job")), list(work.iterdir())


def test_bad_inputs_fail_with_one_line(tmp_path: Path, random_whisper: Path,
                                       isolated_home: Path) -> None:
    empty = create_dataset(tmp_path / "empty").folder
    proc = _job(["--data", str(empty), "--name", "x", "--base", str(random_whisper)])
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "usable clip" in err
    proc = _job(["--data", str(tmp_path / "missing"), "--name", "x"])
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "no dataset folder" in err
