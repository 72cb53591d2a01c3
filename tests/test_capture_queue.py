"""FrameQueue: bounded, never blocks the producer, drops the oldest audio and says so."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from desktop_asr.capture import CaptureError, FrameQueue, SourceEnded


def _frames(n: int, value: float = 0.0) -> np.ndarray:
    return np.full((n, 1), value, dtype=np.float32)


def test_blocks_come_out_in_order_with_stream_indexes() -> None:
    q = FrameQueue(1000)
    for k in range(3):
        assert q.put_nowait(_frames(100, k), captured_at=float(k))
    got = [q.get(0) for _ in range(3)]
    assert [b.index for b in got] == [0, 100, 200]
    assert [float(b.frames[0, 0]) for b in got] == [0.0, 1.0, 2.0]
    assert [b.captured_at for b in got] == [0.0, 1.0, 2.0]
    assert q.get(0) is None
    assert q.stats().frames_captured == 300 and q.stats().overflows == 0


def test_full_queue_drops_exactly_the_oldest_frames_and_counts_them() -> None:
    q = FrameQueue(1000)
    q.put_nowait(_frames(400, 1), 0.0)
    q.put_nowait(_frames(400, 2), 0.0)
    assert not q.put_nowait(_frames(400, 3), 0.0)     # 200 frames too many
    stats = q.stats()
    assert (stats.frames_captured, stats.overflows, stats.frames_dropped) == (1200, 1, 200)
    first = q.get(0)
    # The oldest block lost only its first 200 frames; stream indexes show the hole.
    assert first.index == 200 and first.frames.shape[0] == 200 and first.frames[0, 0] == 1
    assert [q.get(0).index, q.get(0).index] == [400, 800]


def test_overflow_episodes_are_counted_once_until_the_reader_catches_up() -> None:
    q = FrameQueue(100)
    for _ in range(10):
        q.put_nowait(_frames(60), 0.0)       # every put after the first drops something
    assert q.stats().overflows == 1
    read = q.get(0).frames.shape[0]
    q.put_nowait(_frames(60), 0.0)
    q.put_nowait(_frames(60), 0.0)
    assert q.stats().overflows == 2
    # Conservation: everything captured is either still queued, read, or counted as dropped.
    stats = q.stats()
    assert stats.frames_captured == read + q.queued_frames + stats.frames_dropped


def test_a_block_larger_than_the_queue_keeps_its_newest_part() -> None:
    q = FrameQueue(100)
    data = np.arange(250, dtype=np.float32)[:, np.newaxis]
    q.put_nowait(data, 0.0)
    block = q.get(0)
    assert block.index == 150 and np.array_equal(block.frames, data[150:])
    assert q.stats().frames_dropped == 150


def test_close_lets_the_reader_drain_then_ends_or_raises_the_error() -> None:
    q = FrameQueue(1000)
    q.put_nowait(_frames(10), 0.0)
    q.close()
    assert q.get(0).frames.shape[0] == 10
    with pytest.raises(SourceEnded):
        q.get(0)
    q2 = FrameQueue(1000)
    q2.put_nowait(_frames(10), 0.0)
    q2.close(CaptureError("device unplugged"))
    assert q2.get(0) is not None                       # captured audio first
    with pytest.raises(CaptureError, match="device unplugged"):
        q2.get(0)


def test_get_waits_for_the_producer_up_to_the_timeout() -> None:
    q = FrameQueue(1000)
    t0 = time.monotonic()
    assert q.get(0.15) is None
    assert 0.12 <= time.monotonic() - t0 < 1.0
    threading.Timer(0.05, lambda: q.put_nowait(_frames(5), 0.0)).start()
    assert q.get(2.0) is not None


def test_producer_never_waits_for_a_reader_and_nothing_is_lost_silently() -> None:
    q = FrameQueue(16000)
    read: list[int] = []
    indexes: list[int] = []
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set() or q.queued_frames:
            block = q.get(0.01)
            if block is not None:
                read.append(block.frames.shape[0])
                indexes.append(block.index)
                time.sleep(0.0005)       # a slow reader

    reader = threading.Thread(target=consume)
    reader.start()
    t0 = time.monotonic()
    for _ in range(20000):
        q.put_nowait(_frames(320), 0.0)
    produce_s = time.monotonic() - t0
    stop.set()
    reader.join(10)
    stats = q.stats()
    # 20000 puts of a 20 ms block in well under the 400 s they represent: nobody waited.
    assert produce_s < 5.0
    assert stats.frames_dropped > 0 and stats.overflows >= 1
    assert stats.frames_captured == 20000 * 320 == sum(read) + stats.frames_dropped
    assert indexes == sorted(indexes) and len(set(indexes)) == len(indexes)
