"""``desktop-asr models list|download|import|convert|remove``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop_asr.cli.progress import DownloadBars
from desktop_asr.errors import DesktopAsrError, ModelError
from desktop_asr.models import BUNDLED_NAME, ModelManager
from desktop_asr.models.convert import (QUANTIZATIONS, convert_ct2_whisper, export_ct2_whisper,
                                        is_transformers_whisper)


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
    c = actions.add_parser(
        "convert", help="convert a Whisper model between CTranslate2 and transformers",
        description="Convert a CTranslate2 (faster-whisper) Whisper model into a transformers "
                    "checkpoint (for the transformers-whisper engine and fine-tuning), or a "
                    "transformers checkpoint back into CTranslate2 with CTranslate2's own "
                    "converter. Works offline.")
    c.add_argument("model", nargs="?", default=BUNDLED_NAME, metavar="NAME|PATH",
                   help=f"model name or folder (default: bundled {BUNDLED_NAME})")
    c.add_argument("--to", choices=("transformers", "ctranslate2"), default=None,
                   help="target format (default: the other format than the source's)")
    c.add_argument("-o", "--output", type=Path, default=None, metavar="DIR",
                   help="output folder (default: transformers -> the converted-model cache; "
                        "ctranslate2 -> installed as NAME-ct2 in the models folder)")
    c.add_argument("--quantization", default="float16",
                   help="CTranslate2 weight type when converting to ctranslate2: "
                        f"{', '.join(QUANTIZATIONS)} or 'none' (default: float16)")
    c.add_argument("--force", action="store_true", help="replace an existing output folder")
    c.set_defaults(func=_convert)
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


def _convert(args: argparse.Namespace) -> int:
    manager = ModelManager()
    source = Path(args.model).expanduser()
    from_transformers = source.is_dir() and is_transformers_whisper(source)
    target = args.to or ("ctranslate2" if from_transformers else "transformers")
    quantization = None if str(args.quantization).lower() == "none" else args.quantization
    try:
        if target == "ctranslate2":
            if not from_transformers:
                raise ModelError(f"{args.model} is not a transformers Whisper folder; give one "
                                 "to convert to ctranslate2")
            out = args.output or manager.models_dir / f"{source.resolve().name}-ct2"
            _refuse_existing(out, args.force)
            path = export_ct2_whisper(source, out, quantization=quantization)
        elif from_transformers:
            raise ModelError(f"{args.model} is already in transformers form")
        elif args.output is None:
            path = manager.transformers_whisper(args.model)
        else:
            _refuse_existing(args.output, args.force)
            path = convert_ct2_whisper(manager.resolve(args.model).path, args.output)
    except (DesktopAsrError, ValueError) as exc:
        return _fail(exc)
    print(f"{args.model} in {target} form: {path}")
    return 0


def _refuse_existing(folder: Path, force: bool) -> None:
    if folder.exists() and any(folder.iterdir()) and not force:
        raise ModelError(f"{folder} already exists and is not empty; pass --force to replace it")
