"""Greedy decoding of a (possibly LoRA-wrapped) transformers Whisper, for dev-set WER.

Written out rather than calling ``generate`` because Whisper's ``generate`` wants a complete
generation config (language tables, timestamp settings) that small or converted checkpoints
do not always carry; the training loop only needs the plain greedy text.
"""

from __future__ import annotations

from typing import Any

from training.whisper_data import Clip, FeatureMaker, WhisperText


def greedy_decode(model: Any, text: WhisperText, *, encoder_hidden: "torch.Tensor | None" = None,
                  input_features: "torch.Tensor | None" = None, max_new_tokens: int = 120
                  ) -> list[str]:
    """Texts of one batch, from encoder outputs or from log-mel features."""
    import torch

    core = model
    while hasattr(core, "get_base_model") and core is not core.get_base_model():
        core = core.get_base_model()
    param = next(core.parameters())
    with torch.no_grad():
        if encoder_hidden is None:
            assert input_features is not None
            encoder_hidden = core.model.encoder(
                input_features.to(param.device, param.dtype)).last_hidden_state
        encoder_hidden = encoder_hidden.to(param.device, param.dtype)
        batch = encoder_hidden.shape[0]
        tokens = torch.tensor([text.prefix] * batch, device=param.device)
        done = torch.zeros(batch, dtype=torch.bool, device=param.device)
        out: list[list[int]] = [[] for _ in range(batch)]
        past = None
        step_input = tokens
        for _ in range(max_new_tokens):
            result = core(encoder_outputs=(encoder_hidden,), decoder_input_ids=step_input,
                          past_key_values=past, use_cache=True)
            logits = result.logits[:, -1].float()
            logits[:, text.eot + 1:] = -float("inf")  # no special or timestamp tokens
            nxt = logits.argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, text.eot), nxt)
            for row in range(batch):
                if not done[row] and int(nxt[row]) != text.eot:
                    out[row].append(int(nxt[row]))
            done |= nxt == text.eot
            if bool(done.all()):
                break
            past = result.past_key_values
            step_input = nxt[:, None]
    return [text.decode(ids) for ids in out]


def transcribe_clips(model: Any, text: WhisperText, clips: list[Clip], features: FeatureMaker,
                     *, hidden: list["torch.Tensor"] | None = None, batch_size: int = 8
                     ) -> list[str]:
    """Greedy transcripts of clips (from cached clean encoder outputs when given)."""
    import torch

    was_training = model.training
    model.eval()
    texts: list[str] = []
    try:
        for first in range(0, len(clips), batch_size):
            part = clips[first:first + batch_size]
            if hidden is not None:
                enc = torch.stack(hidden[first:first + batch_size]).float()
                texts += greedy_decode(model, text, encoder_hidden=enc)
            else:
                texts += greedy_decode(model, text,
                                       input_features=features([c.samples for c in part]))
    finally:
        model.train(was_training)
    return texts
