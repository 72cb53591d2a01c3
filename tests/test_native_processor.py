"""NativeStreamProcessor's rules on a scripted stream (no model), and how a processor is picked.

The live pipeline's processor for streaming-native engines: fixed words become finals once,
the tentative tail becomes the partial, the utterance's end commits everything and clears the
partial, only new audio is fed, and the stream is reset per utterance.
"""

from __future__ import annotations

import numpy as np
import pytest

from desktop_asr.streaming import StreamOptions
from desktop_asr.streaming.native import NativeStreamProcessor, make_processor
from desktop_asr.streaming.processor import StreamProcessor
from desktop_asr.types import Word
from desktop_asr.vad.base import SpeechAudio, SpeechEnded, SpeechStarted


class ScriptedStream:
    """Answers split_words() from a script; notes what it was fed."""

    def __init__(self, script: list[tuple[list[Word], list[Word]]]) -> None:
        self.script, self.fed, self.resets, self.finished = list(script), [], 0, False

    def reset(self) -> None:
        self.resets += 1
        self.finished = False

    def accept(self, samples: np.ndarray) -> None:
        self.fed.append(samples.size)

    def finish(self) -> None:
        self.finished = True

    def split_words(self):  # noqa: ANN201
        return self.script.pop(0)


class ScriptedEngine:
    name = "scripted"

    def __init__(self, stream: ScriptedStream) -> None:
        from desktop_asr.engines import EngineCapabilities, EngineInfo

        self.capabilities = EngineCapabilities(streaming_native=True, languages=("en",))
        self.info = EngineInfo("scripted", "m", "m", "cpu", "float32", 1)
        self.stream = stream

    def create_stream(self) -> ScriptedStream:
        return self.stream

    def transcribe(self, audio, **kwargs):  # noqa: ANN001, ANN201
        raise AssertionError("a streaming-native engine is never asked to re-decode")

    def detect_language(self, audio):  # noqa: ANN001, ANN201
        return "en", 1.0


def test_native_processor_commits_fixed_words_shows_the_tail_and_commits_all_at_the_end(
        ) -> None:
    a, b, c, d = (Word(0.1, 0.3, " a"), Word(0.3, 0.5, " b"), Word(0.5, 0.7, " c"),
                  Word(0.7, 0.9, " d"))
    stream = ScriptedStream([([], [a]), ([a], [b, c]), ([a, b, d], [])])
    engine = ScriptedEngine(stream)
    out = []
    proc = make_processor(engine, "mic", StreamOptions(hop=0.2), out.append, lambda: 1.5,
                          speaker="mic")
    assert isinstance(proc, NativeStreamProcessor)
    piece = np.zeros(3200, np.float32)
    proc.handle(SpeechStarted(2.0))
    proc.handle(SpeechAudio(2.0, piece))
    assert proc.due()
    proc.decode()
    proc.handle(SpeechAudio(2.2, piece))
    proc.handle(SpeechAudio(2.4, piece))
    proc.decode()
    assert stream.fed == [3200, 6400] and not proc.due()    # only the new audio each time
    proc.handle(SpeechAudio(2.6, piece[:1000]))
    proc.handle(SpeechEnded(2.7, "silence"))
    assert stream.finished and stream.fed == [3200, 6400, 1000]
    kinds = [(u.kind, u.segment.text, u.utterance, u.speaker) for u in out]
    assert kinds == [("partial", " a", 0, "mic"), ("final", " a", 0, "mic"),
                     ("partial", " b c", 0, "mic"), ("final", " b d", 0, "mic"),
                     ("partial", "", 0, "mic")]
    assert out[1].segment.words[0].start == pytest.approx(2.1)   # stream time of the utterance
    # the next utterance starts from a reset stream with the next id
    stream.script = [([], [])]
    proc.handle(SpeechStarted(9.0))
    proc.handle(SpeechEnded(9.5, "silence"))
    assert stream.resets == 2 and not proc.active            # one reset per utterance
    assert out[-1].utterance == 0                            # it said nothing: no events


def test_processor_is_picked_by_the_engines_capabilities() -> None:
    from desktop_asr.engines import EngineCapabilities

    native = ScriptedEngine(ScriptedStream([]))
    redecode = ScriptedEngine(ScriptedStream([]))
    redecode.capabilities = EngineCapabilities(streaming_native=False)
    args = ("mic", StreamOptions(), lambda u: None, lambda: 0.0)
    assert isinstance(make_processor(native, *args), NativeStreamProcessor)
    assert isinstance(make_processor(redecode, *args), StreamProcessor)
