"""Themes: the platform's own look, or a high-contrast one (black, white and yellow)."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

THEMES = ("system", "high-contrast")
BLACK, WHITE, YELLOW, GREY = "#000000", "#ffffff", "#ffff00", "#b0b0b0"

# Sizes are relative to the font (em) so the theme scales with HiDPI and the user's font size;
# borders stay thin device-independent pixels, which Qt scales by the screen's ratio itself.
HIGH_CONTRAST_STYLE = f"""
QWidget {{ background-color: {BLACK}; color: {WHITE}; }}
QPushButton, QToolButton, QComboBox, QLineEdit, QSpinBox, QDoubleSpinBox, QKeySequenceEdit,
QPlainTextEdit, QTextEdit, QListView, QTreeView, QTableView, QTabBar::tab {{
    border: 2px solid {WHITE}; padding: 0.2em 0.5em;
}}
QPushButton:hover, QToolButton:hover, QTabBar::tab:hover {{ border-color: {YELLOW}; }}
QTabBar::tab:selected {{ color: {YELLOW}; border-color: {YELLOW}; }}
*:focus {{ border: 4px solid {YELLOW}; outline: none; }}
QPushButton:disabled, QToolButton:disabled, QLabel:disabled, QCheckBox:disabled {{
    color: {GREY}; border-color: {GREY};
}}
QHeaderView::section {{ background-color: {BLACK}; color: {YELLOW}; border: 1px solid {WHITE};
    padding: 0.2em; font-weight: bold; }}
QTableView, QListView, QTreeView {{ gridline-color: {WHITE}; }}
::item:selected {{ background-color: {YELLOW}; color: {BLACK}; }}
QToolTip {{ background-color: {BLACK}; color: {YELLOW}; border: 2px solid {YELLOW}; }}
QProgressBar {{ border: 2px solid {WHITE}; text-align: center; }}
QProgressBar::chunk {{ background-color: {YELLOW}; }}
QCheckBox::indicator, QRadioButton::indicator {{ border: 2px solid {WHITE}; width: 0.9em;
    height: 0.9em; }}
QCheckBox::indicator:checked, QRadioButton::indicator:checked {{ background-color: {YELLOW}; }}
"""

_original: dict[int, tuple[QPalette, str]] = {}


def high_contrast_palette() -> QPalette:
    """Black backgrounds, white text, yellow selection and links; disabled text stays legible."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: BLACK, QPalette.ColorRole.WindowText: WHITE,
        QPalette.ColorRole.Base: BLACK, QPalette.ColorRole.AlternateBase: "#1a1a1a",
        QPalette.ColorRole.Text: WHITE, QPalette.ColorRole.Button: BLACK,
        QPalette.ColorRole.ButtonText: WHITE, QPalette.ColorRole.BrightText: YELLOW,
        QPalette.ColorRole.Highlight: YELLOW, QPalette.ColorRole.HighlightedText: BLACK,
        QPalette.ColorRole.ToolTipBase: BLACK, QPalette.ColorRole.ToolTipText: YELLOW,
        QPalette.ColorRole.Link: YELLOW, QPalette.ColorRole.LinkVisited: YELLOW,
        QPalette.ColorRole.PlaceholderText: GREY, QPalette.ColorRole.Light: WHITE,
        QPalette.ColorRole.Midlight: WHITE, QPalette.ColorRole.Mid: GREY,
        QPalette.ColorRole.Dark: GREY, QPalette.ColorRole.Shadow: WHITE,
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(GREY))
    return pal


def apply_theme(app: QApplication, theme: str) -> None:
    """Switch the whole app to ``theme`` ("system" or "high-contrast"); safe to call repeatedly."""
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, got {theme!r}")
    # Remember the platform look once, so "system" can bring it back after high contrast.
    saved = _original.setdefault(id(app), (QPalette(app.palette()), app.styleSheet()))
    if theme == "high-contrast":
        app.setPalette(high_contrast_palette())
        app.setStyleSheet(saved[1] + HIGH_CONTRAST_STYLE)
    else:
        app.setPalette(saved[0])
        app.setStyleSheet(saved[1])
    app.setProperty("desktopAsrTheme", theme)
    log.info("theme: %s", theme)


def current_theme(app: QApplication) -> str:
    """The theme last applied with apply_theme ("system" before any)."""
    return str(app.property("desktopAsrTheme") or "system")
