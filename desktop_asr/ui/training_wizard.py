"""The recording wizard: one prompt at a time; record, check, play back, re-record, keep.

Prompts come from the bundled lists (resources/prompts), the user's own sentences and their
vocabulary list (each term in a few carrier sentences). Every kept take is written to the
dataset at once (desktop_asr/ui/dataset_store.py), so closing the app loses nothing kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from desktop_asr.datasets.dataset import DatasetError, Item
from desktop_asr.audio.playback import PlaybackError, Player
from desktop_asr.capture import AudioSource, open_source
from desktop_asr.ui import dataset_store as store
from desktop_asr.ui.level_meter import LevelBar
from desktop_asr.ui.training_recorder import TakeRecorder

log = logging.getLogger(__name__)

OWN = "My sentences and vocabulary only"


class RecordingWizard(QWidget):
    """Records a dataset prompt by prompt."""

    errorOccurred = Signal(str)
    message = Signal(str)
    datasetsChanged = Signal()
    saved = Signal(object)        # the dataset Item of a kept take
    takeChecked = Signal(object)  # store.TakeCheck of the last take

    def __init__(self, parent: QWidget | None = None, *, source_spec: str = "mic",
                 source_factory: Callable[[], AudioSource] | None = None) -> None:
        super().__init__(parent)
        self.source_spec = source_spec
        # Tests and demos may replay a file instead of the microphone.
        self.recorder = TakeRecorder(source_factory or (lambda: open_source(self.source_spec)),
                                     self)
        self.dataset: Path | None = None
        self.prompts: list[str] = []
        self.index = 0
        self.take: np.ndarray | None = None
        self.check: store.TakeCheck | None = None
        self.player: Player | None = None
        # The wizard's own flag: the worker thread may still be finishing when its take
        # arrives, and the buttons must follow the take, not the thread.
        self.recording = False
        self._build()
        self._connect()
        self.reload_datasets()
        self._rebuild_prompts()

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.dataset_combo = QComboBox(self)
        self.dataset_combo.setAccessibleName("Dataset")
        self.new_dataset = QPushButton("New dataset…", self)
        self.list_combo = QComboBox(self)
        self.list_combo.setAccessibleName("Prompt list")
        for name in store.prompt_lists():
            self.list_combo.addItem(name, name)
        self.list_combo.addItem(OWN, None)
        self.own = QPlainTextEdit(self)
        self.own.setPlaceholderText("Your own sentences, one per line (they come first)")
        self.own.setAccessibleName("Your sentences")
        self.own.setMaximumHeight(70)
        self.vocabulary = QLineEdit(self)
        self.vocabulary.setPlaceholderText("Names and words to learn, separated by commas")
        self.vocabulary.setAccessibleName("Vocabulary")
        self.position = QLabel("", self)
        self.prompt = QLabel("", self)
        self.prompt.setObjectName("trainingPrompt")
        self.prompt.setWordWrap(True)
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt.setStyleSheet("font-size: 20px; padding: 18px;")
        self.prompt.setAccessibleName("Sentence to read")
        self.meter = LevelBar(self)
        self.verdict = QLabel("Press Record, read the sentence, then Stop.", self)
        self.verdict.setAccessibleName("Take check")
        self.verdict.setWordWrap(True)
        self.record_button = QPushButton("Record", self)
        self.record_button.setObjectName("primaryButton")
        self.play_button = QPushButton("Play back", self)
        self.keep_button = QPushButton("Keep and next", self)
        self.skip_button = QPushButton("Skip", self)
        self.counts = QLabel("", self)
        form = QFormLayout()
        top = QHBoxLayout()
        top.addWidget(self.dataset_combo, 1)
        top.addWidget(self.new_dataset)
        form.addRow("Dataset", top)
        form.addRow("Prompts", self.list_combo)
        form.addRow("Your sentences", self.own)
        form.addRow("Vocabulary", self.vocabulary)
        buttons = QHBoxLayout()
        for b in (self.record_button, self.play_button, self.keep_button, self.skip_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.counts)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.position)
        layout.addWidget(self.prompt, 1)
        layout.addWidget(self.meter)
        layout.addWidget(self.verdict)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        self.record_button.clicked.connect(self.toggle_recording)
        self.play_button.clicked.connect(self.play)
        self.keep_button.clicked.connect(self.keep)
        self.skip_button.clicked.connect(self.skip)
        self.new_dataset.clicked.connect(self.ask_new_dataset)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_changed)
        self.list_combo.currentIndexChanged.connect(self._rebuild_prompts)
        self.own.textChanged.connect(self._rebuild_prompts)
        self.vocabulary.editingFinished.connect(self._rebuild_prompts)
        self.recorder.level.connect(self.meter.set_level)
        self.recorder.finished.connect(self._on_take)
        self.recorder.failed.connect(self.errorOccurred)

    # -- datasets and prompts -------------------------------------------------------------

    def reload_datasets(self, select: Path | None = None) -> None:
        """Fill the dataset picker from the datasets folder."""
        current = select or self.dataset
        self.dataset_combo.blockSignals(True)
        self.dataset_combo.clear()
        for folder in store.list_datasets():
            self.dataset_combo.addItem(folder.name, str(folder))
        index = self.dataset_combo.findData(str(current)) if current else 0
        self.dataset_combo.setCurrentIndex(max(0, index))
        self.dataset_combo.blockSignals(False)
        self._on_dataset_changed()

    def create_dataset(self, name: str) -> Path | None:
        """Make a dataset with the vocabulary typed so far and select it."""
        terms = tuple(t.strip() for t in self.vocabulary.text().split(",") if t.strip())
        try:
            folder = store.create_dataset(name, vocabulary=terms)
        except (ValueError, DatasetError) as exc:
            self.errorOccurred.emit(f"cannot create the dataset: {exc}")
            return None
        self.reload_datasets(folder)
        self.datasetsChanged.emit()
        return folder

    @Slot()
    def ask_new_dataset(self) -> None:
        """Ask for a name and create the dataset."""
        name, ok = QInputDialog.getText(self, "New dataset", "Name of the new dataset:")
        if ok and name.strip():
            self.create_dataset(name)

    def _on_dataset_changed(self, *_args: object) -> None:
        data = self.dataset_combo.currentData()
        self.dataset = Path(data) if data else None
        self._rebuild_prompts()

    def _rebuild_prompts(self, *_args: object) -> None:
        own = [" ".join(line.split()) for line in self.own.toPlainText().splitlines()
               if line.strip()]
        terms = [t for t in self.vocabulary.text().split(",") if t.strip()]
        name = self.list_combo.currentData()
        bundled = store.read_prompts(store.prompt_lists()[name]) if name else []
        done = store.recorded_texts(self.dataset) if self.dataset else set()
        prompts = own + store.vocabulary_prompts(terms) + bundled
        self.set_prompts([p for p in dict.fromkeys(prompts) if p not in done])

    def set_prompts(self, prompts: list[str]) -> None:
        """Show these prompts, from the first."""
        self.prompts, self.index = list(prompts), 0
        self._clear_take()
        self._show()

    @property
    def current_prompt(self) -> str | None:
        """The sentence being recorded, or None when every prompt is done."""
        return self.prompts[self.index] if self.index < len(self.prompts) else None

    # -- recording ------------------------------------------------------------------------

    @Slot()
    def toggle_recording(self) -> None:
        """Record, or stop the recording in progress."""
        if self.recording:
            self.stop_recording()
        else:
            self.start_recording()

    def start_recording(self) -> None:
        """Start a (new) take of the current prompt; an earlier take is discarded."""
        if self.dataset is None:
            self.errorOccurred.emit("create or choose a dataset first")
            return
        if self.current_prompt is None:
            return
        self._stop_playback()
        self._clear_take()
        self.recording = True
        self.recorder.start()
        self.record_button.setText("Stop")
        self.verdict.setText("Recording… read the sentence, then press Stop.")
        self._update_buttons()

    def stop_recording(self) -> None:
        """End the take; it is checked when the recorder hands it over."""
        self.recorder.stop()

    @Slot(object)
    def _on_take(self, samples: np.ndarray) -> None:
        self.recording = False
        self.record_button.setText("Re-record")
        self.take = samples
        self.check = store.check_take(samples)
        self.verdict.setText(self.check.summary())
        self.takeChecked.emit(self.check)
        self._update_buttons()

    @Slot()
    def play(self) -> None:
        """Play the take back on the default output."""
        if self.take is None or self.dataset is None:
            return
        self._stop_playback()
        path = self.dataset / ".take.wav"
        try:
            import wave

            pcm = np.round(np.clip(self.take, -1, 1) * 32767).astype("<i2")
            with wave.open(str(path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(store.SAMPLE_RATE)
                out.writeframes(pcm.tobytes())
            self.player = Player(path)
            self.player.play(0.0, self.take.size / store.SAMPLE_RATE)
        except (PlaybackError, OSError) as exc:
            self.errorOccurred.emit(f"cannot play the take: {exc}")

    @Slot()
    def keep(self) -> Item | None:
        """Save the take with the current prompt and go to the next prompt."""
        if self.take is None or self.check is None or not self.check.ok or self.dataset is None:
            return None
        prompt = self.current_prompt
        assert prompt is not None
        terms = tuple(t.strip() for t in self.vocabulary.text().split(",") if t.strip())
        try:
            item = store.save_take(self.dataset, self.take, prompt)
            store.add_vocabulary(self.dataset, terms)
        except DatasetError as exc:
            self.errorOccurred.emit(f"could not save the take: {exc}")
            return None
        self.saved.emit(item)
        self.message.emit(f"Saved {item.audio} in {self.dataset.name}")
        self.index += 1
        self._clear_take()
        self._show()
        return item

    @Slot()
    def skip(self) -> None:
        """Leave the current prompt unrecorded and go to the next."""
        if self.current_prompt is not None:
            self.index += 1
            self._clear_take()
            self._show()

    def shutdown(self) -> None:
        """Stop recording and playback."""
        self.recorder.stop()
        self.recorder.wait(5)
        self._stop_playback()

    # -- helpers --------------------------------------------------------------------------

    def _stop_playback(self) -> None:
        if self.player is not None:
            self.player.close()
            self.player = None

    def _clear_take(self) -> None:
        self.take, self.check = None, None
        self.record_button.setText("Record")
        self.meter.set_level(0.0, 0.0)
        self._update_buttons()

    def _show(self) -> None:
        prompt = self.current_prompt
        if prompt is None:
            self.position.setText(f"All {len(self.prompts)} prompts done" if self.prompts
                                  else "No prompts: pick a list or type your own sentences")
            self.prompt.setText("")
        else:
            self.position.setText(f"Prompt {self.index + 1} of {len(self.prompts)}")
            self.prompt.setText(prompt)
            self.verdict.setText("Press Record, read the sentence, then Stop.")
        kept = store.items(self.dataset) if self.dataset else ()
        minutes = sum(i.duration or 0.0 for i in kept) / 60
        self.counts.setText(f"{len(kept)} clip(s), {minutes:.1f} min" if self.dataset else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        recording = self.recording
        has_take = self.take is not None and not recording
        self.record_button.setEnabled(self.dataset is not None and
                                      self.current_prompt is not None)
        self.play_button.setEnabled(has_take)
        self.keep_button.setEnabled(has_take and self.check is not None and self.check.ok)
        self.skip_button.setEnabled(not recording and self.current_prompt is not None)
