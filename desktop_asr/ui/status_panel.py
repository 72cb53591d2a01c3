"""Status-bar widgets: loaded model and device, real-time factor, overall progress and ETA."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from desktop_asr.engines import EngineInfo
from desktop_asr.ui.progress import format_clock


class StatusPanel(QWidget):
    """Permanent status-bar contents; the page feeds it, it only displays."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine_label = QLabel("Model: not loaded", self)
        self.engine_label.setAccessibleName("Model and device")
        self.rtf_label = QLabel("", self)
        self.rtf_label.setAccessibleName("Real-time factor")
        self.rtf_label.setToolTip("Real-time factor of the last file: processing time divided "
                                  "by audio length (below 1 is faster than real time)")
        self.overall = QProgressBar(self)
        self.overall.setAccessibleName("Overall progress")
        self.overall.setRange(0, 1000)
        self.overall.setFixedWidth(180)
        self.overall.setMaximumHeight(16)
        self.overall.setFormat("%p%")
        self.overall.hide()
        self.eta_label = QLabel("", self)
        self.eta_label.setAccessibleName("Time left")
        self.eta_label.setMinimumWidth(90)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.setSpacing(14)
        for widget in (self.engine_label, self.rtf_label, self.overall, self.eta_label):
            layout.addWidget(widget)

    def show_loading(self, model: str, device: str) -> None:
        """A model is being loaded."""
        self.engine_label.setText(f"Model: {model} — loading on {device}…")

    def show_engine(self, info: EngineInfo) -> None:
        """The loaded model, device and precision."""
        self.engine_label.setText(f"Model: {info.model}  ·  {info.device} / {info.compute_type}")
        self.engine_label.setToolTip(f"{info.engine} from {info.model_path}, "
                                     f"{info.cpu_threads} CPU threads")

    def show_rtf(self, audio_seconds: float, elapsed_seconds: float) -> None:
        """Real-time factor of the last transcribed file."""
        if audio_seconds > 0:
            self.rtf_label.setText(f"RTF {elapsed_seconds / audio_seconds:.2f}")

    def show_progress(self, fraction: float, eta_seconds: float | None) -> None:
        """Overall job progress and the time left."""
        self.overall.show()
        self.overall.setValue(round(1000 * min(1.0, max(0.0, fraction))))
        self.eta_label.setText("ETA —" if eta_seconds is None
                               else f"ETA {format_clock(eta_seconds)}")

    def hide_progress(self) -> None:
        """No job runs."""
        self.overall.hide()
        self.eta_label.setText("")

    def rtf_text(self) -> str:
        """The RTF label's text."""
        return self.rtf_label.text()
