"""The chunk pipeline (service/batch/pipeline.py): lanes compute chunks at once and hand
them back in order, writes run one at a time and in order, a lane's or a write's failure
and a lost lease reach the caller."""

from __future__ import annotations

import threading
import time

import pytest

from service.batch.pipeline import WRITES_AHEAD, ChunkPipeline


def test_lanes_compute_chunks_at_once_and_results_and_writes_come_in_order() -> None:
    running, most, lock = set(), [0], threading.Lock()
    written: list[int] = []

    def work(position: int) -> int:
        with lock:
            running.add(position)
            most[0] = max(most[0], len(running))
        time.sleep(0.02 * (5 - position))  # the earlier chunks are the slower ones
        with lock:
            running.discard(position)
        return position * 10

    def write(position: int) -> bool:
        time.sleep(0.02 * (5 - position))
        written.append(position)
        return True

    with ChunkPipeline(work, range(1, 5), lanes=2) as pipe:
        taken = list(pipe.results())
        for position, _ in taken:
            assert pipe.write(lambda p=position: write(p))  # type: ignore[misc]
        assert pipe.drain()
    assert taken == [(1, 10), (2, 20), (3, 30), (4, 40)]
    assert most[0] == 2  # two chunks were in work at once, never more than the lanes
    assert written == [1, 2, 3, 4]


def test_a_lanes_error_reaches_the_caller_and_the_chunks_not_taken_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[int] = []
    # Chunk 2 is in work until the caller, leaving, shuts the lanes down (10 s at most): a
    # fixed 0.3 s could end first on a loaded machine, and the lane would start chunk 3
    # before the caller had a chance to drop it.
    leaving = threading.Event()

    def work(position: int) -> int:
        started.append(position)
        if position == 1:
            raise OSError("chunk 1 unreadable")
        if position == 2:  # in work while the error reaches the caller, who leaves
            leaving.wait(10)
        return position

    with (
        pytest.raises(OSError, match="chunk 1 unreadable"),
        ChunkPipeline(work, range(100), lanes=1) as pipe,
    ):
        shutdown = pipe._lanes.shutdown

        def shutting_down(wait: bool = True, *, cancel_futures: bool = False) -> None:
            leaving.set()
            shutdown(wait, cancel_futures=cancel_futures)

        monkeypatch.setattr(pipe._lanes, "shutdown", shutting_down)
        for _ in pipe.results():
            pass
    # chunk 3 was queued behind 2 when chunk 1 failed: leaving dropped it
    assert started == [0, 1, 2]


def test_a_lost_lease_stops_the_writes_and_an_error_is_raised() -> None:
    started: list[int] = []
    with ChunkPipeline(int, range(4), lanes=1) as pipe:
        assert pipe.write(lambda: started.append(0) or False)
        pipe.write(lambda: started.append(1) or True)  # False if chunk 0's write has ended
        assert not pipe.drain()  # chunk 0's lease was lost
        assert not pipe.write(lambda: started.append(2) or True)
    assert started == [0]  # no write started after the lost lease

    def fail() -> bool:
        raise OSError("disk gone")

    # raised by the write after it, or by drain
    with (
        ChunkPipeline(int, range(2), lanes=1) as pipe,
        pytest.raises(OSError, match="disk gone"),
    ):
        pipe.write(fail)
        pipe.write(lambda: started.append(3) or True)
        pipe.drain()
    assert started == [0]  # nor after the failed one


def test_writes_queue_up_to_writes_ahead_and_run_in_order() -> None:
    gate, written = threading.Event(), []

    def write(position: int) -> bool:
        gate.wait(5)
        written.append(position)
        return True

    with ChunkPipeline(int, range(9), lanes=1) as pipe:
        for position in range(WRITES_AHEAD):  # queued behind a slow write, not waited for
            assert pipe.write(lambda p=position: write(p))  # type: ignore[misc]
        assert written == []
        gate.set()
        for position in range(WRITES_AHEAD, 9):
            assert pipe.write(lambda p=position: write(p))  # type: ignore[misc]
        assert pipe.drain()
    assert written == list(range(9))


def test_leaving_waits_for_the_write_in_flight() -> None:
    done = threading.Event()

    def slow() -> bool:
        time.sleep(0.1)
        done.set()
        return True

    with pytest.raises(RuntimeError), ChunkPipeline(int, range(1), lanes=1) as pipe:
        pipe.write(slow)
        raise RuntimeError("the forward pass failed")
    assert done.is_set()  # the chunk ended recorded (or not at all) before the job moved on
