"""Input level meters: one horizontal bar per captured channel (RMS fill, peak tick)."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from desktop_asr.ui.live_source import Levels

_FLOOR_DB = -60.0
_NAMES = {"mic": "Mic", "system": "System", "file": "File"}


def to_fraction(level: float) -> float:
    """Map a linear level to 0..1 on a -60..0 dBFS scale (what the eye expects of a meter)."""
    if level <= 0:
        return 0.0
    db = 20 * math.log10(min(1.0, level))
    return max(0.0, min(1.0, (db - _FLOOR_DB) / -_FLOOR_DB))


class LevelBar(QWidget):
    """A thin bar: green RMS, a darker peak tick; repaints only when the value changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rms = 0.0
        self.peak = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        """A slim bar."""
        return QSize(140, 10)

    def set_level(self, rms: float, peak: float) -> None:
        """Show new linear levels."""
        rms, peak = to_fraction(rms), to_fraction(peak)
        if (rms, peak) != (self.rms, self.peak):
            self.rms, self.peak = rms, peak
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the trough, the RMS fill and the peak tick."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#e3e6ea"))
        p.drawRoundedRect(r, 4, 4)
        if self.rms > 0:
            fill = QRectF(r.left(), r.top(), r.width() * self.rms, r.height())
            p.setBrush(QColor("#dc3545") if self.rms > 0.95 else QColor("#2fb344"))
            p.drawRoundedRect(fill, 4, 4)
        if self.peak > 0:
            x = r.left() + r.width() * self.peak
            p.setBrush(QColor("#1e7b30"))
            p.drawRect(QRectF(max(r.left(), x - 2), r.top(), 2, r.height()))
        p.end()


class LevelMeters(QWidget):
    """A labelled bar per channel of the running source; hidden channels when idle."""


    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Input levels")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(8)
        self.bars: dict[str, LevelBar] = {}
        self._labels: list[QLabel] = []
        self.set_channels(("mic",))

    def set_channels(self, channels: tuple[str, ...]) -> None:
        """One bar per channel, all at zero."""
        if tuple(self.bars) == tuple(channels):
            self.reset()
            return
        for widget in (*self.bars.values(), *self._labels):
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self.bars, self._labels = {}, []
        for channel in channels:
            name = _NAMES.get(channel, channel)
            label = QLabel(name, self)
            label.setObjectName("meterLabel")
            bar = LevelBar(self)
            bar.setAccessibleName(f"{name} level")
            bar.setToolTip(f"Input level of {name.lower()} (RMS bar, peak tick)")
            self._layout.addWidget(label)
            self._layout.addWidget(bar, 1)
            self._labels.append(label)
            self.bars[channel] = bar

    def show_levels(self, levels: Levels) -> None:
        """Update the bars from one report of the pipeline thread."""
        if tuple(levels.channels) != tuple(self.bars):
            self.set_channels(levels.channels)
        for channel, rms, peak in zip(levels.channels, levels.rms, levels.peak):
            self.bars[channel].set_level(rms, peak)

    def reset(self) -> None:
        """All bars to zero."""
        for bar in self.bars.values():
            bar.set_level(0.0, 0.0)

    def peak_fractions(self) -> dict[str, float]:
        """Shown peak per channel (0..1), for tests and accessibility."""
        return {c: b.peak for c, b in self.bars.items()}
