"""Fine-tuning features the other training tests switch off: augmentation (speed, noise,
SpecAugment), early stopping with the best step's weights kept, gradient accumulation, and the
``--reference`` general-speech set (the forgetting check).

Augmentation runs torchaudio for real on real signals. Early stopping and the reference set run
a real job on the bundled tiny.en; gradient accumulation and the weights-of-the-best-step check
use the small random Whisper of tests/test_training_helpers.py (real training code, meaningless
weights), where one test scripts the dev WER sequence and says so.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import numpy as np
import pytest
import test_training_helpers as helpers

from training.augment import SAMPLE_RATE, perturb_waveform, spec_augment
from training.config import NO_AUGMENT, Augment, TrainConfig
from training.progress import Reporter
from training.whisper_data import (HOP, CachedDataset, Clip, FeatureMaker, OnlineDataset,
                                   augmented_features, collate, encode_views)

ONLY_SPEED = dict(spec_augment=False, noise_snr_db=None)


class Capture(Reporter):
    """A reporter that keeps the events instead of printing them."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def emit(self, event: str, **fields) -> None:  # noqa: ANN003
        self.events.append({"event": event, **fields})


@pytest.fixture(scope="module")
def random_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The random-weights Whisper of tests/test_training_helpers.py."""
    return helpers.random_whisper(tmp_path_factory)


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory, spoken) -> Path:
    """Eight espeak clips (four sentences, two copies); item 7 is dev, item 8 is test."""
    return helpers.small_dataset(tmp_path_factory.mktemp("data") / "ds", spoken)


@pytest.fixture(scope="module")
def clips(small_dataset: Path) -> list[Clip]:
    """The four different sentences of the small dataset, in memory."""
    from desktop_asr.datasets.dataset import read_dataset
    from training.job import _clips

    return _clips(small_dataset, read_dataset(small_dataset).items[:4])


def _tone(freq: float = 1000.0, seconds: float = 1.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / SAMPLE_RATE)[spectrum.argmax()])


def _snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    noise = noisy.astype(np.float64) - clean
    return float(10 * np.log10(np.sum(clean.astype(np.float64) ** 2) / np.sum(noise ** 2)))


def _runs(mask: np.ndarray) -> list[int]:
    """Lengths of the runs of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1))


def _two_masks_fit(mask: np.ndarray, param: int) -> bool:
    """True when the masked positions are two (possibly touching) masks each < ``param`` wide,
    torchaudio's rule (widths are drawn from [0, mask_param))."""
    runs = _runs(mask)
    if len(runs) > 2:
        return False
    if len(runs) == 2:
        return all(r < param for r in runs)
    return not runs or runs[0] <= 2 * (param - 1)


# --- augmentation -------------------------------------------------------------------------

@pytest.mark.parametrize("speed", [0.9, 1.1])
def test_speed_perturbation_changes_length_and_pitch_by_the_factor(speed: float) -> None:
    tone = _tone()
    out = perturb_waveform(tone, Augment(speeds=(speed,), **ONLY_SPEED), random.Random(0))
    # The resampling rate is rounded to a multiple of 400 Hz (augment.py): 0.9 plays at 0.909
    # and 1.1 at 1.111; within 1.5 % of the asked factor either way.
    rate = round(SAMPLE_RATE / speed / 400) * 400
    assert abs(out.size - tone.size * rate / SAMPLE_RATE) <= 1
    assert out.size / tone.size == pytest.approx(1 / speed, rel=0.015)
    # Tempo and pitch together, as Kaldi's speed perturbation: 1 kHz plays at 1 kHz × speed.
    assert _peak_hz(out) == pytest.approx(1000.0 * SAMPLE_RATE / rate, abs=3.0)
    assert np.array_equal(tone, _tone()), "the clip itself must not be changed in place"


def test_default_speeds_are_drawn_from_the_list() -> None:
    tone = _tone(seconds=0.5)
    rng = random.Random(1)
    augment = Augment(**ONLY_SPEED)   # speeds 0.9, 1.0, 1.1
    lengths = {perturb_waveform(tone, augment, rng).size for _ in range(30)}
    assert lengths == {8800, 8000, 7200}
    same = perturb_waveform(tone, Augment(speeds=(1.0,), **ONLY_SPEED), rng)
    assert np.array_equal(same, tone)


