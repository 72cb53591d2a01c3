"""The Settings dialog: model, VAD, overlay, speakers, shortcuts, storage and theme."""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_asr import paths
from desktop_asr.models import ModelManager
from desktop_asr.settings import Settings, save_settings
from desktop_asr.ui.error_banner import ErrorBanner
from desktop_asr.ui.settings_fields import (
    COMPUTE_TYPES,
    DEVICES,
    THEMES,
    VAD_KINDS,
    ShortcutsPage,
    language_choices,
)
from desktop_asr.ui.settings_speakers import SpeakersPage

log = logging.getLogger(__name__)


class ColorButton(QPushButton):
    """A button showing a colour swatch; a click opens QColorDialog."""

    colorChanged = Signal(str)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self._color = "#000000"
        self.setAccessibleName(title)
        self.clicked.connect(self._pick)

    def color(self) -> str:
        """The colour as #rrggbb."""
        return self._color

    def set_color(self, color: str) -> None:
        """Show ``color`` (any name QColor understands)."""
        self._color = QColor(color).name()
        # Text in the swatch's contrasting colour keeps the hex code readable on any swatch.
        ink = "#000000" if QColor(self._color).lightness() > 127 else "#ffffff"
        self.setText(self._color)
        self.setStyleSheet(f"QPushButton {{ background: {self._color}; color: {ink}; }}")
        self.colorChanged.emit(self._color)

    def _pick(self) -> None:
        chosen = QColorDialog.getColor(QColor(self._color), self, self._title)
        if chosen.isValid():
            self.set_color(chosen.name())


def _combo(parent: QWidget, name: str, items: tuple[tuple[str, str], ...]) -> QComboBox:
    box = QComboBox(parent)
    box.setAccessibleName(name)
    for label, value in items:
        box.addItem(label, value)
    return box


def _select(box: QComboBox, value: object, fallback_label: str | None = None) -> None:
    index = box.findData(value)
    if index < 0 and fallback_label is not None:
        box.addItem(fallback_label, value)
        index = box.count() - 1
    box.setCurrentIndex(max(0, index))


