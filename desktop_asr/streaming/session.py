"""SessionTranscript: committed live captions gathered into a Transcript, one segment per utterance."""

from __future__ import annotations

import threading
from typing import Sequence

from desktop_asr.streaming.events import TranscriptUpdate
from desktop_asr.types import Segment, Speaker, Transcript

# Two channels are the user's microphone and the computer's audio: label them as such.
_CHANNEL_SPEAKERS = {"mic": Speaker("mic", "You"), "system": Speaker("system", "System audio")}


class SessionTranscript:
    """Thread-safe accumulator of final updates (partials are for display only)."""

    def __init__(self, channel_labels: Sequence[str], *, model: str | None = None,
                 source: str | None = None) -> None:
        self.channel_labels = tuple(channel_labels)
        self.model = model
        self.source = source
        self._segments: dict[tuple[str, int], Segment] = {}
        self._lock = threading.Lock()
        multi = len(self.channel_labels) > 1
        self.channel_speakers = {label: (_CHANNEL_SPEAKERS[label].id if multi and
                                         label in _CHANNEL_SPEAKERS else None)
                                 for label in self.channel_labels}

    def apply(self, update: TranscriptUpdate) -> None:
        """Add the words of a final update to its utterance's segment."""
        if update.kind != "final" or not update.segment.text.strip():
            return
        key = (update.channel, update.utterance)
        with self._lock:
            old = self._segments.get(key)
            seg = update.segment
            if old is None:
                merged = Segment(start=seg.start, end=seg.end, text=seg.text, words=seg.words,
                                 speaker=update.speaker)
            else:
                merged = Segment(start=min(old.start, seg.start), end=max(old.end, seg.end),
                                 text=old.text + seg.text, words=old.words + seg.words,
                                 speaker=old.speaker)
            self._segments[key] = merged

    def transcript(self, *, duration: float | None = None, language: str | None = None
                   ) -> Transcript:
        """The committed transcript so far, segments in time order."""
        with self._lock:
            segments = sorted(self._segments.values(), key=lambda s: (s.start, s.end))
        used = {s.speaker for s in segments if s.speaker}
        speakers = tuple(sp for sp in _CHANNEL_SPEAKERS.values() if sp.id in used)
        return Transcript(segments=tuple(segments), speakers=speakers, language=language,
                          duration=duration, source=self.source, model=self.model)
