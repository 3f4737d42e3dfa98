"""RenderedCache: bounded in bytes, least recently used out first, one rendering for
concurrent readers of a key."""

from __future__ import annotations

import functools
import threading
import time

from service.json_answers import RenderedCache, RenderedJson


def _rendered(size: int) -> RenderedJson:
    return RenderedJson.of(b"x" * size)


def test_the_cache_keeps_at_most_its_bytes_and_drops_the_least_recently_used() -> None:
    cache = RenderedCache(max_bytes=300)
    for key in ("a", "b", "c"):
        cache.get(key, lambda: _rendered(100))
    cache.get("a", lambda: _rendered(1))  # a hit: "a" is now the most recent
    cache.get("d", lambda: _rendered(100))
    assert cache.size_bytes == 300 and len(cache) == 3
    renders: list[str] = []

    def render(key: str) -> RenderedJson:
        renders.append(key)
        return _rendered(100)

    for key in ("a", "c", "d", "b"):
        cache.get(key, functools.partial(render, key))
    assert renders[0] == "b"  # "b" was dropped, the others were kept
    huge = cache.get("huge", lambda: _rendered(301))  # answered, never kept
    assert len(huge.body) == 301 and "huge" not in cache._entries
    assert cache.size_bytes <= 300


def test_concurrent_reads_of_a_cold_key_render_it_once() -> None:
    cache = RenderedCache(max_bytes=1 << 20)
    calls: list[int] = []

    def render() -> RenderedJson:
        calls.append(1)
        time.sleep(0.2)
        return _rendered(10)

    answers: list[RenderedJson] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get("k", render))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(answers) == 8
    assert len({id(a) for a in answers}) == 1
