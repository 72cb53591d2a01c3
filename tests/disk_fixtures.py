"""A real full disk for tests: a tiny tmpfs mounted for the length of a ``with`` block."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tiny_disk(path: Path, size: str = "64k") -> Iterator[Path]:
    """Mount a ``size`` tmpfs on ``path`` (made if missing), unmounted again on the way out.

    Mounting needs root (or CAP_SYS_ADMIN); without it the test is skipped with that reason,
    the tests that simulate the full disk still run. The tmpfs is a real file system: a write
    that does not fit gets ENOSPC from the kernel.
    """
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("a real full disk needs mount(8) to mount a tiny tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True, timeout=30)
    if done.returncode:
        pytest.skip(f"a real full disk needs a tmpfs mount, which needs root: "
                    f"{done.stderr.strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)
