"""Builders shared by the training tests (no tests here).

``random_whisper`` is a one-layer, 64-wide Whisper with random weights but tiny.en's real
tokenizer, feature extractor and generation config: a stand-in for real weights wherever
training them for real would take minutes. Its decoder is set to end transcripts at once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_asr.audio import decode_audio
from desktop_asr.models import ModelManager
from desktop_asr.datasets.dataset import add_clip, create_dataset

SENTENCES = ("Deploy Veltrion to the Zorbex cluster tonight.",
             "Ask Quandrix about the budget.", "The Zorbex dashboard is green again.",
             "Veltrion needs more memory on Friday.")

_built: dict[str, Path] = {}


def random_whisper(factory: pytest.TempPathFactory) -> Path:
    """The random Whisper folder, built once per test session."""
    if "whisper" in _built:
        return _built["whisper"]
    import torch
    import transformers

    root = factory.mktemp("random-whisper")
    real = ModelManager(root / "models").transformers_whisper("tiny.en")
    config = transformers.WhisperConfig.from_pretrained(real)
    small = transformers.WhisperConfig(**{
        **config.to_dict(), "d_model": 64, "encoder_layers": 1, "decoder_layers": 1,
        "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 128,
        "decoder_ffn_dim": 128})
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration(small)
    with torch.no_grad():
        # Make the untrained decoder end every transcript at once (a constant final state
        # that points at <|endoftext|>): a random model otherwise babbles 448 tokens through
        # every temperature fallback, which makes scoring it slow. Training still moves it.
        eot = int(config.eos_token_id)
        direction = torch.randn(small.d_model)
        model.model.decoder.layer_norm.weight.zero_()
        model.model.decoder.layer_norm.bias.copy_(direction)
        model.model.decoder.embed_tokens.weight[eot] = 8.0 * direction / direction.norm()
    model.generation_config = transformers.GenerationConfig.from_pretrained(real)
    model.generation_config.alignment_heads = [[0, 0]]
    out = root / "whisper-random"
    model.save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
                 "preprocessor_config.json"):
        if (real / name).is_file():
            shutil.copy(real / name, out / name)
    _built["whisper"] = out
    return out


def small_dataset(folder: Path, spoken) -> Path:
    """Eight espeak clips (four sentences twice); item 7 is dev, item 8 is test."""
    create_dataset(folder, vocabulary=["Veltrion", "Zorbex", "Quandrix"])
    for k, text in enumerate(SENTENCES * 2):
        split = "test" if k == 7 else ("dev" if k == 6 else None)
        add_clip(folder, decode_audio(spoken(text)), text, origin="synth", split=split)
    return folder
