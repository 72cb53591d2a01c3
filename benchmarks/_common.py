"""Shared helpers for the benchmark scripts: manifests, tables, machine description."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MANIFEST = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "speech" / "manifest.jsonl"


@dataclass(frozen=True)
class Clip:
    """One manifest line: audio file, reference text, language, duration."""

    audio: Path
    text: str | None
    language: str | None
    duration: float | None
    rttm: Path | None
    speakers: int | None = None


def load_manifest(path: Path) -> list[Clip]:
    """Read a manifest.jsonl; audio and rttm paths are relative to its folder."""
    clips = []
    base = path.resolve().parent
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        clips.append(Clip(audio=base / row["audio"], text=row.get("text"),
                          language=row.get("language"), duration=row.get("duration_s"),
                          rttm=(base / row["rttm"]) if row.get("rttm") else None,
                          speakers=row.get("speakers")))
    return clips


def machine() -> str:
    """One line naming the machine the numbers were taken on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{time.strftime('%Y-%m-%d')}, {platform.system()} {platform.release()}, {cpu}, "
            f"{cores} cores, Python {platform.python_version()}")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table with right-aligned numeric columns."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    def fmt(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    sep = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(headers), sep, *(fmt(r) for r in rows)])
