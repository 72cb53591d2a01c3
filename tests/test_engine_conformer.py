"""Our Conformer-CTC model and checkpoint format, on RANDOMLY INITIALISED weights.

The weights are random, so transcripts are meaningless; the tests check the format (an
independent safetensors/JSON reader), exact reload, the engine's loading and decoding, and the
clear errors for broken checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from desktop_asr.engines import DecodeOptions, Engine, EngineConfig, create_engine
from desktop_asr.errors import ModelError

pytestmark = pytest.mark.slow
SR = 16000
CPU = dict(device="cpu", cpu_threads=2)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from desktop_asr.engines.ctc_random import build_random_conformer_ctc

    return build_random_conformer_ctc(tmp_path_factory.mktemp("cc") / "conformer", seed=3,
                                      blank_bias=0.3, delimiter_bias=0.6)


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.arange(3 * SR) / SR
    tone = 0.2 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 1.5 * t) > 0)
    return (tone + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def test_random_conformer_checkpoint_read_by_independent_parsers(checkpoint: Path) -> None:
    from safetensors import safe_open

    assert sorted(p.name for p in checkpoint.iterdir()) == ["config.json", "model.safetensors"]
    cfg = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    assert cfg["model_type"] == "conformer-ctc" and cfg["format_version"] == 1
    assert cfg["vocabulary"][0] == "<blank>" and cfg["word_delimiter"] in cfg["vocabulary"]
    assert (cfg["n_mels"], cfg["hop_length"], cfg["sample_rate"]) == (80, 160, 16000)
    with safe_open(str(checkpoint / "model.safetensors"), framework="pt") as f:
        keys = set(f.keys())
        head = f.get_tensor("head.weight")
    assert head.shape == (len(cfg["vocabulary"]), cfg["d_model"])
    assert any(k.startswith("encoder.conformer_layers.") for k in keys)
    assert not any(k in keys for k in ("window", "fbank"))  # front end is rebuilt, not saved


def test_random_conformer_checkpoint_reloads_to_identical_outputs(
        checkpoint: Path, tmp_path: Path, audio) -> None:
    import torch

    from desktop_asr.engines.conformer_ctc import load_conformer_ctc, save_conformer_ctc

    model, config = load_conformer_ctc(checkpoint)
    assert not model.training
    x = torch.from_numpy(audio)[None]
    lengths = torch.tensor([audio.size])
    with torch.no_grad():
        first, out_len = model(x, lengths)
    again_dir = save_conformer_ctc(model, config, tmp_path / "again")
    model2, config2 = load_conformer_ctc(again_dir)
    with torch.no_grad():
        second, _ = model2(x, lengths)
    assert config2 == config
    assert torch.equal(first, second)
    assert first.shape == (1, int(out_len[0]), len(config.vocabulary))
    assert int(out_len[0]) == -(-(audio.size // 160 + 1) // 4)
    # Batched, padded input gives the same frames for the shorter item's valid part.
    short = audio[: audio.size // 2]
    batch = torch.zeros(2, audio.size)
    batch[0] = x[0]
    batch[1, : short.size] = torch.from_numpy(short)
    with torch.no_grad():
        both, both_len = model(batch, torch.tensor([audio.size, short.size]))
        alone, alone_len = model(torch.from_numpy(short)[None], torch.tensor([short.size]))
    assert int(both_len[1]) == int(alone_len[0])
    torch.testing.assert_close(both[0], first[0], atol=1e-4, rtol=1e-4)


def test_random_conformer_training_helpers_encode_text_and_give_gradients(checkpoint: Path) -> None:
    import torch

    from desktop_asr.engines.conformer_ctc import ConformerCTC, load_conformer_ctc

    _, config = load_conformer_ctc(checkpoint)
    ids = config.encode("Hello, World!")
    assert "".join(config.vocabulary[i] for i in ids) == "hello|world"
    model = ConformerCTC(config).train()
    audio = torch.randn(1, SR) * 0.1
    log_probs, lengths = model(audio, torch.tensor([SR]))
    loss = torch.nn.functional.ctc_loss(log_probs.transpose(0, 1), torch.tensor([ids]),
                                        lengths, torch.tensor([len(ids)]),
                                        blank=config.blank_id)
    loss.backward()
    assert torch.isfinite(loss) and model.head.weight.grad.abs().sum() > 0


def test_engine_loads_random_conformer_and_times_words_inside_audio(
        checkpoint: Path, audio) -> None:
    engine = create_engine("conformer", EngineConfig(model=str(checkpoint), **CPU))
    assert isinstance(engine, Engine)
    assert engine.info.extra == {"kind": "conformer-ctc", "decoder": "greedy", "lm": ""}
    assert engine.capabilities.languages == ("en",) and not engine.capabilities.hotwords
    assert engine.capabilities.streaming_native is False
    segments = engine.transcribe(audio, options=DecodeOptions(word_timestamps=True))
    words = [w for s in segments for w in s.words]
    assert words, "a random model with a blank/delimiter bias still emits some words"
    assert all(0.0 <= w.start <= w.end <= audio.size / SR for w in words)
    assert all(a.end <= b.start + 1e-9 for a, b in zip(words, words[1:]))
    assert all(set(w.text.strip()) <= set("abcdefghijklmnopqrstuvwxyz'") for w in words)
    assert engine.transcribe(audio[:200]) == []  # shorter than one analysis window


@pytest.mark.parametrize("damage, match", [
    ("drop-weights", "missing model.safetensors"),
    ("bad-json", "config.json"),
    ("future-version", "format_version 99"),
    ("unknown-key", "unknown config keys: colour"),
    ("shape", "does not match its config.json"),
    ("not-safetensors", "not a readable safetensors file"),
])
def test_broken_random_conformer_checkpoints_give_one_clear_error(
        checkpoint: Path, tmp_path: Path, damage: str, match: str) -> None:
    import shutil

    from desktop_asr.engines.conformer_ctc import load_conformer_ctc

    bad = tmp_path / "bad"
    shutil.copytree(checkpoint, bad)
    cfg = json.loads((bad / "config.json").read_text(encoding="utf-8"))
    if damage == "drop-weights":
        (bad / "model.safetensors").unlink()
    elif damage == "bad-json":
        (bad / "config.json").write_text("{not json")
    elif damage == "not-safetensors":
        (bad / "model.safetensors").write_bytes(b"\x00" * 64)
    else:
        if damage == "future-version":
            cfg["format_version"] = 99
        elif damage == "unknown-key":
            cfg["colour"] = "blue"
        else:
            cfg["d_model"] = 64
        (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match=match):
        load_conformer_ctc(bad)


def test_conformer_engine_picks_the_kind_from_the_folder(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"model_type": "wav2vec2"}')
    with pytest.raises(ModelError, match="neither a Conformer-CTC checkpoint"):
        create_engine("conformer", EngineConfig(model=str(tmp_path / "other"), **CPU))
    with pytest.raises(ModelError, match="emformer_rnnt_base_librispeech.pt"):
        create_engine("conformer", EngineConfig(**CPU))  # default: the LibriSpeech Emformer


def test_random_conformer_installed_is_the_default_and_loads_by_name(checkpoint: Path) -> None:
    import shutil

    from desktop_asr.engines import engine_capabilities, engine_default_model
    from desktop_asr.paths import models_dir

    assert engine_default_model("conformer") == "EMFORMER_RNNT_BASE_LIBRISPEECH"
    caps = engine_capabilities("conformer")
    assert caps.word_timestamps and not caps.hotwords and not caps.translate
    shutil.copytree(checkpoint, models_dir() / "my-conformer")
    assert engine_default_model("conformer") == str(models_dir() / "my-conformer")
    engine = create_engine("conformer", EngineConfig(model="my-conformer", **CPU))
    assert engine.info.model_path == str(models_dir() / "my-conformer")


def test_cli_transcribes_with_a_random_conformer_checkpoint(
        checkpoint: Path, spoken, tmp_path: Path) -> None:
    """`desktop-asr transcribe --engine conformer --model FOLDER` writes parseable outputs."""
    import srt

    from desktop_asr.audio import decode_audio
    from desktop_asr.cli.main import main
    from desktop_asr.export import load_json

    wav = spoken("Please send the report before Friday.")
    out = tmp_path / "out"
    rc = main(["transcribe", str(wav), "--engine", "conformer", "--model", str(checkpoint),
               "-o", str(out), "-f", "json,srt", "--word-timestamps", "--threads", "2",
               "--quiet"])
    assert rc == 0
    transcript = load_json((out / f"{wav.stem}.json").read_text(encoding="utf-8"))
    duration = decode_audio(wav).size / SR
    assert transcript.words
    assert all(0 <= w.start <= w.end <= duration for w in transcript.words)
    subs = list(srt.parse((out / f"{wav.stem}.srt").read_text(encoding="utf-8")))
    assert " ".join(s.content for s in subs).split() == transcript.text.split()


def test_cli_refuses_hotwords_for_a_random_conformer_checkpoint_with_one_line(
        checkpoint: Path, spoken, tmp_path: Path, capsys) -> None:
    """A CTC engine has no custom vocabulary: one plain error line, exit 2, nothing written."""
    from desktop_asr.cli.main import main

    wav = spoken("Please send the report before Friday.")
    out = tmp_path / "out"
    rc = main(["transcribe", str(wav), "--engine", "conformer", "--model", str(checkpoint),
               "-o", str(out), "--hotwords", "Kubernetes", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and "custom vocabulary" in err[0] and "conformer" in err[0], err
    assert not any(out.glob("*")) if out.exists() else True


def test_random_conformer_captions_live_through_the_re_decoding_processor(
        checkpoint: Path, speech_dir) -> None:
    """Real speech (jfk.wav) replayed at 4x through the whole live pipeline on the RANDOM
    Conformer-CTC: the words are meaningless, the mechanics are not. It is not a streaming-native
    engine, so the re-decoding processor and the stabiliser commit its words."""
    from desktop_asr.capture.file_source import FileSource
    from desktop_asr.streaming import (LivePipeline, StreamOptions, StreamProcessor,
                                       make_processor)

    jfk = speech_dir / "jfk.wav"
    if not jfk.is_file():
        pytest.skip(f"{jfk} is not here")
    engine = create_engine("conformer", EngineConfig(model=str(checkpoint), **CPU))
    assert isinstance(make_processor(engine, "file", StreamOptions(), lambda u: None,
                                     lambda: 0.0), StreamProcessor)
    updates = []
    pipe = LivePipeline(FileSource(jfk, speed=4.0), engine, on_update=updates.append)
    pipe.start()
    assert pipe.wait(timeout=120)
    finals = [u for u in updates if u.kind == "final"]
    partials = [u for u in updates if u.kind == "partial" and u.segment.text]
    assert finals and partials  # tentative text first, then committed words
    words = [w for u in finals for w in u.segment.words]
    assert all(0.0 <= w.start <= w.end <= 11.1 for w in words)
    # Committed words never repeat or go back in time, across hops and utterances.
    assert all(a.start <= b.start + 1e-6 for a, b in zip(words, words[1:]))
    assert pipe.transcript.transcript().text.split() == [w.text.strip() for w in words]
