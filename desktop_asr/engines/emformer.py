"""Streaming Emformer RNN-T (torchaudio's ``EMFORMER_RNNT_BASE_LIBRISPEECH`` and compatible models).

The model is fed fixed segments (plus a little right context) and its beam search carries state
from segment to segment, so text appears incrementally: :class:`EmformerStream` holds that per-
stream state and the engine itself only the shared model. Word times come from the segment in
which each token was first emitted (segment length: 160 ms for the LibriSpeech model).

Where the weights come from, in order: a folder with our ``emformer_rnnt.json`` (factory
arguments, file names, feature settings), a folder with the three LibriSpeech bundle files, or
the bundle name, found in the models folder's ``torchaudio/`` or in torch.hub's cache.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from desktop_asr.engines.base import (Cancelled, DecodeOptions, EngineCapabilities, EngineConfig,
                                      EngineInfo, ProgressCallback, check_audio)
from desktop_asr.errors import MissingExtraError, ModelError
from desktop_asr.types import Segment, Word

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
DEFAULT_BUNDLE = "EMFORMER_RNNT_BASE_LIBRISPEECH"
CONFIG_FILE = "emformer_rnnt.json"
_ASSET_URL = "https://download.pytorch.org/torchaudio/"


def is_emformer_folder(folder: Path) -> bool:
    """True when ``folder`` holds an Emformer RNN-T model this engine can load."""
    folder = Path(folder)
    return (folder / CONFIG_FILE).is_file() or all(
        (folder / Path(key).name).is_file() for key in _bundle_keys(DEFAULT_BUNDLE))


def _bundle_keys(name: str) -> tuple[str, str, str]:
    import torchaudio.pipelines as pipelines

    b = getattr(pipelines, name)
    return b._rnnt_path, b._global_stats_path, b._sp_model_path


def resolve_bundle(model: str) -> tuple[Any, str]:
    """An ``RNNTBundle`` whose three assets are local files, and where they are."""
    import torch
    import torchaudio.pipelines as pipelines

    from desktop_asr.paths import models_dir

    folder = Path(model).expanduser()
    if folder.is_dir():
        if (folder / CONFIG_FILE).is_file():
            return _bundle_from_config(folder), str(folder)
        base = getattr(pipelines, DEFAULT_BUNDLE)
        return _localised(base, [folder]), str(folder)
    name = model.removeprefix("torchaudio:")
    bundle = getattr(pipelines, name, None)
    if not isinstance(bundle, pipelines.RNNTBundle):
        raise ModelError(f"{model!r} is not an Emformer RNN-T folder or torchaudio RNN-T bundle "
                         f"(the one torchaudio ships is {DEFAULT_BUNDLE})")
    hub = Path(torch.hub.get_dir()) / "torchaudio"
    ours = models_dir() / "torchaudio"
    return _localised(bundle, [ours, hub], keep_layout=True), name


def _localised(bundle: Any, roots: list[Path], *, keep_layout: bool = False) -> Any:
    keys = (bundle._rnnt_path, bundle._global_stats_path, bundle._sp_model_path)
    found, missing = [], []
    for key in keys:
        rel = Path(key) if keep_layout else Path(Path(key).name)
        hit = next((r / rel for r in roots if (r / rel).is_file()), None)
        if hit is None and keep_layout:  # also accept the three files side by side
            hit = next((r / Path(key).name for r in roots if (r / Path(key).name).is_file()),
                       None)
        (found if hit else missing).append(hit or key)
    if missing:
        urls = ", ".join(_ASSET_URL + k for k in missing)
        raise ModelError(f"the Emformer RNN-T model needs {len(missing)} file(s) that are not on "
                         f"this machine: download {urls} and put them in {roots[0]}")
    # An absolute key makes torchaudio's asset lookup return the file as is, with no download.
    return dataclasses.replace(bundle, _rnnt_path=str(found[0].resolve()),
                               _global_stats_path=str(found[1].resolve()),
                               _sp_model_path=str(found[2].resolve()))


def _bundle_from_config(folder: Path) -> Any:
    import torchaudio.pipelines as pipelines
    from torchaudio.models import emformer_rnnt_model

    try:
        cfg = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        files = {k: folder / cfg[k] for k in ("weights", "global_stats", "sentencepiece")}
        factory = partial(emformer_rnnt_model, **cfg["factory"])
        bundle = pipelines.RNNTBundle(
            _rnnt_path=str(files["weights"].resolve()), _rnnt_factory_func=factory,
            _global_stats_path=str(files["global_stats"].resolve()),
            _sp_model_path=str(files["sentencepiece"].resolve()),
            _right_padding=int(cfg.get("right_padding", 4)), _blank=int(cfg["blank"]),
            _sample_rate=int(cfg.get("sample_rate", SAMPLE_RATE)),
            _n_fft=int(cfg.get("n_fft", 400)), _n_mels=int(cfg.get("n_mels", 80)),
            _hop_length=int(cfg.get("hop_length", 160)),
            _segment_length=int(cfg["factory"]["segment_length"]),
            _right_context_length=int(cfg["factory"]["right_context_length"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{folder / CONFIG_FILE} is not a valid Emformer RNN-T config: "
                         f"{exc!r}") from exc
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise ModelError(f"Emformer RNN-T folder {folder} lacks {', '.join(missing)}")
    if bundle.sample_rate != SAMPLE_RATE:
        raise ModelError(f"{folder}: sample_rate must be {SAMPLE_RATE}")
    return bundle


class EmformerEngine:
    """Emformer RNN-T with torchaudio's incremental beam search; one model, many streams."""

    name = "conformer"

    def __init__(self, config: EngineConfig | None = None, *, bundle: Any | None = None,
                 beam_width: int = 10, language: str = "en") -> None:
        import torch  # noqa: F401

        from desktop_asr.engines.ctc_engine import resolve_torch_device

        try:
            import sentencepiece  # noqa: F401
        except ImportError as exc:
            raise MissingExtraError("the Emformer RNN-T engine", "sentencepiece", "torch") from exc

        self.config = config or EngineConfig()
        model = self.config.model
        if model == EngineConfig().model:
            model = DEFAULT_BUNDLE
        path = model
        if bundle is None:
            bundle, path = resolve_bundle(model)
        device, compute = resolve_torch_device(self.config)
        if compute != "float32":
            log.info("the Emformer RNN-T runs in float32 (asked for %s)", compute)
            compute = "float32"
        try:
            self._decoder = bundle.get_decoder()
            self._features = bundle.get_streaming_feature_extractor()
            self._sp = bundle.get_token_processor().sp_model
        except (RuntimeError, OSError, KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"cannot load the Emformer RNN-T from {path}: "
                             f"{str(exc).splitlines()[0]}") from exc
        self._device = device
        self._decoder.model.to(device)
        self._features.to(device)
        self.segment_samples = bundle.segment_length * bundle.hop_length
        self.context_samples = bundle.right_context_length * bundle.hop_length
        self.beam_width = beam_width
        self._drop = {self._sp.unk_id(), self._sp.eos_id(), self._sp.pad_id()}
        self._lock = threading.Lock()
        self.capabilities = EngineCapabilities(streaming_native=True, word_timestamps=True,
                                               languages=(language,), translate=False,
                                               hotwords=False, needs_gpu=False)
        self.info = EngineInfo(engine=self.name, model=model, model_path=str(path),
                               device=device, compute_type=compute,
                               cpu_threads=self.config.cpu_threads,
                               extra={"kind": "emformer-rnnt", "decoder": f"beam{beam_width}"})
        log.info("loaded Emformer RNN-T %s on %s", path, device)

    def create_stream(self) -> EmformerStream:
        """Fresh per-stream decoding state over this engine's shared model."""
        return EmformerStream(self)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The model knows one language: return it with probability 1."""
        return self.capabilities.languages[0], 1.0

    def transcribe(self, audio: np.ndarray, *, prompt: str = "",
                   options: DecodeOptions | None = None,
                   progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None) -> list[Segment]:
        """Stream the whole buffer through a fresh decoder; times relative to its first sample."""
        opts = options or DecodeOptions()
        if opts.hotwords:
            raise ValueError("the Emformer RNN-T engine cannot boost hotwords; remove them or "
                             "use the faster-whisper engine")
        if opts.task != "transcribe":
            raise ValueError("the Emformer RNN-T engine can only transcribe, not translate")
        if opts.language is not None and opts.language not in self.capabilities.languages:
            raise ValueError(f"this model only knows {self.capabilities.languages[0]!r}")
        if prompt:
            log.debug("the Emformer RNN-T engine ignores the text prompt")
        audio = check_audio(audio)
        stream = self.create_stream()
        step = self.segment_samples * 25  # report progress every few seconds of audio
        for pos in range(0, max(audio.size, 1), step):
            if cancel is not None and cancel.is_set():
                raise Cancelled("transcription cancelled")
            stream.accept(audio[pos:pos + step])
            if progress is not None:
                progress(min(audio.size, pos + step) / SAMPLE_RATE)
        stream.finish()
        words = stream.words()
        if not words:
            return []
        return [Segment(start=words[0].start, end=words[-1].end,
                        text="".join(w.text for w in words),
                        words=tuple(words) if opts.word_timestamps else ())]

    def _step(self, chunk: np.ndarray, state: Any, hyps: Any) -> tuple[Any, Any]:
        import torch

        need = self.segment_samples + self.context_samples
        x = torch.from_numpy(np.pad(chunk, (0, need - chunk.size))).to(self._device)
        # One segment is a handful of frames: thousands of tiny ops, where a second intra-op
        # thread only adds synchronisation (8x slower on a busy 2-core machine, measured).
        threads = torch.get_num_threads()
        with self._lock, torch.inference_mode():
            torch.set_num_threads(1)
            try:
                feats, length = self._features(x)
                hyps, state = self._decoder.infer(feats, length.to(self._device),
                                                  self.beam_width, state=state, hypothesis=hyps)
            finally:
                torch.set_num_threads(threads)
        return state, hyps


class EmformerStream:
    """Incremental decoding state for one audio stream: feed samples, read words.

    The live pipeline keeps one per channel and resets it at every utterance, like sherpa-onnx's
    ``create_stream()`` / ``reset()``; the model stays in the engine.
    """

    def __init__(self, engine: EmformerEngine) -> None:
        self._engine = engine
        self.reset()

    def reset(self) -> None:
        """Forget everything heard: a new utterance starts from a fresh decoder state."""
        self._pending = np.zeros(0, np.float32)
        self._samples = 0  # accepted so far: after finish, no word starts beyond them
        self._state: Any = None
        self._hyps: Any = None
        self._steps = 0
        # Token -> segment index, for the tokens after the prefix every beam shares ("base");
        # the shared prefix is moved to _fixed so the keys stay short on hour-long audio.
        self._times: dict[tuple[int, ...], tuple[int, ...]] = {(): ()}
        self._base = 0
        self._fixed: tuple[int, ...] = ()
        self._finished = False

    def accept(self, samples: np.ndarray) -> None:
        """Add 16 kHz samples; decodes every full segment (plus right context) now available."""
        if self._finished:
            raise RuntimeError("this stream is finished; reset it or create a new one")
        seg, ctx = self._engine.segment_samples, self._engine.context_samples
        samples = check_audio(samples)
        self._samples += samples.size
        self._pending = np.concatenate([self._pending, samples])
        while self._pending.size >= seg + ctx:
            self._advance(self._pending[:seg + ctx])
            self._pending = self._pending[seg:]

    def finish(self) -> None:
        """Decode what is left (zero-padded); the stream accepts nothing afterwards."""
        if not self._finished and self._pending.size > self._engine.context_samples // 2:
            self._advance(self._pending)
        self._pending = np.zeros(0, np.float32)
        self._finished = True

    def _advance(self, chunk: np.ndarray) -> None:
        self._state, self._hyps = self._engine._step(chunk, self._state, self._hyps)
        times: dict[tuple[int, ...], tuple[int, ...]] = {}
        for hyp in self._hyps:
            toks = tuple(hyp[0][self._base:])
            k = len(toks)
            while k and toks[:k] not in self._times:
                k -= 1
            times[toks] = self._times.get(toks[:k], ()) + (self._steps,) * (len(toks) - k)
        suffixes = list(times)
        shared = 0
        limit = min(len(t) for t in suffixes)
        while shared < limit and all(t[shared] == suffixes[0][shared] for t in suffixes):
            shared += 1
        if shared:
            self._fixed += times[suffixes[0]][:shared]
            self._base += shared
            times = {t[shared:]: v[shared:] for t, v in times.items()}
        self._times = times
        self._steps += 1

    def words(self) -> list[Word]:
        """Words of the current best hypothesis, timed by the segment that emitted them.

        After :meth:`finish`, words are cut to the audio accepted (the last segment was padded).
        """
        return [w for w, _ in self._indexed_words()]

    def split_words(self) -> tuple[list[Word], list[Word]]:
        """The best hypothesis as (fixed words, tentative tail).

        A word is fixed when every beam shares its tokens *and* the start of the word after it,
        so it can neither change nor grow; fixed words are a prefix of every later hypothesis.
        After :meth:`finish` every word is fixed.
        """
        indexed = self._indexed_words()
        if self._finished:
            return [w for w, _ in indexed], []
        n = 0
        while n + 1 < len(indexed) and indexed[n + 1][1] < self._base:
            n += 1
        return [w for w, _ in indexed[:n]], [w for w, _ in indexed[n:]]

    def _indexed_words(self) -> list[tuple[Word, int]]:
        """Words of the best hypothesis, each with the index of its first token."""
        if not self._hyps:
            return []
        toks = tuple(self._hyps[0][0])
        tail = toks[self._base:]
        steps = self._fixed + self._times.get(tail, (self._steps,) * len(tail))
        seg_s = self._engine.segment_samples / SAMPLE_RATE
        sp = self._engine._sp
        # toks[0] is the start-of-sequence blank; the rest are real tokens.
        kept = [(t, st, i) for i, (t, st) in enumerate(zip(toks, steps)) if i
                and t not in self._engine._drop]
        per_step: dict[int, int] = {}
        for _, st, _ in kept:
            per_step[st] = per_step.get(st, 0) + 1
        # Tokens emitted in the same segment share its time span in order, so word times never
        # overlap and never run backwards.
        spans, seen = [], dict.fromkeys(per_step, 0)
        for _, st, _ in kept:
            n, j = per_step[st], seen[st]
            seen[st] += 1
            spans.append(((st + j / n) * seg_s, (st + (j + 1) / n) * seg_s))
        words: list[tuple[Word, int]] = []
        text, first, last, index = "", 0.0, 0.0, 0
        for (tok, _, i), (t0, t1) in zip(kept, spans):
            piece = sp.id_to_piece(tok)
            if piece.startswith("\u2581") and text:
                words.append((Word(first, last, " " + text), index))
                text = ""
            if not text:
                first, index = t0, i
            text += piece.replace("\u2581", "")
            last = t1
        if text:
            words.append((Word(first, last, " " + text), index))
        if self._finished:
            end = self._samples / SAMPLE_RATE
            words = [(w if w.end <= end else dataclasses.replace(w, end=end), i)
                     for w, i in words if w.start < end]
        return words
