"""The model dialog's worker: downloads, imports and removals off the UI thread."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop_asr.errors import DesktopAsrError
from desktop_asr.models import ModelManager

log = logging.getLogger(__name__)


class DownloadCancelled(Exception):
    """Raised from the progress callback to stop a download (its .part files resume later)."""


@dataclass(frozen=True)
class ModelProgress:
    """Bytes of one file of a download so far."""

    model: str
    file: str
    done: int
    total: int | None

    @property
    def percent(self) -> int | None:
        """Whole percent of this file, or None when the size is unknown."""
        return None if not self.total else min(100, self.done * 100 // self.total)


@dataclass(frozen=True)
class ModelOpDone:
    """The end of one action: ``error`` is the message to show, None on success."""

    action: str  # "download" | "import" | "remove"
    model: str
    path: Path | None = None
    error: str | None = None
    cancelled: bool = False


class ModelWorker(QObject):
    """Lives in a QThread; each slot runs one ModelManager call and ends with one ``done``."""

    progress = Signal(object)
    done = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.cancel = threading.Event()

    @Slot(str)
    def download(self, name: str) -> None:
        """Download a catalogue model, reporting progress (the dialog clears ``cancel``)."""

        def report(file: str, done: int, total: int | None) -> None:
            if self.cancel.is_set():
                raise DownloadCancelled
            self.progress.emit(ModelProgress(name, file, done, total))

        self._run("download", name, lambda: ModelManager().download(name, progress=report))

    @Slot(str, str, bool)
    def import_folder(self, folder: str, name: str, force: bool) -> None:
        """Copy a local model folder into the models folder (``force`` replaces one)."""
        self._run("import", name or Path(folder).name,
                  lambda: ModelManager().import_folder(Path(folder), name or None, force=force))

    @Slot(str)
    def remove(self, name: str) -> None:
        """Delete an installed model."""
        self._run("remove", name, lambda: ModelManager().remove(name))

    def _run(self, action: str, name: str, call) -> None:
        try:
            path = call()
            result = ModelOpDone(action, name, path if isinstance(path, Path) else None)
        except DownloadCancelled:
            result = ModelOpDone(action, name, cancelled=True)
        except (DesktopAsrError, OSError) as exc:
            result = ModelOpDone(action, name, error=str(exc))
        except Exception as exc:  # the thread must survive anything
            log.exception("model %s of %s failed", action, name)
            result = ModelOpDone(action, name, error=f"unexpected error: {exc}")
        self.done.emit(result)
