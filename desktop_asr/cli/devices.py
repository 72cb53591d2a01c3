"""``desktop-asr devices``: the inputs and system-audio sources that captions can listen to."""

from __future__ import annotations

import argparse
import dataclasses
import json

from desktop_asr.capture.devices import DeviceInfo, list_devices


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the devices subcommand."""
    p = sub.add_parser("devices", help="list microphones and system-audio sources",
                       description="List the audio inputs and system-audio sources, with the "
                                   "ids to choose them by.")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def format_table(devices: list[DeviceInfo]) -> str:
    """The devices as an aligned text table (default marked with *)."""
    header = ("ID", "KIND", "CH", "RATE", "", "NAME")
    rows = [(d.id, d.kind, str(d.channels), f"{d.default_samplerate:g}",
             "*" if d.is_default else "", f"{d.name} ({d.hostapi})") for d in devices]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]),
                 row[3].rjust(widths[3]), row[4].ljust(widths[4]), row[5]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the devices; exit status 0 even when there are none (that is an answer too)."""
    devices = list_devices()
    if args.json:
        print(json.dumps([dataclasses.asdict(d) for d in devices], indent=2))
        return 0
    if not devices:
        print("No microphone, input device or system-audio source found.")
        return 0
    print(format_table(devices))
    print("\n* = default. Choose a source by id, or with mic, system or both.")
    return 0
