"""Entry point for ``python -m desktop_asr``."""

from desktop_asr.cli.main import main

raise SystemExit(main())
