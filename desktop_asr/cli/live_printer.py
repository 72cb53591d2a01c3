"""How ``desktop-asr live`` shows captions: lines per speaker, tentative words dimmed.

Committed words are printed once their speaker is known (at once without speaker labels, a
moment later with them): to a pipe or file each committed piece as ``[  12.34] Name: text``; on
a terminal one line per run of a speaker within an utterance, the line being spoken rewritten
in place with the words still waiting for their speaker and the tentative ones dimmed. ``--jsonl`` prints every event as one JSON object per line instead.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass

from desktop_asr.streaming.events import (
    LiveEvent,
    PipelineStatus,
    SpeakerNamed,
    SpeakersSettled,
    SpeakerUpdate,
    TranscriptUpdate,
)

_DIM, _RESET, _CLEAR = "\x1b[2m", "\x1b[0m", "\r\x1b[K"
_DEFAULT_NAMES = {"mic": "You", "system": "System audio"}
LAG_WARNING = 3.0  # seconds behind the audio that the terminal warns about


@dataclass
class _Piece:
    channel: str
    utterance: int
    start: float
    text: str
    speaker: str | None
    known: bool


class CaptionPrinter:
    """Prints live events; a closed reader (``| head``) sets ``closed`` instead of raising."""

    def __init__(self, jsonl: bool, tty: bool, *, diarized: tuple[str, ...] = (),
                 user_name: str = "You") -> None:
        self.jsonl, self.tty = jsonl, tty
        self.diarized = diarized
        self._names = {**_DEFAULT_NAMES, "mic": user_name}
        self._queue: list[_Piece] = []      # committed pieces not printed yet, in order
        self._line: tuple[str, int, str | None] | None = None   # the open line's key
        self._line_text = ""
        self._tentative: dict[str, str] = {}
        self._lock = threading.Lock()
        self.closed = threading.Event()
        self.settled: SpeakersSettled | None = None
        self._behind = False                # warned that captions fall behind
        self._overflows = 0                 # overflows already warned about

    def __call__(self, event: LiveEvent) -> None:
        if self.closed.is_set():
            return
        try:
            with self._lock:
                self._show(event)
                sys.stdout.flush()
        except BrokenPipeError:
            self.closed.set()

    def close(self) -> None:
        """Print what is left and end the current line."""
        with self._lock:
            if self.jsonl or self.closed.is_set():
                return
            try:
                for piece in self._queue:
                    piece.known = True
                self._flush()
                self._end_line()
                sys.stdout.flush()
            except BrokenPipeError:
                self.closed.set()

    # -- events ---------------------------------------------------------------------------
    def status(self, status: PipelineStatus) -> None:
        """A health report: a ``status`` line with ``--jsonl``; on the terminal, a warning on
        stderr when the captions fall behind the audio (and when they catch up) or audio is
        lost to overflows."""
        if self.closed.is_set():
            return
        with self._lock:
            try:
                if self.jsonl:
                    sys.stdout.write(json.dumps(status.to_json()) + "\n")
                    sys.stdout.flush()
                    return
                if status.lag >= LAG_WARNING and not self._behind:
                    self._behind = True
                    self._warn(f"captions are {status.lag:.1f}s behind the audio: decoding is "
                               "slower than real time here (a smaller model, or more --threads, "
                               "helps); no audio is dropped")
                elif status.lag < LAG_WARNING / 3 and self._behind:
                    self._behind = False
                    self._warn("captions caught up with the audio")
                if status.overflows > self._overflows:
                    self._overflows = status.overflows
                    self._warn(f"{status.overflows} capture overflow(s) so far: "
                               f"{status.frames_dropped / 16000:.1f}s of audio lost (the "
                               "machine is too busy to read the device in time)")
            except BrokenPipeError:
                self.closed.set()

    def _warn(self, text: str) -> None:
        lead = "\n" if self.tty and self._line_text else ""  # off the caption line being written
        sys.stderr.write(f"{lead}desktop-asr: warning: {text}\n")
        sys.stderr.flush()

    def _show(self, event: LiveEvent) -> None:
        if self.jsonl:
            sys.stdout.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
            if isinstance(event, SpeakersSettled):
                self.settled = event
            return
        if isinstance(event, TranscriptUpdate):
            if event.kind == "final":
                if event.segment.text.strip():
                    self._queue.append(_Piece(event.channel, event.utterance,
                                              event.segment.start, event.segment.text,
                                              event.speaker,
                                              event.channel not in self.diarized))
                self._tentative.pop(event.channel, None)
            else:
                self._tentative[event.channel] = event.segment.text
        elif isinstance(event, SpeakerUpdate):
            for piece in self._queue:
                if (piece.channel, piece.utterance) == (event.channel, event.utterance) and (
                        abs(piece.start - event.start) < 1e-6):
                    piece.speaker, piece.known = event.speaker, True
        elif isinstance(event, SpeakerNamed):
            self._names[event.speaker] = event.name
        elif isinstance(event, SpeakersSettled):
            self.settled = event
            for spk in event.transcript.speakers:
                if spk.name:
                    self._names[spk.id] = spk.name
        self._flush()
        if self.tty:
            self._render_open()

    # -- output ---------------------------------------------------------------------------
    def _label(self, speaker: str | None) -> str:
        if speaker is None:
            return ""
        return f"{self._names.get(speaker, speaker)}: "

    def _flush(self) -> None:
        """Move every leading piece whose speaker is known onto the lines."""
        while self._queue and self._queue[0].known:
            piece = self._queue.pop(0)
            if not self.tty:  # a pipe or file: each committed piece as its own line, at once
                sys.stdout.write(f"[{piece.start:7.2f}] {self._label(piece.speaker)}"
                                 f"{piece.text.strip()}\n")
                continue
            key = (piece.channel, piece.utterance, piece.speaker)
            if key != self._line:
                self._end_line()
                self._line, self._line_text = key, ""
            self._line_text += piece.text

    def _end_line(self) -> None:
        if self._line is None:
            return
        text = self._line_text.strip()
        if text:
            sys.stdout.write(_CLEAR + self._label(self._line[2]) + text + "\n")
        self._line, self._line_text = None, ""

    def _render_open(self) -> None:
        """The line being spoken: its committed words, then those waiting for a speaker and
        the tentative ones, dimmed."""
        shown = (self._label(self._line[2]) + self._line_text.strip()) if self._line else ""
        waiting = "".join(p.text for p in self._queue).strip()
        tentative = " ".join(t.strip() for t in self._tentative.values() if t.strip())
        tail = " ".join(t for t in (waiting, tentative) if t)
        sep = " " if shown and tail else ""
        sys.stdout.write(_CLEAR + shown + sep + _DIM + tail + _RESET)
