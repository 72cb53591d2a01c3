"""Enrolled voice profiles: a short sample per person names that person's speaker later.

A profile is the mean GE2E embedding of the sample's speech windows, kept as a small JSON file
under the data folder's ``voices/``. After diarization each speaker's own mean embedding is
compared with every profile; a speaker is named only when the match is confident (cosine at
least ``MATCH_THRESHOLD`` and ``MATCH_MARGIN`` ahead of the next profile), one profile per
speaker.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_asr import paths
from desktop_asr.errors import DesktopAsrError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
EMBEDDER = "resemblyzer-ge2e"
VOICES_DIR = "voices"
# Measured on the shared clips (docs/benchmarks.md): the mean embeddings of two recordings of one
# person score 0.76-0.96 (0.83 and above with 3 s of speech or more), of two different people
# at most 0.80.
MATCH_THRESHOLD = 0.82
MATCH_MARGIN = 0.04
MIN_SPEECH_SECONDS = 3.0
_NAME_MAX = 60


class ProfileError(DesktopAsrError):
    """A voice profile cannot be made, read or found."""


@dataclass(frozen=True, eq=False)
class VoiceProfile:
    """One enrolled voice: its name and the unit-length mean embedding of its sample."""

    name: str
    vector: np.ndarray
    speech_seconds: float
    created: str = ""
    source: str = ""
    embedder: str = EMBEDDER

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"name": self.name, "embedder": self.embedder,
                "speech_seconds": round(self.speech_seconds, 2), "created": self.created,
                "source": self.source, "vector": [round(float(v), 6) for v in self.vector]}


def voices_dir() -> Path:
    """Where voice profiles are kept (the data folder's ``voices/``)."""
    return paths.data_dir() / VOICES_DIR


def check_name(name: str) -> str:
    """The cleaned profile name, or ProfileError with the reason."""
    clean = " ".join(str(name).split())
    if not clean:
        raise ProfileError("a voice profile needs a name")
    if len(clean) > _NAME_MAX:
        raise ProfileError(f"a voice profile name is at most {_NAME_MAX} characters")
    return clean


def _file_name(name: str) -> str:
    slug = re.sub(r"[^\w-]+", "_", name.lower(), flags=re.UNICODE).strip("_") or "voice"
    return f"{slug}.json"


def voice_vector(audio: np.ndarray) -> tuple[np.ndarray, float]:
    """Mean GE2E embedding (unit length) of the speech in 16 kHz ``audio``, and its seconds."""
    from desktop_asr.diarization.embedding import embed_windows, window_spans
    from desktop_asr.diarization.regions import speech_regions
    from desktop_asr.diarization.types import DiarizationOptions

    opts = DiarizationOptions()
    regions = speech_regions(audio, threshold=opts.vad_threshold, min_speech=opts.min_speech,
                             min_silence=opts.min_silence, pad=opts.pad)
    speech = float(sum(r.duration for r in regions))
    spans = window_spans(regions, opts.window, opts.hop, opts.min_window)
    if len(spans) == 0:
        return np.zeros(0), 0.0
    mean = embed_windows(audio, spans).vectors.astype(np.float64).mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-8), speech


def enroll(name: str, audio: np.ndarray, *, source: str = "", folder: Path | None = None,
           replace: bool = False) -> VoiceProfile:
    """Make and save the profile ``name`` from a sample of that person speaking alone."""
    name = check_name(name)
    folder = folder or voices_dir()
    existing = {p.name.lower(): p for p in load_profiles(folder)}
    if name.lower() in existing and not replace:
        raise ProfileError(f"a voice profile named {name!r} already exists (remove it first, "
                           "or enroll again with --replace)")
    vector, speech = voice_vector(np.asarray(audio, dtype=np.float32).reshape(-1))
    if speech < MIN_SPEECH_SECONDS or vector.size == 0:
        raise ProfileError(f"the sample holds {speech:.1f} s of speech; a voice profile needs at "
                           f"least {MIN_SPEECH_SECONDS:.0f} s of that person speaking alone")
    profile = VoiceProfile(name, vector, speech, time.strftime("%Y-%m-%dT%H:%M:%S%z"), source)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _file_name(name)
    fd, tmp = tempfile.mkstemp(prefix=".voice-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(profile.to_dict(), fh)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    old = existing.get(name.lower())
    if old is not None and _file_name(old.name) != target.name:
        (folder / _file_name(old.name)).unlink(missing_ok=True)
    log.info("enrolled voice %r (%.1f s of speech)", name, speech)
    return profile


def load_profiles(folder: Path | None = None) -> list[VoiceProfile]:
    """Every readable profile in ``folder``, sorted by name; unreadable files are skipped."""
    folder = folder or voices_dir()
    out = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            vector = np.asarray(data["vector"], dtype=np.float64)
            if data.get("embedder", EMBEDDER) != EMBEDDER or vector.ndim != 1 or not vector.size:
                raise ValueError("not a GE2E voice profile")
            out.append(VoiceProfile(check_name(data["name"]), vector / np.linalg.norm(vector),
                                    float(data.get("speech_seconds", 0.0)),
                                    str(data.get("created", "")), str(data.get("source", ""))))
        except (OSError, ValueError, KeyError, TypeError, ProfileError) as exc:
            log.warning("skipping voice profile %s: %s", path, exc)
    return sorted(out, key=lambda p: p.name.lower())


def remove_profile(name: str, folder: Path | None = None) -> None:
    """Delete the profile ``name`` (any letter case); ProfileError when there is none."""
    folder = folder or voices_dir()
    for profile in load_profiles(folder):
        if profile.name.lower() == check_name(name).lower():
            (folder / _file_name(profile.name)).unlink(missing_ok=True)
            return
    raise ProfileError(f"no voice profile named {name!r}")


def match_voices(voices: Mapping[str, np.ndarray], profiles: list[VoiceProfile], *,
                 threshold: float = MATCH_THRESHOLD, margin: float = MATCH_MARGIN
                 ) -> dict[str, str]:
    """Speaker id -> profile name for the confident matches, each profile used once."""
    ids = [i for i, v in voices.items() if v is not None and np.asarray(v).size]
    if not ids or not profiles:
        return {}
    a = np.stack([np.asarray(voices[i], dtype=np.float64) for i in ids])
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-8)
    b = np.stack([p.vector for p in profiles])
    sims = a @ b.T
    found: dict[str, str] = {}
    # Best pairs first; a speaker needs its best profile clearly ahead of its second best.
    for flat in np.argsort(-sims, axis=None):
        i, j = np.unravel_index(int(flat), sims.shape)
        if sims[i, j] < threshold:
            break
        if ids[i] in found or profiles[j].name in found.values():
            continue
        others = np.delete(sims[i], j)
        if others.size and sims[i, j] - others.max() < margin:
            continue
        found[ids[i]] = profiles[j].name
    return found
