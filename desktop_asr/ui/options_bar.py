"""Model, device, language, custom vocabulary and word-timestamp choices for a job."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from desktop_asr.diarization import DiarizationOptions
from desktop_asr.engines import DecodeOptions, EngineConfig
from desktop_asr.errors import DesktopAsrError
from desktop_asr.models import BUNDLED_NAME, ModelEntry, ModelManager

log = logging.getLogger(__name__)

_DEVICES = (("Auto", "auto"), ("CPU", "cpu"), ("GPU (CUDA)", "cuda"))
# Offered for multilingual models until the loaded model says what it knows.
_COMMON_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar",
                     "hi", "ja", "ko", "zh")
_STATUS = {"bundled": "bundled", "installed": "installed"}


def parse_hotwords(text: str) -> tuple[str, ...]:
    """Split a comma-separated vocabulary into clean words/phrases."""
    return tuple(w.strip() for w in text.split(",") if w.strip())


def _english_only(model: str) -> bool:
    return model.endswith(".en")


def _model_label(entry: ModelEntry) -> str:
    if entry.status in _STATUS:
        return f"{entry.name}  ({_STATUS[entry.status]})"
    size = f", {entry.size_bytes / 1e6:.0f} MB" if entry.size_bytes else ""
    return f"{entry.name}  (download{size})"


class OptionsBar(QWidget):
    """Turns the user's choices into an EngineConfig and DecodeOptions; holds no other state."""

    def __init__(self, base_config: EngineConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = base_config
        self.model = QComboBox(self)
        self.model.setAccessibleName("Model")
        self.model.setToolTip("Speech model; downloadable models are fetched on first use")
        self.model.setMinimumContentsLength(16)
        self.device = QComboBox(self)
        self.device.setAccessibleName("Device")
        for label, value in _DEVICES:
            self.device.addItem(label, value)
        self.device.setCurrentIndex(max(0, self.device.findData(base_config.device)))
        self.language = QComboBox(self)
        self.language.setAccessibleName("Language")
        self.language.setToolTip("Spoken language; auto detects it per file")
        self.vocabulary = QLineEdit(self)
        self.vocabulary.setAccessibleName("Custom vocabulary")
        self.vocabulary.setPlaceholderText("Names, jargon… comma-separated")
        self.vocabulary.setToolTip("Words and names the model should prefer (hotwords)")
        self.vocabulary.setClearButtonEnabled(True)
        self.word_timestamps = QCheckBox("Word timestamps", self)
        self.word_timestamps.setAccessibleName("Word timestamps")
        self.word_timestamps.setToolTip("Time every word (kept in JSON exports)")
        self.speakers = QCheckBox("Speakers", self)
        self.speakers.setAccessibleName("Label speakers")
        self.speakers.setToolTip("Tell who spoke when (speaker diarization; the first file "
                                 "loads the speaker model)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for caption, widget in (("Model", self.model), ("Device", self.device),
                                ("Language", self.language)):
            label = QLabel(caption, self)
            label.setBuddy(widget)
            layout.addWidget(label)
            layout.addWidget(widget)
            layout.addSpacing(8)
        vocab_label = QLabel("Custom vocabulary", self)
        vocab_label.setBuddy(self.vocabulary)
        layout.addWidget(vocab_label)
        layout.addWidget(self.vocabulary, 1)
        layout.addSpacing(8)
        layout.addWidget(self.word_timestamps)
        layout.addWidget(self.speakers)
        self.model.currentIndexChanged.connect(self._on_model_changed)
        self.reload_models()

    def reload_models(self) -> None:
        """Fill the model picker from the model manager, keeping the current choice."""
        wanted = self.model.currentData() or self._base.model or BUNDLED_NAME
        self.model.blockSignals(True)
        self.model.clear()
        try:
            entries = ModelManager().list()
        except (OSError, DesktopAsrError) as exc:
            log.warning("cannot list models: %s", exc)
            entries = []
        names = [e.name for e in entries]
        for entry in entries:
            self.model.addItem(_model_label(entry), entry.name)
            self.model.setItemData(self.model.count() - 1, entry.description or entry.name,
                                   Qt.ItemDataRole.ToolTipRole)
        if wanted not in names:  # a folder or a name given by the caller
            self.model.insertItem(0, f"{Path(wanted).name}  (folder)"
                                  if Path(wanted).is_dir() else wanted, wanted)
            self.model.setItemData(0, wanted, Qt.ItemDataRole.ToolTipRole)
        self.model.setCurrentIndex(max(0, self.model.findData(wanted)))
        self.model.blockSignals(False)
        self._on_model_changed()

    def set_languages(self, languages: tuple[str, ...]) -> None:
        """Offer 'auto' plus ``languages``, keeping the current choice when still offered."""
        current = self.language.currentData()
        self.language.clear()
        self.language.addItem("auto", None)
        for code in languages:
            self.language.addItem(code, code)
        index = self.language.findData(current) if current else 0
        self.language.setCurrentIndex(max(0, index))

    def engine_config(self) -> EngineConfig:
        """The engine to load for the next job."""
        device = self.device.currentData() or "auto"
        config = replace(self._base, model=self.model.currentData() or BUNDLED_NAME,
                         device=device)
        if device != self._base.device:
            # A precision chosen for one device may not exist on the other.
            config = replace(config, compute_type="auto")
        return config

    def decode_options(self) -> DecodeOptions:
        """How to decode the next job."""
        return DecodeOptions(language=self.language.currentData(),
                             # speaker changes are found word by word
                             word_timestamps=(self.word_timestamps.isChecked()
                                              or self.speakers.isChecked()),
                             hotwords=parse_hotwords(self.vocabulary.text()))

    def diarization_options(self) -> DiarizationOptions | None:
        """Speaker labelling for the next job, or None when it is off."""
        return DiarizationOptions() if self.speakers.isChecked() else None

    def _on_model_changed(self, *_args: object) -> None:
        model = str(self.model.currentData() or "")
        self.set_languages(("en",) if _english_only(model) else _COMMON_LANGUAGES)
