"""The one place the UI shows errors: a dismissible, non-modal banner at the top of a window."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

log = logging.getLogger(__name__)

_STYLE = """
#errorBanner { background: #fdecea; border: 1px solid #f1aeb5; border-radius: 6px; }
#errorBanner QLabel { color: #842029; background: transparent; }
#errorBanner QToolButton { border: none; color: #842029; font-weight: bold; padding: 2px 6px; }
#errorBanner QToolButton:hover { background: #f8d7da; border-radius: 4px; }
"""


class ErrorBanner(QFrame):
    """Collects error messages until the user dismisses them; never blocks the window."""

    dismissed = Signal()
    MAX_SHOWN = 5

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet(_STYLE)
        self.setAccessibleName("Errors")
        self._messages: list[str] = []
        icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._label = QLabel(self)
        self._label.setObjectName("errorBannerText")
        self._label.setWordWrap(True)
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._close = QToolButton(self)
        self._close.setText("✕")
        self._close.setToolTip("Dismiss")
        self._close.setAccessibleName("Dismiss errors")
        self._close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._label, 1)
        layout.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def close_button(self) -> QToolButton:
        """The dismiss button (exposed for keyboard focus and tests)."""
        return self._close

    def messages(self) -> tuple[str, ...]:
        """Messages shown now, oldest first."""
        return tuple(self._messages)

    def text(self) -> str:
        """The banner's visible text."""
        return self._label.text()

    def show_error(self, message: str) -> None:
        """Add one single-line message and show the banner."""
        message = " ".join(str(message).split()) or "unknown error"
        log.warning("error shown to user: %s", message)
        self._messages.append(message)
        shown = self._messages[-self.MAX_SHOWN:]
        hidden = len(self._messages) - len(shown)
        lines = ([f"… and {hidden} earlier error(s)"] if hidden else []) + shown
        self._label.setText("\n".join(lines))
        self._label.setAccessibleDescription("\n".join(lines))
        self.show()

    def dismiss(self) -> None:
        """Forget every message and hide the banner."""
        self._messages.clear()
        self._label.clear()
        self.hide()
        self.dismissed.emit()
