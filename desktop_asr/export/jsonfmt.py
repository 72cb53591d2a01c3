"""The versioned JSON form of a transcript (schema: docs/transcript-json.md)."""

from __future__ import annotations

import json

from desktop_asr.errors import ExportError
from desktop_asr.types import Transcript


def to_json(transcript: Transcript) -> str:
    """Render a transcript as pretty-printed UTF-8 JSON with a trailing newline."""
    try:
        text = json.dumps(transcript.to_dict(), ensure_ascii=False, indent=2)
    except (TypeError, ValueError) as exc:
        # Only user-supplied metadata can hold values JSON cannot represent.
        raise ExportError(f"cannot save the transcript as JSON: {exc}") from exc
    return text + "\n"


def load_json(text: str) -> Transcript:
    """Parse transcript JSON, raising ExportError with a plain message when it is unusable."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"not a transcript file: invalid JSON at line {exc.lineno} "
                          f"column {exc.colno} ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ExportError("not a transcript file: the JSON top level is not an object")
    try:
        return Transcript.from_dict(data)
    except KeyError as exc:
        raise ExportError(f"invalid transcript file: missing field {exc}") from exc
    except (TypeError, ValueError) as exc:
        # from_dict's ValueErrors (newer version, bad times, unknown speaker) are already
        # written for users; the others come from fields of the wrong JSON type.
        raise ExportError(f"invalid transcript file: {exc}") from exc
