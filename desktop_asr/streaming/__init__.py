"""Live captioning: streaming decoding, stabilisation, the pipeline, journal and recording."""

from desktop_asr.streaming.events import PipelineError, PipelineStatus, TranscriptUpdate
from desktop_asr.streaming.journal import Journal, read_journal, unfinished_sessions
from desktop_asr.streaming.live_session import LiveSession, new_session_folder
from desktop_asr.streaming.native import NativeStreamProcessor, make_processor
from desktop_asr.streaming.pipeline import LiveOptions, LivePipeline
from desktop_asr.streaming.processor import StreamOptions, StreamProcessor, streaming_decode_options
from desktop_asr.streaming.session import SessionTranscript
from desktop_asr.streaming.stabiliser import Stabiliser

__all__ = ["Journal", "LiveOptions", "LivePipeline", "LiveSession", "NativeStreamProcessor",
           "PipelineError", "PipelineStatus", "SessionTranscript", "Stabiliser", "StreamOptions",
           "StreamProcessor", "TranscriptUpdate", "make_processor", "new_session_folder",
           "read_journal", "streaming_decode_options", "unfinished_sessions"]
