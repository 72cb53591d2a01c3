"""Status-bar widgets for a live session: model and device, RTF, caption lag, lost audio, REC."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from desktop_asr.engines import EngineInfo
from desktop_asr.streaming import PipelineStatus

SAMPLE_RATE = 16000


class LiveStatusPanel(QWidget):
    """Displays what the live page feeds it; no logic of its own."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recording_label = QLabel("●  REC", self)
        self.recording_label.setObjectName("recordingIndicator")
        self.recording_label.setAccessibleName("Recording")
        self.recording_label.setToolTip("The session's audio is being saved as FLAC")
        self.recording_label.setStyleSheet("color: #d62828; font-weight: bold;")
        self.recording_label.hide()
        self.engine_label = QLabel("Model: not loaded", self)
        self.engine_label.setAccessibleName("Live model and device")
        self.rtf_label = QLabel("", self)
        self.rtf_label.setAccessibleName("Live real-time factor")
        self.rtf_label.setToolTip("Decoding time per second of audio over the last 10 s "
                                  "(below 1 keeps up)")
        self.lag_label = QLabel("", self)
        self.lag_label.setAccessibleName("Caption lag")
        self.lag_label.setToolTip("How long the newest audio waited before it was captioned")
        self.dropped_label = QLabel("", self)
        self.dropped_label.setAccessibleName("Dropped audio")
        self.dropped_label.setToolTip("Times capture could not keep up, and the audio lost")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.setSpacing(14)
        for widget in (self.recording_label, self.engine_label, self.rtf_label, self.lag_label,
                       self.dropped_label):
            layout.addWidget(widget)

    def show_loading(self, model: str, device: str) -> None:
        """A model is being loaded."""
        self.engine_label.setText(f"Model: {model} — loading on {device}…")

    def show_engine(self, info: EngineInfo) -> None:
        """The loaded model, device and precision."""
        self.engine_label.setText(f"Model: {info.model}  ·  {info.device} / {info.compute_type}")

    def show_status(self, status: PipelineStatus) -> None:
        """Real-time factor, lag and dropped audio of the running session."""
        self.rtf_label.setText(f"RTF {status.rtf:.2f}")
        self.lag_label.setText(f"Lag {status.lag:.1f} s")
        lost = status.frames_dropped / SAMPLE_RATE
        self.dropped_label.setText(f"Dropped {status.overflows}"
                                   + (f" ({lost:.1f} s)" if status.overflows else ""))
        self.dropped_label.setStyleSheet("color: #b02a37;" if status.overflows else "")

    def set_recording(self, recording: bool) -> None:
        """Show or hide the red recording indicator."""
        self.recording_label.setVisible(recording)

    def clear_session(self) -> None:
        """No session runs: keep the model, drop the live numbers."""
        for label in (self.rtf_label, self.lag_label, self.dropped_label):
            label.setText("")
        self.recording_label.hide()
