"""The Settings dialog's Speakers page: diarizer, pyannote model, your name, voices, echo."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop_asr.diarization.profiles import load_profiles
from desktop_asr.settings import Settings

DIARIZERS = (("Embedded (offline, works out of the box)", "embedded"),
             ("pyannote.audio pipeline (a model you have)", "pyannote"))
PYANNOTE_HINT = "pyannote/speaker-diarization-community-1, or a folder with its config.yaml"


class SpeakersPage(QWidget):
    """Edits the speaker settings of a Settings value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.diarizer = QComboBox(self)
        self.diarizer.setAccessibleName("Diarizer")
        self.diarizer.setToolTip("Who tells speakers apart in files and when a live session "
                                 "ends (live labels always come from the embedded encoder)")
        for label, value in DIARIZERS:
            self.diarizer.addItem(label, value)
        self.pyannote_model = QLineEdit(self)
        self.pyannote_model.setAccessibleName("pyannote model")
        self.pyannote_model.setPlaceholderText(PYANNOTE_HINT)
        self.pyannote_model.setToolTip("A downloaded pyannote speaker-diarization pipeline "
                                       "folder, or its hub id (needs network and a token)")
        self.choose_model = QPushButton("Choose &folder…", self)
        self.choose_model.clicked.connect(self._choose_model)
        model_row = QWidget(self)
        row = QHBoxLayout(model_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.pyannote_model, 1)
        row.addWidget(self.choose_model)
        self.hf_token = QLineEdit(self)
        self.hf_token.setAccessibleName("Hugging Face token")
        self.hf_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.hf_token.setPlaceholderText("hf_…  (only for gated hub models)")
        self.user_name = QLineEdit(self)
        self.user_name.setAccessibleName("Your name")
        self.user_name.setToolTip("How the microphone is labelled when captioning microphone "
                                  "and system audio together")
        self.max_speakers = QSpinBox(self)
        self.max_speakers.setAccessibleName("Live speakers at most")
        self.max_speakers.setRange(1, 20)
        self.name_from_voices = QCheckBox("Name speakers whose voice is enrolled", self)
        self.voices = QLabel(self)
        self.voices.setObjectName("enrolledVoices")
        self.voices.setWordWrap(True)
        self.echo = QCheckBox("Drop the far side's echo heard by the microphone", self)
        self.echo.setToolTip("With microphone + system audio and no headphones, what the "
                             "loudspeakers play is not captioned a second time as you")
        form.addRow("&Diarizer", self.diarizer)
        form.addRow("pyannote &model", model_row)
        form.labelForField(model_row).setBuddy(self.pyannote_model)
        form.addRow("Hub &token", self.hf_token)
        form.addRow("&Your name", self.user_name)
        form.addRow("Live speakers at &most", self.max_speakers)
        form.addRow("", self.name_from_voices)
        form.addRow("", self.voices)
        form.addRow("", self.echo)
        self.diarizer.currentIndexChanged.connect(self._on_diarizer)

    def set_settings(self, s: Settings) -> None:
        """Show ``s``."""
        self.diarizer.setCurrentIndex(max(0, self.diarizer.findData(s.diarizer)))
        self.pyannote_model.setText(s.pyannote_model)
        self.hf_token.setText(s.hf_token)
        self.user_name.setText(s.user_name)
        self.max_speakers.setValue(s.max_speakers)
        self.name_from_voices.setChecked(s.name_from_voices)
        self.echo.setChecked(s.echo_suppression)
        names = [p.name for p in load_profiles()]
        self.voices.setText(
            (f"Enrolled: {', '.join(names)}." if names else "No voices enrolled.")
            + " Enroll one with: desktop-asr speakers enroll NAME FILE")
        self._on_diarizer()

    def apply(self, s: Settings) -> Settings:
        """``s`` with this page's fields."""
        return replace(s, diarizer=self.diarizer.currentData(),
                       pyannote_model=self.pyannote_model.text().strip(),
                       hf_token=self.hf_token.text().strip(),
                       user_name=" ".join(self.user_name.text().split()) or "You",
                       max_speakers=self.max_speakers.value(),
                       name_from_voices=self.name_from_voices.isChecked(),
                       echo_suppression=self.echo.isChecked())

    def _on_diarizer(self) -> None:
        on = self.diarizer.currentData() == "pyannote"
        for widget in (self.pyannote_model, self.choose_model, self.hf_token):
            widget.setEnabled(on)

    def _choose_model(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "pyannote pipeline folder",
                                                  self.pyannote_model.text())
        if chosen:
            self.pyannote_model.setText(chosen)
