"""Errors the user can act on; each carries a one-line, plain-language message."""

from __future__ import annotations


class DesktopAsrError(Exception):
    """Base class for errors whose message is shown to the user as-is."""


class AudioDecodeError(DesktopAsrError):
    """A file could not be turned into audio samples.

    ``reason`` is one of: ``missing``, ``unreadable``, ``not-audio``, ``no-audio-stream``,
    ``empty``, ``unsupported``, ``corrupt``.
    """

    def __init__(self, path: str, reason: str, detail: str) -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        super().__init__(f"{path}: {detail}")


class ModelError(DesktopAsrError):
    """A model could not be found, downloaded, imported or loaded."""


class MissingExtraError(DesktopAsrError):
    """An optional backend is not installed; the message names the extra to install."""

    def __init__(self, feature: str, module: str, extra: str) -> None:
        self.extra = extra
        super().__init__(f"{feature} needs the Python package '{module}', which is not "
                         f"installed; install it with: pip install 'desktop-asr[{extra}]'")


class ExportError(DesktopAsrError):
    """A transcript could not be written in the requested format or place."""
