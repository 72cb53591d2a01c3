"""The ``conformer`` engine: our Conformer-CTC checkpoints or the streaming Emformer RNN-T.

:func:`create_conformer_engine` looks at what ``EngineConfig.model`` points to and loads the
right kind: a folder whose ``config.json`` says ``conformer-ctc`` (see
:mod:`desktop_asr.engines.conformer_ctc`), a folder with an Emformer RNN-T (see
:mod:`desktop_asr.engines.emformer`), or a torchaudio RNN-T bundle name (the default,
``EMFORMER_RNNT_BASE_LIBRISPEECH``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from desktop_asr.engines.base import Engine, EngineCapabilities, EngineConfig, EngineInfo
from desktop_asr.engines.ctc_decode import CtcVocabulary
from desktop_asr.engines.ctc_engine import Chunking, CtcEngineBase, resolve_torch_device
from desktop_asr.engines.ctc_lm import LmWeights, find_language_model
from desktop_asr.errors import MissingExtraError, ModelError

log = logging.getLogger(__name__)

# Before a model is loaded (the registry reads this): what both kinds share. A loaded Emformer
# RNN-T reports streaming_native=True itself.
CAPABILITIES = EngineCapabilities(streaming_native=False, word_timestamps=True,
                                  languages=("en",), translate=False, hotwords=False,
                                  needs_gpu=False)


def default_model() -> str:
    """A Conformer-CTC checkpoint in the models folder (e.g. a fine-tuned one), else the Emformer.

    The Emformer bundle name is returned even when its files are missing, so loading it gives
    the message that says what to download.
    """
    from desktop_asr.engines.emformer import DEFAULT_BUNDLE
    from desktop_asr.paths import models_dir

    root = models_dir()
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        if _is_conformer_ctc(folder):
            return str(folder)
    return DEFAULT_BUNDLE


def _is_conformer_ctc(folder: Path) -> bool:
    # Same test as conformer_ctc.is_conformer_ctc_folder, without importing torch (that module
    # defines the network), so listing engines stays light.
    try:
        data = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("model_type") == "conformer-ctc"


def create_conformer_engine(config: EngineConfig | None = None, **kwargs: Any) -> Engine:
    """Load whichever Conformer-family model ``config.model`` names."""
    try:
        import torch  # noqa: F401
        import torchaudio  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("the conformer engine", "torchaudio", "torch") from exc
    from desktop_asr.engines.emformer import EmformerEngine, is_emformer_folder
    from desktop_asr.paths import models_dir

    config = config or EngineConfig()
    folder = Path(config.model).expanduser()
    if not folder.is_dir() and "/" not in config.model and (models_dir() / config.model).is_dir():
        folder = models_dir() / config.model
    if folder.is_dir():
        if _is_conformer_ctc(folder):
            return ConformerCtcEngine(config, folder=folder, **kwargs)
        if is_emformer_folder(folder):
            return EmformerEngine(config, **kwargs)
        raise ModelError(f"{folder} holds neither a Conformer-CTC checkpoint (config.json with "
                         "model_type conformer-ctc) nor an Emformer RNN-T model")
    if folder.exists():
        raise ModelError(f"{folder} is a file; a conformer model is a folder or a bundle name")
    return EmformerEngine(config, **kwargs)


class ConformerCtcEngine(CtcEngineBase):
    """Our Conformer-CTC model with greedy or ARPA-LM beam-search decoding."""

    name = "conformer"

    def __init__(self, config: EngineConfig | None = None, *, folder: Path | None = None,
                 lm_path: Path | None = None, lm_weights: LmWeights | None = None,
                 use_lm: bool = True, chunking: Chunking | None = None) -> None:
        import torch

        from desktop_asr.engines.conformer_ctc import load_conformer_ctc

        self.config = config or EngineConfig()
        folder = Path(folder or self.config.model)
        device, compute = resolve_torch_device(self.config)
        model, cfg = load_conformer_ctc(folder)
        dtype = {"float32": torch.float32, "float16": torch.float16,
                 "bfloat16": torch.bfloat16}[compute]
        self._model = model.to(device, dtype=dtype)
        self._device = device
        self.model_config = cfg
        self.vocab = CtcVocabulary(tokens=cfg.vocabulary, blank=cfg.blank_id,
                                   delimiter=cfg.word_delimiter, lowercase=False)
        self.frame_stride = cfg.frame_stride
        self.min_samples = cfg.n_fft
        if use_lm and lm_path is None:
            found = find_language_model(folder)
            if found is not None:
                lm_path, lm_weights = found[0], lm_weights or found[1]
        super().__init__(chunking=chunking, lm_path=lm_path, lm_weights=lm_weights)
        self.capabilities = EngineCapabilities(streaming_native=False, word_timestamps=True,
                                               languages=(cfg.language,), translate=False,
                                               hotwords=False, needs_gpu=False)
        self.info = EngineInfo(engine=self.name, model=self.config.model,
                               model_path=str(folder), device=device, compute_type=compute,
                               cpu_threads=self.config.cpu_threads,
                               extra={"kind": "conformer-ctc", "decoder": self.decoder_name,
                                      "lm": str(lm_path or "")})
        log.info("loaded Conformer-CTC %s on %s/%s, %s decoding", folder, device, compute,
                 self.decoder_name)

    def _emit(self, audio: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(audio)[None].to(self._device)
        with torch.inference_mode():
            log_probs, lengths = self._model(x, torch.tensor([audio.size], device=self._device))
        return log_probs[0, :int(lengths[0])].float().cpu().numpy()
