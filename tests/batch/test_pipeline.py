"""The chunk pipeline (service/batch/pipeline.py): reads run one chunk ahead, writes run
one at a time and in order, a write's failure or lost lease reaches the caller."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from service.batch.pipeline import WRITES_AHEAD, ChunkPipeline


def test_reads_run_ahead_and_writes_end_in_order() -> None:
    read_at: dict[int, float] = {}
    written: list[int] = []

    def read(position: int) -> np.ndarray:
        read_at[position] = time.monotonic()
        return np.full((2, 1), position, dtype=np.float32)

    def write(position: int) -> bool:
        time.sleep(0.02 * (3 - position))  # the earlier writes are the slower ones
        written.append(position)
        return True

    with ChunkPipeline(read, 3) as pipe:
        for position in range(3):
            assert pipe.read(position)[0, 0] == position
            if position == 1:
                time.sleep(0.05)
                assert 2 in read_at  # read while chunk 1 was being computed
            assert pipe.write(lambda p=position: write(p))  # type: ignore[misc]
        assert pipe.drain()
    assert written == [0, 1, 2]


def test_a_lost_lease_stops_the_writes_and_an_error_is_raised() -> None:
    started: list[int] = []
    with ChunkPipeline(lambda p: np.zeros((1, 1), np.float32), 4) as pipe:
        assert pipe.write(lambda: started.append(0) or False)
        pipe.write(lambda: started.append(1) or True)  # False if chunk 0's write has ended
        assert not pipe.drain()  # chunk 0's lease was lost
        assert not pipe.write(lambda: started.append(2) or True)
    assert started == [0]  # no write started after the lost lease

    def fail() -> bool:
        raise OSError("disk gone")

    # raised by the write after it, or by drain
    with (
        ChunkPipeline(lambda p: np.zeros((1, 1), np.float32), 2) as pipe,
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

    with ChunkPipeline(lambda p: np.zeros((1, 1), np.float32), 9) as pipe:
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

    with pytest.raises(RuntimeError), ChunkPipeline(lambda p: np.zeros((1, 1)), 1) as pipe:
        pipe.write(slow)
        raise RuntimeError("the forward pass failed")
    assert done.is_set()  # the chunk ended recorded (or not at all) before the job moved on