class SettingsDialog(QDialog):
    """Edits a Settings value; OK saves it with save_settings, Cancel leaves the file alone."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._base = settings
        self.saved: Settings | None = None
        self.banner = ErrorBanner(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._transcription_page(), "Transcription")
        self.tabs.addTab(self._overlay_page(), "Caption overlay")
        self.speakers = SpeakersPage(self)
        self.tabs.addTab(self.speakers, "Speakers")
        self.shortcuts = ShortcutsPage(self)
        self.shortcuts.validityChanged.connect(self._on_validity)
        self.tabs.addTab(self.shortcuts, "Shortcuts")
        self.tabs.addTab(self._storage_page(), "Storage && look")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.restore_button.clicked.connect(self.restore_defaults)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self.set_settings(settings)
        em = self.fontMetrics().horizontalAdvance("M")
        self.resize(max(self.sizeHint().width(), em * 44), self.sizeHint().height())

    @property
    def ok_button(self) -> QPushButton:
        """The OK button."""
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    @property
    def restore_button(self) -> QPushButton:
        """The Restore Defaults button."""
        return self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)

    def _transcription_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.model = QComboBox(page)
        self.model.setAccessibleName("Model")
        self.model.setToolTip("Installed models; Models… downloads or imports more")
        for entry in ModelManager().list():
            if entry.status in ("bundled", "installed"):
                self.model.addItem(f"{entry.name}  ({entry.status})", entry.name)
        self.device = _combo(page, "Device", DEVICES)
        self.compute_type = _combo(page, "Compute type", COMPUTE_TYPES)
        self.compute_type.setToolTip("int8 is fastest on a CPU; float16 suits most GPUs")
        self.language = _combo(page, "Language", language_choices())
        self.vad_kind = _combo(page, "Voice detection", VAD_KINDS)
        self.vad_silence = QDoubleSpinBox(page)
        self.vad_silence.setAccessibleName("End-of-speech silence")
        self.vad_silence.setRange(0.1, 5.0)
        self.vad_silence.setSingleStep(0.1)
        self.vad_silence.setDecimals(1)
        self.vad_silence.setSuffix(" s")
        self.vad_silence.setToolTip("How long a pause ends a sentence in live captions")
        self.vad_aggressiveness = QSpinBox(page)
        self.vad_aggressiveness.setAccessibleName("WebRTC strictness")
        self.vad_aggressiveness.setRange(0, 3)
        self.vad_aggressiveness.setToolTip("WebRTC voice detection only: 0 lets most sound "
                                           "through, 3 keeps only clear speech (noisy rooms)")
        self.vad_max_utterance = QDoubleSpinBox(page)
        self.vad_max_utterance.setAccessibleName("Longest caption line")
        self.vad_max_utterance.setRange(5.0, 30.0)
        self.vad_max_utterance.setSingleStep(1.0)
        self.vad_max_utterance.setDecimals(0)
        self.vad_max_utterance.setSuffix(" s")
        self.vad_max_utterance.setToolTip("Speech without a pause is cut into lines this long")
        self.vad_kind.currentIndexChanged.connect(
            lambda _i: self.vad_aggressiveness.setEnabled(self.vad_kind.currentData() == "webrtc"))
        for label, widget in (("&Model", self.model), ("&Device", self.device),
                              ("Com&pute type", self.compute_type),
                              ("&Language", self.language),
                              ("&Voice detection", self.vad_kind),
                              ("End-of-speech &silence", self.vad_silence),
                              ("WebRTC s&trictness", self.vad_aggressiveness),
                              ("Longest caption l&ine", self.vad_max_utterance)):
            form.addRow(label, widget)
        return page

    def _overlay_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.font_size = QSpinBox(page)
        self.font_size.setAccessibleName("Overlay font size")
        self.font_size.setRange(8, 96)
        self.font_size.setSuffix(" pt")
        self.text_color = ColorButton("Overlay text colour", page)
        self.background = ColorButton("Overlay background colour", page)
        self.opacity = QSlider(Qt.Orientation.Horizontal, page)
        self.opacity.setAccessibleName("Overlay opacity")
        self.opacity.setRange(10, 100)
        self.opacity_label = QLabel(page)
        self.opacity.valueChanged.connect(lambda v: self.opacity_label.setText(f"{v} %"))
        opacity_row = QWidget(page)  # a widget, not a layout, so the row label gets a buddy
        row_layout = QHBoxLayout(opacity_row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.opacity, 1)
        row_layout.addWidget(self.opacity_label)
        self.lines = QSpinBox(page)
        self.lines.setAccessibleName("Overlay lines")
        self.lines.setRange(1, 3)
        self.click_through = QCheckBox("Clicks pass through the overlay", page)
        self.click_through.setToolTip("Leave click-through with the overlay shortcut")
        form.addRow("&Font size", self.font_size)
        form.addRow("&Text colour", self.text_color)
        form.addRow("&Background", self.background)
        form.addRow("&Opacity", opacity_row)
        form.labelForField(opacity_row).setBuddy(self.opacity)
        form.addRow("&Lines", self.lines)
        form.addRow("", self.click_through)
        return page

    def _storage_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.sessions_dir = QLineEdit(page)
        self.sessions_dir.setReadOnly(True)
        self.sessions_dir.setAccessibleName("Sessions folder")
        self.sessions_dir.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 22)
        self.sessions_dir.setPlaceholderText(f"{paths.sessions_dir()}  (default)")
        self.sessions_dir.setToolTip("Live transcripts, recordings and autosave journals")
        self.choose_sessions_button = choose = QPushButton("&Choose…", page)
        choose.clicked.connect(self._choose_sessions_dir)
        default = QPushButton("Use &default", page)
        default.clicked.connect(self.sessions_dir.clear)
        row = QWidget(page)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.sessions_dir, 1)
        row_layout.addWidget(choose)
        row_layout.addWidget(default)
        self.record = QCheckBox("Record audio of live sessions (recording.flac)", page)
        self.theme = _combo(page, "Theme", THEMES)
        form.addRow("Sessions &folder", row)
        form.labelForField(row).setBuddy(self.sessions_dir)
        form.addRow("", self.record)
        form.addRow("T&heme", self.theme)
        return page

    def _choose_sessions_dir(self) -> None:
        start = self.sessions_dir.text() or str(paths.sessions_dir())
        chosen = QFileDialog.getExistingDirectory(self, "Store sessions and recordings in",
                                                  start)
        if chosen:
            self.sessions_dir.setText(chosen)

    def set_settings(self, s: Settings) -> None:
        """Show ``s`` in every field."""
        _select(self.model, s.model, f"{s.model}  (not installed)")
        _select(self.device, s.device)
        _select(self.compute_type, s.compute_type, s.compute_type)
        _select(self.language, s.language, s.language)
        _select(self.vad_kind, s.vad_kind)
        self.vad_silence.setValue(s.vad_min_silence)
        self.vad_aggressiveness.setValue(s.vad_aggressiveness)
        self.vad_aggressiveness.setEnabled(s.vad_kind == "webrtc")
        self.vad_max_utterance.setValue(s.vad_max_utterance)
        o = s.overlay
        self.font_size.setValue(o.font_size)
        self.text_color.set_color(o.text_color)
        self.background.set_color(o.background)
        self.opacity.setValue(round(o.opacity * 100))
        self.lines.setValue(o.lines)
        self.click_through.setChecked(o.click_through)
        self.shortcuts.set_shortcuts(s.shortcuts)
        self.sessions_dir.setText(s.sessions_dir or "")
        self.record.setChecked(s.record)
        _select(self.theme, s.theme)
        self.speakers.set_settings(s)

    def settings(self) -> Settings:
        """The edited settings; fields the dialog does not show keep their values."""
        overlay = replace(self._base.overlay, font_size=self.font_size.value(),
                          text_color=self.text_color.color(),
                          background=self.background.color(),
                          opacity=self.opacity.value() / 100, lines=self.lines.value(),
                          click_through=self.click_through.isChecked())
        return replace(self.speakers.apply(self._base), model=self.model.currentData(),
                       device=self.device.currentData(),
                       compute_type=self.compute_type.currentData(),
                       language=self.language.currentData(),
                       vad_kind=self.vad_kind.currentData(),
                       vad_min_silence=round(self.vad_silence.value(), 1),
                       vad_aggressiveness=self.vad_aggressiveness.value(),
                       vad_max_utterance=float(self.vad_max_utterance.value()),
                       overlay=overlay, shortcuts=self.shortcuts.shortcuts(),
                       sessions_dir=self.sessions_dir.text() or None,
                       record=self.record.isChecked(), theme=self.theme.currentData())

    def restore_defaults(self) -> None:
        """Show the default settings (the overlay keeps its place on screen)."""
        defaults = Settings()
        self.set_settings(replace(defaults, overlay=replace(
            defaults.overlay, geometry=self._base.overlay.geometry)))

    def _on_validity(self, valid: bool) -> None:
        self.ok_button.setEnabled(valid)

    def accept(self) -> None:
        """Save, then close; a failed save is shown and the dialog stays open."""
        new = self.settings()
        try:
            save_settings(new)
        except OSError as exc:
            self.banner.show_error(f"cannot save the settings: {exc.strerror or exc}")
            return
        self.saved = new
        log.info("settings saved")
        super().accept()


def open_settings(parent: QWidget | None, settings: Settings) -> Settings | None:
    """Show the dialog modally; on OK save and return the new settings, on Cancel None."""
    dialog = SettingsDialog(settings, parent)
    try:
        dialog.exec()
        return dialog.saved
    finally:
        dialog.deleteLater()