@pytest.mark.parametrize("snr", [5.0, 20.0])
def test_noise_is_added_at_the_stated_snr(snr: float) -> None:
    tone = _tone(amp=0.2)
    augment = Augment(spec_augment=False, speeds=(1.0,), noise_snr_db=(snr, snr), noise_prob=1.0)
    rng = random.Random(2)
    measured = [_snr_db(tone, perturb_waveform(tone, augment, rng)) for _ in range(8)]
    assert measured == pytest.approx([snr] * 8, abs=0.1), measured
    # White and low-passed noise both (the choice is random): different spectra, same SNR.
    noises = [perturb_waveform(tone, augment, random.Random(s)) - tone for s in range(8)]
    highs = [np.abs(np.fft.rfft(n))[4000:].sum() / np.abs(np.fft.rfft(n)).sum() for n in noises]
    assert min(highs) < 0.2 < max(highs), highs


def test_noise_snr_range_and_probability() -> None:
    tone = _tone(amp=0.2)
    augment = Augment(spec_augment=False, speeds=(1.0,), noise_snr_db=(10.0, 30.0),
                      noise_prob=0.5)
    rng = random.Random(3)
    outs = [perturb_waveform(tone, augment, rng) for _ in range(40)]
    clean = [o for o in outs if np.array_equal(o, tone)]
    snrs = [_snr_db(tone, o) for o in outs if not np.array_equal(o, tone)]
    assert 8 <= len(clean) <= 32, len(clean)                       # about half untouched
    assert all(9.9 <= s <= 30.1 for s in snrs) and max(snrs) - min(snrs) > 8, snrs
    never = Augment(spec_augment=False, speeds=(1.0,), noise_snr_db=(10.0, 30.0), noise_prob=0)
    assert np.array_equal(perturb_waveform(tone, never, rng), tone)


