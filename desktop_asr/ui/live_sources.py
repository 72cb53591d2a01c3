"""The live source picker: microphones, system audio, both, or a file replayed as if live."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QToolButton, QWidget

from desktop_asr.batch import MEDIA_SUFFIXES
from desktop_asr.capture import CaptureError, list_devices

log = logging.getLogger(__name__)

REPLAY = "replay"
_FILTER = ("Audio and video (" + " ".join(f"*{s}" for s in sorted(MEDIA_SUFFIXES))
           + ");;All files (*)")


class SourcePicker(QWidget):
    """A combo box whose item data is an ``open_source`` spec; no capture happens here."""

    errorOccurred = Signal(str)

    def __init__(self, initial: str = "mic", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.replay_speed = 1.0  # demos replay in real time; tests speed it up
        self.combo = QComboBox(self)
        self.combo.setAccessibleName("Audio source")
        self.combo.setToolTip("What to caption: a microphone, what the computer plays, both, "
                              "or a recording replayed as if it were live")
        self.combo.setMinimumContentsLength(22)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.refresh_button = QToolButton(self)
        self.refresh_button.setText("⟳")
        self.refresh_button.setAccessibleName("Refresh audio sources")
        self.refresh_button.setToolTip("Look for microphones plugged in since the app started")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.refresh_button)
        self._previous = 0
        self.refresh_button.clicked.connect(lambda: self.reload(rescan=True))
        self.combo.activated.connect(self._on_activated)
        self.reload()
        self.select(initial)

    def reload(self, *, rescan: bool = False) -> None:
        """List the capture choices again, keeping the current one."""
        current = self.spec() if self.combo.count() else None
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem("Default microphone", "mic")
        try:
            devices = list_devices(rescan=rescan)
        except (CaptureError, OSError) as exc:
            log.warning("cannot list audio devices: %s", exc)
            devices = []
        for dev in devices:
            if dev.kind == "input":
                self.combo.addItem(f"Microphone: {dev.name}", dev.id)
        self.combo.addItem("System audio (what the computer plays)", "system")
        self.combo.addItem("Microphone + system audio", "both")
        self.combo.addItem("Replay a file…", REPLAY)
        self.combo.blockSignals(False)
        if current:
            self.select(current)

    def spec(self) -> str:
        """The ``open_source`` spec of the current choice."""
        return str(self.combo.currentData() or "mic")

    def select(self, spec: str) -> None:
        """Choose ``spec``; an unknown one (a device id, a file) is added to the list."""
        index = self.combo.findData(spec)
        if index < 0:
            label = (f"Replay: {Path(spec[5:]).name}" if spec.startswith("file:")
                     else f"Device {spec}")
            self.combo.insertItem(self.combo.count() - 1, label, spec)
            index = self.combo.findData(spec)
        self.combo.setCurrentIndex(index)
        self._previous = index

    def set_replay_file(self, path: str | Path, speed: float | None = None) -> None:
        """Replay ``path`` as the live source (``speed`` times real time)."""
        if speed is not None:
            self.replay_speed = speed
        self.select(f"file:{Path(path).absolute()}")

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        if self.combo.itemData(index) != REPLAY:
            self._previous = index
            return
        chosen, _ = QFileDialog.getOpenFileName(self, "Replay a recording as if live", "",
                                                _FILTER)
        if chosen:
            self.set_replay_file(chosen)
        else:
            self.combo.setCurrentIndex(self._previous)
