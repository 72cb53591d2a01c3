"""CTranslate2 <-> transformers Whisper conversion, checked against independent readers and runtimes.

The bundled tiny.en is converted once per session (``transformers_tiny_en`` in conftest.py).
Independent checks: transformers' own loaders read every file; the safetensors library reads
the weights; the CTranslate2 runtime (not our parser) computes the reference encoder output and
greedy tokens; CTranslate2's own converter does the way back; faster-whisper transcribes both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_asr.errors import ModelError
from desktop_asr.models import ModelManager, bundled_model_path
from desktop_asr.models.convert import (convert_ct2_whisper, export_ct2_whisper,
                                        is_transformers_whisper)
from desktop_asr.models.ct2_format import read_ct2_model

pytestmark = pytest.mark.slow

_CLIPS = ("jfk.wav", "leopard_test.wav", "librivox_sense_and_sensibility_0890.wav",
          "cmu_arctic_us_axb_a0005.wav")


@pytest.fixture(scope="module")
def hf_model(transformers_tiny_en: Path):
    import torch
    from transformers import WhisperForConditionalGeneration

    torch.set_num_threads(2)
    return WhisperForConditionalGeneration.from_pretrained(
        str(transformers_tiny_en), dtype=torch.float32).eval()


@pytest.fixture(scope="module")
def exported(transformers_tiny_en: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted checkpoint taken back to CTranslate2 float16 by CTranslate2's converter."""
    return export_ct2_whisper(transformers_tiny_en,
                              tmp_path_factory.mktemp("roundtrip") / "tiny.en-ct2")


def test_checkpoint_loads_with_transformers_own_classes(transformers_tiny_en: Path) -> None:
    import tokenizers
    from safetensors import safe_open
    from transformers import AutoConfig, GenerationConfig, WhisperProcessor

    bundled = bundled_model_path()
    ct2_config = json.loads((bundled / "config.json").read_text())
    config = AutoConfig.from_pretrained(str(transformers_tiny_en))
    assert (config.model_type, config.d_model, config.encoder_layers, config.decoder_layers,
            config.vocab_size, config.num_mel_bins) == ("whisper", 384, 4, 4, 51864, 80)
    generation = GenerationConfig.from_pretrained(str(transformers_tiny_en))
    assert [list(h) for h in generation.alignment_heads] == ct2_config["alignment_heads"]
    assert list(generation.suppress_tokens) == ct2_config["suppress_ids"]
    assert list(generation.begin_suppress_tokens) == ct2_config["suppress_ids_begin"]
    assert generation.is_multilingual is False and not hasattr(generation, "lang_to_id")

    processor = WhisperProcessor.from_pretrained(str(transformers_tiny_en))
    assert processor.feature_extractor.feature_size == 80
    assert processor.feature_extractor.sampling_rate == 16000
    original = tokenizers.Tokenizer.from_file(str(bundled / "tokenizer.json"))
    for text in (" And so my fellow Americans", " Dashwood's ill-disposed, 20th time!"):
        ids = original.encode(text, add_special_tokens=False).ids
        assert processor.tokenizer.encode(text, add_special_tokens=False) == ids
        assert processor.tokenizer.decode(ids) == text
    # timestamps decode from the ids right after the last special token, as Whisper's do
    assert processor.tokenizer.convert_tokens_to_ids("<|notimestamps|>") + 1 == 50363
    assert processor.tokenizer._decode_with_timestamps([50363, 843, 50400]) == \
        "<|0.00|> And<|0.74|>"

    with safe_open(str(transformers_tiny_en / "model.safetensors"), "np") as weights:
        keys = set(weights.keys())
        q = weights.get_tensor("model.encoder.layers.0.self_attn.q_proj.weight")
    assert "model.decoder.layers.3.encoder_attn.v_proj.weight" in keys
    assert "model.encoder.layers.0.self_attn.k_proj.bias" not in keys  # Whisper has none
    assert q.dtype == np.float32 and q.shape == (384, 384)
    # the float32 values are the stored float16 values, unchanged
    assert np.array_equal(q.astype(np.float16).astype(np.float32), q)


def test_converted_model_computes_what_ctranslate2_computes(hf_model, speech_dir: Path) -> None:
    """Same log-mel input: encoder outputs agree and greedy decoding picks the same tokens."""
    import ctranslate2
    import torch
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor

    from desktop_asr.audio import decode_audio

    ct2 = ctranslate2.models.Whisper(str(bundled_model_path()), device="cpu",
                                     compute_type="float32", intra_threads=2)
    features = FeatureExtractor()
    for name in _CLIPS:
        mel = pad_or_trim(features(decode_audio(speech_dir / name)))[None].astype(np.float32)
        reference = ct2.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True)
        with torch.inference_mode():
            ours = hf_model.model.encoder(torch.from_numpy(mel)).last_hidden_state.numpy()
        assert np.abs(ours - np.asarray(reference)).max() < 2e-3, name
        expected = ct2.generate(reference, [[50257]], beam_size=1, suppress_blank=True,
                                suppress_tokens=[-1], max_initial_timestamp_index=50,
                                max_length=448)[0].sequences_ids[0]
        with torch.inference_mode():
            tokens = hf_model.generate(torch.from_numpy(mel), num_beams=1, do_sample=False,
                                       return_timestamps=True)[0].tolist()
        assert [t for t in tokens if t < 50256 or t > 50362] == expected, name


