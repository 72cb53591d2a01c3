"""Personal fine-tuning: datasets, Whisper/CTC fine-tuning, evaluation, export and registration.

Long jobs run as ``python -m training ...`` in a subprocess that prints JSON-lines progress on
stdout; the app and the ``desktop-asr`` CLI only ever start that subprocess (the
``desktop_asr`` package never imports this one). Heavy libraries (torch, transformers, peft,
accelerate, torchaudio) are imported inside the functions that need them.
"""
