"""Find the model to fine-tune: a name, a registered fine-tuned model, or a folder."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from desktop_asr.errors import ModelError
from desktop_asr.models import ModelManager
from desktop_asr.models.catalog import BUNDLED_NAME

log = logging.getLogger(__name__)

HF_SUBDIR = "transformers"   # a fine-tuned model keeps its transformers checkpoint here
KINDS = ("whisper", "wav2vec2", "conformer-ctc")


@dataclass(frozen=True)
class BaseModel:
    """A model to start from: its kind, its trainable folder and (Whisper) its CT2 folder."""

    name: str
    kind: str                 # one of KINDS
    path: Path                # transformers / Conformer-CTC folder that training loads
    ct2_path: Path | None     # CTranslate2 folder of the same weights, when one exists

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}")


def folder_kind(folder: Path) -> str | None:
    """What a folder holds: "whisper", "wav2vec2", "conformer-ctc", "ct2-whisper" or None."""
    try:
        from desktop_asr.engines.conformer_ctc import is_conformer_ctc_folder

        if is_conformer_ctc_folder(folder):
            return "conformer-ctc"
    except ImportError:  # its module needs torch; without torch nothing can be trained anyway
        pass
    config = folder / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (folder / "model.bin").is_file():
        return "ct2-whisper"
    model_type = str(data.get("model_type") or "")
    if model_type == "whisper":
        return "whisper"
    if model_type in ("wav2vec2", "hubert", "wavlm", "data2vec-audio"):
        return "wav2vec2"
    return None


def resolve_base(base: str, manager: ModelManager | None = None) -> BaseModel:
    """Turn ``--base`` into a BaseModel, or raise ModelError saying what was found instead."""
    manager = manager or ModelManager()
    candidate = Path(base).expanduser()
    if candidate.is_dir():
        folder, name = candidate.resolve(), candidate.name
    else:
        installed = manager.installed_path(base)
        if installed is not None:
            folder, name = installed, base
        elif base == BUNDLED_NAME:
            resolved = manager.resolve(base)
            return BaseModel(base, "whisper", manager.transformers_whisper(base), resolved.path)
        else:
            raise ModelError(f"no model {base!r} to fine-tune: give a model folder "
                             f"(transformers Whisper, wav2vec2 or Conformer-CTC), "
                             f"{BUNDLED_NAME!r}, or the name of an installed model")
    if (folder / HF_SUBDIR).is_dir() and folder_kind(folder / HF_SUBDIR):
        # A model this module fine-tuned earlier: train on from its own checkpoint.
        inner = folder / HF_SUBDIR
        kind = folder_kind(inner)
        ct2 = folder if folder_kind(folder) == "ct2-whisper" else None
        return BaseModel(name, "whisper" if kind == "ct2-whisper" else str(kind), inner, ct2)
    kind = folder_kind(folder)
    if kind == "ct2-whisper":
        return BaseModel(name, "whisper", manager.transformers_whisper(str(folder)), folder)
    if kind in KINDS:
        return BaseModel(name, kind, folder, None)
    raise ModelError(f"{folder} is not a model desktop-asr can fine-tune (a transformers "
                     "Whisper or wav2vec2 folder, a Conformer-CTC folder, or a CTranslate2 "
                     "Whisper folder)")
