"""Online diarization of one audio channel: speech regions, embedding windows, stable labels.

Audio is fed as it is captured. The Silero VAD runs over it with the offline settings, so the
regions it settles on are the ones the offline pass finds; inside each region a window of
``window`` seconds is embedded every ``hop`` seconds as soon as its audio is there (and once
more at the region's end), labelled by :class:`OnlineClusterer`, and the 50-ms frames it is
nearest to take that label. Frame labels are frozen once decided, so ``speaker_of`` gives the
same answer for a stretch of speech whenever it is asked after ``decided_until``.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from desktop_asr.diarization.embedding import embed_snippets
from desktop_asr.diarization.online_cluster import Decision, OnlineClusterer
from desktop_asr.diarization.regions import regions_from_probabilities
from desktop_asr.diarization.smoothing import FRAME, fill_gaps, merge_short_flips, turns_from_labels
from desktop_asr.diarization.types import DiarizationOptions, SpeakerTurn, SpeechRegion
from desktop_asr.vad import VadOptions, VoiceDetector, make_detector

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WARMUP_SECONDS = 20.0  # at most this long after the first speech labels wait for more of it


def speaker_id(index: int) -> str:
    """The id of the index-th speaker: SPEAKER_00, SPEAKER_01, ..."""
    return f"SPEAKER_{index:02d}"


class OnlineDiarizer:
    """Incremental diarization of one channel; not thread-safe (one feeding thread)."""

    def __init__(self, options: DiarizationOptions | None = None, *, max_speakers: int = 8,
                 delay: int = 0,
                 detector: VoiceDetector | None = None, keep_audio: bool = True,
                 max_keep_seconds: float = 3 * 3600.0,
                 clusterer: OnlineClusterer | None = None) -> None:
        self.options = options or DiarizationOptions()
        self.clusterer = clusterer or OnlineClusterer(self.options, max_speakers=max_speakers,
                                                      delay=delay)
        self._det = detector or make_detector(VadOptions(kind="silero"))
        self._det.reset()
        self._n = int(self._det.frame_samples)
        self._vad_seconds = self._n / SAMPLE_RATE
        self._chunks: list[np.ndarray] = []     # the stream's audio, when kept
        self._samples = 0                       # stream samples received
        self._kept = 0                          # samples of _chunks (a prefix of the stream)
        self.keep_audio = keep_audio
        self._max_keep = int(max_keep_seconds * SAMPLE_RATE)
        self.audio_truncated = False
        self._recent = np.zeros(0, np.float32)  # float tail for windows (>= one window)
        self._recent_start = 0                  # stream sample of _recent[0]
        self._pending = np.zeros(0, np.float32)  # samples not yet run through the VAD
        self._probs: list[float] = []
        self._settled_frame = 0   # VAD frame from which regions may still change
        self.regions: list[SpeechRegion] = []   # settled regions
        self._open: SpeechRegion | None = None  # the region still growing, if any
        self._open_windows = 0                  # windows placed in the open region
        self._spans: list[tuple[float, float]] = []
        self._window_labels: list[int] = []
        self._window_scores: list[np.ndarray] = []
        self._raw = np.full(0, -1, dtype=int)     # frame labels before turn smoothing
        self._raw_end = 0
        self._raw_last: int | None = None         # the last speech frame's raw label
        self._frames = np.full(0, -1, dtype=int)  # frozen frame labels
        self._decided = 0                          # frames [0, _decided) are frozen
        self.embed_seconds = 0.0
        self.cluster_seconds = 0.0

    # -- feeding --------------------------------------------------------------------------
    def feed(self, samples: np.ndarray) -> None:
        """Append the next mono 16 kHz float32 samples of the stream and label what is ready."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if samples.size == 0:
            return
        self._store(samples)
        self._pending = np.concatenate([self._pending, samples])
        frames = self._pending.size // self._n
        if frames:
            block = self._pending[: frames * self._n].reshape(frames, self._n)
            self._probs.extend(self._det.speech_probability(f) for f in block)
            self._pending = self._pending[frames * self._n:]
        self._update(final=False)

    def flush(self) -> None:
        """The stream ended: settle the last region and label everything."""
        self._update(final=True, flush=True)

    @property
    def seconds(self) -> float:
        """Stream time received."""
        return self._samples / SAMPLE_RATE

    @property
    def decided_until(self) -> float:
        """Stream time up to which frame labels are final."""
        return self._decided * FRAME

    # -- reading --------------------------------------------------------------------------
    def speaker_of(self, spans: list[tuple[float, float]]) -> str | None:
        """Speaker of a stretch of speech given as (start, end) spans, from frozen frames.

        The speaker covering most of the spans' frames; when none of them is labelled speech,
        the nearest labelled frame before (or, failing that, after) them; None when no frame is
        labelled yet.
        """
        decided = self._frames[: self._decided]
        votes = np.zeros(max(self.clusterer.speakers, 1))
        for start, end in spans:
            a = max(0, int(np.floor(start / FRAME)))
            b = min(decided.size, max(a + 1, int(np.ceil(end / FRAME))))
            part = decided[a:b]
            part = part[part >= 0]
            if part.size:
                votes += np.bincount(part, minlength=votes.size)[: votes.size]
        if votes.sum() > 0:
            return speaker_id(int(np.argmax(votes)))
        labelled = np.flatnonzero(decided >= 0)
        if labelled.size == 0:
            return None
        at = int(np.floor(min(s for s, _ in spans) / FRAME)) if spans else 0
        before = labelled[labelled <= at]
        pick = before[-1] if before.size else labelled[0]
        return speaker_id(int(decided[pick]))

    def turns(self) -> tuple[SpeakerTurn, ...]:
        """Speaker turns from the frozen frame labels, pauses within a speaker's turn filled."""
        frames = fill_gaps(self._frames[: self._decided], self.options.max_gap)
        names = [speaker_id(i) for i in range(self.clusterer.speakers)]
        return turns_from_labels(frames, names, self.decided_until)

    def speakers(self) -> tuple[str, ...]:
        """Ids of the speakers found so far, in order of first appearance."""
        return tuple(speaker_id(i) for i in range(self.clusterer.speakers))

    def audio(self) -> np.ndarray:
        """The kept audio of the stream as float32 (the whole stream unless truncated)."""
        if not self._chunks:
            return np.zeros(0, np.float32)
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0]

    # -- internals ------------------------------------------------------------------------
    def _store(self, samples: np.ndarray) -> None:
        self._samples += samples.size
        if self.keep_audio:
            # Kept exactly as captured (float32, 230 MB an hour), so the finalise pass sees
            # what an offline run of the same audio would.
            if self._kept + samples.size <= self._max_keep:
                self._chunks.append(samples.copy())
                self._kept += samples.size
            elif not self.audio_truncated:
                self.audio_truncated = True
                log.warning("session longer than %.0f h: the finalise pass will cover only the "
                            "first part", self._max_keep / SAMPLE_RATE / 3600)
        self._recent = np.concatenate([self._recent, samples])

    def _trim(self) -> None:
        """Drop audio no window can need any more: before the open region, or before the
        earliest start (padding included) of a region not found yet."""
        start = self._settled_frame * self._vad_seconds - self.options.pad - 0.1
        if self._open is not None:
            start = min(start, self._open.start)
        keep_from = max(0, int(start * SAMPLE_RATE))
        if keep_from > self._recent_start:
            self._recent = self._recent[keep_from - self._recent_start:]
            self._recent_start = keep_from

    def _update(self, *, final: bool, flush: bool = False) -> None:
        opts = self.options
        fs = self._vad_seconds
        now = self.seconds if final else len(self._probs) * fs
        tail = np.asarray(self._probs[self._settled_frame:], dtype=np.float32)
        offset = self._settled_frame * fs
        found = regions_from_probabilities(
            tail, fs, max(0.0, now - offset), threshold=opts.vad_threshold,
            min_speech=opts.min_speech, min_silence=opts.min_silence, pad=0.0)
        # A region is settled once no later speech can join it: past the pause that bridges
        # speech and the padding that merges neighbours.
        margin = max(opts.min_silence, 2 * opts.pad) + fs
        spans: list[tuple[float, float]] = []
        opened: SpeechRegion | None = None
        for raw in found:
            start, end = raw.start + offset, raw.end + offset
            region = SpeechRegion(max(0.0, start - opts.pad), min(self.seconds, end + opts.pad))
            if opened is None and (final or now - end >= margin):
                self._continue_open(region)
                spans += self._place_windows(region, closed=True)
                self._settle(region)
                self._settled_frame = int(round(end / fs))
            elif opened is None:
                opened = region
        if opened is not None:
            self._continue_open(opened)
            spans += self._place_windows(opened, closed=False)
        self._open = opened
        if opened is None:
            self._open_windows = 0
        self._label(spans)
        if flush:
            self._apply(self.clusterer.flush())
        elif (not self.clusterer.warm and self._spans
              and now - self._spans[0][0] > WARMUP_SECONDS):
            # Sparse speech: labels for the first lines should not wait for ever.
            self._apply(self.clusterer.end_warmup())
        self._decide(now, final)
        self._trim()

    def _continue_open(self, region: SpeechRegion) -> None:
        """Windows already placed count only while the open region keeps its start."""
        if self._open is None or abs(self._open.start - region.start) > 1e-6:
            self._open_windows = 0

    def _settle(self, region: SpeechRegion) -> None:
        if self.regions and region.start <= self.regions[-1].end:
            last = self.regions[-1]
            self.regions[-1] = SpeechRegion(last.start, max(last.end, region.end))
        else:
            self.regions.append(region)
        self._open = None
        self._open_windows = 0

    def _place_windows(self, region: SpeechRegion, *, closed: bool) -> list[tuple[float, float]]:
        """New windows of ``region``: every hop from its start, plus its end once closed."""
        opts = self.options
        limit = region.end if closed else min(region.end, self.seconds)
        out = []
        k = self._open_windows
        while region.start + k * opts.hop + opts.window <= limit + 1e-6:
            s = region.start + k * opts.hop
            out.append((s, s + opts.window))
            k += 1
        self._open_windows = k
        if closed and region.duration >= opts.min_window:
            last_end = region.start + (k - 1) * opts.hop + opts.window if k else None
            if last_end is None or region.end - last_end > 0.05:
                out.append((max(region.start, region.end - opts.window), region.end))
        return out

    def _label(self, spans: list[tuple[float, float]]) -> None:
        if not spans:
            return
        snippets = []
        for start, end in spans:
            a = int(round(start * SAMPLE_RATE)) - self._recent_start
            b = int(round(end * SAMPLE_RATE)) - self._recent_start
            if a < 0:
                raise RuntimeError("online diarization lost the audio of a window")
            snippets.append(self._recent[a:b])
        t0 = time.perf_counter()
        vectors = embed_snippets(snippets)
        t1 = time.perf_counter()
        self._spans.extend(spans)
        self._window_labels.extend([-1] * len(spans))
        self._window_scores.extend([np.zeros(0)] * len(spans))
        # One window at a time, as when they arrive: labels do not depend on how much audio
        # came in one piece (a worker catching up gets the same answer).
        for vec in vectors:
            self._apply(self.clusterer.add(vec[None, :]))
        self.embed_seconds += t1 - t0
        self.cluster_seconds += time.perf_counter() - t1

    def _apply(self, decisions: list[Decision]) -> None:
        for d in decisions:
            self._window_labels[d.index] = d.speaker
            self._window_scores[d.index] = d.scores

    def _decide(self, now: float, final: bool) -> None:
        """Freeze frame labels up to where no future window can claim them.

        Raw labels are computed up to that point; as offline, turns shorter than ``min_turn``
        are merged into a neighbour, which needs ``min_turn`` of look-ahead: frames are frozen
        that much later (all of them at the end of the stream).
        """
        opts = self.options
        if final:
            limit = now
        elif self._open is not None:
            # Windows still to come in the open region start at or after the next hop.
            limit = self._open.start + self._open_windows * opts.hop
        else:
            # Speech that started just now is not a region yet (too short), and its padding
            # reaches back before its first frame.
            limit = now - (opts.min_speech + opts.pad + self._vad_seconds)
            if self.regions:
                limit = max(limit, self.regions[-1].end)
        waiting = [s for (s, _), lab in zip(self._spans, self._window_labels) if lab < 0]
        if waiting:  # frames a window still waiting for its label covers stay open
            limit = min(limit, waiting[0])
        end = int(np.floor(limit / FRAME + 1e-9))
        if end > self._raw_end:
            if end > self._raw.size:  # grow by doubling: an hour is 72 000 frames
                grow = max(end - self._raw.size, self._raw.size, 1024)
                self._raw = np.concatenate([self._raw, np.full(grow, -1)])
                self._frames = np.concatenate([self._frames, np.full(grow, -1)])
            self._fill_frames(self._raw_end, end)
            self._raw_end = end
        lookahead = 0 if final else round(opts.min_turn / FRAME)
        freeze = self._raw_end - lookahead
        if freeze <= self._decided:
            return
        ctx = max(0, self._decided - 4 * max(lookahead, 1))
        merged = merge_short_flips(np.concatenate([self._frames[ctx:self._decided],
                                                   self._raw[self._decided:self._raw_end]]),
                                   opts.min_turn)
        self._frames[self._decided:freeze] = merged[self._decided - ctx:freeze - ctx]
        self._decided = freeze

    def _fill_frames(self, a: int, b: int) -> None:
        """Raw labels of frames [a, b): as offline, the speaker with the best summed score of
        the windows covering the frame (nearer a window's centre counts more); speech no
        window covers takes the label before it."""
        spans = np.asarray(self._spans, dtype=np.float64).reshape(-1, 2)
        lo, hi = a * FRAME, b * FRAME
        near = np.flatnonzero((spans[:, 1] > lo) & (spans[:, 0] < hi)) if spans.size else \
            np.zeros(0, dtype=int)
        k = max(self.clusterer.speakers, 1)
        # A speaker found after a window was labelled scores the lowest cosine there is for
        # it: the window had no chance to prefer it.
        scores = np.full((near.size, k), -1.0)
        for row, i in enumerate(near):
            got = self._window_scores[i]
            scores[row, : got.size] = got
        spans = spans[near]
        centre = spans.mean(axis=1) if near.size else np.zeros(0)
        half = (spans[:, 1] - spans[:, 0]) / 2 if near.size else np.zeros(0)
        last = self._raw_last
        regions = [*self.regions] + ([self._open] if self._open is not None else [])
        for r in regions:
            i = max(a, int(np.floor(r.start / FRAME)))
            j = min(b, int(np.ceil(r.end / FRAME)))
            if i >= j:
                continue
            mids = (np.arange(i, j) + 0.5) * FRAME
            cover = (spans[None, :, 0] <= mids[:, None]) & (spans[None, :, 1] > mids[:, None])
            weight = cover * np.clip(1.0 - np.abs(mids[:, None] - centre[None, :])
                                     / np.maximum(half[None, :], 1e-6), 0.05, 1.0)
            best = np.argmax(weight @ scores, axis=1) if near.size else np.zeros(j - i, int)
            covered = cover.any(axis=1)
            for f in range(j - i):
                if covered[f]:
                    last = int(best[f])
                elif last is None and self._window_labels and self._window_labels[0] >= 0:
                    last = self._window_labels[0]
                if last is not None:
                    self._raw[i + f] = last
        self._raw_last = last
