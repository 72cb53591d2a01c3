"""The Live page's actions, shared by its buttons and the window's menus; keys from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget


@dataclass(frozen=True)
class LiveActions:
    """Every command of the Live page; enabled state is kept by the page."""

    start: QAction
    pause: QAction
    stop: QAction
    start_stop: QAction
    toggle_overlay: QAction
    click_through: QAction

    def all(self) -> list[QAction]:
        """Every action, for adding to a widget so its shortcuts work."""
        return [self.start, self.pause, self.stop, self.start_stop, self.toggle_overlay,
                self.click_through]


def _action(parent: QWidget, text: str, tip: str, key: str | None = None,
            name: str = "") -> QAction:
    action = QAction(text, parent)
    action.setToolTip(f"{tip} ({QKeySequence(key).toString()})" if key else tip)
    action.setStatusTip(tip)
    action.setObjectName(f"action_{name}")
    if key:
        action.setShortcut(QKeySequence(key))
        # Application-wide (also with the overlay focused), not global: see overlay.py.
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    return action


def make_live_actions(parent: QWidget, shortcuts: dict[str, str]) -> LiveActions:
    """Create the actions with the user's shortcuts (Settings.shortcuts)."""
    style = parent.style()
    start = _action(parent, "Start", "Start live captions", name="live_start")
    start.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
    pause = _action(parent, "Pause", "Mute the input for a while; captions resume on un-pause",
                    shortcuts.get("pause"), "live_pause")
    pause.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause))
    pause.setCheckable(True)
    stop = _action(parent, "Stop", "Stop, caption the last words and save the session",
                   name="live_stop")
    stop.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
    start_stop = _action(parent, "Start captions", "Start or stop live captions",
                         shortcuts.get("start_stop"), "live_start_stop")
    overlay = _action(parent, "Caption overlay", "Show or hide the always-on-top captions",
                      shortcuts.get("toggle_overlay"), "toggle_overlay")
    overlay.setCheckable(True)
    overlay.setIconText("Overlay")
    through = _action(parent, "Overlay click-through",
                      "Let clicks pass through the overlay (it cannot be dragged then)",
                      shortcuts.get("overlay_click_through", "Ctrl+Shift+T"), "click_through")
    through.setCheckable(True)
    return LiveActions(start, pause, stop, start_stop, overlay, through)
