"""``python -m training``: the fine-tuning subprocess (see training/cli.py)."""

from training.cli import main

raise SystemExit(main())
