"""Model manager: bundled default, import, remove, list, and downloads over real HTTP.

The downloads go to a loopback HTTP server the test starts, laid out like the Hugging Face hub
(``/<repo>/resolve/main/<file>``), because the real hub cannot be reached from CI; the download
code, the HTTP requests, the resume logic and the progress reports are the real ones.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from desktop_asr.cli.main import main
from desktop_asr.errors import ModelError
from desktop_asr.models import BUNDLED_NAME, ModelManager, bundled_model_path


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single-range support, like a real hub/CDN."""

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def send_head(self):  # noqa: ANN201
        rng = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not rng or not path.is_file():
            return super().send_head()
        start = int(rng.split("=")[1].split("-")[0])
        size = path.stat().st_size
        if start >= size:
            self.send_error(416)
            return None
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Length", str(size - start))
        self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        return f


@pytest.fixture()
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A loopback server holding the bundled tiny.en under the tiny.en hub repository name."""
    root = tmp_path / "hub"
    repo = root / "Systran" / "faster-whisper-tiny.en" / "resolve" / "main"
    repo.mkdir(parents=True)
    for f in bundled_model_path().iterdir():
        os.symlink(f, repo / f.name)
    handler = lambda *a, **k: _RangeHandler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DESKTOP_ASR_HUB_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield repo
    server.shutdown()
    server.server_close()


def test_bundled_model_is_the_offline_default() -> None:
    resolved = ModelManager().resolve(BUNDLED_NAME)
    assert resolved.source == "bundled"
    assert (resolved.path / "model.bin").stat().st_size > 10_000_000
    rows = {r.name: r for r in ModelManager().list()}
    assert rows["tiny.en"].status == "bundled"
    assert rows["small.en"].status == "downloadable"


def test_unknown_and_missing_models_have_clear_errors(tmp_path: Path) -> None:
    manager = ModelManager()
    with pytest.raises(ModelError, match="unknown model 'whisper-9000'"):
        manager.resolve("whisper-9000")
    with pytest.raises(ModelError, match="not installed; download it with 'desktop-asr models "
                                         "download small.en'"):
        manager.resolve("small.en")
    with pytest.raises(ModelError, match="no model folder at"):
        manager.resolve(str(tmp_path / "nowhere"))
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing model\.bin, tokenizer\.json"):
        manager.resolve(str(tmp_path / "half"))


def test_import_list_resolve_remove(tmp_path: Path, capsys) -> None:
    src = tmp_path / "my-model"
    shutil.copytree(bundled_model_path(), src)
    assert main(["models", "import", str(src), "--name", "mine"]) == 0
    manager = ModelManager()
    resolved = manager.resolve("mine")
    assert resolved.source == "installed"
    assert resolved.path.parent == manager.models_dir
    assert (resolved.path / "model.bin").read_bytes() == (src / "model.bin").read_bytes()
    assert main(["models", "import", str(src), "--name", "mine"]) == 1
    assert "already installed" in capsys.readouterr().err
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "mine" in listing and "installed" in listing and "bundled" in listing
    assert main(["models", "remove", "mine"]) == 0
    assert not (manager.models_dir / "mine").exists()
    assert main(["models", "remove", "mine"]) == 1
    assert "no installed model called 'mine'" in capsys.readouterr().err
    assert main(["models", "remove", "tiny.en"]) == 1
    assert "cannot be removed" in capsys.readouterr().err
    assert main(["models", "import", str(tmp_path / "nope")]) == 1


@pytest.mark.network
def test_download_by_name_over_http_with_progress_and_resume(fake_hub: Path) -> None:
    manager = ModelManager()
    manager.models_dir.mkdir(parents=True)
    # A previous, interrupted download left the first 1000 bytes of model.bin behind.
    staging = manager.models_dir / ".partial-tiny.en"
    staging.mkdir()
    original = (fake_hub / "model.bin").read_bytes()
    (staging / "model.bin.part").write_bytes(original[:1000])
    reports: list[tuple[str, int, int | None]] = []
    path = manager.download("tiny.en", progress=lambda *r: reports.append(r))
    assert (path / "model.bin").read_bytes() == original
    assert not staging.exists()
    first_model_report = next(r for r in reports if r[0] == "model.bin")
    assert first_model_report[1] > 1000 and first_model_report[2] == len(original)
    assert reports[-1][1] == reports[-1][2]
    assert not (path / "preprocessor_config.json").exists()  # optional, absent on the server
    assert manager.resolve("tiny.en").source == "installed"


@pytest.mark.network
def test_transcribe_downloads_a_missing_model_and_uses_it(fake_hub: Path, spoken, tmp_path,
                                                          capsys) -> None:
    wav = spoken("Good morning everyone.")
    assert main(["transcribe", str(wav), "-o", str(tmp_path), "-f", "txt", "--model",
                 "tiny.en", "--threads", "2"]) == 0  # bundled: no download needed
    # Pretend the hub has 'base.en' by serving the tiny.en files under its repository name.
    base = fake_hub.parents[2] / "faster-whisper-base.en" / "resolve"
    base.mkdir(parents=True)
    os.symlink(fake_hub, base / "main")
    assert main(["transcribe", str(wav), "-o", str(tmp_path), "-f", "txt", "--model",
                 "base.en", "--threads", "2", "-q"]) == 0
    assert "good morning" in (tmp_path / f"{wav.stem}.txt").read_text().lower()
    assert ModelManager().resolve("base.en").source == "installed"


def test_download_without_network_says_so_and_leaves_nothing(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DESKTOP_ASR_HUB_ENDPOINT", "http://127.0.0.1:9")  # nothing listens
    assert main(["models", "download", "small.en", "-q"]) == 1
    err = capsys.readouterr().err
    assert "cannot download Systran/faster-whisper-small.en" in err
    assert "desktop-asr models import FOLDER" in err
    assert len(err.strip().splitlines()) == 1
    assert ModelManager().installed_path("small.en") is None
