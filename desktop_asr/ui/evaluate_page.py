"""The Evaluate page: pick a manifest and models, run the evaluation, read and export the report."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QProgressBar, QSplitter,
                               QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from desktop_asr import paths
from desktop_asr.engines import DEFAULT_ENGINE, EngineConfig, engine_names
from desktop_asr.errors import DesktopAsrError
from desktop_asr.evaluation import EvaluationOptions, EvaluationProgress, ModelSpec
from desktop_asr.models import ModelManager
from desktop_asr.ui.evaluate_worker import EvaluationDone, EvaluationJob, EvaluationRunner

log = logging.getLogger(__name__)

_HINT = ("<p>Pick a <b>manifest</b> — one JSON object per line with an <code>audio</code> file "
         "and its reference <code>text</code> (optional: <code>language</code>, "
         "<code>speaker</code>, <code>speakers</code>, <code>rttm</code>) — tick the models "
         "to compare and press <b>Evaluate</b>. The report shows WER, CER, MER and WIL with "
         "substitutions, deletions and insertions, speed and memory, breakdowns by duration and "
         "speaker, DER for clips with an RTTM, the worst files with their errors highlighted, "
         "and plots.</p>")
_SPEC = Qt.ItemDataRole.UserRole


KEEP_REPORTS = 5  # report folders kept in the cache; older ones are recreated by a new run


def _prune(folder: Path, keep: int) -> None:
    old = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name)[:-keep]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)


def _button(parent: QWidget, text: str, name: str) -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    button.setAccessibleName(name)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


class EvaluatePage(QWidget):
    """Evaluation of one or more models on a manifest, with the report shown in place."""

    errorOccurred = Signal(str)
    message = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, engine_config: EngineConfig | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluatePage")
        self.engine_config = engine_config or EngineConfig()
        self.runner = EvaluationRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.last: EvaluationDone | None = None
        self._job: EvaluationJob | None = None
        self._started = 0.0
        self._custom: list[ModelSpec] = []  # added by hand; kept when the list is reloaded
        self._build()
        self.reload_models()
        self._update_actions()

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.manifest_edit = QLineEdit(self)
        self.manifest_edit.setPlaceholderText("manifest.jsonl: audio + reference text per line")
        self.manifest_edit.setAccessibleName("Manifest")
        self.manifest_edit.textChanged.connect(lambda _text: self._update_actions())
        self.browse_button = _button(self, "Browse…", "Choose manifest")
        self.browse_button.clicked.connect(self.ask_manifest)
        top = QHBoxLayout()
        top.addWidget(QLabel("Manifest:", self))
        top.addWidget(self.manifest_edit, 1)
        top.addWidget(self.browse_button)

        self.models = QListWidget(self)
        self.models.setAccessibleName("Models to evaluate")
        self.models.itemChanged.connect(lambda _item: self._update_actions())
        self.engine_box = QComboBox(self)
        self.engine_box.addItems(list(engine_names()))
        self.engine_box.setCurrentText(DEFAULT_ENGINE)
        self.engine_box.setAccessibleName("Engine")
        self.model_edit = QLineEdit(self)
        self.model_edit.setPlaceholderText("model name or folder")
        self.model_edit.setAccessibleName("Model to add")
        self.model_edit.returnPressed.connect(self.add_model_from_fields)
        self.add_button = _button(self, "Add", "Add model")
        self.add_button.clicked.connect(self.add_model_from_fields)
        self.folder_button = _button(self, "Folder…", "Add model folder")
        self.folder_button.clicked.connect(self.ask_model_folder)
        add_row = QHBoxLayout()
        add_row.addWidget(self.engine_box)
        add_row.addWidget(self.model_edit, 1)
        add_row.addWidget(self.add_button)
        add_row.addWidget(self.folder_button)
        self.raw_check = QCheckBox("Raw scoring (case and punctuation count as errors)", self)
        self.der_check = QCheckBox("Diarization error (DER) for clips with an RTTM", self)
        self.der_check.setChecked(True)
        group = QGroupBox("Models", self)
        group_layout = QVBoxLayout(group)
        group_layout.addWidget(self.models, 1)
        group_layout.addLayout(add_row)
        group_layout.addWidget(self.raw_check)
        group_layout.addWidget(self.der_check)

        self.run_button = _button(self, "Evaluate", "Evaluate")
        self.run_button.setObjectName("primaryButton")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = _button(self, "Cancel", "Cancel evaluation")
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = _button(self, "Export report…", "Export report")
        self.export_button.clicked.connect(self.ask_export)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.progress.hide()
        self.status = QLabel("", self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.status, 1)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(group, 1)
        self.report = QTextBrowser(self)
        self.report.setAccessibleName("Evaluation report")
        self.report.setOpenLinks(False)
        self.report.setHtml(_HINT)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.report)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([330, 850])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(splitter, 1)

    # -- models ----------------------------------------------------------------------------
    def reload_models(self) -> None:
        """List the bundled and installed (also fine-tuned) models, keeping the ticks made."""
        before = {spec: self._find(spec).checkState() == Qt.CheckState.Checked  # type: ignore
                  for spec in self._all_specs()}
        self.models.clear()
        try:
            entries = [e for e in ModelManager().list() if e.status in ("bundled", "installed")]
        except (DesktopAsrError, OSError) as exc:
            self.errorOccurred.emit(f"Cannot list models: {exc}")
            entries = []
        for entry in entries:
            spec = ModelSpec(DEFAULT_ENGINE, entry.name)
            self.add_model(spec, checked=before.get(spec, not before and entry.status == "bundled"),
                           tip=entry.description)
        for spec in self._custom:
            if not self._find(spec):
                self.add_model(spec, checked=before.get(spec, True))

    def showEvent(self, event: QShowEvent) -> None:
        """List the models afresh when the page comes to the front (a fine-tune may be new)."""
        super().showEvent(event)
        if not self.busy:
            self.reload_models()

    def _all_specs(self) -> list[ModelSpec]:
        return [self.models.item(i).data(_SPEC) for i in range(self.models.count())]

    def _find(self, spec: ModelSpec) -> QListWidgetItem | None:
        for i in range(self.models.count()):
            if self.models.item(i).data(_SPEC) == spec:
                return self.models.item(i)
        return None

    def add_model(self, spec: ModelSpec, *, checked: bool = True, tip: str = "") -> None:
        """Add (or tick, if listed) an engine/model pair."""
        item = self._find(spec)
        if item is None:
            item = QListWidgetItem(spec.label if spec.engine == DEFAULT_ENGINE
                                   else f"{spec.label}  ({spec.engine})")
            item.setData(_SPEC, spec)
            item.setToolTip(tip or f"{spec.engine}: {spec.model}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self.models.addItem(item)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self._update_actions()

    @Slot()
    def add_model_from_fields(self) -> None:
        """Add the model typed next to the engine box."""
        text = self.model_edit.text().strip()
        if not text:
            return
        try:
            spec = ModelSpec(self.engine_box.currentText(), text)
        except ValueError as exc:
            self.errorOccurred.emit(str(exc))
            return
        self._custom.append(spec)
        self.add_model(spec)
        self.model_edit.clear()

    @Slot()
    def ask_model_folder(self) -> None:
        """Add a model folder picked in a dialog."""
        folder = QFileDialog.getExistingDirectory(self, "Model folder")
        if folder:
            spec = ModelSpec(self.engine_box.currentText(), folder)
            self._custom.append(spec)
            self.add_model(spec)

    def selected_specs(self) -> list[ModelSpec]:
        """The ticked models, in list order."""
        return [self.models.item(i).data(_SPEC) for i in range(self.models.count())
                if self.models.item(i).checkState() == Qt.CheckState.Checked]

    # -- running ---------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while an evaluation runs."""
        return self.runner.busy

    def set_manifest(self, path: str | Path) -> None:
        """Choose the manifest to evaluate."""
        self.manifest_edit.setText(str(path))

    @Slot()
    def ask_manifest(self) -> None:
        """Pick a manifest in a file dialog."""
        chosen, _ = QFileDialog.getOpenFileName(self, "Evaluation manifest",
                                                self.manifest_edit.text(),
                                                "Manifests (*.jsonl *.json);;All files (*)")
        if chosen:
            self.set_manifest(chosen)

    def options(self) -> EvaluationOptions:
        """Evaluation options from the page and the app's engine settings."""
        c = self.engine_config
        return EvaluationOptions(raw=self.raw_check.isChecked(), der=self.der_check.isChecked(),
                                 device=c.device, compute_type=c.compute_type,
                                 cpu_threads=c.cpu_threads)

    @Slot()
    def start(self) -> bool:
        """Evaluate the ticked models on the manifest in the worker thread."""
        if self.busy:
            return False
        text = self.manifest_edit.text().strip()
        manifest = Path(text).expanduser()
        if not text or not manifest.is_file():
            self.errorOccurred.emit(f"No manifest at {text!r}: choose a .jsonl file."
                                    if text else "Choose a manifest first.")
            return False
        out = paths.cache_dir() / "evaluations"
        try:
            out.mkdir(parents=True, exist_ok=True)
            _prune(out, keep=KEEP_REPORTS)
            report_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=out))
            job = EvaluationJob(manifest, tuple(self.selected_specs()), self.options(),
                                report_dir)
        except (ValueError, OSError) as exc:
            self.errorOccurred.emit(f"Cannot start: {exc}")
            return False
        self._job, self._started = job, time.monotonic()
        self.runner.start(job)
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText("Starting…")
        self.message.emit(f"Evaluating {len(job.specs)} model(s) on {manifest.name}…")
        self._update_actions()
        self.busyChanged.emit(True)
        return True

    @Slot()
    def cancel(self) -> None:
        """Stop the evaluation at the next segment; the report shows what was done."""
        if self.busy and not self.runner.cancelling:
            self.runner.cancel()
            self.status.setText("Cancelling…")
            self._update_actions()

    def shutdown(self) -> None:
        """Cancel and join the worker thread."""
        self.runner.shutdown()

    @Slot(object)
    def _on_progress(self, event: EvaluationProgress) -> None:
        self.progress.setValue(round(1000 * event.fraction))
        what = {"load": f"Loading {event.model}…",
                "clip": f"{event.model}: {event.clip} ({event.done}/{event.total})",
                "der-start": f"Diarizing {event.clip}…",
                "der": f"Diarized {event.clip} ({event.done}/{event.total})",
                "report": f"Drawing {event.clip}…"}.get(event.stage, "")
        self.status.setText(what)

    @Slot(object)
    def _on_finished(self, done: EvaluationDone) -> None:
        self._job = None
        self.last = done if done.result is not None else self.last
        self.progress.hide()
        if done.error:
            self.status.setText("Evaluation failed")
            self.errorOccurred.emit(done.error)
        else:
            self.report.setHtml(done.html)
            result = done.result
            assert result is not None
            state = "Cancelled" if result.cancelled else "Finished"
            self.status.setText(f"{state} in {done.elapsed:.1f} s")
            self.message.emit(f"{state}: evaluation of {len(result.models)} model(s)")
            if result.problems:
                first = result.problems[0]
                self.errorOccurred.emit(f"{len(result.problems)} manifest line(s) or clip(s) "
                                        f"could not be evaluated (see Problems in the report); "
                                        f"first: {first}")
        self._update_actions()
        self.busyChanged.emit(False)

    # -- export ----------------------------------------------------------------------------
    def export_to(self, folder: Path) -> list[Path]:
        """Copy the last report (HTML, Markdown, PNGs, results.json) into ``folder``."""
        if self.last is None or self.last.files is None:
            self.errorOccurred.emit("Run an evaluation first.")
            return []
        files = self.last.files
        written = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for src in (files.html, files.markdown, files.json, *files.images):
                written.append(Path(shutil.copy2(src, folder / src.name)))
        except OSError as exc:
            self.errorOccurred.emit(f"Cannot export the report to {folder}: "
                                    f"{exc.strerror or exc}")
            return written
        self.message.emit(f"Exported the report to {folder}")
        return written

    @Slot()
    def ask_export(self) -> list[Path]:
        """Ask for a folder and export the report into it."""
        folder = QFileDialog.getExistingDirectory(self, "Export the report to")
        return self.export_to(Path(folder)) if folder else []

    def _update_actions(self) -> None:
        busy = self.busy
        ready = bool(self.manifest_edit.text().strip()) and bool(self.selected_specs())
        self.run_button.setEnabled(not busy and ready)
        self.cancel_button.setEnabled(busy and not self.runner.cancelling)
        self.export_button.setEnabled(not busy and self.last is not None)
        for widget in (self.manifest_edit, self.browse_button, self.models, self.add_button,
                       self.folder_button, self.model_edit, self.engine_box, self.raw_check,
                       self.der_check):
            widget.setEnabled(not busy)
