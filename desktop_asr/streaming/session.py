"""SessionTranscript: committed live captions gathered into a Transcript.

Each utterance of a channel collects the final updates committed in it; consecutive ones with
the same speaker form one segment (one segment per utterance unless the speaker changes). On a
diarized channel each final update gets its speaker once (:meth:`SessionTranscript.label`); the
finalise pass then relabels every word (:meth:`SessionTranscript.relabel`). Speaker names
(renames, enrolled voices) apply everywhere, before and after the finalise pass.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from desktop_asr.diarization.assign import speaker_at
from desktop_asr.diarization.types import SpeakerTurn
from desktop_asr.streaming.events import TranscriptUpdate
from desktop_asr.types import Segment, Speaker, Transcript, Word

# Two channels are the user's microphone and the computer's audio: label them as such.
MIC, SYSTEM = "mic", "system"
_CHANNEL_NAMES = {MIC: "You", SYSTEM: "System audio"}


@dataclass
class _Piece:
    segment: Segment
    speaker: str | None
    labelled: bool   # the diarizer's label arrived (it is given once)


class SessionTranscript:
    """Thread-safe accumulator of final updates (partials are for display only)."""

    def __init__(self, channel_labels: Sequence[str], *, model: str | None = None,
                 source: str | None = None, diarized: Sequence[str] = (),
                 user_name: str = "You") -> None:
        self.channel_labels = tuple(channel_labels)
        self.model = model
        self.source = source
        self.diarized = tuple(c for c in self.channel_labels if c in diarized)
        self._pieces: dict[tuple[str, int], list[_Piece]] = {}
        self._names: dict[str, str] = {}        # given by the user: always win
        self._voices: dict[str, str] = {}       # from enrolled voices: the finalise pass redoes
        self._settled: Transcript | None = None
        self._lock = threading.Lock()
        multi = len(self.channel_labels) > 1
        # The microphone is the user, the system audio "the others" (or, diarized, several).
        self.channel_speakers = {
            label: (label if multi and label in _CHANNEL_NAMES and label not in self.diarized
                    else None) for label in self.channel_labels}
        self._channel_names = {MIC: user_name or "You", SYSTEM: _CHANNEL_NAMES[SYSTEM]}

    # -- building -------------------------------------------------------------------------
    def apply(self, update: TranscriptUpdate) -> None:
        """Add the words of a final update to its utterance."""
        if update.kind != "final" or not update.segment.text.strip():
            return
        key = (update.channel, update.utterance)
        seg = replace(update.segment, speaker=None)
        with self._lock:
            self._pieces.setdefault(key, []).append(_Piece(seg, update.speaker, False))

    def label(self, channel: str, utterance: int, start: float, speaker: str | None) -> bool:
        """Give the final update starting at ``start`` its live speaker; once only."""
        with self._lock:
            for piece in self._pieces.get((channel, utterance), ()):
                if (not piece.labelled and piece.speaker is None
                        and abs(piece.segment.start - start) < 1e-6):
                    piece.speaker, piece.labelled = speaker, True
                    return True
        return False

    def name(self, speaker: str, name: str, *, from_voice: bool = False) -> None:
        """Show ``speaker`` as ``name`` (blank: back to its id) in everything from now on.

        ``from_voice`` names come from enrolled voices: they never override the user's names
        and the finalise pass replaces them with its own matches.
        """
        clean = " ".join(str(name).split())
        with self._lock:
            target = self._voices if from_voice else self._names
            if clean:
                target[speaker] = clean
            else:
                target.pop(speaker, None)

    @property
    def names(self) -> dict[str, str]:
        """Speaker id -> name shown (the user's, else an enrolled voice's)."""
        with self._lock:
            return {**self._voices, **self._names}

    @property
    def user_names(self) -> dict[str, str]:
        """Speaker id -> name the user gave."""
        with self._lock:
            return dict(self._names)

    def settle(self, transcript: Transcript) -> None:
        """Use ``transcript`` (the finalise pass's, e.g. from a journal) from now on."""
        with self._lock:
            self._settled = transcript
            self._voices = {spk.id: spk.name for spk in transcript.speakers
                            if spk.name and spk.id not in self._names}

    def relabel(self, turns: Mapping[str, Sequence[SpeakerTurn]], *,
                names: Mapping[str, str] | None = None,
                drop: set[tuple[str, int]] | frozenset = frozenset()) -> Transcript:
        """Relabel every word of the diarized channels from final ``turns`` and settle.

        Utterances in ``drop`` (e.g. the far side's echo on the microphone) are left out.
        ``names`` (the final pass's voice matches) replace the live ones; the user's names
        stay (a rename is never undone).
        """
        with self._lock:
            if names is not None:
                self._voices = {sid: n for sid, n in names.items()
                                if n not in self._names.values()}
            segments: list[Segment] = []
            for key, pieces in self._pieces.items():
                if key in drop:
                    continue
                channel_turns = turns.get(key[0])
                if channel_turns:
                    segments += _by_word(pieces, channel_turns)
                else:
                    segments += _runs(pieces)
            self._settled = self._build(segments, None, None)
            return self._settled

    # -- reading --------------------------------------------------------------------------
    def utterance_segments(self, channel: str) -> list[tuple[int, Segment]]:
        """(utterance, whole segment) of each utterance of ``channel`` so far."""
        with self._lock:
            out = []
            for (ch, utt), pieces in self._pieces.items():
                if ch == channel and pieces:
                    words = tuple(w for p in pieces for w in p.segment.words)
                    out.append((utt, Segment(start=min(p.segment.start for p in pieces),
                                             end=max(p.segment.end for p in pieces),
                                             text="".join(p.segment.text for p in pieces),
                                             words=words)))
            return sorted(out, key=lambda item: item[1].start)

    def transcript(self, *, duration: float | None = None, language: str | None = None
                   ) -> Transcript:
        """The committed transcript so far, segments in time order."""
        with self._lock:
            if self._settled is not None:
                return self._build(list(self._settled.segments), duration, language)
            segments = [seg for pieces in self._pieces.values() for seg in _runs(pieces)]
            return self._build(segments, duration, language)

    def _build(self, segments: list[Segment], duration: float | None,
               language: str | None) -> Transcript:
        segments.sort(key=lambda s: (s.start, s.end))
        used = list(dict.fromkeys(s.speaker for s in segments if s.speaker))
        fixed = [sid for sid in (MIC, SYSTEM) if sid in used]
        order = fixed + [sid for sid in used if sid not in fixed]
        shown = {**self._voices, **self._names}
        speakers = tuple(Speaker(sid, shown.get(sid) or self._channel_names.get(sid, ""))
                         for sid in order)
        return Transcript(segments=tuple(segments), speakers=speakers, language=language,
                          duration=duration, source=self.source, model=self.model)


def _segment(words: list[Word], template: Segment, speaker: str | None) -> Segment:
    return replace(template, start=min(w.start for w in words), end=max(w.end for w in words),
                   text="".join(w.text for w in words), words=tuple(words), speaker=speaker)


def _merge(group: list[Segment], speaker: str | None) -> Segment:
    return Segment(start=min(s.start for s in group), end=max(s.end for s in group),
                   text="".join(s.text for s in group),
                   words=tuple(w for s in group for w in s.words), speaker=speaker)


def _runs(pieces: list[_Piece]) -> list[Segment]:
    """Consecutive pieces with the same speaker as one segment each."""
    out: list[Segment] = []
    group: list[Segment] = []
    who: str | None = None
    for piece in pieces:
        if group and piece.speaker != who:
            out.append(_merge(group, who))
            group = []
        group.append(piece.segment)
        who = piece.speaker
    if group:
        out.append(_merge(group, who))
    return out


def _by_word(pieces: list[_Piece], turns: Sequence[SpeakerTurn]) -> list[Segment]:
    """Every word to the final speaker it overlaps most; runs of one speaker as segments."""
    out: list[Segment] = []
    words: list[Word] = []
    who: str | None = None
    for piece in pieces:
        if not piece.segment.words:  # no word times: the segment goes whole
            if words:
                out.append(_segment(words, piece.segment, who))
                words = []
            out.append(replace(piece.segment, speaker=speaker_at(
                turns, piece.segment.start, piece.segment.end)))
            continue
        for word in piece.segment.words:
            speaker = speaker_at(turns, word.start, word.end)
            if words and speaker != who:
                out.append(_segment(words, piece.segment, who))
                words = []
            words.append(word)
            who = speaker
    if words:
        out.append(_segment(words, pieces[-1].segment, who))
    return out
