"""Resumable HTTP download of model files from a Hugging Face-style hub endpoint."""

from __future__ import annotations

import http.client
import logging
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from desktop_asr.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
_CHUNK = 1 << 20
_TIMEOUT_S = 30.0

DownloadProgress = Callable[[str, int, "int | None"], None]
"""Called as (file name, bytes so far, total bytes or None)."""


def hub_endpoint() -> str:
    """The hub to download from: ``DESKTOP_ASR_HUB_ENDPOINT``, ``HF_ENDPOINT`` or the default."""
    return (os.environ.get("DESKTOP_ASR_HUB_ENDPOINT") or os.environ.get("HF_ENDPOINT")
            or DEFAULT_ENDPOINT).rstrip("/")


def _request(url: str, start: int) -> urllib.request.Request:
    req = urllib.request.Request(url, headers={"User-Agent": "desktop-asr"})
    token = os.environ.get("HF_TOKEN")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if start:
        req.add_header("Range", f"bytes={start}-")
    return req


def fetch_file(url: str, dest: Path, *, progress: DownloadProgress | None = None,
               required: bool = True) -> bool:
    """Download ``url`` to ``dest``, resuming a ``.part`` file; False if optional and absent."""
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    try:
        resp = urllib.request.urlopen(_request(url, start), timeout=_TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 404 and not required:
            return False
        if exc.code == 416 and start:  # the .part file is already complete
            os.replace(part, dest)
            return True
        raise ModelError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    with resp:
        if start and resp.status != 206:
            start = 0  # the server ignored the range: start over
        length = resp.headers.get("Content-Length")
        total = start + int(length) if length is not None else None
        done = start
        with open(part, "ab" if start else "wb") as out:
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(dest.name, done, total)
            out.flush()
            os.fsync(out.fileno())
    if total is not None and done != total:
        raise ModelError(f"download of {url} stopped at {done} of {total} bytes; "
                         "run the same command again to resume")
    os.replace(part, dest)
    return True


def download_repo_files(repo: str, target: Path, required: tuple[str, ...],
                        optional: tuple[str, ...], *, endpoint: str | None = None,
                        revision: str = "main",
                        progress: DownloadProgress | None = None) -> Path:
    """Download a model repository's files into ``target``, atomically (all or nothing)."""
    base = f"{endpoint or hub_endpoint()}/{repo}/resolve/{revision}"
    staging = target.with_name(f".partial-{target.name}")
    staging.mkdir(parents=True, exist_ok=True)
    try:
        for name in required:
            fetch_file(f"{base}/{name}", staging / name, progress=progress)
        for name in optional:
            fetch_file(f"{base}/{name}", staging / name, progress=progress, required=False)
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ModelError(
            f"cannot download {repo} from {base.split('/' + repo)[0]}: {reason}. "
            "If this machine is offline, copy the model folder over and run "
            "'desktop-asr models import FOLDER'") from exc
    except OSError as exc:
        raise ModelError(f"cannot save the download in {staging}: {exc.strerror or exc}") from exc
    if target.exists():
        shutil.rmtree(target)
    os.replace(staging, target)
    log.info("downloaded %s into %s", repo, target)
    return target
