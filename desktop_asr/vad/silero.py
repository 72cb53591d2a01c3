"""Silero VAD v6 (the ONNX file faster-whisper ships), run frame by frame for live audio."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from desktop_asr.errors import MissingExtraError, ModelError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAME_SAMPLES = 512
# The model sees each frame with the last 64 samples of the previous one in front of it.
CONTEXT_SAMPLES = 64
_STATE_SHAPE = (1, 1, 128)
MODEL_FILE = "silero_vad_v6.onnx"


def silero_model_path() -> Path:
    """Where faster-whisper installed the Silero VAD v6 ONNX model."""
    try:
        from faster_whisper.utils import get_assets_path
    except ImportError as exc:
        raise MissingExtraError("Silero voice detection", "faster_whisper", "core") from exc
    return Path(get_assets_path()) / MODEL_FILE


@functools.lru_cache(maxsize=4)
def _load_session(path: str) -> Any:
    # One session serves every stream: the weights are shared, per-stream state is ours.
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingExtraError("Silero voice detection", "onnxruntime", "core") from exc
    if not os.path.isfile(path):
        raise ModelError(f"the Silero VAD model is missing at {path}; reinstall faster-whisper")
    opts = onnxruntime.SessionOptions()
    # The ASR model runs beside us on the same two cores: one thread is plenty for 0.2 ms work.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.enable_cpu_mem_arena = False
    opts.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(path, sess_options=opts,
                                               providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"the Silero VAD model at {path} could not be loaded: {exc}") from exc
    log.debug("loaded Silero VAD from %s", path)
    return session


class SileroDetector:
    """Streaming Silero VAD: 512-sample frames, context and LSTM state carried between them."""

    frame_samples: int = FRAME_SAMPLES

    def __init__(self, model_path: str | os.PathLike[str] | None = None) -> None:
        path = Path(model_path) if model_path is not None else silero_model_path()
        self._session = _load_session(str(path))
        self._input = np.zeros((1, CONTEXT_SAMPLES + FRAME_SAMPLES), dtype=np.float32)
        self.reset()

    def speech_probability(self, frame: np.ndarray) -> float:
        """Speech probability of the next 512-sample frame of the stream."""
        if frame.shape != (FRAME_SAMPLES,):
            raise ValueError(f"silero frames must hold {FRAME_SAMPLES} samples, got {frame.shape}")
        # The previous frame's tail is already in place at the front of the buffer.
        self._input[0, CONTEXT_SAMPLES:] = frame
        prob, self._h, self._c = self._session.run(
            None, {"input": self._input, "h": self._h, "c": self._c})
        self._input[0, :CONTEXT_SAMPLES] = self._input[0, -CONTEXT_SAMPLES:]
        return float(np.asarray(prob).reshape(-1)[0])

    def reset(self) -> None:
        """Clear the recurrent state and the context, as at the start of a stream."""
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._input[:] = 0.0
