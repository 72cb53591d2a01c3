"""sounddevice (PortAudio) access: lazy import, device re-scan, plain error messages."""

from __future__ import annotations

import atexit
import logging
import threading
from types import ModuleType
from typing import Any

from desktop_asr.capture.base import CaptureError

logger = logging.getLogger(__name__)

# PortAudio error codes we explain in plain words (portaudio.h, PaErrorCode).
PA_INVALID_CHANNEL_COUNT = -9998
PA_INVALID_SAMPLE_RATE = -9997
PA_INVALID_DEVICE = -9996
PA_DEVICE_UNAVAILABLE = -9985
PA_SAMPLE_FORMAT_NOT_SUPPORTED = -9994

# Stopping a stream must not hang the app: PortAudio's ALSA code can spin forever after a
# device fails at a bad moment (PortAudio #1037), and then Pa_StopStream never returns.
_CLOSE_TIMEOUT_S = 2.0

_lock = threading.Lock()
_open_streams = 0     # streams opened through this module and not yet closed
_stuck: list[Any] = []   # streams that would not stop; kept so nothing tries to close them


def sounddevice() -> ModuleType:
    """The sounddevice module, or CaptureError saying what to install."""
    try:
        import sounddevice as sd
    except OSError as exc:  # the module loads fine but PortAudio's library is missing
        raise CaptureError("audio capture needs the PortAudio library, which was not found; "
                           "install it (Debian/Ubuntu: apt install libportaudio2)") from exc
    except ImportError as exc:
        raise CaptureError("audio capture needs the Python package 'sounddevice'; "
                           "install it with: pip install sounddevice") from exc
    return sd


def rescan_devices() -> bool:
    """Make PortAudio enumerate devices again (it only does so when initialised).

    Needed after a device was plugged in or a sound server started. Refused (returns False)
    while any stream opened here is still open, because re-initialising PortAudio closes them.
    """
    sd = sounddevice()
    with _lock:
        if _open_streams:
            logger.info("not re-scanning audio devices: %d stream(s) open", _open_streams)
            return False
        terminate = getattr(sd, "_terminate", None)
        initialize = getattr(sd, "_initialize", None)
        if terminate is None or initialize is None:
            logger.warning("this sounddevice version cannot re-scan devices")
            return False
        terminate()
        initialize()
    return True


def stream_opened() -> None:
    """Count an open stream (so a re-scan does not close it under our feet)."""
    global _open_streams
    with _lock:
        _open_streams += 1


def stream_closed() -> None:
    """Count a closed stream."""
    global _open_streams
    with _lock:
        _open_streams = max(0, _open_streams - 1)


def close_stream(stream: Any, what: str) -> bool:
    """Stop and close ``stream``, giving up after a few seconds; True when it closed."""

    def close() -> None:
        try:
            stream.stop()
        except Exception as exc:  # the device may already be gone; nothing left to save
            logger.debug("stopping %s: %s", what, exc)
        stream.close(ignore_errors=True)

    worker = threading.Thread(target=close, name=f"close {what}", daemon=True)
    worker.start()
    worker.join(_CLOSE_TIMEOUT_S)
    if not worker.is_alive():
        stream_closed()
        return True
    logger.error("%s did not stop (a PortAudio bug after a device failure); leaving it", what)
    with _lock:
        if not _stuck:
            atexit.register(_skip_terminate_at_exit)
        _stuck.append(stream)
    return False


def _skip_terminate_at_exit() -> None:
    # Registered after sounddevice's own exit handler, so it runs first: Pa_Terminate would
    # wait forever for the stuck stream, so let the process end without it.
    if _stuck:
        import sounddevice as sd

        sd._initialized = 0


def error_code(exc: BaseException) -> int | None:
    """PortAudio's error code carried by a sounddevice.PortAudioError, if any."""
    args = getattr(exc, "args", ())
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def explain(exc: BaseException, what: str) -> CaptureError:
    """A plain CaptureError for a PortAudio failure while opening/starting ``what``."""
    code = error_code(exc)
    if code == PA_DEVICE_UNAVAILABLE:
        return CaptureError(f"{what} is busy or unavailable (another program may be using it, "
                            "or it was unplugged)")
    if code == PA_INVALID_DEVICE:
        return CaptureError(f"{what} was not found (it may have been unplugged); "
                            "run 'desktop-asr devices' to list the inputs")
    if code == PA_INVALID_SAMPLE_RATE:
        return CaptureError(f"{what} does not support the requested sample rate")
    if code == PA_INVALID_CHANNEL_COUNT:
        return CaptureError(f"{what} does not support the requested number of channels")
    message = exc.args[0] if getattr(exc, "args", None) else str(exc)
    return CaptureError(f"could not open {what}: {message}")


def input_devices(sd: ModuleType) -> list[dict[str, Any]]:
    """PortAudio devices that can record, each with its index."""
    try:
        found = sd.query_devices()
    except sd.PortAudioError as exc:  # PortAudio could not even enumerate
        logger.warning("could not list audio devices: %s", exc)
        return []
    return [dict(d) for d in found if d["max_input_channels"] > 0]


def hostapi_name(sd: ModuleType, index: int) -> str:
    """Name of PortAudio host API ``index`` ("ALSA", "Windows WASAPI", "Core Audio"...)."""
    try:
        return str(sd.query_hostapis(index)["name"])
    except (sd.PortAudioError, IndexError, KeyError):
        return "?"


def default_input_index(sd: ModuleType) -> int | None:
    """Index of PortAudio's default input device, or None when there is none."""
    try:
        info = sd.query_devices(kind="input")
        if info["max_input_channels"] > 0:
            return int(info["index"])
    except (sd.PortAudioError, ValueError) as exc:  # PortAudio's "no default input"
        logger.debug("no default input device: %s", exc)
    return None
