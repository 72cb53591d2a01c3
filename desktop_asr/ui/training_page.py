"""The Train page: record a dataset (the wizard), then fine-tune, measure and use the result.

Training runs in the ``python -m training finetune`` subprocess (training_job.py); this page
shows its progress bar, loss and dev-WER curves, the before/after table, and offers to make
the new model the live one with one click.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from PySide6.QtCore import QProcess, Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QSpinBox, QTabWidget,
                               QVBoxLayout, QWidget)

from desktop_asr.errors import DesktopAsrError
from desktop_asr.models import BUNDLED_NAME, ModelManager
from desktop_asr.ui import dataset_store as store
from desktop_asr.ui.training_job import TrainingJob
from desktop_asr.ui.training_plot import CurvePlot
from desktop_asr.ui.training_wizard import RecordingWizard

log = logging.getLogger(__name__)

METHODS = (("LoRA adapters (light, forgets least)", "lora"),
           ("Decoder only (encoder frozen; fast on a CPU)", "freeze-encoder"),
           ("Full fine-tune", "full"))


def _pct(value: object) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f} %"  # type: ignore[arg-type]


def results_text(metrics: dict) -> str:
    """The before/after lines shown when a job is done."""
    lines = []
    for key, label in (("held_out", "Your held-out clips"), ("reference", "General reference")):
        b = (metrics.get("before") or {}).get(key)
        a = (metrics.get("after") or {}).get(key)
        if not (b and a):
            continue
        lines.append(f"{label}: WER {_pct(b['wer'])} → {_pct(a['wer'])}")
        if b.get("term_error_rate") is not None:
            lines.append(f"{label}: vocabulary errors {_pct(b['term_error_rate'])} → "
                         f"{_pct(a['term_error_rate'])}")
    return "\n".join(lines) or "No held-out clips were scored."


class TrainPanel(QWidget):
    """Pick dataset, base model and method; run, watch, cancel; see before/after."""

    errorOccurred = Signal(str)
    message = Signal(str)
    busyChanged = Signal(bool)
    useModelRequested = Signal(str, str)   # model name, engine name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = TrainingJob(self)
        self.result: dict | None = None
        self.dataset = QComboBox(self)
        self.dataset.setAccessibleName("Training dataset")
        self.browse = QPushButton("Folder…", self)
        self.add_edits = QPushButton("Add my editor corrections", self)
        self.add_edits.setToolTip("Every segment you corrected in the transcript editor "
                                  "becomes a training clip with its audio")
        self.base = QComboBox(self)
        self.base.setAccessibleName("Base model")
        self.method = QComboBox(self)
        self.method.setAccessibleName("Method")
        for label, value in METHODS:
            self.method.addItem(label, value)
        self.epochs = QSpinBox(self)
        self.epochs.setRange(1, 100)
        self.epochs.setValue(5)
        self.epochs.setAccessibleName("Epochs")
        self.name = QLineEdit(self)
        self.name.setAccessibleName("New model name")
        self.reference = QLineEdit(self)
        self.reference.setPlaceholderText("optional: a manifest.jsonl of general speech, to "
                                          "check nothing was forgotten")
        self.start_button = QPushButton("Start training", self)
        self.start_button.setObjectName("primaryButton")
        self.cancel_button = QPushButton("Cancel", self)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Training progress")
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.loss_plot = CurvePlot("Training loss", "#1f6feb", self)
        self.wer_plot = CurvePlot("Dev WER", "#d9480f", self, percent=True)
        self.results = QLabel("", self)
        self.results.setAccessibleName("Before and after")
        self.results.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_button = QPushButton("Use for live captions", self)
        self.use_button.setAccessibleName("Use for live captions")
        self._edits: QProcess | None = None
        self._build()
        self._connect()
        self.reload()

    def _build(self) -> None:
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.dataset, 1)
        row.addWidget(self.browse)
        row.addWidget(self.add_edits)
        form.addRow("Dataset", row)
        form.addRow("Start from", self.base)
        form.addRow("Method", self.method)
        form.addRow("Epochs", self.epochs)
        form.addRow("New model name", self.name)
        form.addRow("Reference set", self.reference)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.wer_plot)
        done = QHBoxLayout()
        done.addWidget(self.results, 1)
        done.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addLayout(plots, 1)
        layout.addLayout(done)

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.browse.clicked.connect(self._browse)
        self.add_edits.clicked.connect(self.import_edits)
        self.use_button.clicked.connect(self._use)
        self.dataset.currentIndexChanged.connect(self._suggest_name)
        self.method.currentIndexChanged.connect(self._suggest_name)
        self.job.event.connect(self._on_event)
        self.job.finished.connect(self._on_finished)
        self.job.runningChanged.connect(self._on_running)
        self._on_running(False)

    def reload(self) -> None:
        """Refresh the dataset and model pickers."""
        current = self.dataset.currentData()
        self.dataset.blockSignals(True)
        self.dataset.clear()
        for folder in store.list_datasets():
            self.dataset.addItem(folder.name, str(folder))
        if current and self.dataset.findData(current) < 0:
            self.dataset.addItem(Path(current).name, current)
        self.dataset.setCurrentIndex(max(0, self.dataset.findData(current)) if current else 0)
        self.dataset.blockSignals(False)
        base = self.base.currentData() or BUNDLED_NAME
        self.base.clear()
        try:
            entries = [e for e in ModelManager().list() if e.status != "downloadable"]
        except (OSError, DesktopAsrError) as exc:
            log.warning("cannot list models: %s", exc)
            entries = []
        for entry in entries:
            self.base.addItem(entry.name, entry.name)
        if self.base.findData(BUNDLED_NAME) < 0:
            self.base.addItem(BUNDLED_NAME, BUNDLED_NAME)
        self.base.setCurrentIndex(max(0, self.base.findData(base)))
        self._suggest_name()

    def select_dataset(self, folder: Path) -> None:
        """Train on ``folder`` (added to the picker if it lives elsewhere)."""
        if self.dataset.findData(str(folder)) < 0:
            self.dataset.addItem(folder.name, str(folder))
        self.dataset.setCurrentIndex(self.dataset.findData(str(folder)))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder")
        if folder:
            self.select_dataset(Path(folder))

    def _suggest_name(self, *_args: object) -> None:
        data = self.dataset.currentData()
        if data and not self.job.running:
            stem = re.sub(r"[^A-Za-z0-9._+-]+", "-", Path(data).name).strip("-.") or "mine"
            self.name.setText(f"{stem}-{self.method.currentData()}")

    def job_args(self) -> list[str]:
        """``python -m training`` arguments for the current choices."""
        args = ["finetune", "--data", str(self.dataset.currentData()), "--name",
                self.name.text().strip(), "--base", str(self.base.currentData() or BUNDLED_NAME),
                "--method", str(self.method.currentData()), "--epochs",
                str(self.epochs.value()), "--force"]
        if self.reference.text().strip():
            args += ["--reference", str(Path(self.reference.text().strip()).expanduser())]
        return args

    @Slot()
    def start(self) -> None:
        """Start the fine-tuning subprocess."""
        if self.job.running:
            return
        if not self.dataset.currentData():
            self.errorOccurred.emit("record or choose a dataset first")
            return
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$", self.name.text().strip()):
            self.errorOccurred.emit("the model name may hold only letters, digits, '.', '_', "
                                    "'+' and '-'")
            return
        self.result = None
        self.loss_plot.clear()
        self.wer_plot.clear()
        self.results.setText("")
        self.progress.setRange(0, 0)  # busy until the first step says how many
        self.status.setText("Starting…")
        self.job.start(self.job_args())

    @Slot()
    def cancel(self) -> None:
        """Stop the job; nothing is installed."""
        if self.job.running:
            self.status.setText("Cancelling at the next step…")
            self.job.cancel()

    @Slot()
    def import_edits(self) -> None:
        """Add the transcript editor's corrections to the chosen dataset (a subprocess)."""
        target = self.dataset.currentData()
        if not target or self._edits is not None:
            if not target:
                self.errorOccurred.emit("choose the dataset to add the corrections to")
            return
        import sys

        proc = QProcess(self)
        self._edits = proc

        def done(code: int, _status: object) -> None:
            out = bytes(proc.readAllStandardOutput()).decode("utf-8", "replace").strip()
            err = bytes(proc.readAllStandardError()).decode("utf-8", "replace").strip()
            self._edits = None
            proc.deleteLater()
            if code == 0:
                self.message.emit(out.splitlines()[-1] if out else "no corrections found")
            else:
                self.errorOccurred.emit(err.splitlines()[-1] if err else "import failed")

        proc.finished.connect(done)
        proc.start(sys.executable, ["-m", "training", "dataset", "import-edits", "--to",
                                    str(target)])

    @Slot(object)
    def _on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "phase":
            self.status.setText(str(event.get("message", "")))
        elif kind == "train":
            self.progress.setRange(0, int(event["total_steps"]))
            self.progress.setValue(0)
        elif kind == "step":
            self.progress.setRange(0, int(event["total_steps"]))
            self.progress.setValue(int(event["step"]))
            self.loss_plot.add(event["step"], event["loss"])
            eta = event.get("eta")
            self.status.setText(f"Step {event['step']} of {event['total_steps']}, loss "
                                f"{event['loss']:.3f}" + (f", about {eta / 60:.0f} min left"
                                                          if eta else ""))
        elif kind == "eval":
            self.wer_plot.add(event["step"], event["dev_wer"])
        elif kind == "dataset" and event.get("errors"):
            self.message.emit(f"Dataset: {event['summary']}")

    @Slot(object)
    def _on_finished(self, event: dict) -> None:
        kind = event.get("event")
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if kind == "done" else 0)
        if kind == "done":
            self.result = event
            self.status.setText(f"Installed {event['model']}.")
            self.results.setText(results_text(event.get("metrics") or {}))
            self.message.emit(f"Model {event['model']} is ready")
            self.reload()
        elif kind == "cancelled":
            self.status.setText("Cancelled; no model was installed.")
        else:
            self.status.setText("Training failed.")
            self.errorOccurred.emit(f"training failed: {event.get('message', '')}")
        self._on_running(False)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        for w in (self.dataset, self.browse, self.base, self.method, self.epochs, self.name,
                  self.reference, self.start_button, self.add_edits):
            w.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.use_button.setEnabled(not running and self.result is not None)
        self.busyChanged.emit(running)

    def _use(self) -> None:
        if self.result is not None:
            self.useModelRequested.emit(str(self.result["model"]),
                                        str(self.result.get("engine") or "faster-whisper"))

    def shutdown(self) -> None:
        """Cancel a running job and wait for it to stop."""
        if self.job.running:
            self.job.cancel()
            self.job.wait(20000)


class TrainingPage(QWidget):
    """Record (the wizard) and Train, side by side as two tabs."""

    errorOccurred = Signal(str)
    message = Signal(str)
    busyChanged = Signal(bool)
    useModelRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None, *, source_spec: str = "mic") -> None:
        super().__init__(parent)
        self.wizard = RecordingWizard(self, source_spec=source_spec)
        self.train = TrainPanel(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.wizard, "Record")
        self.tabs.addTab(self.train, "Train")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        for part in (self.wizard, self.train):
            part.errorOccurred.connect(self.errorOccurred)
            part.message.connect(self.message)
        self.train.busyChanged.connect(self.busyChanged)
        self.train.useModelRequested.connect(self.useModelRequested)
        self.wizard.datasetsChanged.connect(self.train.reload)
        self.wizard.saved.connect(lambda _row: self._follow_dataset())

    def _follow_dataset(self) -> None:
        if self.wizard.dataset is not None:
            self.train.select_dataset(self.wizard.dataset)

    @property
    def busy(self) -> bool:
        """True while a training job runs."""
        return self.train.job.running

    def shutdown(self) -> None:
        """Stop recording, playback and training."""
        self.wizard.shutdown()
        self.train.shutdown()
