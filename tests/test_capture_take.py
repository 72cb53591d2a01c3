"""record_take: one take from a real FileSource replay (the wizard and the terminal recorder)."""

from __future__ import annotations

import numpy as np
import pytest
from audio_fixtures import write_wav

from desktop_asr.audio.decode import decode_audio
from desktop_asr.capture import SAMPLE_RATE, CaptureError, FileSource
from desktop_asr.capture.take import record_take


@pytest.fixture(scope="module")
def speech(spoken):
    return decode_audio(spoken("Please deploy the new build tonight."))


def test_a_take_is_the_whole_replayed_file_and_blocks_reach_the_meter(speech, tmp_path) -> None:
    path = write_wav(tmp_path / "a.wav", speech, SAMPLE_RATE)
    blocks: list[int] = []
    take = record_take(FileSource(path, speed=0), lambda: False,
                       on_block=lambda b: blocks.append(b.size))
    assert take.interrupted is None
    assert take.samples.size == speech.size and sum(blocks) == speech.size
    assert np.allclose(take.samples, speech, atol=1e-4)


def test_stop_and_the_length_limit_end_a_take(speech, tmp_path) -> None:
    path = write_wav(tmp_path / "a.wav", speech, SAMPLE_RATE)
    take = record_take(FileSource(path, speed=0), lambda: False, max_seconds=0.5)
    assert take.samples.size == SAMPLE_RATE // 2
    assert record_take(FileSource(path, speed=0), lambda: True).samples.size == 0


class _Unplugged(FileSource):
    """A replay whose 'device' goes away after a few blocks (a stand-in for an unplugged mic)."""

    reads = 0

    def read(self, timeout=None):  # noqa: ANN001, ANN201
        self.reads += 1
        if self.reads > 6:
            raise CaptureError("the microphone was unplugged")
        return super().read(timeout)


def test_a_device_lost_mid_take_keeps_what_was_captured(speech, tmp_path) -> None:
    path = write_wav(tmp_path / "a.wav", speech, SAMPLE_RATE)
    take = record_take(_Unplugged(path, speed=1.0), lambda: False)  # real-time blocks
    assert take.interrupted == "the microphone was unplugged"
    assert 0 < take.samples.size < speech.size
    assert np.allclose(take.samples, speech[:take.samples.size], atol=1e-4)
