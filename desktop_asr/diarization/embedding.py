"""Speaker embeddings from resemblyzer's pretrained GE2E encoder (weights ship in its wheel)."""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop_asr.diarization.types import SpeechRegion
from desktop_asr.errors import MissingExtraError, ModelError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
MEL_HOP = 160            # resemblyzer's mel frames are 10 ms apart
NORM_TARGET_DBFS = -30   # the level resemblyzer's preprocessing brings speech up to
BATCH = 64
RESEMBLYZER = "0.1.4"
EMBEDDING_SIZE = 256


@dataclass(frozen=True, eq=False)
class EmbeddedWindows:
    """Embedding windows of a recording: spans (n, 2) in seconds, unit vectors (n, 256)."""

    spans: np.ndarray
    vectors: np.ndarray

    def __len__(self) -> int:
        return int(self.spans.shape[0])


def _import_backend() -> tuple[Any, Any]:
    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError("Speaker diarization", "torch", "diarization") from exc
    try:
        with warnings.catch_warnings():
            # resemblyzer 0.1.4 imports scipy.ndimage.morphology, deprecated in SciPy 1.x.
            warnings.simplefilter("ignore", DeprecationWarning)
            import resemblyzer
    except ImportError as exc:
        err = MissingExtraError("Speaker diarization", "resemblyzer", "diarization")
        # resemblyzer is installed on its own: its webrtcvad requirement clashes with
        # webrtcvad-wheels, which already provides the module.
        err.args = (f"{err} and then: pip install --no-deps resemblyzer=={RESEMBLYZER}",)
        raise err from exc
    return torch, resemblyzer


def check_backend() -> None:
    """Raise MissingExtraError now, before any work, when torch or resemblyzer is missing."""
    _import_backend()


@functools.lru_cache(maxsize=1)
def load_encoder() -> Any:
    """The GE2E VoiceEncoder on the CPU, loaded once per process from resemblyzer's wheel."""
    _, resemblyzer = _import_backend()
    try:
        encoder = resemblyzer.VoiceEncoder(device="cpu", verbose=False)
    except Exception as exc:  # resemblyzer raises a bare Exception for a missing file
        raise ModelError(f"resemblyzer's voice encoder could not be loaded: {exc}") from exc
    encoder.eval()
    return encoder


def window_spans(regions: list[SpeechRegion] | tuple[SpeechRegion, ...], window: float,
                 hop: float, min_window: float) -> np.ndarray:
    """Windows of ``window`` s every ``hop`` s inside each region; shorter regions whole."""
    spans: list[tuple[float, float]] = []
    for r in regions:
        if r.duration < min_window:
            continue
        if r.duration <= window:
            spans.append((r.start, r.end))
            continue
        count = int(np.ceil((r.duration - window) / hop)) + 1
        starts = np.linspace(r.start, r.end - window, count)
        spans.extend((float(s), float(s) + window) for s in starts)
    return np.asarray(spans, dtype=np.float64).reshape(-1, 2)


def embed_windows(audio: np.ndarray, spans: np.ndarray) -> EmbeddedWindows:
    """L2-normalised GE2E embedding of each span of 16 kHz mono ``audio``."""
    torch, resemblyzer = _import_backend()
    encoder = load_encoder()
    if len(spans) == 0:
        return EmbeddedWindows(spans, np.zeros((0, EMBEDDING_SIZE), dtype=np.float32))
    wav = resemblyzer.normalize_volume(np.asarray(audio, dtype=np.float32), NORM_TARGET_DBFS,
                                       increase_only=True)
    mel = resemblyzer.wav_to_mel_spectrogram(wav)
    # Start and length are rounded separately so windows of one duration share one length.
    starts = np.rint(spans[:, 0] * SAMPLE_RATE / MEL_HOP).astype(int)
    lengths = np.maximum(np.rint((spans[:, 1] - spans[:, 0]) * SAMPLE_RATE / MEL_HOP), 1)
    frames = np.stack([starts, starts + lengths.astype(int)], axis=1)
    vectors = np.zeros((len(spans), EMBEDDING_SIZE), dtype=np.float32)
    # Windows of one length go through the LSTM together; padding would change the result.
    by_length: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(frames):
        by_length.setdefault(int(b - a), []).append(i)
    with torch.inference_mode():
        for length, idx in by_length.items():
            for k in range(0, len(idx), BATCH):
                chunk = idx[k:k + BATCH]
                batch = np.stack([_mel_slice(mel, frames[i, 0], length) for i in chunk])
                out = encoder(torch.from_numpy(batch)).numpy()
                vectors[chunk] = out
    return EmbeddedWindows(spans, vectors)


def embed_snippets(snippets: list[np.ndarray]) -> np.ndarray:
    """L2-normalised GE2E embedding of each snippet, each brought to level on its own.

    Unlike :func:`embed_windows` (one level for the whole recording) the result for a snippet
    does not depend on what else is embedded with it, which a live stream needs.
    """
    torch, resemblyzer = _import_backend()
    encoder = load_encoder()
    vectors = np.zeros((len(snippets), EMBEDDING_SIZE), dtype=np.float32)
    mels = []
    for piece in snippets:
        wav = resemblyzer.normalize_volume(np.asarray(piece, dtype=np.float32),
                                           NORM_TARGET_DBFS, increase_only=True)
        mel = resemblyzer.wav_to_mel_spectrogram(wav)
        # The mel frames the span covers, as embed_windows counts them.
        length = max(1, int(np.rint(piece.size / MEL_HOP)))
        mels.append(_mel_slice(mel, 0, length))
    by_length: dict[int, list[int]] = {}
    for i, mel in enumerate(mels):
        by_length.setdefault(mel.shape[0], []).append(i)
    # A few windows at a time beside a running speech decoder: more than one intra-op thread
    # only fights the decoder for the cores (measured 0.6 s instead of ~5 ms per window on a
    # loaded 2-core machine). OpenMP's thread count is per calling thread, so nothing else
    # is affected, and it is put back.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            for idx in by_length.values():
                for k in range(0, len(idx), BATCH):
                    chunk = idx[k:k + BATCH]
                    batch = torch.from_numpy(np.stack([mels[i] for i in chunk]))
                    vectors[chunk] = encoder(batch).numpy()
    finally:
        torch.set_num_threads(threads)
    return vectors


def _mel_slice(mel: np.ndarray, start: int, length: int) -> np.ndarray:
    piece = mel[start:start + length]
    if piece.shape[0] < length:
        piece = np.pad(piece, ((0, length - piece.shape[0]), (0, 0)))
    return piece