def test_round_trip_through_ctranslate2_converter_reproduces_outputs(
        exported: Path, speech_dir: Path) -> None:
    from faster_whisper import WhisperModel

    from desktop_asr.audio import decode_audio

    original, back = read_ct2_model(bundled_model_path()), read_ct2_model(exported)
    assert original.aliases == back.aliases
    for name, value in original.variables.items():
        assert back.variables[name].dtype == value.dtype, name
        assert np.array_equal(back.variables[name], value), name
    ct2_config = json.loads((exported / "config.json").read_text())
    bundled_config = json.loads((bundled_model_path() / "config.json").read_text())
    for key in ("alignment_heads", "suppress_ids", "suppress_ids_begin"):
        assert ct2_config[key] == bundled_config[key], key

    models = [WhisperModel(str(p), device="cpu", compute_type="int8", cpu_threads=2)
              for p in (bundled_model_path(), exported)]
    for name in _CLIPS[:3]:
        audio = decode_audio(speech_dir / name)
        runs = []
        for model in models:
            segments, _ = model.transcribe(audio, beam_size=5, word_timestamps=True,
                                           vad_filter=False)
            runs.append([(s.text, s.start, s.end, [(w.word, w.start, w.end) for w in s.words])
                         for s in segments])
        assert runs[0] == runs[1], name
        assert runs[0] and runs[0][0][0].strip(), name


def test_int8_export_from_the_cli_transcribes(transformers_tiny_en: Path, tmp_path: Path,
                                              speech_dir: Path, capsys) -> None:
    from desktop_asr.audio import decode_audio
    from desktop_asr.cli.main import main
    from desktop_asr.engines import EngineConfig, create_engine
    from desktop_asr.evaluation import score

    out = tmp_path / "tiny-int8"
    assert main(["models", "convert", str(transformers_tiny_en), "--to", "ctranslate2",
                 "--quantization", "int8", "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert read_ct2_model(out).get("encoder/layer_0/ffn/linear_0/weight").dtype == np.int8
    engine = create_engine("faster-whisper", EngineConfig(model=str(out), device="cpu",
                                                          cpu_threads=2))
    text = "".join(s.text for s in engine.transcribe(decode_audio(speech_dir / "jfk.wav")))
    reference = ("And so my fellow Americans, ask not what your country can do for you, "
                 "ask what you can do for your country.")
    assert score([reference], [text]).wer < 0.1, text
    # a second run into the same folder refuses instead of overwriting
    assert main(["models", "convert", str(transformers_tiny_en), "--to", "ctranslate2",
                 "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_manager_converts_once_and_again_when_the_source_changes(tmp_path: Path) -> None:
    source = tmp_path / "my-tiny"
    shutil.copytree(bundled_model_path(), source)
    manager = ModelManager(tmp_path / "models")
    first = manager.transformers_whisper(str(source))
    assert is_transformers_whisper(first) and first.parent.name == ".transformers"
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert manager.transformers_whisper(str(source)) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp  # served from the cache
    assert manager.transformers_whisper(str(first)) == first  # already transformers: as is
    assert [e.name for e in manager.list() if e.status == "installed"] == []
    (source / "model.bin").touch()  # a changed source is converted again
    assert manager.transformers_whisper(str(source)) == first
    assert (first / "model.safetensors").stat().st_mtime_ns != stamp


def test_bad_inputs_give_one_line_errors(tmp_path: Path, transformers_tiny_en: Path) -> None:
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper folder"):
        convert_ct2_whisper(tmp_path, tmp_path / "out")
    with pytest.raises(ModelError, match="not a transformers Whisper folder"):
        export_ct2_whisper(bundled_model_path(), tmp_path / "out")
    with pytest.raises(ValueError, match="quantization"):
        export_ct2_whisper(transformers_tiny_en, tmp_path / "out", quantization="int3")
    broken = tmp_path / "broken"
    broken.mkdir()
    data = (bundled_model_path() / "model.bin").read_bytes()
    (broken / "model.bin").write_bytes(data[:len(data) // 3])
    shutil.copy(bundled_model_path() / "config.json", broken)
    shutil.copy(bundled_model_path() / "tokenizer.json", broken)
    with pytest.raises(ModelError, match="truncated") as info:
        convert_ct2_whisper(broken, tmp_path / "out")
    assert "\n" not in str(info.value)
    (broken / "model.bin").write_bytes(b"\x63\x00\x00\x00" + data[4:64])
    with pytest.raises(ModelError, match="binary version 99"):
        read_ct2_model(broken)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".partial")]
