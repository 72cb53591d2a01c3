"""The Live page: pick a source, start/pause/stop captions, watch levels, export the result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_asr.capture import AudioSource
from desktop_asr.diarization import DiarizationOptions
from desktop_asr.diarization.live import LiveSpeakerOptions
from desktop_asr.engines import EngineConfig
from desktop_asr.errors import DesktopAsrError
from desktop_asr.export import FORMATS
from desktop_asr.settings import Settings, load_settings, save_settings
from desktop_asr.streaming import PipelineError, PipelineStatus, TranscriptUpdate
from desktop_asr.streaming.events import SpeakerNamed, SpeakersSettled, SpeakerUpdate
from desktop_asr.types import Speaker, Transcript
from desktop_asr.ui import export_actions
from desktop_asr.ui.caption_view import SPEAKER_NAMES, CaptionView
from desktop_asr.ui.editor_speakers import SpeakersBar
from desktop_asr.ui.events import EngineLoading, EngineReady
from desktop_asr.ui.level_meter import LevelMeters
from desktop_asr.ui.live_actions import make_live_actions
from desktop_asr.ui.live_runner import IDLE, RUNNING, STARTING, LiveRunner
from desktop_asr.ui.live_sources import SourcePicker
from desktop_asr.ui.live_status import LiveStatusPanel
from desktop_asr.ui.live_worker import LiveFinished, LiveRequest, LiveStarted
from desktop_asr.ui.options_bar import OptionsBar
from desktop_asr.ui.overlay import CaptionOverlay
from desktop_asr.ui.progress import short_path

log = logging.getLogger(__name__)


def _button(parent: QWidget, action, name: str) -> QToolButton:
    button = QToolButton(parent)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setAccessibleName(name)
    return button


class LivePage(QWidget):
    """Live captions of the microphone, system audio, both, or a replayed file."""

    errorOccurred = Signal(str)
    message = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, settings: Settings, engine_config: EngineConfig | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.commands = make_live_actions(self, settings.shortcuts)
        self.addActions(self.commands.all())
        self.runner = LiveRunner(self)
        self.source = SourcePicker(settings.source, self)
        self.options = OptionsBar(engine_config or EngineConfig(
            model=settings.model, device=settings.device, compute_type=settings.compute_type),
            self, live=True)
        self.options.word_timestamps.hide()  # live captions always time their words
        self.options.speakers.setToolTip(
            "Label who speaks, live: each line gets its speaker a moment after its words, and "
            "the labels settle when you stop. With microphone + system audio the microphone "
            "is you and the system audio's voices are told apart")
        self.options.speakers.setChecked(settings.live_speakers)
        self.options.vocabulary.setText(", ".join(settings.hotwords))
        self.record = QCheckBox("Record audio", self)
        self.record.setAccessibleName("Record audio")
        self.record.setToolTip("Also save the session's audio as FLAC in its folder")
        self.record.setChecked(settings.record)
        self.meters = LevelMeters(self)
        self.captions = CaptionView(self)
        self.speakers = SpeakersBar(self)
        self.speakers.hide()
        self._speaker_ids: list[str] = []
        self._speaker_names: dict[str, str] = {}
        self.status_panel = LiveStatusPanel()
        self.overlay = CaptionOverlay(settings.overlay)
        a = self.commands
        self.start_button = _button(self, a.start, "Start")
        self.start_button.setObjectName("primaryButton")
        self.pause_button = _button(self, a.pause, "Pause")
        self.stop_button = _button(self, a.stop, "Stop")
        self.overlay_button = _button(self, a.toggle_overlay, "Show caption overlay")
        self.export_button = QToolButton(self)
        self.export_button.setObjectName("exportButton")
        self.export_button.setText("Export ▾")
        self.export_button.setAccessibleName("Export live transcript")
        self.export_menu = QMenu("Export", self)
        self.export_formats = {f: self.export_menu.addAction(f"{f.upper()}…") for f in FORMATS}
        self.export_button.setMenu(self.export_menu)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.folder_label = QLabel("", self)
        self.folder_label.setObjectName("sessionFolder")
        self.folder_label.setAccessibleName("Session folder")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last: tuple[Path, Transcript] | None = None
        self._export_dir: Path | None = None
        self._shown_fatal: str | None = None
        # Tests and demos may supply the AudioSource directly (e.g. a failing device).
        self.source_factory: Callable[[], AudioSource] | None = None
        self._build_layout()
        self._connect()
        self._update_actions()

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.setSpacing(6)
        source_label = QLabel("Source", self)
        source_label.setBuddy(self.source.combo)
        top.addWidget(source_label)
        top.addWidget(self.source, 1)
        top.addSpacing(8)
        top.addWidget(self.record)
        top.addStretch(1)
        for w in (self.overlay_button, self.start_button, self.pause_button, self.stop_button):
            top.addWidget(w)
        levels = QHBoxLayout()
        levels.setSpacing(8)
        levels_label = QLabel("Levels", self)
        levels.addWidget(levels_label)
        levels.addWidget(self.meters, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.folder_label, 1)
        bottom.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.options)
        layout.addLayout(levels)
        layout.addWidget(self.captions, 1)
        layout.addWidget(self.speakers)
        layout.addLayout(bottom)

    def _connect(self) -> None:
        a, r = self.commands, self.runner
        a.start.triggered.connect(self.start)
        a.stop.triggered.connect(self.stop)
        a.start_stop.triggered.connect(self.start_or_stop)
        a.pause.toggled.connect(self.set_paused)
        a.toggle_overlay.toggled.connect(self.overlay.setVisible)
        a.click_through.toggled.connect(self.overlay.set_click_through)
        a.click_through.setChecked(self.overlay.click_through)
        for fmt, action in self.export_formats.items():
            action.triggered.connect(lambda _=False, f=fmt: self.export_session(f))
        self.source.errorOccurred.connect(self.errorOccurred)
        r.engineLoading.connect(self._on_loading)
        r.engineReady.connect(self._on_ready)
        r.started.connect(self._on_started)
        r.update.connect(self._on_update)
        self.speakers.renameRequested.connect(self.rename_speaker)
        r.status.connect(self._on_status)
        r.levels.connect(self.meters.show_levels)
        r.pipelineError.connect(self._on_pipeline_error)
        r.finished.connect(self._on_finished)
        r.stateChanged.connect(self._on_state)

    @property
    def busy(self) -> bool:
        """True from Start until the session has been saved."""
        return self.runner.busy

    def request(self) -> LiveRequest:
        """The session the current choices describe."""
        decode = self.options.decode_options()
        st = self.settings
        speakers = (LiveSpeakerOptions(
            diarization=DiarizationOptions(name_from_profiles=st.name_from_voices),
            max_speakers=st.max_speakers) if self.options.speakers.isChecked() else None)
        return LiveRequest(spec=self.source.spec(), config=self.options.engine_config(),
                           engine_name=self.options.engine_name(),
                           language=decode.language, hotwords=decode.hotwords,
                           record=self.record.isChecked(), speed=self.source.replay_speed,
                           sessions_dir=self.settings.sessions_path(),
                           vad=self.settings.vad_options(),
                           source_factory=self.source_factory, speakers=speakers,
                           user_name=st.user_name, echo_suppression=st.echo_suppression)

    @Slot()
    def start(self) -> None:
        """Start captioning the chosen source (the model loads in the worker thread)."""
        if self.busy:
            return
        request = self.request()
        self._shown_fatal = None
        self._remember(request)
        self.runner.start(request)

    @Slot()
    def stop(self) -> None:
        """Stop capture; the worker captions what is queued, commits and saves the transcript."""
        self.runner.stop()
        if self.runner.busy:
            self.message.emit("Stopping: captioning the last words…")

    @Slot()
    def start_or_stop(self) -> None:
        """Ctrl+R: start when idle, stop otherwise."""
        self.start() if not self.busy else self.stop()

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        """Mute the input (capture keeps running, nothing is captioned or recorded) or resume."""
        if self.runner.state != RUNNING:
            return
        self.runner.set_paused(paused)
        self.message.emit("Paused: the input is muted and not captioned" if paused
                          else "Resumed")

    def export_session(self, fmt: str) -> Path | None:
        """Ask where to save the last session's transcript in ``fmt``; None if not saved."""
        if self.last is None:
            return None
        folder, transcript = self.last
        answer = export_actions.ask_export_path(self, folder / folder.name, fmt,
                                                self._export_dir)
        if answer is None:
            return None
        path, chosen = answer
        try:
            written = export_actions.write_transcript(transcript, path, chosen)
        except (DesktopAsrError, OSError) as exc:
            self.errorOccurred.emit(f"export failed: {exc}")
            return None
        self._export_dir = written.parent
        self.message.emit(f"Exported {chosen.upper()} to {written}")
        return written

    def shutdown(self) -> None:
        """Stop a session (saving it), join the thread and close the overlay."""
        self.runner.shutdown()
        self.overlay.close()

    def _remember(self, request: LiveRequest) -> None:
        if request.spec.startswith("file:"):
            return  # a demo replay is not a device choice worth remembering
        try:
            current = load_settings()
            save_settings(replace(current, source=request.spec, record=request.record,
                                  hotwords=request.hotwords,
                                  live_speakers=request.speakers is not None))
        except (OSError, ValueError) as exc:
            log.warning("cannot save the live choices: %s", exc)

    @Slot(object)
    def _on_loading(self, event: EngineLoading) -> None:
        self.status_panel.show_loading(event.model, event.device)
        self.message.emit(f"Loading {event.model}…")

    @Slot(object)
    def _on_ready(self, event: EngineReady) -> None:
        self.status_panel.show_engine(event.info)
        self.options.set_languages(event.languages)

    @Slot(object)
    def _on_update(self, event: object) -> None:
        """Captions take every live event; the overlay only the words; speakers the strip."""
        self.captions.apply(event)
        if isinstance(event, TranscriptUpdate):
            self.overlay.apply(event)
            if event.kind == "final" and event.speaker:
                self._saw_speaker(event.speaker)
        elif isinstance(event, SpeakerUpdate) and event.speaker:
            self._saw_speaker(event.speaker)
        elif isinstance(event, SpeakerNamed):
            self._speaker_names[event.speaker] = event.name
            self._show_speakers()
        elif isinstance(event, SpeakersSettled):
            self._speaker_ids = [s.id for s in event.transcript.speakers]
            self._speaker_names.update({s.id: s.name for s in event.transcript.speakers
                                        if s.name})
            self._show_speakers()
            echo = (f"; {event.echo_dropped} echo line(s) of the far side left out"
                    if event.echo_dropped else "")
            settled = (f"Speaker labels settled: {len(self._speaker_ids)} speaker(s)"
                       if event.backend != "none" else "Captions settled")
            self.message.emit(settled + echo)

    def _saw_speaker(self, speaker: str) -> None:
        if speaker not in self._speaker_ids:
            self._speaker_ids.append(speaker)
            self._show_speakers()

    def _show_speakers(self) -> None:
        names = {**SPEAKER_NAMES, **self._speaker_names}
        self.speakers.set_transcript(Transcript(speakers=tuple(
            Speaker(sid, names.get(sid, "")) for sid in self._speaker_ids)))

    @Slot(str, str)
    def rename_speaker(self, speaker: str, name: str) -> None:
        """Rename a speaker: live through the session (journaled), afterwards in the saved
        transcript; captions, exports and the session's transcript.json follow."""
        if self.runner.worker.rename_speaker(speaker, name):
            return
        clean = " ".join(name.split())
        self._speaker_names[speaker] = clean
        self.captions.set_name(speaker, clean)
        if self.last is None:
            return
        folder, transcript = self.last
        if speaker in {s.id for s in transcript.speakers}:
            transcript = transcript.rename_speaker(speaker, clean)
            self.last = (folder, transcript)
            try:
                export_actions.write_transcript(transcript, folder / "transcript.json", "json")
            except (DesktopAsrError, OSError) as exc:
                self.errorOccurred.emit(f"could not save the new name: {exc}")

    @Slot(object)
    def _on_started(self, event: LiveStarted) -> None:
        self.captions.begin(event.channels, event.diarized, event.names)
        self._speaker_ids, self._speaker_names = [], dict(event.names)
        self._show_speakers()
        self.overlay.begin()
        self.meters.set_channels(event.channels)
        self.status_panel.set_recording(event.record)
        self.folder_label.setText(f"Session folder: {short_path(event.folder)}")
        self.message.emit(f"Captioning: {event.source_label}")

    @Slot(object)
    def _on_status(self, status: PipelineStatus) -> None:
        self.status_panel.show_status(status)

    @Slot(object)
    def _on_pipeline_error(self, error: PipelineError) -> None:
        if error.fatal:
            self._shown_fatal = error.message
        self.errorOccurred.emit(error.message)

    @Slot(object)
    def _on_finished(self, event: LiveFinished) -> None:
        self.meters.reset()
        self.status_panel.set_recording(False)
        if event.error and event.error != self._shown_fatal:
            self.errorOccurred.emit(event.error)
        if event.transcript is not None and event.folder is not None:
            self.last = (event.folder, event.transcript)
            self.captions.show_transcript(event.transcript)
            self._speaker_ids = [s.id for s in event.transcript.speakers]
            self._speaker_names.update({s.id: s.name for s in event.transcript.speakers
                                        if s.name})
            self._show_speakers()
            if event.saved:
                self.folder_label.setText(f"Saved to {event.folder / 'transcript.json'}")
                self.message.emit(f"Session saved: {len(event.transcript.segments)} utterance(s)")
            elif event.journaled:
                self.folder_label.setText(f"Not saved; the journal in {event.folder} keeps the "
                                          "words for recovery")
            else:
                self.folder_label.setText("Not saved (the disk refused it): export the "
                                          "transcript to another place to keep it")

    @Slot(str)
    def _on_state(self, state: str) -> None:
        self._update_actions()
        self.busyChanged.emit(state != IDLE)

    def _update_actions(self) -> None:
        a, state = self.commands, self.runner.state
        idle = state == IDLE
        a.start.setEnabled(idle)
        a.stop.setEnabled(state in (STARTING, RUNNING))
        a.pause.setEnabled(state == RUNNING)
        if state != RUNNING and a.pause.isChecked():
            a.pause.blockSignals(True)
            a.pause.setChecked(False)
            a.pause.blockSignals(False)
        a.start_stop.setText("Stop captions" if not idle else "Start captions")
        for w in (self.source, self.options, self.record):
            w.setEnabled(idle)
        has = idle and self.last is not None
        self.export_button.setEnabled(has)
        for action in self.export_formats.values():
            action.setEnabled(has)
