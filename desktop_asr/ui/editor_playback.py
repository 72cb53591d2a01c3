"""Plays transcript segments for the editor: one Player per source file, errors as signals."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from desktop_asr.audio.playback import Player
from desktop_asr.errors import DesktopAsrError
from desktop_asr.types import Segment

log = logging.getLogger(__name__)


class SegmentPlayback(QObject):
    """Starts and stops segment playback and reports which row plays (None when none)."""

    playingChanged = Signal(object)   # row index or None
    errorOccurred = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source: Path | None = None
        self._player: Player | None = None
        self._row: int | None = None
        # PortAudio reports the end on its own thread; polling keeps the UI in its thread.
        self._poll = QTimer(self, interval=150)
        self._poll.timeout.connect(self._check)

    @property
    def player(self) -> Player | None:
        """The player of the current file, once something was played."""
        return self._player

    @property
    def playing_row(self) -> int | None:
        """The row whose audio plays now."""
        return self._row

    def set_source(self, source: Path | None) -> None:
        """Stop, and forget the decoded audio when the file changes."""
        self.stop()
        if source != self._source and self._player is not None:
            self._player.close()
            self._player = None
        self._source = source

    def toggle(self, row: int, segment: Segment) -> None:
        """Play ``segment`` (row ``row``); if that row plays already, stop it."""
        if self._source is None:
            return
        if self._row == row and self._player is not None and self._player.is_playing:
            self.stop()
            return
        if self._player is None:
            self._player = Player(self._source)
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # first play decodes
        try:
            self._player.play(segment.start, segment.end)
        except (DesktopAsrError, ValueError) as exc:
            self.errorOccurred.emit(f"cannot play the audio: {exc}")
            self._set_row(None)
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._set_row(row)
        self._poll.start()

    def stop(self) -> None:
        """Stop playing."""
        if self._player is not None:
            self._player.stop()
        self._set_row(None)

    def close(self) -> None:
        """Stop and release the decoded audio."""
        self.stop()
        if self._player is not None:
            self._player.close()

    def _set_row(self, row: int | None) -> None:
        if row is None:
            self._poll.stop()
        if row != self._row:
            self._row = row
            self.playingChanged.emit(row)

    def _check(self) -> None:
        if self._player is None or not self._player.is_playing:
            self.stop()  # also closes the finished stream, releasing the device
