"""The Emformer RNN-T path on a RANDOMLY INITIALISED model from torchaudio's factory.

The sentencepiece model is trained here on a few sentences; the weights are random, so the text
is meaningless. What must hold regardless: the real bundle loading (our folder layout and the
LibriSpeech file names), incremental decoding that matches whole-buffer decoding, word times in
order and inside the audio, and the download message when the real weights are missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_asr.engines import DecodeOptions, Engine, EngineConfig, create_engine
from desktop_asr.errors import ModelError

pytestmark = pytest.mark.slow
SR = 16000
CPU = dict(device="cpu", cpu_threads=2)
SENTENCES = ["please send the quarterly report to margaret before friday afternoon",
             "the quick brown fox jumps over the lazy dog",
             "she sells sea shells by the sea shore", "a stitch in time saves nine",
             "live captions for meetings and calls stay on this machine"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from desktop_asr.engines.emformer_random import build_random_emformer

    return build_random_emformer(tmp_path_factory.mktemp("em") / "emformer", SENTENCES)


@pytest.fixture(scope="module")
def engine(folder: Path) -> Engine:
    return create_engine("conformer", EngineConfig(model=str(folder), **CPU))


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    rng = np.random.default_rng(5)
    return (0.1 * rng.standard_normal(int(2.3 * SR))).astype(np.float32)


def test_random_emformer_loads_as_streaming_native_conformer_engine(engine: Engine) -> None:
    assert isinstance(engine, Engine)
    assert engine.info.extra["kind"] == "emformer-rnnt"
    caps = engine.capabilities
    assert caps.streaming_native and caps.word_timestamps and not caps.hotwords
    assert caps.languages == ("en",)


def test_random_emformer_words_in_order_inside_audio(engine: Engine, audio) -> None:
    segments = engine.transcribe(audio, options=DecodeOptions(word_timestamps=True))
    words = [w for s in segments for w in s.words]
    assert words
    assert all(0.0 <= w.start <= w.end <= audio.size / SR + 1e-9 for w in words)
    assert all(a.end <= b.start + 1e-9 for a, b in zip(words, words[1:]))
    assert segments[0].text == "".join(w.text for w in words)


def test_random_emformer_incremental_stream_equals_whole_buffer(engine, audio) -> None:
    whole = engine.transcribe(audio, options=DecodeOptions(word_timestamps=True))
    stream = engine.create_stream()
    rng = np.random.default_rng(0)
    pos = 0
    while pos < audio.size:  # uneven pieces, as a capture callback delivers them
        n = int(rng.integers(300, 5000))
        stream.accept(audio[pos:pos + n])
        pos += n
    stream.finish()
    got = [w for w in stream.words() if w.start < audio.size / SR]
    assert [w.text for w in got] == [w.text for s in whole for w in s.words]
    with pytest.raises(RuntimeError, match="finished"):
        stream.accept(audio[:100])


def test_random_emformer_in_librispeech_file_layout_is_recognised(
        folder: Path, tmp_path: Path, monkeypatch, audio) -> None:
    """The three LibriSpeech bundle file names side by side load through the bundle path."""
    import dataclasses
    import shutil

    import torchaudio.pipelines as pipelines

    from desktop_asr.engines.emformer import _bundle_from_config

    small = _bundle_from_config(folder)
    base = pipelines.EMFORMER_RNNT_BASE_LIBRISPEECH
    # Same file names as the real bundle, but the random small architecture.
    monkeypatch.setattr(pipelines, "EMFORMER_RNNT_BASE_LIBRISPEECH", dataclasses.replace(
        base, _rnnt_factory_func=small._rnnt_factory_func, _blank=small._blank))
    lib = tmp_path / "librispeech"
    lib.mkdir()
    shutil.copy(folder / "emformer_rnnt.pt", lib / "emformer_rnnt_base_librispeech.pt")
    shutil.copy(folder / "global_stats.json", lib / "global_stats_rnnt_librispeech.json")
    shutil.copy(folder / "spm.model", lib / "spm_bpe_4096_librispeech.model")
    engine = create_engine("conformer", EngineConfig(model=str(lib), **CPU))
    assert engine.info.extra["kind"] == "emformer-rnnt"
    assert isinstance(engine.transcribe(audio), list)


def test_missing_librispeech_weights_name_every_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        create_engine("conformer", EngineConfig(model="EMFORMER_RNNT_BASE_LIBRISPEECH", **CPU))
    msg = str(err.value)
    for name in ("emformer_rnnt_base_librispeech.pt", "global_stats_rnnt_librispeech.json",
                 "spm_bpe_4096_librispeech.model", "https://download.pytorch.org/torchaudio/"):
        assert name in msg
    assert "\n" not in msg
    with pytest.raises(ModelError, match="not an Emformer RNN-T folder or torchaudio RNN-T"):
        create_engine("conformer", EngineConfig(model="NO_SUCH_BUNDLE", **CPU))
