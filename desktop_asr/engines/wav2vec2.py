"""wav2vec 2.0 / HuBERT / WavLM CTC models: transformers checkpoints and torchaudio bundles.

``EngineConfig.model`` names one of:
- a folder holding a transformers CTC checkpoint (``config.json`` + weights + tokenizer files),
  optionally with an ARPA language model in ``language_model/`` (pyctcdecode's layout) or
  ``lm.arpa``, which switches decoding from greedy to LM beam search;
- a torchaudio ASR bundle such as ``WAV2VEC2_ASR_BASE_960H`` (``torchaudio:`` prefix optional),
  whose weights file must already be on disk (this app never downloads them by itself);
- a name under the models folder, or a Hugging Face hub id (from its cache, else the hub).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from desktop_asr.engines.base import EngineCapabilities, EngineConfig, EngineInfo
from desktop_asr.engines.ctc_decode import CtcVocabulary
from desktop_asr.engines.ctc_engine import Chunking, CtcEngineBase, resolve_torch_device
from desktop_asr.engines.ctc_lm import LmWeights, find_language_model
from desktop_asr.errors import MissingExtraError, ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "WAV2VEC2_ASR_BASE_960H"
_TORCHAUDIO_URL = "https://download.pytorch.org/torchaudio/models/"
_CTC_MODEL_TYPES = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "wav2vec2-conformer",
                    "sew", "sew-d", "unispeech", "unispeech-sat")

# Before a model is loaded (the registry reads this); the loaded engine reports its own.
CAPABILITIES = EngineCapabilities(streaming_native=False, word_timestamps=True,
                                  languages=("en",), translate=False, hotwords=False,
                                  needs_gpu=False)


def default_model() -> str:
    """A CTC model on this machine: the first one in the models folder, else the default bundle.

    The bundle name is returned even when its weights are missing, so loading it gives the
    message that says what to download.
    """
    import json

    from desktop_asr.paths import models_dir

    root = models_dir()
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        try:
            kind = json.loads((folder / "config.json").read_text(encoding="utf-8")
                              ).get("model_type")
        except (OSError, ValueError, AttributeError):
            continue
        if kind in _CTC_MODEL_TYPES:
            return str(folder)
    return DEFAULT_MODEL


def receptive_field(kernels: list[int], strides: list[int]) -> int:
    """Samples the convolutional feature encoder needs for its first output frame."""
    field = 1
    for k, s in zip(reversed(kernels), reversed(strides)):
        field = (field - 1) * s + k
    return field


def bundle_weight_dirs() -> list[Path]:
    """Folders searched for torchaudio bundle weights: ours first, then torch.hub's cache."""
    import torch

    from desktop_asr.paths import models_dir

    return [models_dir() / "torchaudio", Path(torch.hub.get_dir()) / "checkpoints"]


def model_card_language(folder: Path) -> str | None:
    """The first ``language:`` of a Hugging Face model card's front matter, if any."""
    card = folder / "README.md"
    if not card.is_file():
        return None
    text = card.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return None
    front = text[3:].split("\n---", 1)[0]
    match = re.search(r"^language:\s*(?:\n\s*-\s*)?\[?\s*([A-Za-z-]{2,8})", front, re.M)
    return match.group(1).lower() if match else None


