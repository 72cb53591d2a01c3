"""The faster-whisper engine with the bundled tiny.en on real and synthesised speech."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from desktop_asr.audio import decode_audio
from desktop_asr.engines import Cancelled, DecodeOptions, Engine, EngineConfig, create_engine
from desktop_asr.engines.faster_whisper import choose_device
from desktop_asr.errors import ModelError
from desktop_asr.evaluation import score


def _words(segments) -> list[str]:
    from desktop_asr.evaluation import normalizer_for
    return normalizer_for("en")(" ".join(s.text for s in segments)).split()


def test_engine_follows_the_protocol_and_reports_cpu_int8(engine: Engine) -> None:
    assert isinstance(engine, Engine)
    assert engine.info.device == "cpu"
    assert engine.info.compute_type == "int8"
    assert engine.capabilities.languages == ("en",)
    assert not engine.capabilities.multilingual


def test_auto_device_is_cpu_int8_without_a_gpu() -> None:
    import ctranslate2
    if ctranslate2.get_cuda_device_count() > 0:
        assert choose_device("auto", "auto") == ("cuda", "float16")
    else:
        assert choose_device("auto", "auto") == ("cpu", "int8")
        with pytest.raises(ModelError, match="no CUDA GPU"):
            choose_device("cuda", "auto")


def test_unsupported_compute_type_is_refused_with_the_choices() -> None:
    with pytest.raises(ModelError, match="not supported on cpu; choose one of"):
        choose_device("cpu", "float16-nonsense")


def test_synthesised_sentence_words_and_word_times(engine: Engine, spoken) -> None:
    text = "Please send the quarterly report to Margaret before Friday afternoon."
    audio = decode_audio(spoken(text))
    segments = engine.transcribe(audio, options=DecodeOptions(word_timestamps=True))
    counts = score([text], [" ".join(s.text for s in segments)])
    assert counts.wer <= 0.1, _words(segments)
    words = [w for s in segments for w in s.words]
    assert len(words) >= 9
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    duration = audio.size / 16000
    assert all(0 <= w.start <= w.end <= duration + 0.5 for w in words)
    # espeak-ng begins speaking almost immediately and speaks until near the end
    assert words[0].start < 0.8 and words[-1].end > duration - 1.0


def test_real_speech_jfk(engine: Engine, speech_dir) -> None:
    audio = decode_audio(speech_dir / "jfk.wav")
    segments = engine.transcribe(audio)
    ref = ("And so my fellow Americans, ask not what your country can do for you, "
           "ask what you can do for your country.")
    assert score([ref], [" ".join(s.text for s in segments)]).wer <= 0.1


RARE_NAMES = {
    "Xylofon": "The Xylofon release ships next week.",
    "Kaczmarek": "Send the invoice to Kaczmarek by Monday.",
    "Zhivkova": "Zhivkova presented the results this morning.",
    "Tlalpan": "We opened a new office in Tlalpan last year.",
    "Dashwood": "Ask Dashwood about the budget today.",
    "Vantablack": "The Vantablack coating absorbs almost all light.",
    "Quaalude": "Fenwick and Quaalude are both in the draft.",
}


@pytest.fixture(scope="module")
def rare_name_audio(spoken) -> dict[str, np.ndarray]:
    return {name: decode_audio(spoken(sentence)) for name, sentence in RARE_NAMES.items()}


def test_hotwords_bring_in_rare_names(engine: Engine, rare_name_audio) -> None:
    plain = hinted = 0
    for name, audio in rare_name_audio.items():
        plain += name in " ".join(s.text for s in engine.transcribe(audio))
        hinted += name in " ".join(s.text for s in engine.transcribe(
            audio, options=DecodeOptions(hotwords=(name,))))
    assert plain <= 1   # the model alone mishears these names...
    assert hinted >= 5  # ...and the custom vocabulary fixes most of them


def test_initial_prompt_reaches_the_decoder(engine: Engine, rare_name_audio) -> None:
    prompted = sum(name in " ".join(s.text for s in engine.transcribe(
        audio, prompt=f"Meeting notes about {name}.")) for name, audio in rare_name_audio.items())
    assert prompted >= 5


def test_silence_and_noise_produce_no_text(engine: Engine) -> None:
    rng = np.random.default_rng(0)
    silence = np.zeros(16000 * 8, dtype=np.float32)
    noise = (0.01 * rng.standard_normal(16000 * 8)).astype(np.float32)
    assert engine.transcribe(silence) == []
    assert engine.transcribe(noise) == []
    assert engine.transcribe(np.zeros(0, dtype=np.float32)) == []


def test_progress_reaches_the_end_and_cancel_stops(engine: Engine, spoken) -> None:
    audio = decode_audio(spoken("One two three four five six seven eight nine ten."))
    audio = np.concatenate([audio, np.zeros(16000, np.float32), audio])
    seen: list[float] = []
    engine.transcribe(audio, progress=seen.append)
    assert seen and seen[-1] == pytest.approx(audio.size / 16000)
    assert seen == sorted(seen)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        engine.transcribe(audio, cancel=cancel)


def test_bad_audio_shapes_and_languages_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="1-D mono"):
        engine.transcribe(np.zeros((2, 16000), dtype=np.float32))
    with pytest.raises(ValueError, match="does not know language 'de'"):
        engine.transcribe(np.zeros(16000, np.float32), options=DecodeOptions(language="de"))


def test_corrupt_model_folder_gives_a_clear_error(tmp_path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("config.json", "model.bin", "tokenizer.json"):
        (folder / name).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load Whisper model from"):
        create_engine("faster-whisper", EngineConfig(model=str(folder), device="cpu"))


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        DecodeOptions(beam_size=0)
    with pytest.raises(ValueError):
        DecodeOptions(hotwords="Quilter")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DecodeOptions(hallucination_silence_threshold=2.0)
    with pytest.raises(ValueError):
        EngineConfig(device="tpu")
    assert DecodeOptions(hotwords=(" a ", "", "b")).hotwords == ("a", "b")


def test_fitted_window_decodes_like_the_full_window(engine: Engine, speech_dir) -> None:
    """The live path's fitted encoder window gives the same words as the 30-s window."""
    options = DecodeOptions(beam_size=5, word_timestamps=True, vad_filter=False)
    from dataclasses import replace
    for name in ("jfk.wav", "leopard_test.wav", "librivox_sense_and_sensibility_0870.wav"):
        audio = decode_audio(speech_dir / name)
        full = " ".join(s.text for s in engine.transcribe(audio, options=options))
        fitted = engine.transcribe(audio, options=replace(options, fit_window=True))
        assert score([full], [" ".join(s.text for s in fitted)]).wer <= 0.05, (full, fitted)
        words = [w for s in fitted for w in s.words]
        assert words and all(0 <= w.start <= w.end <= audio.size / 16000 for w in words)
        assert [w.start for w in words] == sorted(w.start for w in words)


def test_fitted_window_stays_silent_on_silence(engine: Engine) -> None:
    options = DecodeOptions(fit_window=True, word_timestamps=True, vad_filter=False)
    assert engine.transcribe(np.zeros(16000 * 3, np.float32), options=options) == []
