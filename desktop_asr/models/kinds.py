"""What kind of model a folder holds, read from its files alone (no torch, no model loading).

The model picker uses this to offer each engine only the models it can load: a wav2vec2
fine-tune is no use to a Whisper engine, and a CTranslate2 Whisper folder none to the CTC ones.
"""

from __future__ import annotations

import json
from pathlib import Path

CT2_WHISPER = "ct2-whisper"
TRANSFORMERS_WHISPER = "transformers-whisper"
CTC = "ctc"                      # wav2vec2 / HuBERT / WavLM ... with a CTC head (transformers)
CONFORMER_CTC = "conformer-ctc"  # the project's own checkpoint format
EMFORMER = "emformer-rnnt"

# transformers model types of CTC acoustic models the wav2vec2 engine loads
_CTC_MODEL_TYPES = frozenset({"wav2vec2", "hubert", "wavlm", "data2vec-audio",
                              "wav2vec2-conformer", "sew", "sew-d", "unispeech",
                              "unispeech-sat"})
_EMFORMER_CONFIG = "emformer_rnnt.json"
_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")

# The kinds each engine loads.
ENGINE_KINDS: dict[str, tuple[str, ...]] = {
    "faster-whisper": (CT2_WHISPER,),
    "transformers-whisper": (CT2_WHISPER, TRANSFORMERS_WHISPER),
    "wav2vec2": (CTC,),
    "conformer": (CONFORMER_CTC, EMFORMER),
}


def _config(folder: Path) -> dict[str, object]:
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def model_kind(folder: Path) -> str | None:
    """The kind of model in ``folder`` (one of the constants above), or None."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    if (folder / _EMFORMER_CONFIG).is_file():
        return EMFORMER
    if (folder / "model.bin").is_file() and (folder / "config.json").is_file():
        return CT2_WHISPER
    model_type = _config(folder).get("model_type")
    if model_type == CONFORMER_CTC:
        return CONFORMER_CTC
    has_weights = any((folder / name).is_file() for name in _WEIGHTS)
    if model_type == "whisper" and has_weights:
        return TRANSFORMERS_WHISPER
    if model_type in _CTC_MODEL_TYPES and has_weights:
        return CTC
    return None
