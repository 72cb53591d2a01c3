"""The pyannote.audio backend, run through pyannote's own pipeline API with random weights.

What this covers: a community-1-style pipeline folder (``config.yaml`` with ``$model/...``
sub-folders for segmentation, embedding and PLDA) is loaded by pyannote.audio 4's
``Pipeline.from_pretrained`` from local files, run on real audio in memory, its output
(DiarizeOutput, exclusive diarization) turned into our turns and speaker ids, the speaker-count
options handed through, and file labelling and the live finalise pass go through it. The
segmentation (PyanNet), embedding (XVectorSincNet) and PLDA are built here and randomly
initialised, so the *labels are meaningless*: what this does not cover is diarization quality
with the real pyannote models, or downloading them from the hub (unreachable here).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from diarization_fixtures import backend_or_skip, conversation  # noqa: F401  (fixtures)
from desktop_asr.diarization import DiarizationOptions, diarize
from desktop_asr.errors import ModelError

SAMPLE_RATE = 16000


def _save(model, folder: Path) -> None:
    import lightning
    import pyannote.audio
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": lightning.__version__,
                "pyannote.audio": {
                    "versions": {"pyannote.audio": pyannote.audio.__version__},
                    "architecture": {"module": type(model).__module__,
                                     "class": type(model).__name__},
                    "specifications": model.specifications}},
               folder / "pytorch_model.bin")


@pytest.fixture(scope="module")
def pipeline_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A speaker-diarization pipeline folder laid out like the hub's community-1."""
    pytest.importorskip("pyannote.audio", reason="pyannote.audio is in the diarization extra")
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
    import torch
    import yaml
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import XVectorSincNet
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("pyannote-pipeline")
    seg = PyanNet(sincnet={"stride": 10}, lstm={"hidden_size": 32, "num_layers": 1},
                  linear={"hidden_size": 32, "num_layers": 1})
    seg.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION, resolution=Resolution.FRAME, duration=5.0,
        classes=["speaker#1", "speaker#2", "speaker#3"], powerset_max_classes=2,
        permutation_invariant=True)
    seg.build()
    _save(seg, out / "segmentation")
    emb = XVectorSincNet()
    emb.specifications = Specifications(problem=Problem.REPRESENTATION,
                                        resolution=Resolution.CHUNK, duration=2.0)
    emb.build()
    _save(emb, out / "embedding")
    rng = np.random.default_rng(0)
    dim, lda = 512, 16
    (out / "plda").mkdir()
    np.savez(out / "plda" / "xvec_transform.npz", mean1=rng.normal(size=dim) * 0.01,
             mean2=np.zeros(lda), lda=rng.normal(size=(dim, lda)))
    q, _ = np.linalg.qr(rng.normal(size=(lda, lda)))
    np.savez(out / "plda" / "plda.npz", mu=np.zeros(lda), tr=q, psi=np.linspace(2, 0.5, lda))
    config = {"pipeline": {"name": "pyannote.audio.pipelines.SpeakerDiarization",
                           "params": {"segmentation": "$model/segmentation",
                                      "embedding": "$model/embedding", "plda": "$model/plda",
                                      "clustering": "VBxClustering", "segmentation_step": 0.5,
                                      "embedding_batch_size": 8,
                                      "segmentation_batch_size": 8}},
              "params": {"segmentation": {"min_duration_off": 0.0},
                         "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8}}}
    (out / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return out


@pytest.mark.slow
def test_local_pipeline_folder_diarizes_files_through_pyannote(pipeline_folder, conversation
                                                               ) -> None:
    backend_or_skip()
    from desktop_asr.diarization.label import label_transcript
    from desktop_asr.types import Segment, Transcript, Word

    audio = conversation.audio[: SAMPLE_RATE * 9]
    opts = DiarizationOptions(backend="pyannote", pyannote_model=str(pipeline_folder),
                              num_speakers=2)
    result = diarize(audio, opts)
    assert result.backend == "pyannote"
    # The count we asked for reached pyannote's clustering; ids are ours, by first turn.
    assert result.speakers == ("SPEAKER_00", "SPEAKER_01")
    assert [t.speaker for t in result.turns][0] == "SPEAKER_00"
    assert all(0.0 <= t.start < t.end <= 9.0 + 1e-6 for t in result.turns)
    words = (Word(0.5, 1.0, " good"), Word(5.5, 6.0, " release"))
    labelled = label_transcript(Transcript(segments=(Segment(0.5, 6.0, " good release",
                                                             words=words),)), audio, opts)
    assert labelled.metadata["diarization"] == "pyannote"
    assert {s.speaker for s in labelled.segments} <= set(result.speakers)
    assert [s.id for s in labelled.speakers] == list(dict.fromkeys(
        s.speaker for s in labelled.segments))


@pytest.mark.slow
def test_finalise_pass_runs_the_pyannote_pipeline(pipeline_folder, conversation) -> None:
    backend_or_skip()
    from desktop_asr.diarization.live import LiveDiarizer, LiveSpeakerOptions

    audio = conversation.audio[: SAMPLE_RATE * 8]
    live = LiveDiarizer(("file",), ("file",), LiveSpeakerOptions(
        diarization=DiarizationOptions(backend="pyannote",
                                       pyannote_model=str(pipeline_folder))))
    live.start()
    for i in range(0, audio.size, 3200):
        live.feed(audio[i:i + 3200, None])
    live.close()
    finalised = live.finalise()
    assert finalised is not None and finalised.backend == "pyannote", live.error
    online_ids = {t.speaker for t in live.online_turns("file")}
    final_ids = [t.speaker for t in finalised.turns["file"]]
    assert final_ids and all(s.startswith("SPEAKER_") for s in final_ids)
    # A final speaker that overlaps a live one takes its id.
    assert set(final_ids) & online_ids


def test_missing_or_unreachable_model_gives_a_plain_reason(tmp_path, monkeypatch) -> None:
    pytest.importorskip("pyannote.audio", reason="pyannote.audio is in the diarization extra")
    from desktop_asr.diarization.pyannote_backend import load_pipeline

    audio = np.zeros(SAMPLE_RATE, np.float32)
    for model, reason in ((str(tmp_path / "missing"), "no such folder"),
                          (str(tmp_path), "has no config.yaml")):
        with pytest.raises(ModelError, match=reason):
            diarize(audio, DiarizationOptions(backend="pyannote", pyannote_model=model))
    # A hub id while the hub cannot be reached (this machine has no route to it either; the
    # offline switch only makes the refusal immediate instead of a network time-out).
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    load_pipeline.cache_clear()
    with pytest.raises(ModelError) as info:
        load_pipeline("pyannote/speaker-diarization-community-1")
    message = str(info.value)
    assert "is not available" in message and "--pyannote-model" in message
    assert "\n" not in message
