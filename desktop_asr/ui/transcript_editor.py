"""The transcript editor: segments to edit, speakers to rename or merge, find, play, autosave.

Every edit is a pure function from ``transcript_model`` applied to the frozen Transcript held
by an :class:`EditHistory`; widgets only show the current state. Edits are saved to the
transcript store about a second after the last one (and at once when the file changes).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QVBoxLayout, QWidget

from desktop_asr import transcript_store
from desktop_asr.audio.playback import Player
from desktop_asr.errors import DesktopAsrError
from desktop_asr.types import Transcript
from desktop_asr.ui import transcript_model as edits
from desktop_asr.ui.editor_find import FindBar
from desktop_asr.ui.editor_playback import SegmentPlayback
from desktop_asr.ui.editor_speakers import SpeakersBar
from desktop_asr.ui.editor_table import COL_TEXT, SegmentTable, SegmentTableModel
from desktop_asr.ui.progress import format_stamp

log = logging.getLogger(__name__)


def _action(parent: QWidget, text: str, *keys: str | QKeySequence.StandardKey,
            context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetWithChildrenShortcut
            ) -> QAction:
    action = QAction(text, parent)
    action.setObjectName("action_" + text.rstrip("…").lower().replace(" ", "_"))
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.setShortcutContext(context)
    if keys:
        action.setToolTip(f"{text} ({QKeySequence(keys[0]).toString()})")
    parent.addAction(action)
    return action


class TranscriptEditor(QWidget):
    """Edits one file's transcript; the page gives it the source path and the transcription."""

    errorOccurred = Signal(str)
    edited = Signal(object)   # Transcript, after every edit, undo or redo
    saved = Signal(object)    # Path of the autosaved JSON

    AUTOSAVE_MS = 1000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SegmentTableModel(self)
        self.table = SegmentTable(self)
        self.table.setModel(self.model)
        self.find_bar = FindBar(self)
        self.speakers = SpeakersBar(self)
        self._history: edits.EditHistory | None = None
        self._source: Path | None = None
        self._base = ""
        self._dirty = False
        self.restored = False  # True when the shown transcript came from the store
        self._matches: tuple[edits.Match, ...] = ()
        self._match: int | None = None
        self.playback = SegmentPlayback(self)
        self._autosave = QTimer(self, singleShot=True, interval=self.AUTOSAVE_MS)
        self._autosave.timeout.connect(self.flush)
        self.find_action = _action(self, "Find…", QKeySequence.StandardKey.Find,
                                   context=Qt.ShortcutContext.WindowShortcut)
        self.undo_action = _action(self, "Undo edit", "Ctrl+Z")
        self.redo_action = _action(self, "Redo edit", "Ctrl+Shift+Z", "Ctrl+Y")
        # Space only while the table itself has focus: the text fields need their spaces.
        self.play_action = _action(self.table, "Play segment", "Space",
                                   context=Qt.ShortcutContext.WidgetShortcut)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.find_bar)
        layout.addWidget(self.speakers)
        layout.addWidget(self.table, 1)
        self._connect()
        self._update_actions()

    def _connect(self) -> None:
        self.model.textEdited.connect(self.edit_text)
        self.speakers.renameRequested.connect(self.rename_speaker)
        self.speakers.mergeRequested.connect(self.merge_speakers)
        self.find_bar.queryChanged.connect(self.find)
        self.find_bar.nextRequested.connect(self.find_next)
        self.find_bar.previousRequested.connect(self.find_previous)
        self.find_bar.closed.connect(self._on_find_closed)
        self.find_action.triggered.connect(self.find_bar.open_bar)
        self.undo_action.triggered.connect(self.undo)
        self.redo_action.triggered.connect(self.redo)
        self.play_action.triggered.connect(
            lambda: self.play_segment(self.table.currentIndex().row()))
        self.table.playRequested.connect(self.play_segment)
        self.playback.playingChanged.connect(self.model.set_playing)
        self.playback.errorOccurred.connect(self.errorOccurred)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_menu)

    # -- what is shown --------------------------------------------------------------------

    def transcript(self) -> Transcript | None:
        """The transcript with every edit so far, or None when nothing is shown."""
        return None if self._history is None else self._history.current

    def set_transcript(self, source: Path | None, transcript: Transcript | None) -> None:
        """Show a file's transcription, or its saved edit when one was made on that same one."""
        self.flush()
        self.playback.set_source(source)
        self._source, self.restored = source, False
        if transcript is None:
            self._history, self._base = None, ""
        else:
            self._base = transcript_store.fingerprint(transcript)
            saved = None if source is None else transcript_store.load_edited(source, self._base)
            self.restored = saved is not None
            self._history = edits.EditHistory(saved or transcript)
        self._refresh()

    def plain_text(self) -> str:
        """The shown transcript as lines of "[mm:ss] Speaker: text"."""
        t = self.transcript()
        if t is None:
            return ""
        lines = []
        for seg in t.segments:
            who = t.speaker_label(seg.speaker)
            lines.append(f"{format_stamp(seg.start)} {who + ': ' if who else ''}"
                         f"{seg.text.strip()}")
        return "\n".join(lines)

    # -- edits ----------------------------------------------------------------------------

    @Slot(int, str)
    def edit_text(self, row: int, text: str) -> None:
        """Replace the text of segment ``row``."""
        if self._history is not None:
            self._apply(edits.edit_segment_text(self._history.current, row, text))

    @Slot(str, str)
    def rename_speaker(self, speaker_id: str, name: str) -> None:
        """Show ``speaker_id`` as ``name`` everywhere (blank name: back to the id)."""
        if self._history is not None:
            self._apply(edits.rename_speaker(self._history.current, speaker_id, name))

    @Slot(str, str)
    def merge_speakers(self, keep: str, drop: str) -> None:
        """Give every segment of ``drop`` to ``keep`` and remove ``drop``."""
        if self._history is not None:
            self._apply(edits.merge_speakers(self._history.current, keep, drop))

    @Slot()
    def undo(self) -> None:
        """Take back the last edit."""
        if self._history is not None and self._history.undo():
            self._changed()

    @Slot()
    def redo(self) -> None:
        """Make the last undone edit again."""
        if self._history is not None and self._history.redo():
            self._changed()

    def _apply(self, transcript: Transcript) -> None:
        assert self._history is not None
        if self._history.apply(transcript):
            self._changed()
        else:
            self._refresh()  # e.g. a rename to the same name: put the chip text back

    def _changed(self) -> None:
        self._dirty = True
        self._autosave.start()
        self._refresh()
        self.edited.emit(self.transcript())

    @Slot()
    def flush(self) -> Path | None:
        """Save a pending edit now; returns the file written, None if nothing was pending."""
        self._autosave.stop()
        if not self._dirty or self._history is None or self._source is None:
            return None
        try:
            path = transcript_store.save_edited(self._source, self._history.current, self._base)
        except (DesktopAsrError, OSError) as exc:  # stays dirty: the next edit or flush retries
            detail = getattr(exc, "strerror", None) or exc
            self.errorOccurred.emit(f"could not save your edits: {detail} (export the "
                                    "transcript to keep them)")
            return None
        self._dirty = False
        self.saved.emit(path)
        return path

    def _refresh(self) -> None:
        t = self.transcript() or Transcript()
        self.model.set_transcript(t)
        self.speakers.set_transcript(t)
        self.table.resizeRowsToContents()
        self.find(self.find_bar.query if self.find_bar.isVisible() else "", keep_place=True)
        self._update_actions()

    def _update_actions(self) -> None:
        shown = self._history is not None
        self.undo_action.setEnabled(shown and self._history.can_undo)
        self.redo_action.setEnabled(shown and self._history.can_redo)
        self.find_action.setEnabled(shown)
        self.play_action.setEnabled(shown and self._source is not None)

    # -- find -----------------------------------------------------------------------------

    @Slot(str)
    def find(self, query: str, keep_place: bool = False) -> int:
        """Highlight every match of ``query`` and go to the first; returns the match count."""
        old = self._match
        self._matches = edits.find_matches(self.transcript() or Transcript(), query)
        if not self._matches:
            self._match = None
        elif keep_place and old is not None:
            self._match = min(old, len(self._matches) - 1)
        else:
            self._match = 0
        self._show_match(scroll=not keep_place)
        return len(self._matches)

    @Slot()
    def find_next(self) -> None:
        """Go to the next match (after the last: the first)."""
        if self._matches:
            self._match = ((self._match or 0) + 1) % len(self._matches)
            self._show_match()

    @Slot()
    def find_previous(self) -> None:
        """Go to the previous match (before the first: the last)."""
        if self._matches:
            self._match = ((self._match or 0) - 1) % len(self._matches)
            self._show_match()

    def match_count(self) -> tuple[int | None, int]:
        """(index of the current match or None, number of matches)."""
        return self._match, len(self._matches)

    def _show_match(self, scroll: bool = True) -> None:
        self.model.set_matches(self._matches, self._match)
        self.find_bar.show_count(self._match, len(self._matches))
        if scroll and self._match is not None:
            index = self.model.index(self._matches[self._match].segment, COL_TEXT)
            self.table.setCurrentIndex(index)
            self.table.scrollTo(index)

    def _on_find_closed(self) -> None:
        self.find("")
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- playback -------------------------------------------------------------------------

    @property
    def player(self) -> Player | None:
        """The player of the shown file, once something was played."""
        return self.playback.player

    @Slot(int)
    def play_segment(self, row: int) -> None:
        """Play segment ``row`` of the source file; playing it again stops it."""
        t = self.transcript()
        if t is not None and 0 <= row < len(t.segments):
            self.playback.toggle(row, t.segments[row])

    @Slot()
    def stop(self) -> None:
        """Stop playing."""
        self.playback.stop()

    def shutdown(self) -> None:
        """Save pending edits and release the audio output."""
        self.flush()
        self.playback.close()

    def _show_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        t = self.transcript()
        if not index.isValid() or t is None:
            return
        seg = t.segments[index.row()]
        menu = QMenu(self)
        menu.addAction(self.play_action)
        menu.addAction("Edit text", lambda: self.table.edit(index.siblingAtColumn(COL_TEXT)))
        if seg.speaker is not None:
            menu.addSeparator()
            menu.addAction(f"Rename {t.speaker_label(seg.speaker)}…",
                           lambda: self.speakers.start_rename(seg.speaker or ""))
            menu.addMenu(self.speakers.merge_menu(seg.speaker, menu))
        menu.addSeparator()
        menu.addActions([self.undo_action, self.redo_action])
        menu.exec(self.table.viewport().mapToGlobal(pos))
