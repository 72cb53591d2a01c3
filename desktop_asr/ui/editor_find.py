"""The transcript editor's find bar: a search field, the match count, previous/next, close."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

_STYLE = """
#findBar { background: palette(window); border: 1px solid palette(mid); border-radius: 5px; }
#findBar QToolButton { padding: 2px 6px; }
#findCount { color: #6c757d; padding: 0 4px; }
"""


class _FindField(QLineEdit):
    """Enter: next match; Shift+Enter: previous; Escape: close (before window shortcuts)."""

    next = Signal()
    previous = Signal()
    escape = Signal()

    def event(self, event: QEvent) -> bool:
        """Keep Escape from the window's Esc shortcut (Cancel transcription)."""
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Turn Enter, Shift+Enter and Escape into find commands."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.previous.emit()
            else:
                self.next.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
            return
        super().keyPressEvent(event)


class FindBar(QFrame):
    """Shows the match count; the editor does the searching."""

    queryChanged = Signal(str)
    nextRequested = Signal()
    previousRequested = Signal()
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.setStyleSheet(_STYLE)
        self.setAccessibleName("Find bar")
        self.field = _FindField(self)
        self.field.setAccessibleName("Find in transcript")
        self.field.setPlaceholderText("Find in transcript…")
        self.field.setClearButtonEnabled(True)
        self.count = QLabel(self)
        self.count.setObjectName("findCount")
        self.count.setAccessibleName("Matches")
        self.previous_button = self._button("▲", "Previous match (Shift+Enter)", "Previous match")
        self.next_button = self._button("▼", "Next match (Enter)", "Next match")
        self.close_button = self._button("✕", "Close the find bar (Escape)", "Close find bar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 3, 3)
        layout.setSpacing(2)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.previous_button)
        layout.addWidget(self.next_button)
        layout.addWidget(self.close_button)
        self.field.textChanged.connect(self.queryChanged)
        self.field.next.connect(self.nextRequested)
        self.field.previous.connect(self.previousRequested)
        self.field.escape.connect(self.close_bar)
        self.previous_button.clicked.connect(self.previousRequested)
        self.next_button.clicked.connect(self.nextRequested)
        self.close_button.clicked.connect(self.close_bar)
        self.hide()

    def _button(self, text: str, tip: str, name: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(name)
        button.setAutoRaise(True)
        return button

    @property
    def query(self) -> str:
        """The text searched for."""
        return self.field.text()

    def open_bar(self) -> None:
        """Show the bar and put the cursor in the field, its text selected for retyping."""
        self.show()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def close_bar(self) -> None:
        """Hide the bar; the editor clears the highlights."""
        self.hide()
        self.closed.emit()

    def show_count(self, current: int | None, total: int) -> None:
        """Show "2 of 5", "No matches", or nothing when the field is empty."""
        if not self.query.strip():
            text = ""
        elif total == 0:
            text = "No matches"
        else:
            text = f"{(current or 0) + 1} of {total}"
        self.count.setText(text)
        self.count.setAccessibleDescription(text)
        for button in (self.previous_button, self.next_button):
            button.setEnabled(total > 0)
