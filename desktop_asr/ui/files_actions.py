"""The Files page's actions: shared by its buttons and the window's menus, with shortcuts."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QWidget

from desktop_asr.export import FORMATS


@dataclass(frozen=True)
class FilesActions:
    """Every command of the Files page; enabled state is kept by the page."""

    add_files: QAction
    add_folder: QAction
    remove: QAction
    transcribe: QAction
    cancel: QAction
    export: QAction
    export_formats: dict[str, QAction]
    copy_text: QAction
    export_menu: QMenu


def _action(parent: QWidget, text: str, tip: str, *shortcuts: str | QKeySequence.StandardKey
            ) -> QAction:
    action = QAction(text, parent)
    action.setIconText(text)  # keep the "…" that tells a dialog will open
    action.setToolTip(tip)
    action.setStatusTip(tip)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setToolTip(f"{tip} ({QKeySequence(shortcuts[0]).toString()})")
    return action


def make_actions(parent: QWidget) -> FilesActions:
    """Create the page's actions, parented to ``parent``."""
    style = parent.style()
    add_files = _action(parent, "Add files…", "Add audio or video files to the queue", "Ctrl+O")
    add_files.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_FileIcon))
    add_folder = _action(parent, "Add folder…", "Add every audio and video file in a folder",
                         "Ctrl+Shift+A")  # Ctrl+Shift+O shows the caption overlay
    add_folder.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DirIcon))
    remove = _action(parent, "Remove from queue", "Remove the selected files from the queue",
                     QKeySequence.StandardKey.Delete)
    transcribe = _action(parent, "Transcribe", "Transcribe the queued files",
                         "Ctrl+Return", "Ctrl+Enter")
    transcribe.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
    cancel = _action(parent, "Cancel", "Stop transcribing after the current segment", "Esc")
    cancel.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
    export = _action(parent, "Export…", "Save the selected transcript to a file", "Ctrl+E")
    menu = QMenu("Export", parent)
    formats = {}
    for fmt in FORMATS:
        formats[fmt] = menu.addAction(f"{fmt.upper()}…")
        formats[fmt].setStatusTip(f"Save the selected transcript as {fmt.upper()}")
    copy_text = _action(parent, "Copy text", "Copy the selected transcript to the clipboard",
                        "Ctrl+Shift+C")
    for action in (add_files, add_folder, remove, transcribe, cancel, export, copy_text):
        action.setObjectName(f"action_{action.text().split('…')[0].lower().replace(' ', '_')}")
    return FilesActions(add_files, add_folder, remove, transcribe, cancel, export, formats,
                        copy_text, menu)
