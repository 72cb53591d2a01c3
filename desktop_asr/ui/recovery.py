"""The crash-recovery prompt: offer to rebuild the newest live session that never closed."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop_asr.settings import Settings, load_settings
from desktop_asr.streaming.journal import (
    dismiss_session,
    read_journal,
    recover_session,
    unfinished_sessions,
)
from desktop_asr.types import Transcript
from desktop_asr.ui.background import BackgroundCalls, CallResult
from desktop_asr.ui.error_banner import ErrorBanner
from desktop_asr.ui.session_store import OpenedSession, session_started

log = logging.getLogger(__name__)


def _word_count(journal: Path) -> int:
    return len(read_journal(journal)[0].text.split())


class RecoveryDialog(QDialog):
    """Recover / Discard / Later for one journal; ``recovered`` carries the Transcript.

    Reading and rebuilding run in the background, so the dialog can also be shown with
    ``open()`` instead of ``exec()`` while the main window stays usable.
    """

    recovered = Signal(object)

    def __init__(self, journal: Path, others: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover the interrupted session?")
        self.setObjectName("recoveryDialog")
        self.journal = journal
        self.transcript: Transcript | None = None
        self.words: int | None = None
        self._others = others
        self._recovering = False
        self._started = session_started(journal.parent)
        self.calls = BackgroundCalls(self._on_result, self)
        self.banner = ErrorBanner(self)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(self)
        self.recover_button = self.buttons.addButton("&Recover",
                                                     QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard_button = self.buttons.addButton("&Discard",
                                                     QDialogButtonBox.ButtonRole.DestructiveRole)
        self.later_button = self.buttons.addButton("&Later", QDialogButtonBox.ButtonRole.RejectRole)
        self.recover_button.setToolTip("Rebuild the transcript from the autosave journal")
        self.discard_button.setToolTip("Stop asking; the files stay in the sessions list")
        self.later_button.setToolTip("Ask again next time")
        self.recover_button.setDefault(True)
        self.recover_button.clicked.connect(self.recover)
        self.discard_button.clicked.connect(self.discard)
        self.later_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._update_text()
        self.calls.start("count", partial(_word_count, journal))

    def _update_text(self) -> None:
        words = "counting words…" if self.words is None else f"{self.words} words"
        more = (f"\n\n{self._others} older unfinished session(s) are in the sessions list."
                if self._others else "")
        self.message.setText(f"The last live session ({self._started:%d %b %Y %H:%M}, {words}) "
                             f"was interrupted. Recover it?{more}")

    def recover(self) -> None:
        """Rebuild the transcript, save transcript.json, mark the session recovered, close."""
        self._recovering = True
        self._enable(False)
        self.banner.dismiss()
        self.calls.start("recover", partial(recover_session, self.journal))

    def discard(self) -> None:
        """Stop offering this session (its files stay) and close."""
        try:
            dismiss_session(self.journal.parent)
        except OSError as exc:
            self.banner.show_error(f"cannot mark {self.journal.parent}: {exc.strerror or exc}")
            return
        self.done(QDialog.DialogCode.Rejected)

    @Slot(object)
    def _on_result(self, result: CallResult) -> None:
        if result.tag == "count":
            if result.error is None:
                self.words = result.value
                self._update_text()
            else:
                self.banner.show_error(f"cannot read {self.journal}: {result.error}")
            return
        if result.error is not None:
            self.banner.show_error(f"recovery failed: {result.error}")
            self._recovering = False
            self._enable(True)
            return
        self.transcript = result.value.transcript
        log.info("recovered %s", self.journal.parent)
        self.recovered.emit(self.transcript)
        self.accept()

    def _enable(self, enabled: bool) -> None:
        for b in (self.recover_button, self.discard_button, self.later_button):
            b.setEnabled(enabled)

    def reject(self) -> None:
        """Later / Escape; ignored while the recovery is being written."""
        if not self._recovering:
            super().reject()

    @property
    def busy(self) -> bool:
        """True while the journal is read or recovered."""
        return self.calls.pending > 0


def find_interrupted(settings: Settings | None = None) -> list[Path]:
    """Journals of unfinished sessions in the sessions folder, newest first."""
    return unfinished_sessions((settings or load_settings()).sessions_path())


def offer_recovery(parent: QWidget | None,
                   settings: Settings | None = None) -> OpenedSession | None:
    """Ask about the newest interrupted session; the recovered session, or None."""
    pending = find_interrupted(settings)
    if not pending:
        return None
    dialog = RecoveryDialog(pending[0], len(pending) - 1, parent)
    try:
        dialog.exec()
        if dialog.transcript is None:
            return None
        return OpenedSession(dialog.transcript, dialog.journal.parent)
    finally:
        dialog.deleteLater()

