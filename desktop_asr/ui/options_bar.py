"""Engine, model, device, language, custom vocabulary and word-timestamp choices for a job."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)

from desktop_asr.diarization import DiarizationOptions
from desktop_asr.engines import (DEFAULT_ENGINE, DecodeOptions, EngineCapabilities, EngineConfig,
                                 available_engines, engine_capabilities, engine_default_model,
                                 supports_live)
from desktop_asr.errors import DesktopAsrError
from desktop_asr.models import BUNDLED_NAME, ModelEntry, ModelManager

log = logging.getLogger(__name__)

_DEVICES = (("Auto", "auto"), ("CPU", "cpu"), ("GPU (CUDA)", "cuda"))
# Offered for multilingual models until the loaded model says what it knows.
_COMMON_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar",
                     "hi", "ja", "ko", "zh")
_WHISPER_ENGINES = ("faster-whisper", "transformers-whisper")
_STATUS = {"bundled": "bundled", "installed": "installed", "stock": "stock"}
_ENGINE_LABELS = {"faster-whisper": "Whisper (faster-whisper)",
                  "transformers-whisper": "Whisper (transformers)",
                  "wav2vec2": "wav2vec2 / HuBERT (CTC)", "conformer": "Conformer"}


def parse_hotwords(text: str) -> tuple[str, ...]:
    """Split a comma-separated vocabulary into clean words/phrases."""
    return tuple(w.strip() for w in text.split(",") if w.strip())


def describe_capabilities(caps: EngineCapabilities) -> str:
    """What an engine can do, in a few words for the picker."""
    parts = ["live: streaming" if caps.streaming_native else
             "live: re-decoding" if supports_live(caps) else "no live mode",
             "word times" if caps.word_timestamps else "no word times"]
    if caps.hotwords:
        parts.append("custom vocabulary")
    if caps.translate:
        parts.append("translation")
    if caps.needs_gpu:
        parts.append("needs a GPU")
    return " · ".join(parts)


def _english_only(model: str) -> bool:
    return model.endswith(".en")


def _model_label(entry: ModelEntry) -> str:
    if entry.status in _STATUS:
        return f"{entry.name}  ({_STATUS[entry.status]})"
    size = f", {entry.size_bytes / 1e6:.0f} MB" if entry.size_bytes else ""
    return f"{entry.name}  (download{size})"


class OptionsBar(QWidget):
    """Turns the user's choices into an EngineConfig and DecodeOptions; holds no other state."""

    def __init__(self, base_config: EngineConfig, parent: QWidget | None = None, *,
                 engine: str = DEFAULT_ENGINE, live: bool = False) -> None:
        super().__init__(parent)
        self._base = base_config
        self._live = live
        self._capabilities: dict[str, EngineCapabilities] = {}
        self.engine = QComboBox(self)
        self.engine.setAccessibleName("Engine")
        self.engine_capabilities = QLabel("", self)
        self.engine_capabilities.setObjectName("engineCapabilities")
        self.engine_capabilities.setAccessibleName("Engine capabilities")
        self._fill_engines(engine)
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
        # Two rows, so the window still fits a 1280-px screen: what to run, then how.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        first, second = QHBoxLayout(), QHBoxLayout()
        for row in (first, second):
            row.setSpacing(6)
            layout.addLayout(row)
        for caption, widget in (("Engine", self.engine), ("Model", self.model),
                                ("Device", self.device), ("Language", self.language)):
            label = QLabel(caption, self)
            label.setBuddy(widget)
            first.addWidget(label)
            first.addWidget(widget)
            if widget is self.engine:
                first.addWidget(self.engine_capabilities)
            first.addSpacing(8)
        first.addStretch(1)
        vocab_label = QLabel("Custom vocabulary", self)
        vocab_label.setBuddy(self.vocabulary)
        second.addWidget(vocab_label)
        second.addWidget(self.vocabulary, 1)
        second.addSpacing(8)
        second.addWidget(self.word_timestamps)
        second.addWidget(self.speakers)
        self._model_engine: str | None = None  # the engine the model list was made for
        self.model.currentIndexChanged.connect(self._on_model_changed)
        self.engine.currentIndexChanged.connect(self._on_engine_changed)
        self.engine.currentIndexChanged.connect(lambda *_: self.reload_models())
        self.reload_models()
        self._on_engine_changed()

    def _fill_engines(self, wanted: str) -> None:
        """Offer the engines whose backend is installed; in live mode, only those that can."""
        for name in available_engines():
            try:
                caps = engine_capabilities(name)
            except (ImportError, ValueError) as exc:  # a broken install: leave it out
                log.warning("engine %s is unavailable: %s", name, exc)
                continue
            self._capabilities[name] = caps
            self.engine.addItem(_ENGINE_LABELS.get(name, name), name)
            index = self.engine.count() - 1
            usable = supports_live(caps) or not self._live
            self.engine.setItemData(index, describe_capabilities(caps) + (
                "" if usable else " (cannot caption live)"), Qt.ItemDataRole.ToolTipRole)
            if not usable:
                self.engine.model().item(index).setEnabled(False)
        usable_names = [n for n in self._capabilities
                        if supports_live(self._capabilities[n]) or not self._live]
        choice = wanted if wanted in usable_names else (usable_names or [DEFAULT_ENGINE])[0]
        self.engine.setCurrentIndex(max(0, self.engine.findData(choice)))

    def engine_name(self) -> str:
        """The registered name of the chosen engine."""
        return str(self.engine.currentData() or DEFAULT_ENGINE)

    def capabilities(self) -> EngineCapabilities:
        """What the chosen engine can do (before its model is loaded)."""
        return self._capabilities.get(self.engine_name(), EngineCapabilities())

    def _on_engine_changed(self, *_args: object) -> None:
        caps = self.capabilities()
        self.engine_capabilities.setText(describe_capabilities(caps))
        self.engine.setToolTip("Speech engine: " + describe_capabilities(caps))
        self.vocabulary.setEnabled(caps.hotwords)
        self.word_timestamps.setEnabled(caps.word_timestamps)
        if not caps.word_timestamps:
            self.word_timestamps.setChecked(False)

    def reload_models(self) -> None:
        """Fill the model picker from the model manager, keeping the current choice."""
        engine = self.engine_name()
        try:
            default = engine_default_model(engine)
            entries = ModelManager().list_for_engine(engine, default)
        except (OSError, DesktopAsrError, ImportError) as exc:
            log.warning("cannot list models: %s", exc)
            default, entries = None, []
        names = [e.name for e in entries]
        wanted = self.model.currentData() or self._base.model or BUNDLED_NAME
        switched = self._model_engine not in (None, engine)
        if wanted not in names and not Path(wanted).is_dir() and (
                switched or engine not in _WHISPER_ENGINES):
            # a model named for another engine is no use to this one: take this one's own
            wanted = Path(default).name if default and Path(default).name in names else (
                default or (names[0] if names else wanted))
        self._model_engine = engine
        self.model.blockSignals(True)
        self.model.clear()
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
                             # a disabled field keeps its text for the next engine, unused
                             hotwords=(parse_hotwords(self.vocabulary.text())
                                       if self.vocabulary.isEnabled() else ()))

    def diarization_options(self) -> DiarizationOptions | None:
        """Speaker labelling for the next job, or None when it is off."""
        return DiarizationOptions() if self.speakers.isChecked() else None

    def _on_model_changed(self, *_args: object) -> None:
        model = str(self.model.currentData() or "")
        self.set_languages(("en",) if _english_only(model) else _COMMON_LANGUAGES)
