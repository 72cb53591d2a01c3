"""Whisper between CTranslate2 (faster-whisper) and transformers, both ways, offline.

* :func:`convert_ct2_whisper` reads a CTranslate2 folder (``model.bin`` parsed by
  :mod:`desktop_asr.models.ct2_format`, ``config.json``, ``tokenizer.json``) and writes an exact
  transformers checkpoint: ``model.safetensors``, ``config.json``, ``generation_config.json``,
  the tokenizer files and ``preprocessor_config.json``.
* :func:`export_ct2_whisper` turns a transformers folder back into a CTranslate2 folder with
  CTranslate2's own ``TransformersConverter``, optionally quantized.

Both write into a staging folder beside the target and rename it at the end, so an interrupted
run never leaves a half-written model behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

from desktop_asr.errors import MissingExtraError, ModelError
from desktop_asr.models.convert_config import (added_tokens, generation_config, model_config,
                                               preprocessor_config, read_json, special_ids)
from desktop_asr.models.convert_weights import transformers_state_dict, whisper_shape
from desktop_asr.models.ct2_format import read_ct2_model

log = logging.getLogger(__name__)

QUANTIZATIONS = ("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16",
                 "bfloat16", "float32")
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
# Files a CTranslate2 folder needs besides model.bin for faster-whisper to load it.
_CT2_COPY = ("tokenizer.json", "preprocessor_config.json")
CONVERSION_RECORD = "desktop-asr-conversion.json"


def is_transformers_whisper(folder: Path) -> bool:
    """Whether ``folder`` holds a transformers Whisper checkpoint (config + weights)."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        return False
    if not any((folder / name).is_file() for name in _WEIGHT_FILES):
        return False
    try:
        return read_json(folder / "config.json").get("model_type") == "whisper"
    except ModelError:
        return False


def is_ct2_whisper(folder: Path) -> bool:
    """Whether ``folder`` looks like a CTranslate2 Whisper folder (model.bin + config.json)."""
    folder = Path(folder)
    return (folder / "model.bin").is_file() and (folder / "config.json").is_file()


def source_stamp(src: Path) -> dict[str, int]:
    """Size and modification time of a CTranslate2 model.bin, to tell when a cache is stale."""
    info = (Path(src) / "model.bin").stat()
    return {"source_size": info.st_size, "source_mtime_ns": info.st_mtime_ns}


def conversion_record(folder: Path) -> dict[str, Any]:
    """What :func:`convert_ct2_whisper` recorded about a folder it wrote ({} if none)."""
    try:
        return read_json(Path(folder) / CONVERSION_RECORD)
    except ModelError:
        return {}


def _import_torch_stack() -> tuple[Any, Any]:
    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError("converting Whisper to transformers", "torch", "torch") from exc
    try:
        import transformers
    except ImportError as exc:
        raise MissingExtraError("converting Whisper to transformers", "transformers",
                                "torch") from exc
    return torch, transformers