def test_spec_augment_masks_two_frequency_and_two_time_bands_of_the_stated_width() -> None:
    import torch

    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(80, 3000, generator=gen)
    frames = 500                                       # the real audio; the rest is padding
    widest_f = widest_t = 0
    two_bands = 0
    for seed in range(30):
        torch.manual_seed(seed)
        out = spec_augment(feats.clone(), frames)
        fill = float(feats[:, :frames].mean())
        assert torch.equal(out[:, frames:], feats[:, frames:]), "padding must not be masked"
        masked = (out != feats)[:, :frames].numpy()
        assert np.allclose(out[:, :frames].numpy()[masked], fill), "masks hold the clip mean"
        rows, cols = masked.all(axis=1), masked.all(axis=0)
        # Every changed value lies in a whole masked band (mel row or time column).
        assert np.array_equal(masked, rows[:, None] | cols[None, :])
        assert _two_masks_fit(rows, 80 // 8), _runs(rows)                 # mels // 8
        assert _two_masks_fit(cols, min(40, frames // 10)), _runs(cols)   # ≤ 40 frames
        widest_f = max([widest_f, *_runs(rows)])
        widest_t = max([widest_t, *_runs(cols)])
        two_bands += len(_runs(rows)) == 2
    assert widest_f >= 7 and widest_t >= 28, (widest_f, widest_t)   # masks do reach the width
    assert two_bands >= 5


def test_spec_augment_of_a_clip_masks_only_its_own_frames(clips: list[Clip]) -> None:
    """The whole feature path: frames come from the (speed-perturbed) clip's length."""
    import torch
    import transformers

    maker = FeatureMaker(transformers.WhisperFeatureExtractor(feature_size=80))
    clip = clips[0]
    clean = maker([clip.samples])[0]
    torch.manual_seed(4)
    only_spec = Augment(speeds=(1.0,), noise_snr_db=None)
    out = augmented_features(clip, maker, only_spec, random.Random(0))
    frames = clip.samples.size // HOP
    changed = (out != clean).numpy()
    assert changed.any() and not changed[:, frames:].any()
    assert np.array_equal(changed[:, :frames],
                          changed[:, :frames].all(1)[:, None] | changed[:, :frames].all(0))
    slow = augmented_features(clip, maker, Augment(speeds=(0.9,), spec_augment=False,
                                                   noise_snr_db=None), random.Random(0))
    # 0.909 speed: the speech covers 10 % more frames, then Whisper's padding floor.
    floor = float(clean.min())
    last = lambda f: int(np.flatnonzero((f > floor + 1e-6).any(0).numpy()).max())  # noqa: E731
    assert last(slow) == pytest.approx(last(clean) * 1.1, rel=0.03)


def test_augmentation_leaves_labels_alone_and_off_means_identical_batches(
        random_whisper: Path, clips: list[Clip]) -> None:
    import torch

    from training.whisper_train import load_whisper

    loaded = load_whisper(random_whisper, "en")
    labels = [loaded.text.labels(c.text) for c in clips]
    samples = [c.samples.copy() for c in clips]
    noisy = Augment(noise_prob=1.0)         # every kind on
    torch.manual_seed(0)
    online = OnlineDataset(clips, labels, loaded.features, noisy, seed=0)
    rows = [online[i] for i in range(len(clips))]
    for clip, row in zip(clips, rows):
        assert loaded.text.decode(row["labels"]) == clip.text
        assert not torch.equal(row["input_features"], loaded.features([clip.samples])[0])
    assert all(np.array_equal(a, c.samples) for a, c in zip(samples, clips))
    batch = collate(rows)
    for k, clip in enumerate(clips):
        ids = [int(i) for i in batch["labels"][k] if int(i) != -100]
        assert loaded.text.decode(ids) == clip.text

    # Augmentation off: every access gives the clean features, the same each time.
    plain = OnlineDataset(clips, labels, loaded.features, NO_AUGMENT, seed=0)
    clean = torch.stack([loaded.features([c.samples])[0] for c in clips])
    for _ in range(2):
        again = collate([plain[i] for i in range(len(clips))])
        assert torch.equal(again["input_features"], clean)
        assert torch.equal(again["labels"], batch["labels"])

    # The frozen-encoder cache: view 0 is the clean clip, view 1 augmented; labels unchanged.
    encoder = loaded.model.model.encoder
    views = encode_views(encoder, clips, loaded.features, noisy, 2, 0, "cpu")
    flat = encode_views(encoder, clips, loaded.features, NO_AUGMENT, 1, 0, "cpu")
    for (v0, v1), (f0,) in zip(views, flat):
        assert torch.equal(v0, f0) and not torch.equal(v1, f0)
    cached = CachedDataset(views, labels, seed=0)
    assert [cached[i]["labels"] for i in range(len(clips))] == labels


# --- early stopping -----------------------------------------------------------------------

@pytest.mark.parametrize("method", ["freeze-encoder", "full", "lora"])
def test_early_stopping_returns_the_best_steps_weights_scripted_dev_wer(
        method: str, random_whisper: Path, clips: list[Clip],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The dev WER is scripted (a stand-in: the random model's real WER is always 100 %), so
    the best step is step 2 of real training; each evaluation keeps a merged copy of the model
    so the returned weights can be compared with step 2's."""
    import torch

    import training.whisper_train as wt

    script = {0: 0.9, 1: 0.7, 2: 0.5, 3: 0.6, 4: 0.8, 5: 0.1}
    seen: dict[int, dict[str, torch.Tensor]] = {}

    def scripted_dev_wer(model, loaded, dev, hidden, language) -> float:  # noqa: ANN001
        step = len(seen)
        merged = wt.merged_model(copy.deepcopy(model))
        seen[step] = {k: v.clone() for k, v in merged.state_dict().items()}
        return script[step]

    monkeypatch.setattr(wt, "dev_wer", scripted_dev_wer)
    loaded = wt.load_whisper(random_whisper, "en")
    with torch.no_grad():  # undo the helper's "end at once" bias so every layer gets gradient
        loaded.model.model.decoder.layer_norm.weight.fill_(1.0)
        loaded.model.model.decoder.layer_norm.bias.zero_()
    config = TrainConfig(data=Path("."), name="t", method=method, max_steps=10, batch_size=3,
                         lr=1e-2, warmup_steps=0, eval_every=1, patience=2, augment=NO_AUGMENT)
    model, outcome = wt.train_whisper(loaded, clips[:3], clips[3:], config, Capture(),
                                      lambda: False)
    assert outcome.stopped_early and outcome.steps == 4 and sorted(seen) == [0, 1, 2, 3, 4]
    assert (outcome.best_step, outcome.best_dev_wer) == (2, 0.5)
    final = model.state_dict()
    best, last = seen[2], seen[4]
    assert set(final) == set(best)
    assert all(torch.equal(final[k], best[k]) for k in best)
    assert any(not torch.equal(best[k], last[k]) for k in best), "steps 3-4 changed nothing?"


@pytest.mark.slow
def test_real_job_stops_early_keeps_best_weights_and_scores_the_reference_set(
        small_dataset: Path, speech_dir: Path, speech_manifest: list[dict], tmp_path: Path,
        isolated_home: Path) -> None:
    """tiny.en, encoder frozen, a learning rate high enough to wreck the decoder at once: the
    dev WER only gets worse, so the job stops after ``patience`` evaluations, exports the base
    weights (the best "step" is 0), and scores the reference set before and after.

    About 60-90 s on two loaded cores (CTranslate2 exports and scoring, greedy dev decoding
    of a wrecked decoder), hence slow.
    """
    import torch
    from safetensors.torch import load_file

    from desktop_asr.models import ModelManager, bundled_model_path
    from training.evaluate import evaluate_ct2, load_reference
    from training.job import run_job

    wanted = ("librivox_sense_and_sensibility_0880.wav", "cmu_arctic_us_axb_a0005.wav",
              "librivox_sense_and_sensibility_0930.wav", "leopard_test_es.wav")
    rows = [r for r in speech_manifest if r["audio"] in wanted]
    if len(rows) < len(wanted):
        pytest.skip(f"reference clips {wanted} not all in {speech_dir}")
    manifest = tmp_path / "reference.jsonl"
    manifest.write_text("".join(json.dumps({**r, "audio": str(speech_dir / r["audio"])}) + "\n"
                                for r in rows), encoding="utf-8")

    config = TrainConfig(data=small_dataset, name="stopped", base="tiny.en",
                         method="freeze-encoder", max_steps=8, batch_size=6, lr=1e-2,
                         warmup_steps=0, eval_every=1, patience=2, augment=NO_AUGMENT,
                         threads=2, reference=manifest)
    reporter = Capture()
    done = run_job(config, reporter, lambda: False)

    assert done["steps"] == 2 and done["best_step"] == 0, done
    assert done["stopped_early"] is True
    evals = [e for e in reporter.events if e["event"] == "eval"]
    assert [e["step"] for e in evals] == [0, 1, 2]
    assert all(e["dev_wer"] > evals[0]["dev_wer"] for e in evals[1:]), evals

    manager = ModelManager()
    folder = manager.installed_path("stopped")
    assert folder is not None
    record = json.loads((folder / "training.json").read_text())
    assert record["stopped_early"] is True and record["best_step"] == 0
    # Best step 0 is the base: every exported tensor equals tiny.en's own.
    base = load_file(str(manager.transformers_whisper("tiny.en") / "model.safetensors"))
    tuned = load_file(str(folder / "transformers" / "model.safetensors"))
    common = set(base) & set(tuned)
    assert len(common) >= len(base) - 1, set(base) ^ set(tuned)   # proj_out may be tied
    assert all(torch.equal(base[k], tuned[k]) for k in common)

    # --reference: before and after WER on the general set, English lines only.
    reference = load_reference(manifest, "en")
    assert len(reference) == 3 and record["items"]["reference"] == 3
    metrics = manager.model_meta("stopped")["metrics"]
    before, after = metrics["before"]["reference"], metrics["after"]["reference"]
    assert before["clips"] == after["clips"] == 3
    direct = evaluate_ct2(bundled_model_path(), reference, language="en", threads=2)
    assert direct is not None and before["wer"] == pytest.approx(direct.wer)
    assert before["wer"] < 0.3, before        # the real tiny.en on real speech
    assert after["wer"] == pytest.approx(before["wer"], abs=0.05)   # the same weights
    assert "reference_wer_change" in metrics
    assert record["metrics"]["after"]["reference"]["wer"] == after["wer"]
    for stage in ("before", "after"):
        event = next(e for e in reporter.events
                     if e["event"] == "metrics" and e["stage"] == stage)
        assert event["reference"]["clips"] == 3


# --- gradient accumulation ----------------------------------------------------------------

def _first_step(loaded, clips: list[Clip], method: str, batch: int, accum: int,  # noqa: ANN001
                monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict, dict]:
    """(optimizer steps, gradients before clipping, parameter update) of a one-step run."""
    import accelerate
    import torch

    import training.whisper_train as wt

    grads: list[dict[str, torch.Tensor]] = []
    steps: list[int] = []
    names: dict[int, str] = {}
    original_clip = accelerate.Accelerator.clip_grad_norm_

    def spy_clip(self, parameters, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        parameters = list(parameters)
        grads.append({names[id(p)]: p.grad.detach().clone() for p in parameters
                      if p.grad is not None})
        return original_clip(self, parameters, *args, **kwargs)

    class SpyAdamW(torch.optim.AdamW):
        def step(self, closure=None):  # noqa: ANN001, ANN201
            steps.append(1)
            return super().step(closure)

    model = copy.deepcopy(loaded.model)
    names.update({id(p): n for n, p in model.named_parameters()})
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    config = TrainConfig(data=Path("."), name="t", method=method, max_steps=1, batch_size=batch,
                         grad_accum=accum, lr=1e-3, warmup_steps=0, augment=NO_AUGMENT)
    with monkeypatch.context() as patch:
        patch.setattr(accelerate.Accelerator, "clip_grad_norm_", spy_clip)
        patch.setattr(torch.optim, "AdamW", SpyAdamW)
        tuned, outcome = wt.train_whisper(wt.LoadedWhisper(model, loaded.text, loaded.features,
                                                           loaded.extractor, loaded.tokenizer),
                                          clips, [], config, Capture(), lambda: False)
    assert outcome.steps == 1 and len(grads) == 1
    update = {n: p.detach() - before[n] for n, p in tuned.named_parameters() if n in grads[0]}
    return len(steps), grads[0], update


@pytest.mark.parametrize("method", ["freeze-encoder", "full"])
@pytest.mark.parametrize("n_clips", [4, 3])
def test_gradient_accumulation_matches_one_big_batch(method: str, n_clips: int,
                                                     random_whisper: Path, clips: list[Clip],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch 2 × accumulation 2 takes one optimizer step with the gradient of one batch of all
    the clips (3 clips: a window of 2 + 1), however many label tokens each clip has."""
    import torch

    from training.whisper_train import load_whisper

    loaded = load_whisper(random_whisper, "en")
    with torch.no_grad():  # undo the helper's "end at once" bias so every layer gets gradient
        loaded.model.model.decoder.layer_norm.weight.fill_(1.0)
        loaded.model.model.decoder.layer_norm.bias.zero_()
    part = clips[:n_clips]
    lengths = {len(loaded.text.labels(c.text)) for c in part}
    assert len(lengths) > 1, "the clips should differ in label length"
    n_big, g_big, u_big = _first_step(loaded, part, method, n_clips, 1, monkeypatch)
    n_acc, g_acc, u_acc = _first_step(loaded, part, method, 2, 2, monkeypatch)
    assert n_big == n_acc == 1
    assert set(g_big) == set(g_acc) and g_big
    off = lambda a, b: float((a - b).norm() / b.norm()) if b.norm() > 0 else 0.0  # noqa: E731
    # Float rounding differs with the batch shape: measured 1e-6..3e-6 of each gradient's
    # norm (0.02-1.4 when accelerate averaged the batches' mean losses). Adam's first update is
    # about lr × sign(g), so a gradient at noise level may round either way: 1 % there.
    for name in g_big:
        assert off(g_acc[name], g_big[name]) < 1e-4, (name, off(g_acc[name], g_big[name]))
        assert off(u_acc[name], u_big[name]) < 1e-2, (name, off(u_acc[name], u_big[name]))
    assert max(float(u.abs().max()) for u in u_big.values()) > 0.5e-3   # lr 1e-3: it moved


def test_accumulation_counts_optimizer_steps_per_window(random_whisper: Path, clips: list[Clip],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Four clips in batches of 1, accumulated 2 at a time: 2 optimizer steps per epoch."""
    import torch

    import training.whisper_train as wt

    calls: list[int] = []

    class SpyAdamW(torch.optim.AdamW):
        def step(self, closure=None):  # noqa: ANN001, ANN201
            calls.append(1)
            return super().step(closure)

    monkeypatch.setattr(torch.optim, "AdamW", SpyAdamW)
    loaded = wt.load_whisper(random_whisper, "en")
    config = TrainConfig(data=Path("."), name="t", method="freeze-encoder", epochs=2,
                         batch_size=1, grad_accum=2, lr=1e-3, warmup_steps=0,
                         augment=NO_AUGMENT)
    reporter = Capture()
    _, outcome = wt.train_whisper(loaded, clips, [], config, reporter, lambda: False)
    train = next(e for e in reporter.events if e["event"] == "train")
    assert (train["steps_per_epoch"], train["total_steps"]) == (2, 4)
    assert outcome.steps == 4 and len(calls) == 4
    assert [e["step"] for e in reporter.events if e["event"] == "step"] == [1, 2, 3, 4]
