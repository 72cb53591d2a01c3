"""Choices and the shortcuts page of the Settings dialog."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QLocale, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFormLayout, QKeySequenceEdit, QLabel, QWidget

from desktop_asr.settings import DEFAULT_SHORTCUTS

DEVICES = (("Automatic (GPU when available)", "auto"), ("CPU", "cpu"), ("GPU (CUDA)", "cuda"))
COMPUTE_TYPES = (("Automatic", "auto"), ("int8 (fastest on CPU)", "int8"),
                 ("float16 (GPU)", "float16"), ("float32 (most exact, slowest)", "float32"))
VAD_KINDS = (("Silero (more accurate)", "silero"), ("WebRTC (lightest)", "webrtc"))
THEMES = (("Follow the system", "system"), ("High contrast", "high-contrast"))
SHORTCUT_LABELS = {
    "start_stop": "Start / stop live captions", "pause": "Pause live captions",
    "toggle_overlay": "Show / hide the caption overlay", "add_files": "Add files",
    "transcribe": "Transcribe the queue", "export": "Export the transcript",
    "copy_text": "Copy the transcript text", "find": "Find in the transcript",
    "settings": "Open the settings",
}
# The languages Whisper knows, by their codes; names come from Qt's locale data.
WHISPER_LANGUAGES = ["en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su", "yue"]


def language_name(code: str) -> str:
    """English name of a language code ("de" -> "German"), or the code when Qt does not know it."""
    locale = QLocale(code)
    if locale.language() == QLocale.Language.C:
        return code
    return QLocale.languageToString(locale.language())


def language_choices() -> tuple[tuple[str, str | None], ...]:
    """(label, code) pairs: auto-detect first, then every Whisper language by name."""
    named = sorted((f"{language_name(c)} ({c})", c) for c in WHISPER_LANGUAGES)
    return (("Detect automatically", None), *named)


class ShortcutsPage(QWidget):
    """One QKeySequenceEdit per action; says when two actions share a key."""

    validityChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.edits: dict[str, QKeySequenceEdit] = {}
        for action, label in SHORTCUT_LABELS.items():
            edit = QKeySequenceEdit(self)
            edit.setAccessibleName(label)
            edit.setMaximumSequenceLength(1)  # single chords: multi-key sequences confuse people
            edit.setClearButtonEnabled(True)
            edit.keySequenceChanged.connect(self._check)
            self.edits[action] = edit
            form.addRow(label, edit)
        for action in DEFAULT_SHORTCUTS.keys() - SHORTCUT_LABELS.keys():  # future actions
            edit = QKeySequenceEdit(self)
            edit.keySequenceChanged.connect(self._check)
            self.edits[action] = edit
            form.addRow(action.replace("_", " ").capitalize(), edit)
        self.problem = QLabel(self)
        self.problem.setObjectName("shortcutProblem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        form.addRow(self.problem)
        self._valid = True

    def set_shortcuts(self, shortcuts: dict[str, str]) -> None:
        """Show these shortcuts (portable text such as "Ctrl+Shift+O")."""
        for action, edit in self.edits.items():
            edit.setKeySequence(QKeySequence.fromString(shortcuts.get(action, "")))
        self._check()

    def shortcuts(self) -> dict[str, str]:
        """Action -> portable key text ("" when cleared)."""
        return {action: edit.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
                for action, edit in self.edits.items()}

    def is_valid(self) -> bool:
        """False while two actions share a shortcut."""
        return self._valid

    def _check(self) -> None:
        keys = self.shortcuts()
        counts = Counter(k for k in keys.values() if k)
        clashes = sorted({k for k, n in counts.items() if n > 1})
        valid = not clashes
        if clashes:
            names = [SHORTCUT_LABELS.get(a, a) for a, k in keys.items() if k in clashes]
            self.problem.setText(f"{', '.join(clashes)} is used by more than one action "
                                 f"({'; '.join(names)}). Give each action its own keys.")
        self.problem.setVisible(not valid)
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)
