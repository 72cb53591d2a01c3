"""Writing exported text to disk atomically."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from desktop_asr.errors import ExportError

log = logging.getLogger(__name__)


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        log.warning("could not remove temporary file %s", path)


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open directories, and the file
    # content is already safe, so failing here is not worth an error.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _error(path: Path, exc: OSError) -> ExportError:
    return ExportError(f"cannot write {path}: {exc.strerror or exc}")


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 text to ``path`` so that it holds either the old content or all the new."""
    path = Path(path)
    data = text.encode("utf-8")
    directory = str(path.parent)
    # The temp file must share the target's directory: os.replace is atomic only within one
    # file system. A hidden dot-name keeps half-written files out of file pickers.
    tmp = os.path.join(directory, f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # Mode 0o666 lets the umask decide permissions, as a plain open() would; mkstemp's 0o600
        # would make exports private without the user asking.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as exc:
        raise _error(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            # Overwriting keeps the permissions the user gave the old file.
            old_mode = os.stat(path).st_mode
            if stat.S_ISREG(old_mode):
                os.chmod(tmp, stat.S_IMODE(old_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise _error(path, exc) from exc
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_directory(directory)
    log.debug("wrote %s (%d bytes)", path, len(data))
    return path
