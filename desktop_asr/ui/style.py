"""The app's style sheet: light touches on top of the platform style."""

from __future__ import annotations

STYLE_SHEET = """
QToolButton { padding: 4px 10px; }
QToolButton#primaryButton {
    background: #0d6efd; color: white; border: 1px solid #0b5ed7; border-radius: 5px;
    font-weight: bold; padding: 5px 16px;
}
QToolButton#primaryButton:hover { background: #0b5ed7; }
QToolButton#primaryButton:disabled { background: #9ec5fe; border-color: #9ec5fe; }
QToolButton#exportButton::menu-indicator { image: none; width: 0; }
QLabel#transcriptTitle { padding: 2px 0; }
QStatusBar QLabel { padding: 0 2px; }
"""
