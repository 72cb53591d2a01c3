"""Live speaker labels on their own thread, so embeddings never hold up the captions.

The live pipeline hands over every audio chunk and every committed stretch of speech; this
worker runs an :class:`OnlineDiarizer` per diarized channel and answers each committed stretch
with its speaker once the frames under it are decided (the label never changes afterwards).
Speakers whose voice matches an enrolled profile are named as soon as they have spoken long
enough. At the end, :meth:`LiveDiarizer.finalise` re-diarizes each channel's whole audio and maps
the result onto the live speaker ids.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from desktop_asr.diarization.finalise import Finalisation, map_speakers, rename_turns
from desktop_asr.diarization.online import OnlineDiarizer, speaker_id
from desktop_asr.diarization.types import DiarizationOptions, SpeakerTurn
from desktop_asr.errors import DesktopAsrError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class LiveSpeakerOptions:
    """Live speaker labels: the clustering options, the speaker cap, the finalise pass, names."""

    diarization: DiarizationOptions = field(default_factory=DiarizationOptions)
    max_speakers: int = 8
    delay_windows: int = 0          # windows a label waits for more evidence (0.5 s each)
    finalise: bool = True           # re-diarize the whole session at stop
    name_after: float = 6.0         # seconds a speaker talks before matching enrolled voices
    max_keep_hours: float = 3.0     # audio kept for the finalise pass (float32, 230 MB/hour)

    def __post_init__(self) -> None:
        if not 1 <= self.max_speakers <= 20:
            raise ValueError("the live speaker cap must be within 1..20")
        if not 0 <= self.delay_windows <= 40:
            raise ValueError("delay_windows must be within 0..40")
        if self.name_after < 1.0 or self.max_keep_hours <= 0:
            raise ValueError("name_after must be >= 1 s and max_keep_hours > 0")


@dataclass(frozen=True)
class SegmentLabel:
    """The committed stretch of ``channel``/``utterance`` starting at ``start`` is ``speaker``."""

    channel: str
    utterance: int
    start: float
    speaker: str | None


@dataclass(frozen=True)
class SpeakerName:
    """Speaker ``speaker`` matched the enrolled voice ``name``."""

    speaker: str
    name: str


@dataclass
class _Pending:
    channel: str
    utterance: int
    start: float
    spans: list[tuple[float, float]]
    submitted: float


class LiveDiarizer:
    """Online diarization of some channels of a live stream, on a worker thread."""

    def __init__(self, channels: Sequence[str], diarized: Sequence[str],
                 options: LiveSpeakerOptions | None = None) -> None:
        self.options = options or LiveSpeakerOptions()
        self.channels = tuple(channels)
        self.diarized = tuple(c for c in self.channels if c in diarized)
        self._index = {c: self.channels.index(c) for c in self.diarized}
        self._prefix = {c: ("" if len(self.diarized) == 1 else
                            "".join(ch if ch.isalnum() else "_" for ch in c.upper()) + "_")
                        for c in self.diarized}
        self._queue: queue.Queue = queue.Queue()
        self._out: list[SegmentLabel | SpeakerName] = []
        self._lock = threading.Lock()
        self._online: dict[str, OnlineDiarizer] = {}
        self._pending: list[_Pending] = []
        self._named: dict[str, str] = {}
        self._name_tried: dict[str, float] = {}
        self._candidate: dict[str, str | None] = {}
        self._profiles: list | None = None
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self.finalised: Finalisation | None = None
        self.label_delays: list[float] = []   # seconds from hand-over to label, per stretch

    # -- pipeline thread ------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker (the speaker model loads there, not on the caller's thread)."""
        self._thread = threading.Thread(target=self._run, name="live-speakers", daemon=True)
        self._thread.start()

    def feed(self, samples: np.ndarray) -> None:
        """Hand over the next chunk of the stream, shape (frames, channels)."""
        if self.diarized and self.error is None:
            self._queue.put(("audio", np.asarray(samples, dtype=np.float32)))

    def submit(self, channel: str, utterance: int, start: float,
               spans: list[tuple[float, float]]) -> None:
        """Ask for the speaker of a committed stretch (its words' spans, stream seconds)."""
        self._queue.put(("final", _Pending(channel, utterance, start, spans, time.monotonic())))

    def poll(self) -> list[SegmentLabel | SpeakerName]:
        """Labels and names found since the last call."""
        with self._lock:
            out, self._out = self._out, []
        return out

    def close(self, timeout: float | None = None) -> list[SegmentLabel | SpeakerName]:
        """End of stream: label everything still waiting, stop the worker, return the rest."""
        if self._thread is not None:
            self._queue.put(("close", None))
            self._thread.join(timeout)
        return self.poll()

    # -- results --------------------------------------------------------------------------
    def speaker_prefix(self, channel: str) -> str:
        """What this channel's speaker ids start with ("" when one channel is diarized)."""
        return self._prefix.get(channel, "")

    def online_turns(self, channel: str) -> tuple[SpeakerTurn, ...]:
        """The live speaker turns of a channel so far, in their shown ids."""
        od = self._online.get(channel)
        if od is None:
            return ()
        prefix = self._prefix[channel]
        return tuple(replace(t, speaker=prefix + t.speaker) for t in od.turns())

    def stats(self) -> dict[str, float]:
        """Work done: windows embedded, seconds spent embedding and clustering, label delays."""
        windows = sum(len(od._spans) for od in self._online.values())
        embed = sum(od.embed_seconds for od in self._online.values())
        cluster = sum(od.cluster_seconds for od in self._online.values())
        delays = sorted(self.label_delays)
        return {"windows": float(windows), "embed_seconds": embed,
                "cluster_seconds": cluster,
                "label_delay_median": delays[len(delays) // 2] if delays else 0.0,
                "label_delay_max": delays[-1] if delays else 0.0}

    def finalise(self) -> Finalisation | None:
        """Re-diarize each diarized channel's whole audio; ids follow the live ones.

        Call after :meth:`close`. None when there is nothing to re-diarize or it failed (the
        live labels then stand; the reason is logged and kept in ``error``).
        """
        from desktop_asr.diarization.pipeline import diarize, resolve_backend

        if not self.options.finalise or not self._online:
            return None
        started = time.perf_counter()
        opts = resolve_backend(replace(self.options.diarization,
                                       max_speakers=self.options.diarization.max_speakers
                                       or self.options.max_speakers))
        turns: dict[str, tuple[SpeakerTurn, ...]] = {}
        names: dict[str, str] = {}
        try:
            for channel, od in self._online.items():
                audio = od.audio()
                if audio.size < SAMPLE_RATE // 2:
                    continue
                prefix = self._prefix[channel]
                result = diarize(audio, opts)
                mapping = map_speakers(result.turns, self.online_turns(channel),
                                       lambda i, p=prefix: p + speaker_id(i))
                turns[channel] = rename_turns(result.turns, mapping)
                names.update({mapping[k]: v for k, v in result.names.items() if k in mapping})
        except (DesktopAsrError, ValueError, RuntimeError, MemoryError) as exc:
            self.error = f"speaker labels could not be settled: {exc}"
            log.warning("%s", self.error)
            return None
        self.finalised = Finalisation(turns, names, time.perf_counter() - started, opts.backend)
        return self.finalised

    # -- worker thread --------------------------------------------------------------------
    def _run(self) -> None:
        try:
            for channel in self.diarized:
                self._online[channel] = OnlineDiarizer(
                    self.options.diarization, max_speakers=self.options.max_speakers,
                    delay=self.options.delay_windows,
                    max_keep_seconds=self.options.max_keep_hours * 3600.0
                    if self.options.finalise else 0.0,
                    keep_audio=self.options.finalise)
            if self.options.diarization.name_from_profiles:
                from desktop_asr.diarization.profiles import load_profiles

                self._profiles = load_profiles()
        except Exception as exc:  # labels stop, captions go on
            self._fail(exc)
        closing = False
        while not closing:
            try:
                items = [self._queue.get(timeout=0.2)]
            except queue.Empty:
                continue
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            closing = self._step(items)

    def _step(self, items: list[tuple[str, object]]) -> bool:
        chunks = [obj for kind, obj in items if kind == "audio"]
        self._pending += [obj for kind, obj in items if kind == "final"]  # type: ignore[misc]
        closing = any(kind == "close" for kind, _ in items)
        if self.error is None:
            try:
                if chunks:
                    audio = np.concatenate(chunks)
                    for channel, od in self._online.items():
                        od.feed(audio[:, self._index[channel]])
                if closing:
                    for od in self._online.values():
                        od.flush()
                self._name_speakers()
            except Exception as exc:
                self._fail(exc)
        self._label_ready(everything=closing or self.error is not None)
        return closing

    def _label_ready(self, *, everything: bool) -> None:
        ready, waiting = [], []
        for item in self._pending:
            od = self._online.get(item.channel)
            end = max((e for _, e in item.spans), default=item.start)
            if everything or od is None or od.decided_until >= end:
                ready.append(item)
            else:
                waiting.append(item)
        self._pending = waiting
        if not ready:
            return
        now = time.monotonic()
        labels = []
        for item in ready:
            od = self._online.get(item.channel)
            who = od.speaker_of(item.spans) if od is not None and self.error is None else None
            if who is not None:
                who = self._prefix[item.channel] + who
            labels.append(SegmentLabel(item.channel, item.utterance, item.start, who))
            self.label_delays.append(now - item.submitted)
        with self._lock:
            self._out.extend(labels)

    def _name_speakers(self) -> None:
        """Name speakers that now match an enrolled voice (once; a name is never taken back)."""
        from desktop_asr.diarization.profiles import match_voices

        if not self._profiles:
            return
        hop = self.options.diarization.hop
        voices = {}
        for channel, od in self._online.items():
            cl = od.clusterer
            for i in range(cl.speakers):
                sid = self._prefix[channel] + speaker_id(i)
                vector, windows = cl.voice(i)
                speech = windows * hop
                # Checked again after every 3 s more of its speech, as the voice firms up.
                if (sid not in self._named and speech >= self.options.name_after
                        and speech >= self._name_tried.get(sid, 0.0) + 3.0):
                    voices[sid] = vector
                    self._name_tried[sid] = speech
        if not voices:
            return
        free = [p for p in self._profiles if p.name not in self._named.values()]
        found = match_voices(voices, free)
        confirmed = {}
        for sid in voices:
            # A name is given only when two checks in a row agree: early on one label may
            # still hold two voices, and a name once shown stays.
            if found.get(sid) and self._candidate.get(sid) == found[sid]:
                confirmed[sid] = found[sid]
            self._candidate[sid] = found.get(sid)
        if confirmed:
            self._named.update(confirmed)
            with self._lock:
                self._out.extend(SpeakerName(k, v) for k, v in confirmed.items())

    def _fail(self, exc: BaseException) -> None:
        self.error = f"live speaker labels stopped: {exc}"
        log.warning("%s", self.error, exc_info=not isinstance(exc, DesktopAsrError))

