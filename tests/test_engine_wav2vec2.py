"""The wav2vec2 engine on small RANDOMLY INITIALISED checkpoints the tests build and save.

Random weights make the transcripts meaningless, so these tests check what must hold for any
weights: the real transformers/torchaudio loading code, word times from forced alignment inside
the audio and in order, chunking that keeps emissions, LM beam search wired in from the model
folder, the live pipeline's growing buffers, and clear errors.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from desktop_asr.audio import decode_audio
from desktop_asr.engines import DecodeOptions, Engine, EngineConfig, create_engine
from desktop_asr.engines.ctc_engine import Chunking
from desktop_asr.engines.ctc_random import build_random_wav2vec2
from desktop_asr.errors import ModelError

pytestmark = pytest.mark.slow
SR = 16000
CPU = dict(device="cpu", cpu_threads=2)
SENTENCE = "Please send the quarterly report to Margaret before Friday afternoon."


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("w2v")
    return {
        "wav2vec2": build_random_wav2vec2(root / "wav2vec2", blank_bias=0.25,
                                          delimiter_bias=0.12),
        "hubert": build_random_wav2vec2(root / "hubert", kind="hubert", seed=1, language="de"),
        # No transformer layers and per-frame layer norm: a receptive field of ~0.2 s, so
        # chunked and unchunked emissions must agree.
        "local": build_random_wav2vec2(root / "local", layers=0, feat_extract_norm="layer"),
    }


@pytest.fixture(scope="module")
def w2v(checkpoints) -> Engine:
    return create_engine("wav2vec2", EngineConfig(model=str(checkpoints["wav2vec2"]), **CPU))


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    from audio_fixtures import espeak_wav

    return decode_audio(espeak_wav(SENTENCE, tmp_path_factory.mktemp("say") / "s.wav"))


def check_words(segments, duration: float) -> list:
    words = [w for s in segments for w in s.words]
    for s in segments:
        assert s.text == "".join(w.text for w in s.words)
        assert s.start == s.words[0].start and s.end == s.words[-1].end
    assert all(0.0 <= w.start <= w.end <= duration + 1e-6 for w in words)
    assert all(a.end <= b.start + 1e-9 for a, b in zip(words, words[1:])), "words overlap"
    assert all(w.text.startswith(" ") and w.text.strip() for w in words)
    return words


def test_random_wav2vec2_loads_with_capabilities_and_follows_protocol(w2v: Engine) -> None:
    assert isinstance(w2v, Engine)
    caps = w2v.capabilities
    assert (caps.streaming_native, caps.word_timestamps, caps.hotwords, caps.translate,
            caps.needs_gpu) == (False, True, False, False, False)
    assert caps.languages == ("en",)  # from the model card's front matter
    assert w2v.info.extra["kind"] == "transformers" and w2v.info.extra["decoder"] == "greedy"
    assert w2v.info.device == "cpu" and w2v.info.compute_type == "float32"
    assert w2v.detect_language(np.zeros(SR, np.float32)) == ("en", 1.0)


def test_random_wav2vec2_word_times_monotonic_inside_speech(w2v: Engine, speech) -> None:
    segments = w2v.transcribe(speech, options=DecodeOptions(word_timestamps=True))
    words = check_words(segments, speech.size / SR)
    assert len(words) >= 3
    # Without word timestamps the segments keep their text and times but carry no words.
    plain = w2v.transcribe(speech)
    assert [(s.start, s.end, s.text) for s in plain] == [(s.start, s.end, s.text)
                                                         for s in segments]
    assert all(not s.words for s in plain)


def test_random_hubert_loads_from_its_folder_with_the_cards_language(checkpoints) -> None:
    engine = create_engine("wav2vec2", EngineConfig(model=str(checkpoints["hubert"]), **CPU))
    assert type(engine._torch_model).__name__ == "HubertForCTC"
    assert engine.capabilities.languages == ("de",)
    with pytest.raises(ValueError, match="only knows de"):
        engine.transcribe(np.zeros(SR, np.float32), options=DecodeOptions(language="en"))
    audio = np.random.default_rng(3).standard_normal(2 * SR).astype(np.float32) * 0.1
    check_words(engine.transcribe(audio, options=DecodeOptions(word_timestamps=True)), 2.0)


def test_random_local_wav2vec2_chunked_emissions_equal_unchunked(
        checkpoints, speech) -> None:
    cfg = EngineConfig(model=str(checkpoints["local"]), **CPU)
    whole = create_engine("wav2vec2", cfg)
    from desktop_asr.engines.wav2vec2 import Wav2Vec2Engine

    chunked = Wav2Vec2Engine(cfg, chunking=Chunking(chunk_seconds=2.0, context_seconds=0.5))
    long = np.concatenate([speech, speech[::-1]])  # several chunks' worth
    reported: list[float] = []
    a = whole.emissions(long)
    b = chunked.emissions(long, progress=reported.append)
    assert len(reported) >= 4 and reported == sorted(reported)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=2e-4)
    opts = DecodeOptions(word_timestamps=True)
    sa, sb = whole.transcribe(long, options=opts), chunked.transcribe(long, options=opts)
    assert [w.text for s in sa for w in s.words] == [w.text for s in sb for w in s.words]
    assert [t for s in sa for w in s.words for t in (w.start, w.end)] == pytest.approx(
        [t for s in sb for w in s.words for t in (w.start, w.end)])


def test_random_wav2vec2_chunked_long_audio_keeps_every_frame(
        checkpoints, speech) -> None:
    from desktop_asr.engines.wav2vec2 import Wav2Vec2Engine

    cfg = EngineConfig(model=str(checkpoints["wav2vec2"]), **CPU)
    engine = Wav2Vec2Engine(cfg, chunking=Chunking(chunk_seconds=2.0, context_seconds=0.5))
    long = np.concatenate([speech] * 2)
    em = engine.emissions(long)
    frames = (long.size - 400) // 320 + 1  # the conv feature encoder's output length
    assert em.shape[0] == frames
    np.testing.assert_allclose(np.exp(em).sum(axis=1), 1.0, atol=1e-4)
    check_words(engine.transcribe(long, options=DecodeOptions(word_timestamps=True)),
                long.size / SR)
    cancel = threading.Event()
    cancel.set()
    from desktop_asr.engines import Cancelled
    with pytest.raises(Cancelled):
        engine.transcribe(long, cancel=cancel)


def test_random_wav2vec2_growing_live_buffers_through_stream_processor(w2v: Engine, speech) -> None:
    """The live pipeline re-decodes a growing buffer with Whisper-tuned options."""
    from desktop_asr.streaming.processor import StreamOptions, StreamProcessor
    from desktop_asr.vad.base import SpeechAudio, SpeechEnded, SpeechStarted

    for n in (0, 100, 399, 400, 1000):  # shorter than one frame, then barely one
        assert isinstance(w2v.transcribe(speech[:n]), list)
    updates = []
    proc = StreamProcessor(w2v, "mic", StreamOptions(hop=0.5), updates.append,
                           clock=lambda: 0.0)
    proc.handle(SpeechStarted(start=5.0))
    hop = int(0.1 * SR)
    for pos in range(0, speech.size, hop):
        proc.handle(SpeechAudio(start=5.0 + pos / SR, samples=speech[pos:pos + hop]))
        if proc.due():
            proc.decode()
    proc.handle(SpeechEnded(end=5.0 + speech.size / SR, reason="silence"))
    finals = [u for u in updates if u.kind == "final"]
    assert proc.decodes >= 5 and finals
    words = [w for u in finals for w in u.segment.words]
    assert all(5.0 <= w.start <= w.end <= 5.0 + speech.size / SR + 1e-6 for w in words)


def test_random_wav2vec2_lm_in_model_folder_switches_to_beam_search(
        tmp_path: Path, checkpoints, speech) -> None:
    import shutil

    folder = tmp_path / "with_lm"
    shutil.copytree(checkpoints["wav2vec2"], folder)
    lm_dir = folder / "language_model"
    lm_dir.mkdir()
    vocab = ["THE", "REPORT", "SEND", "FRIDAY", "TO", "A"]
    lines = [f"-0.78\t{w}\t0.0" for w in vocab] + ["-99\t<s>\t0.0", "-0.8\t</s>"]
    (lm_dir / "lm.arpa").write_text(
        "\\data\\\nngram 1=%d\n\n\\1-grams:\n%s\n\n\\end\\\n" % (len(lines), "\n".join(lines)),
        encoding="utf-8")
    # A strong LM with a harsh penalty for unknown words: whatever is decoded must be its words.
    (lm_dir / "attrs.json").write_text('{"alpha": 1.0, "beta": 4.0, "unk_score_offset": -40}')
    engine = create_engine("wav2vec2", EngineConfig(model=str(folder), **CPU))
    assert engine.info.extra["decoder"] == "beam+lm"
    plain = create_engine("wav2vec2", EngineConfig(model=str(checkpoints["wav2vec2"]), **CPU))
    opts = DecodeOptions(word_timestamps=True)

    def in_lm(segments) -> float:
        words = check_words(segments, speech.size / SR)
        assert words
        return sum(w.text.strip().upper() in vocab for w in words) / len(words)

    # Random acoustics rarely spell an LM word; the LM beam search pulls the output to them.
    assert in_lm(plain.transcribe(speech, options=opts)) <= 0.3
    assert in_lm(engine.transcribe(speech, options=opts)) >= 0.8


def test_random_wav2vec2_options_ctc_cannot_honour(w2v: Engine, speech, caplog) -> None:
    with pytest.raises(ValueError, match="cannot boost hotwords"):
        w2v.transcribe(speech, options=DecodeOptions(hotwords=("Margaret",)))
    with pytest.raises(ValueError, match="only transcribe"):
        w2v.transcribe(speech, options=DecodeOptions(task="translate"))
    import logging
    caplog.set_level(logging.DEBUG, logger="desktop_asr.engines.ctc_engine")
    base = w2v.transcribe(speech)
    other = w2v.transcribe(speech, prompt="earlier words",
                           options=DecodeOptions(beam_size=1, temperature=(0.0,)))
    assert [s.text for s in other] == [s.text for s in base]
    assert "ignores the text prompt" in caplog.text
    assert "beam_size" in caplog.text and "temperature" in caplog.text


def _tiny_bundle(labels: tuple[str, ...]):
    import torchaudio.pipelines as pipelines

    params = dict(pipelines.WAV2VEC2_ASR_BASE_960H._params)
    params.update(extractor_mode="layer_norm",
                  extractor_conv_layer_config=[(16, 10, 5)] + [(16, 3, 2)] * 4 + [(16, 2, 2)] * 2,
                  encoder_embed_dim=32, encoder_pos_conv_kernel=16, encoder_pos_conv_groups=2,
                  encoder_num_layers=1, encoder_num_heads=2, encoder_ff_interm_features=64,
                  aux_num_out=len(labels) + 1)
    return pipelines.Wav2Vec2ASRBundle("tiny_random_asr.pth", params, _labels=labels,
                                       _sample_rate=16000, _normalize_waveform=False,
                                       _model_type="Wav2Vec2")


def test_torchaudio_bundle_path_with_a_random_tiny_bundle(
        tmp_path: Path, monkeypatch, speech) -> None:
    """The bundle code path (weights found on disk, aux rows dropped) on random weights."""
    import torch
    import torchaudio.pipelines as pipelines
    from torchaudio.models import wav2vec2_model

    from desktop_asr.paths import models_dir

    labels = ("|", *"ETAONISHRDLUMWCFGYPBVK'XJQZ")
    bundle = _tiny_bundle(labels)
    monkeypatch.setattr(pipelines, "TINY_RANDOM_ASR", bundle, raising=False)
    with pytest.raises(ModelError, match=r"needs its weights file tiny_random_asr\.pth.*put it"):
        create_engine("wav2vec2", EngineConfig(model="TINY_RANDOM_ASR", **CPU))
    params = dict(bundle._params, aux_num_out=len(labels) + 4)  # fairseq's 3 unused rows too
    torch.manual_seed(0)
    state = wav2vec2_model(**params).state_dict()
    target = models_dir() / "torchaudio"
    target.mkdir(parents=True)
    torch.save(state, target / "tiny_random_asr.pth")
    engine = create_engine("wav2vec2", EngineConfig(model="torchaudio:TINY_RANDOM_ASR", **CPU))
    assert engine.info.extra["kind"] == "torchaudio-bundle"
    assert engine.vocab.tokens == ("-", *labels) and engine.vocab.lowercase
    em = engine.emissions(speech)
    assert em.shape == ((speech.size - 400) // 320 + 1, len(labels) + 1)
    check_words(engine.transcribe(speech, options=DecodeOptions(word_timestamps=True)),
                speech.size / SR)


def test_missing_weights_and_bad_models_give_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"WAV2VEC2_ASR_BASE_960H needs its weights file "
                                         r"wav2vec2_fairseq_base_ls960_asr_ls960\.pth.*download "
                                         r"https://download\.pytorch\.org/"):
        create_engine("wav2vec2", EngineConfig(**CPU))  # the default model
    with pytest.raises(ModelError, match="not a torchaudio CTC"):
        create_engine("wav2vec2", EngineConfig(model="HUBERT_LARGE", **CPU))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        create_engine("wav2vec2", EngineConfig(model=str(tmp_path / "empty"), **CPU))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "wav2vec2"}')
    with pytest.raises(ModelError, match="cannot load a CTC model from"):
        create_engine("wav2vec2", EngineConfig(model=str(broken), **CPU))


def test_random_hubert_installed_is_the_default_and_loads_by_name(checkpoints) -> None:
    import shutil

    from desktop_asr.engines import engine_default_model
    from desktop_asr.paths import models_dir

    assert engine_default_model("wav2vec2") == "WAV2VEC2_ASR_BASE_960H"
    shutil.copytree(checkpoints["hubert"], models_dir() / "my-hubert")
    assert engine_default_model("wav2vec2") == str(models_dir() / "my-hubert")
    engine = create_engine("wav2vec2", EngineConfig(model="my-hubert", **CPU))
    assert engine.capabilities.languages == ("de",)


def test_random_wav2vec2_by_hub_id_from_the_hub_cache(tmp_path: Path, checkpoints,
                                                      monkeypatch) -> None:
    """A hub id resolves from the Hugging Face cache (laid out as the hub client does)."""
    import shutil

    import huggingface_hub.constants as hub_constants

    cache = tmp_path / "hub"
    repo = cache / "models--someone--w2v-random"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(checkpoints["hubert"], repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never reach out, even where a network exists
    engine = create_engine("wav2vec2", EngineConfig(model="someone/w2v-random", **CPU))
    assert engine.info.model == "someone/w2v-random"
    assert engine.capabilities.languages == ("de",)  # read from the cached model card
    with pytest.raises(ModelError, match="not in the Hugging Face cache and the hub cannot be "
                                         "reached"):
        create_engine("wav2vec2", EngineConfig(model="someone/not-cached", **CPU))
