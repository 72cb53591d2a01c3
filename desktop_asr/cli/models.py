"""``desktop-asr models list|download|import|remove``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop_asr.cli.progress import DownloadBars
from desktop_asr.errors import ModelError
from desktop_asr.models import ModelManager


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the models subcommand and its actions."""
    p = sub.add_parser("models", help="list, download, import or remove models",
                       description="Manage speech models (stored in the desktop-asr data "
                                   "folder, or DESKTOP_ASR_MODELS_DIR).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="bundled, installed and downloadable models"
                       ).set_defaults(func=_list)
    d = actions.add_parser("download", help="download a model by name")
    d.add_argument("name")
    d.add_argument("--force", action="store_true", help="download again even if installed")
    d.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    d.set_defaults(func=_download)
    i = actions.add_parser("import", help="install a local CTranslate2 Whisper model folder")
    i.add_argument("folder", type=Path)
    i.add_argument("--name", default=None, help="name to install it under (default: folder name)")
    i.add_argument("--force", action="store_true", help="replace a model with the same name")
    i.set_defaults(func=_import)
    r = actions.add_parser("remove", help="delete an installed model")
    r.add_argument("name")
    r.set_defaults(func=_remove)


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _fail(exc: Exception) -> int:
    print(f"desktop-asr: error: {exc}", file=sys.stderr)
    return 1


def _list(args: argparse.Namespace) -> int:
    manager = ModelManager()
    rows = manager.list()
    width = max(len(r.name) for r in rows)
    print(f"{'NAME':<{width}}  {'STATUS':<12}  {'SIZE':>8}  DETAILS")
    for r in rows:
        where = str(r.path) if r.path is not None else r.description
        print(f"{r.name:<{width}}  {r.status:<12}  {_size(r.size_bytes):>8}  {where}")
    print(f"\nmodels folder: {manager.models_dir}")
    return 0


def _download(args: argparse.Namespace) -> int:
    bars = DownloadBars(disable=args.quiet)
    try:
        path = ModelManager().download(args.name, progress=bars, force=args.force)
    except ModelError as exc:
        return _fail(exc)
    finally:
        bars.close()
    print(f"{args.name} is installed in {path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    try:
        path = ModelManager().import_folder(args.folder, args.name, force=args.force)
    except ModelError as exc:
        return _fail(exc)
    print(f"imported {args.folder} as {path.name} ({path})")
    return 0


def _remove(args: argparse.Namespace) -> int:
    try:
        ModelManager().remove(args.name)
    except ModelError as exc:
        return _fail(exc)
    print(f"removed {args.name}")
    return 0
