"""The caption overlay: a frameless, translucent, always-on-top window with the newest captions.

Its show/hide and click-through shortcuts are application-wide, not global: they work while one
of the app's windows has focus. A system-wide hotkey needs per-platform hooks (X11 key grabs,
RegisterHotKey, Carbon) that Qt does not provide.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHideEvent,
    QMouseEvent,
    QMoveEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QApplication, QSizeGrip, QWidget

from desktop_asr.settings import OverlayStyle, load_settings, save_settings
from desktop_asr.streaming import TranscriptUpdate

log = logging.getLogger(__name__)

_PAD = 18
_KEEP_CHARS = 600  # committed text kept: more than 3 lines at any sensible size


class CaptionOverlay(QWidget):
    """Shows the last ``style.lines`` lines of captions; drag to move, corner grip to resize."""

    clickThroughChanged = Signal(bool)

    def __init__(self, style: OverlayStyle | None = None, *,
                 settings_path: Path | None = None) -> None:
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("captionOverlay")
        self.setWindowTitle("desktop-asr captions")
        self.setAccessibleName("Caption overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self._settings_path = settings_path
        self.style_ = style or load_settings(settings_path).overlay
        self._committed = ""
        self._partials: dict[str, str] = {}
        self._drag_from: QPoint | None = None
        self.grip = QSizeGrip(self)
        self.grip.setAccessibleName("Resize captions")
        self.grip.resize(16, 16)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self.save_geometry)
        self.setMinimumSize(240, 60)
        self._restore_geometry()
        self.set_click_through(self.style_.click_through, save=False)

    # -- captions -------------------------------------------------------------------------
    def begin(self) -> None:
        """Forget the previous session's captions."""
        self._committed, self._partials = "", {}
        self.update()

    def apply(self, update: TranscriptUpdate) -> None:
        """Append committed words or replace the channel's tentative words."""
        if update.kind == "final":
            self._committed = (self._committed + update.segment.text)[-_KEEP_CHARS:]
            self._partials.pop(update.channel, None)
        else:
            self._partials[update.channel] = update.segment.text
        self.update()

    def set_text(self, committed: str, tentative: str = "") -> None:
        """Show fixed text (a finished session, previews)."""
        self._committed, self._partials = committed[-_KEEP_CHARS:], {"": tentative}
        self.update()

    def visible_lines(self) -> list[str]:
        """The lines drawn now, top to bottom."""
        return [" ".join(word for word, _ in line) for line in self._lines()]

    def _words(self) -> list[tuple[str, bool]]:
        committed = [(w, False) for w in self._committed.split()]
        tentative = [(w, True) for text in self._partials.values() for w in text.split()]
        return committed + tentative

    def _fonts(self) -> tuple[QFont, QFont]:
        font = QFont(self.font())
        font.setPixelSize(self.style_.font_size)
        font.setWeight(QFont.Weight.DemiBold)
        dim = QFont(font)
        dim.setItalic(True)
        return font, dim

    def _lines(self) -> list[list[tuple[str, bool]]]:
        """Greedy word wrap to the box width; the last ``style.lines`` lines."""
        # Wrapped by hand: QTextLayout's bindings in PySide6 6.12 corrupt None's refcount.
        font, dim = self._fonts()
        metrics = (QFontMetricsF(font), QFontMetricsF(dim))
        width = max(10.0, self.width() - 2 * _PAD)
        lines: list[list[tuple[str, bool]]] = [[]]
        used = 0.0
        for word, tentative in self._words():
            m = metrics[tentative]
            advance = m.horizontalAdvance(word)
            space = m.horizontalAdvance(" ") if lines[-1] else 0.0
            if lines[-1] and used + space + advance > width:
                lines.append([])
                used, space = 0.0, 0.0
            lines[-1].append((word, tentative))
            used += space + advance
        return [ln for ln in lines if ln][-self.style_.lines:]

    def paintEvent(self, event: QPaintEvent) -> None:
        """A rounded translucent box, then the newest lines centred in it."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        bg = QColor(self.style_.background)
        bg.setAlphaF(self.style_.opacity)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(bg)
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 14, 14)
        lines = self._lines()
        if lines:
            font, dim = self._fonts()
            fonts = (font, dim)
            line_height = QFontMetricsF(font).lineSpacing()
            height = line_height * len(lines)
            # Centred; a box too small for the lines keeps the newest (bottom) one visible.
            top = min((self.height() - height) / 2, self.height() - _PAD - height)
            colours = (QColor(self.style_.text_color), QColor(self.style_.text_color))
            colours[1].setAlphaF(0.62)
            p.setClipRect(self.rect().adjusted(_PAD // 2, _PAD // 2, -_PAD // 2, -_PAD // 2))
            for n, line in enumerate(lines):
                x = float(_PAD)
                baseline = top + n * line_height + QFontMetricsF(font).ascent()
                for word, tentative in line:
                    p.setFont(fonts[tentative])
                    p.setPen(colours[tentative])
                    p.drawText(QPointF(x, baseline), word)
                    m = QFontMetricsF(fonts[tentative])
                    x += m.horizontalAdvance(word) + m.horizontalAdvance(" ")
        p.end()

    # -- style, geometry, click-through ---------------------------------------------------
    def set_style(self, style: OverlayStyle) -> None:
        """Apply new colours, size, lines or opacity."""
        self.style_ = style
        self.update()

    @property
    def click_through(self) -> bool:
        """True when mouse clicks pass through to the windows below."""
        return bool(self.windowFlags() & Qt.WindowType.WindowTransparentForInput)

    def set_click_through(self, on: bool, *, save: bool = True) -> None:
        """Let clicks pass through (cannot be dragged then) or catch them again."""
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowTransparentForInput, on)
        self.grip.setVisible(not on)
        if visible:
            self.show()  # changing window flags hides a window
        if save:
            self._store(replace(self.style_, click_through=on))
        self.clickThroughChanged.emit(on)

    def save_geometry(self) -> None:
        """Remember where the overlay is and how big."""
        g = self.geometry()
        self._store(replace(self.style_, geometry=(g.x(), g.y(), g.width(), g.height())))

    def _store(self, style: OverlayStyle) -> None:
        self.style_ = style
        try:
            # Re-read first: other dialogs may have changed other settings meanwhile.
            current = load_settings(self._settings_path)
            save_settings(replace(current, overlay=replace(
                current.overlay, geometry=style.geometry, click_through=style.click_through)),
                self._settings_path)
        except OSError as exc:
            log.warning("cannot save the overlay's place: %s", exc)

    def _restore_geometry(self) -> None:
        if self.style_.geometry is not None:
            x, y, w, h = self.style_.geometry
            self.setGeometry(x, y, max(w, 240), max(h, 60))
            return
        screen = QApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        width = 760
        height = int(self.style_.lines * self.style_.font_size * 1.45 + 2 * _PAD)
        if area is None:
            self.resize(width, height)
        else:
            width = min(width, area.width() - 40)
            self.setGeometry(area.x() + (area.width() - width) // 2,
                             area.bottom() - height - 60, width, height)

    # -- mouse ----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start dragging."""
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.globalPosition().toPoint() - self.frameGeometry().topLeft()
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Follow the mouse while dragging."""
        if self._drag_from is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag_from)
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Stop dragging and remember the place."""
        if self._drag_from is not None:
            self._drag_from = None
            self.save_geometry()

    def moveEvent(self, event: QMoveEvent) -> None:
        """Save the place once moving stops."""
        super().moveEvent(event)
        if self.isVisible():
            self._save_timer.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the grip in the corner; save the size once resizing stops."""
        super().resizeEvent(event)
        self.grip.move(self.width() - self.grip.width() - 4, self.height() - self.grip.height() - 4)
        if self.isVisible():
            self._save_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        """Save the place when hidden or closed."""
        if self._save_timer.isActive():
            self._save_timer.stop()
            self.save_geometry()
        super().hideEvent(event)
