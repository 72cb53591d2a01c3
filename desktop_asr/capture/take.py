"""Record one take (a prompt read aloud) from any AudioSource, as mono 16 kHz float32.

Shared by the app's recording wizard (on a worker thread) and the terminal prompt recorder:
both stop on the user's word, at the source's end (a replayed file), or at a length limit, and
keep what was captured when the device goes away mid-take.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from desktop_asr.capture.base import SAMPLE_RATE, AudioSource, CaptureError, SourceEnded

log = logging.getLogger(__name__)

MAX_TAKE_SECONDS = 30.0  # one Whisper window: longer takes cannot be trained on whole


@dataclass(frozen=True)
class Take:
    """The captured samples, and why capture ended early when the device failed."""

    samples: np.ndarray = field(repr=False)
    interrupted: str | None = None

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return self.samples.size / SAMPLE_RATE


def record_take(source: AudioSource, stop: Callable[[], bool], *,
                max_seconds: float = MAX_TAKE_SECONDS,
                on_block: Callable[[np.ndarray], None] | None = None) -> Take:
    """Start ``source``, capture until ``stop()`` is true, it ends or ``max_seconds``, stop it.

    ``on_block`` sees each mono block as it arrives (for a level meter). A source that cannot
    start raises CaptureError; one that fails mid-take ends the take with what it gave.
    """
    source.start()
    parts: list[np.ndarray] = []
    frames = 0
    interrupted: str | None = None
    try:
        while frames < max_seconds * SAMPLE_RATE and not stop():
            try:
                chunk = source.read(0.05)
            except SourceEnded:
                break
            if chunk is None:
                continue
            samples = chunk.samples
            mono = (samples.mean(axis=1) if samples.ndim == 2 else samples).astype(np.float32)
            parts.append(mono)
            frames += mono.size
            if on_block is not None and mono.size:
                on_block(mono)
    except CaptureError as exc:  # unplugged mid-take: keep what was captured
        log.warning("recording stopped: %s", exc)
        interrupted = str(exc)
    finally:
        try:
            source.stop()
        except CaptureError as exc:
            log.debug("stopping the source: %s", exc)
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return Take(samples[:int(max_seconds * SAMPLE_RATE)], interrupted)