class Wav2Vec2Engine(CtcEngineBase):
    """wav2vec2-family CTC acoustic model with greedy or ARPA-LM beam-search decoding."""

    name = "wav2vec2"

    def __init__(self, config: EngineConfig | None = None, *, lm_path: Path | None = None,
                 lm_weights: LmWeights | None = None, use_lm: bool = True,
                 chunking: Chunking | None = None) -> None:
        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise MissingExtraError("the wav2vec2 engine", "torch", "torch") from exc
        self.config = config or EngineConfig()
        model = self.config.model
        if model == EngineConfig().model:  # the app-wide default names a Whisper model
            model = DEFAULT_MODEL
        self._device, self._compute = resolve_torch_device(self.config)
        folder = _local_folder(model)
        bundle = None if folder is not None else _bundle(model)
        if folder is not None:
            kind, language, path = "transformers", model_card_language(folder), str(folder)
            self._load_transformers(str(folder), local=True)
        elif bundle is not None:
            kind, language, path = "torchaudio-bundle", _bundle_language(model), model
            self._load_bundle(model, bundle)
        elif "/" in model and not Path(model).is_absolute():
            kind, path = "transformers", model
            folder = self._load_transformers(model, local=False)  # the hub cache's snapshot
            language = model_card_language(folder)
        else:
            raise ModelError(f"wav2vec2 model {model!r} is neither a folder, a torchaudio "
                             f"bundle (e.g. {DEFAULT_MODEL}) nor a Hugging Face id")
        if language is None:
            log.info("model %s does not state its language; assuming English", model)
            language = "en"
        if use_lm and lm_path is None and folder is not None:
            found = find_language_model(folder)
            if found is not None:
                lm_path, lm_weights = found[0], lm_weights or found[1]
        super().__init__(chunking=chunking, lm_path=lm_path, lm_weights=lm_weights)
        self.capabilities = EngineCapabilities(streaming_native=False, word_timestamps=True,
                                               languages=(language,), translate=False,
                                               hotwords=False, needs_gpu=False)
        self.info = EngineInfo(engine=self.name, model=model, model_path=path,
                               device=self._device, compute_type=self._compute,
                               cpu_threads=self.config.cpu_threads,
                               extra={"kind": kind, "decoder": self.decoder_name,
                                      "lm": str(lm_path or "")})
        log.info("loaded %s model %s on %s/%s, %s decoding", kind, model, self._device,
                 self._compute, self.decoder_name)

    # -- transformers ----------------------------------------------------------------------
    def _load_transformers(self, ref: str, *, local: bool) -> Path:
        try:
            import transformers
        except ImportError as exc:
            raise MissingExtraError("wav2vec2 checkpoints in transformers format",
                                    "transformers", "torch") from exc
        if not local:
            ref = str(_hub_snapshot(ref))
        try:
            model = transformers.AutoModelForCTC.from_pretrained(ref, local_files_only=True)
            tokenizer = transformers.AutoTokenizer.from_pretrained(ref, local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelError(f"cannot load a CTC model from {ref}: {first}") from exc
        cfg = model.config
        self._torch_model = model.to(self._device, dtype=_dtype(self._compute)).eval()
        self._hf = True
        self._normalize = True
        try:
            extractor = transformers.AutoFeatureExtractor.from_pretrained(ref,
                                                                          local_files_only=True)
            self._normalize = bool(getattr(extractor, "do_normalize", True))
        except (OSError, ValueError):
            log.debug("no feature-extractor config in %s; normalising the waveform", ref)
        size = int(cfg.vocab_size)
        known = tokenizer.convert_ids_to_tokens(list(range(min(size, len(tokenizer)))))
        tokens = tuple(t if t is not None else "" for t in known) + ("",) * (size - len(known))
        delim = getattr(tokenizer, "word_delimiter_token", None)
        specials = set(tokenizer.all_special_tokens) | {""}
        blank = cfg.pad_token_id if cfg.pad_token_id is not None else tokenizer.pad_token_id
        self.vocab = CtcVocabulary(tokens=tokens, blank=int(blank or 0),
                                   delimiter=delim if delim in tokens else None,
                                   specials=frozenset(specials - {delim}),
                                   lowercase=_all_upper(tokens, specials))
        kernels, strides = list(cfg.conv_kernel), list(cfg.conv_stride)
        self.frame_stride = int(np.prod(strides))
        self.min_samples = receptive_field(kernels, strides)
        return Path(ref)

    # -- torchaudio bundles ----------------------------------------------------------------
    def _load_bundle(self, name: str, bundle: Any) -> None:
        path = str(bundle._path)
        filename = path.rsplit("/", 1)[-1]
        dirs = bundle_weight_dirs()
        found = next((d for d in dirs if (d / filename).is_file()), None)
        if found is None:
            url = path if path.startswith("https") else _TORCHAUDIO_URL + path
            raise ModelError(f"the torchaudio bundle {name} needs its weights file {filename}, "
                             f"which is not on this machine; download {url} and put it in "
                             f"{dirs[0]} (or {dirs[1]})")
        try:
            model = bundle.get_model(dl_kwargs={"model_dir": str(found), "progress": False})
        except (RuntimeError, OSError, KeyError, ValueError) as exc:
            raise ModelError(f"cannot load {found / filename} for {name}: "
                             f"{str(exc).splitlines()[0]}") from exc
        self._torch_model = model.to(self._device, dtype=_dtype(self._compute)).eval()
        self._hf = False
        self._normalize = False  # bundles that need it normalise inside the model
        labels = tuple(bundle.get_labels())
        self.vocab = CtcVocabulary(tokens=labels, blank=0,
                                   delimiter="|" if "|" in labels else None,
                                   specials=frozenset({"-", "*"}) - {labels[0]},
                                   lowercase=_all_upper(labels, set()))
        convs = bundle._params["extractor_conv_layer_config"]
        kernels, strides = [c[1] for c in convs], [c[2] for c in convs]
        self.frame_stride = int(np.prod(strides))
        self.min_samples = receptive_field(kernels, strides)

    # -- inference -------------------------------------------------------------------------
    def _prepare(self, audio: np.ndarray) -> np.ndarray:
        # Normalise over the whole input (as the feature extractor would), so chunks of a long
        # recording all see the same scale.
        if not self._normalize or audio.size == 0:
            return audio
        return ((audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)).astype(np.float32)

    def _emit(self, audio: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(audio)[None].to(self._device, dtype=_dtype(self._compute))
        with torch.inference_mode():
            if self._hf:
                logits = self._torch_model(x).logits
            else:
                logits, _ = self._torch_model(x)
        return torch.log_softmax(logits[0].float(), dim=-1).cpu().numpy()


def _hub_snapshot(ref: str) -> Path:
    """Local folder of hub model ``ref``: from the Hugging Face cache, else downloaded."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(ref, local_files_only=True))
    except Exception:  # noqa: BLE001 - any cache miss means: try the network
        log.debug("%s is not in the Hugging Face cache", ref)
    advice = (f"download it where the hub is reachable (huggingface-cli download {ref} "
              "--local-dir DIR) and pass that folder as the model")
    if not _hub_reachable():
        raise ModelError(f"cannot get {ref}: it is not in the Hugging Face cache and the hub "
                         f"cannot be reached from here; {advice}")
    try:
        return Path(snapshot_download(ref))
    except Exception as exc:  # noqa: BLE001 - hub errors come in many types; all mean the same
        raise ModelError(f"cannot download {ref} from the Hugging Face hub "
                         f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                         f"{advice}") from exc


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Quick check, so an offline machine fails in seconds instead of after minutes of retries."""
    import os
    import socket
    from urllib.parse import urlparse

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY")):
        return True  # a proxy decides; let the hub client try
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname
    try:
        socket.create_connection((host or "huggingface.co", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _dtype(compute: str) -> Any:
    import torch

    return {"float32": torch.float32, "float16": torch.float16,
            "bfloat16": torch.bfloat16}[compute]


def _all_upper(tokens: tuple[str, ...], specials: set[str]) -> bool:
    letters = "".join(t for t in tokens if t not in specials)
    return any(c.isupper() for c in letters) and not any(c.islower() for c in letters)


def _local_folder(model: str) -> Path | None:
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is not a transformers checkpoint (no config.json)")
        return path
    if path.exists():
        raise ModelError(f"{path} is a file; a wav2vec2 model is a folder")
    from desktop_asr.paths import models_dir

    installed = models_dir() / model
    return installed if "/" not in model and (installed / "config.json").is_file() else None


def _bundle(model: str) -> Any | None:
    name = model.removeprefix("torchaudio:")
    if not re.fullmatch(r"[A-Z0-9_]+", name):
        return None
    import torchaudio.pipelines as pipelines

    def is_asr(obj: Any) -> bool:  # MMS_FA is an aligner with no word delimiter, not ASR
        return (isinstance(obj, pipelines.Wav2Vec2ASRBundle)
                and not isinstance(obj, pipelines.Wav2Vec2FABundle))

    bundle = getattr(pipelines, name, None)
    if not is_asr(bundle):
        asr = sorted(n for n in dir(pipelines) if is_asr(getattr(pipelines, n)))
        raise ModelError(f"{name} is not a torchaudio CTC (ASR) bundle; choose one of: "
                         + ", ".join(asr))
    return bundle


def _bundle_language(model: str) -> str:
    match = re.search(r"VOXPOPULI_ASR_BASE_10K_([A-Z]{2})$", model)
    return match.group(1).lower() if match else "en"