@contextlib.contextmanager
def quiet_progress(transformers: Any) -> Iterator[None]:
    """No transformers progress bars (weights loading/writing) while this runs; they would
    tear through the CLI's own output and the app has its own progress."""
    hf_logging = transformers.utils.logging
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _staging(dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    staging = dst.parent / f".partial-{dst.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def _publish(staging: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    os.replace(staging, dst)
    return dst


def _write_tokenizer(transformers: Any, tokenizer_json: Path, staging: Path,
                     tokens: dict[str, int]) -> None:
    """The tokenizer files: tokenizer.json as given, plus vocab.json/merges.txt and its config."""
    raw = read_json(tokenizer_json)
    model = raw.get("model") or {}
    if model.get("type") != "BPE":
        raise ModelError(f"{tokenizer_json} is not a byte-level BPE tokenizer")
    (staging / "tokenizer.json").write_bytes(tokenizer_json.read_bytes())
    # The slow tokenizer (and transformers before 5) read these two files instead.
    (staging / "vocab.json").write_text(json.dumps(model["vocab"], ensure_ascii=False),
                                        encoding="utf-8")
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    (staging / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n",
                                        encoding="utf-8")
    # Every control and language token is special: Whisper's decoder finds the first timestamp
    # id as "last special id + 1".
    extra = [text for text, _ in sorted(tokens.items(), key=lambda kv: kv[1])]
    tokenizer = transformers.WhisperTokenizer.from_pretrained(
        str(staging), extra_special_tokens=extra, local_files_only=True)
    tokenizer.save_pretrained(str(staging))
    # save_pretrained re-serialises tokenizer.json; keep the original bytes, which both
    # tokenizers and transformers load, so a round trip gives faster-whisper the same file.
    (staging / "tokenizer.json").write_bytes(tokenizer_json.read_bytes())


def convert_ct2_whisper(src: Path, dst: Path, *, dtype: str = "float32") -> Path:
    """Convert a CTranslate2 Whisper folder into a transformers checkpoint folder ``dst``.

    Weights are stored in ``dtype`` (float32 by default, so fine-tuning starts from exact
    float32 copies of the stored values; "float16" halves the size).
    """
    src, dst = Path(src).expanduser(), Path(dst).expanduser()
    if not is_ct2_whisper(src):
        raise ModelError(f"{src} is not a CTranslate2 Whisper folder (needs model.bin and "
                         "config.json)")
    if not (src / "tokenizer.json").is_file():
        raise ModelError(f"{src} has no tokenizer.json; only folders with one can be converted")
    if dtype not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}")
    torch, transformers = _import_torch_stack()
    ct2 = read_ct2_model(src)
    shape = whisper_shape(ct2)
    ct2_config = read_json(src / "config.json")
    tokens = added_tokens(read_json(src / "tokenizer.json"))
    ids = special_ids(tokens)
    state = transformers_state_dict(ct2)
    config = transformers.WhisperConfig(**model_config(shape, ids))
    staging = _staging(dst)
    try:
        with torch.device("meta"):
            model = transformers.WhisperForConditionalGeneration(config)
        tensors = {k: torch.from_numpy(v).to(getattr(torch, dtype)) for k, v in state.items()}
        missing, unexpected = model.load_state_dict(tensors, strict=False, assign=True)
        # proj_out is tied to the token embeddings; it is not a separate tensor to load.
        missing = [k for k in missing if not (shape.tied_projection and k == "proj_out.weight")]
        if missing or unexpected:
            raise ModelError(f"converted weights do not fit WhisperForConditionalGeneration "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
        if shape.tied_projection:
            model.tie_weights()
        model.generation_config = transformers.GenerationConfig(
            **generation_config(shape, ids, tokens, ct2_config))
        with quiet_progress(transformers):
            model.save_pretrained(str(staging), safe_serialization=True)
        transformers.WhisperFeatureExtractor(**preprocessor_config(shape)).save_pretrained(
            str(staging))
        _write_tokenizer(transformers, src / "tokenizer.json", staging, tokens)
        (staging / CONVERSION_RECORD).write_text(json.dumps(
            {"converted_from": str(src.resolve()), "format": "ctranslate2",
             **source_stamp(src), "ct2_binary_version": ct2.binary_version, "dtype": dtype},
            indent=2) + "\n",
            encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("converted %s -> %s (%d tensors, %s)", src, dst, len(state), dtype)
    return _publish(staging, dst)


def export_ct2_whisper(src: Path, dst: Path, *, quantization: str | None = "float16") -> Path:
    """Export a transformers Whisper folder to a CTranslate2 folder with CTranslate2's converter.

    The result loads in faster-whisper (``FasterWhisperEngine``); ``quantization`` is any
    CTranslate2 weight type (``None`` keeps the checkpoint's own precision).
    """
    src, dst = Path(src).expanduser(), Path(dst).expanduser()
    if not is_transformers_whisper(src):
        raise ModelError(f"{src} is not a transformers Whisper folder (needs config.json with "
                         "model_type whisper and model.safetensors)")
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {', '.join(QUANTIZATIONS)} or None, "
                         f"got {quantization!r}")
    _, transformers = _import_torch_stack()
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:
        raise MissingExtraError("exporting to CTranslate2", "ctranslate2", "core") from exc
    copy = [name for name in _CT2_COPY if (src / name).is_file()]
    if "tokenizer.json" not in copy:
        raise ModelError(f"{src} has no tokenizer.json, which faster-whisper needs")
    staging = _staging(dst)
    try:
        converter = TransformersConverter(str(src), copy_files=copy,
                                          load_as_float16=quantization in ("float16",
                                                                           "int8_float16"),
                                          low_cpu_mem_usage=True)
        with quiet_progress(transformers):
            converter.convert(str(staging), quantization=quantization, force=True)
    except (ValueError, RuntimeError, OSError, NotImplementedError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"CTranslate2 could not convert {src}: {first}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("exported %s -> %s (%s)", src, dst, quantization or "as stored")
    return _publish(staging, dst)
