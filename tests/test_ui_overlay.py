"""The caption overlay: window flags, captions shown, click-through, geometry, shortcut."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from desktop_asr.engines import EngineConfig
from desktop_asr.settings import OverlayStyle, load_settings
from desktop_asr.streaming import TranscriptUpdate
from desktop_asr.types import Segment
from desktop_asr.ui import MainWindow
from desktop_asr.ui.overlay import CaptionOverlay

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "while", "seven",
         "wizards", "quietly", "box", "and", "jovial", "frogs", "hum", "near", "the", "old",
         "stone", "bridge", "at", "dawn"]


def _update(kind: str, text: str, utterance: int = 0, channel: str = "mic") -> TranscriptUpdate:
    return TranscriptUpdate(kind, channel, utterance, Segment(start=0.0, end=1.0, text=text), 1.0)


@pytest.fixture
def overlay(qtbot):
    """An overlay with the default style, closed after the test."""
    ov = CaptionOverlay(OverlayStyle(font_size=24, lines=2))
    qtbot.addWidget(ov)
    yield ov
    ov.close()


def test_overlay_is_a_frameless_translucent_always_on_top_window(overlay) -> None:
    flags = overlay.windowFlags()
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert flags & Qt.WindowType.FramelessWindowHint
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    assert overlay.isWindow() and overlay.parent() is None


def test_overlay_shows_the_latest_lines_with_tentative_words_replaced(qtbot, overlay) -> None:
    overlay.resize(420, 110)
    overlay.show()
    qtbot.waitExposed(overlay)
    for n, word in enumerate(WORDS):
        overlay.apply(_update("final", f" {word}", utterance=n // 8))
    overlay.apply(_update("partial", " maybe this", utterance=9))
    overlay.apply(_update("partial", " tentative tail", utterance=9))  # replaces the partial
    lines = overlay.visible_lines()
    assert len(lines) == 2
    assert lines[-1].endswith("dawn tentative tail")
    assert "maybe" not in " ".join(lines) and "quick" not in " ".join(lines)
    # The text is really painted: white pixels on the dark box, in its lower half.
    image = overlay.grab().toImage()
    white = sum(QColor(image.pixel(x, y)).lightness() > 200
                for x in range(0, image.width(), 3) for y in range(image.height() // 2,
                                                                    image.height(), 3))
    assert white > 20
    overlay.apply(_update("final", " the end", utterance=9))
    assert overlay.visible_lines()[-1].endswith("dawn the end")
    overlay.set_style(OverlayStyle(font_size=24, lines=1))
    assert len(overlay.visible_lines()) == 1


def test_click_through_toggles_transparent_for_input_and_is_saved(qtbot, overlay) -> None:
    overlay.show()
    qtbot.waitExposed(overlay)
    assert not overlay.click_through
    overlay.set_click_through(True)
    assert overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert overlay.isVisible() and not overlay.grip.isVisible()
    assert load_settings().overlay.click_through
    overlay.set_click_through(False)
    assert not overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert overlay.grip.isVisible() and not load_settings().overlay.click_through


def test_geometry_is_saved_on_drag_and_close_and_restored(qtbot, overlay) -> None:
    overlay.setGeometry(100, 120, 520, 110)
    overlay.show()
    qtbot.waitExposed(overlay)
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=QPoint(60, 40))
    qtbot.mouseMove(overlay, QPoint(160, 90))
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=QPoint(160, 90))
    assert overlay.pos() == QPoint(200, 170)
    assert load_settings().overlay.geometry == (200, 170, 520, 110)
    overlay.resize(600, 130)
    overlay.close()
    assert load_settings().overlay.geometry == (200, 170, 600, 130)
    again = CaptionOverlay()
    qtbot.addWidget(again)
    assert again.geometry().getRect() == (200, 170, 600, 130)


def test_shortcut_and_menu_toggle_the_overlay(qtbot) -> None:
    win = MainWindow(EngineConfig(device="cpu", cpu_threads=2))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    overlay, action = win.live.overlay, win.live.commands.toggle_overlay
    assert not overlay.isVisible()
    qtbot.keyClick(win, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert overlay.isVisible() and action.isChecked()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyClick(win, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert not overlay.isVisible() and not action.isChecked()
    # The Files page's "Add folder" gave up the same key so that it is not ambiguous.
    assert "Ctrl+Shift+O" not in [k.toString() for k in win.files.commands.add_folder.shortcuts()]
    menus = {m.title(): m for m in (a.menu() for a in win.menuBar().actions()) if m}
    assert action in menus["&View"].actions()
    assert win.live.commands.click_through in menus["&View"].actions()
    win.live.commands.click_through.trigger()
    assert overlay.click_through
    win.live.commands.click_through.trigger()
    assert not overlay.click_through
    for widget, name in ((win.live.start_button, "Start"), (win.live.pause_button, "Pause"),
                         (win.live.stop_button, "Stop"), (win.live.source.combo, "Audio source"),
                         (win.live.record, "Record audio"), (win.live.captions.text,
                                                             "Live captions"),
                         (win.live.captions.jump_button, "Jump to live"),
                         (win.live.meters, "Input levels")):
        assert widget.accessibleName() == name
    win.shutdown()
    win.close()
