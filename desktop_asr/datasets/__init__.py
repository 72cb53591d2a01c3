"""Training datasets: the folder format (``manifest.jsonl`` + 16 kHz WAV) and clip level checks.

Part of the core, so the app's recording wizard, the CLI and the training module all read and
write datasets the same way (format in docs/training.md).
"""
