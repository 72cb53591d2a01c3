"""A small line chart for the training curves (loss, dev WER), drawn with QPainter."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget


class CurvePlot(QWidget):
    """One series of (x, y) points with its title and the latest value."""

    def __init__(self, title: str, color: str, parent: QWidget | None = None, *,
                 percent: bool = False) -> None:
        super().__init__(parent)
        self.title = title
        self.color = QColor(color)
        self.percent = percent
        self.points: list[tuple[float, float]] = []
        self.setAccessibleName(title)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        """Room for a readable curve."""
        return QSize(320, 160)

    def clear(self) -> None:
        """Forget the points."""
        self.points = []
        self.update()

    def add(self, x: float, y: float) -> None:
        """Append a point and repaint."""
        self.points.append((float(x), float(y)))
        self.update()

    def _label(self, y: float) -> str:
        return f"{y * 100:.1f} %" if self.percent else f"{y:.3f}"

    def paintEvent(self, event: QPaintEvent) -> None:
        """Axes box, the curve, the title and the last value."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(52, 22, -10, -18)
        p.setPen(QPen(QColor("#c8ccd2"), 1))
        p.drawRect(r)
        head = self.title
        if self.points:
            head += f": {self._label(self.points[-1][1])}"
        p.setPen(QColor("#333"))
        p.drawText(QRectF(0, 2, self.width(), 18), Qt.AlignmentFlag.AlignHCenter, head)
        if not self.points:
            return
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
        y0, y1 = min(0.0, min(ys)), max(ys) if max(ys) > 0 else 1.0
        p.drawText(QRectF(0, r.top() - 8, 48, 16), Qt.AlignmentFlag.AlignRight, self._label(y1))
        p.drawText(QRectF(0, r.bottom() - 8, 48, 16), Qt.AlignmentFlag.AlignRight,
                   self._label(y0))
        poly = QPolygonF([QPointF(r.left() + (x - x0) / (x1 - x0) * r.width(),
                                  r.bottom() - (y - y0) / (y1 - y0) * r.height())
                          for x, y in self.points])
        p.setPen(QPen(self.color, 2))
        p.drawPolyline(poly)
        if len(poly) == 1:
            p.drawEllipse(poly[0], 2.5, 2.5)
