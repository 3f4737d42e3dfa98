"""The {ref} cache and the model cache against registry changes that land while a lookup
(the resolve, then a cold load: seconds, with the ONNX export) is in flight: an archive
evicts the version, an alias move forgets the model's refs, both after their commit. A
change that lands mid-lookup must not be undone by it: the archived version is neither
served afterwards nor kept, the moved alias answers its new version at once in this
process, and another process's move is seen within AESVC_REF_CACHE_S of the resolve."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.context import AppContext
from service.errors import Gone, ServiceUnavailable
from service.inference.api import service
from service.inference.runtime.cache import LoadedModel, ModelCache
from service.main import create_app
from service.registry.tables import Model, ModelAlias, ModelVersion
from tests.inference.conftest import settings_for

NAME = "digits-ae"


class World:
    def __init__(self, client: TestClient, ctx: AppContext) -> None:
        self.client, self.ctx = client, ctx

    @property
    def cache(self) -> ModelCache:
        return self.ctx.inference()[1]

    def add_version_2_and_alias(self) -> None:
        """Version 2: a copy of version 1's row (same weights); alias prod -> 1."""
        with self.ctx.session_factory() as session:
            v1 = session.scalars(select(ModelVersion).where(ModelVersion.version == 1)).first()
            model = session.scalars(select(Model).where(Model.name == NAME)).one()
            v1 = session.scalars(
                select(ModelVersion).where(
                    ModelVersion.model_id == model.id, ModelVersion.version == 1
                )
            ).one()
            fields = {
                c.name: getattr(v1, c.name)
                for c in ModelVersion.__table__.columns
                if c.name not in ("id", "version", "source_job_id", "created_at")
            }
            session.add(ModelVersion(version=2, **fields))
            session.commit()
        r = self.client.put(f"/v1/models/{NAME}/aliases/prod", json={"version": 1})
        assert r.status_code in (200, 201), r.text

    def move_alias_in_db(self, version: int) -> None:
        """As another API process would: the row changes, this process is not told."""
        with self.ctx.session_factory() as session:
            model = session.scalars(select(Model).where(Model.name == NAME)).one()
            alias = session.scalars(
                select(ModelAlias).where(
                    ModelAlias.model_id == model.id, ModelAlias.alias == "prod"
                )
            ).one()
            alias.version = version
            session.commit()


@pytest.fixture
def world(trained_dir: Path, tmp_path: Path) -> Iterator[World]:
    data_dir = tmp_path / "var"
    shutil.copytree(trained_dir, data_dir)
    app = create_app(settings_for(data_dir, ref_cache_s=30.0), start_workers=False)
    with TestClient(app) as client:
        yield World(client, app.state.ctx)


def held_after_resolve(cache: ModelCache) -> tuple[threading.Event, threading.Event]:
    """cache.get (called once resolve_version has answered) waits on a gate: a slow load."""
    entered, gate = threading.Event(), threading.Event()
    real = cache.get

    def get(name: str, mv: Any, **kwargs: Any) -> LoadedModel:
        entered.set()
        assert gate.wait(30)
        return real(name, mv, **kwargs)

    cache.get = get  # type: ignore[method-assign]
    return entered, gate


def test_a_version_archived_while_it_loads_is_neither_served_afterwards_nor_kept(
    world: World,
) -> None:
    cache = world.cache
    entered, gate = threading.Event(), threading.Event()
    warm = cache.warmup
    assert warm is not None

    def slow_warmup(loaded: LoadedModel) -> None:
        entered.set()
        assert gate.wait(30)
        warm(loaded)

    cache.warmup = slow_warmup

    async def scenario() -> None:
        first = asyncio.ensure_future(service.served_version(world.ctx, name=NAME, ref="1"))
        assert await asyncio.to_thread(entered.wait, 30)
        # archived (and evicted from the cache) while the cold load runs
        r = await asyncio.to_thread(world.client.delete, f"/v1/models/{NAME}/versions/1")
        assert r.status_code == 204, r.text
        gate.set()
        with contextlib.suppress(Gone):  # it asked before the archive: served, or 410
            await first
        # a request after the archive must get 410
        with pytest.raises(Gone):
            later = await service.served_version(world.ctx, name=NAME, ref="1")
            pytest.fail(f"archived version {later.version} served from the ref cache")

    asyncio.run(scenario())
    held = [(m.name, m.version) for m in cache.loaded_models()]
    assert (NAME, 1) not in held, f"archived version still held by the cache: {held}"


def test_an_alias_moved_in_this_process_during_a_lookup_takes_effect_at_once(
    world: World,
) -> None:
    world.add_version_2_and_alias()
    entered, gate = held_after_resolve(world.cache)

    async def scenario() -> None:
        first = asyncio.ensure_future(service.served_version(world.ctx, name=NAME, ref="prod"))
        assert await asyncio.to_thread(entered.wait, 30)  # resolved prod -> 1, now loading
        r = await asyncio.to_thread(
            world.client.put, f"/v1/models/{NAME}/aliases/prod", json={"version": 2}
        )
        assert r.status_code == 200, r.text
        gate.set()
        assert (await first).version in (1, 2)  # asked before the move: either
        after = await service.served_version(world.ctx, name=NAME, ref="prod")
        assert after.version == 2, "prod moved to 2 in this process, still served by 1"

    asyncio.run(scenario())


def test_the_ref_cache_window_counts_from_the_resolve_not_from_the_end_of_the_load(
    world: World,
) -> None:
    """Another process moves the alias just after this one resolved it; this one may keep
    serving the old version for AESVC_REF_CACHE_S (0.5 s here), not load time + that."""
    world.add_version_2_and_alias()
    world.ctx.settings.ref_cache_s = 0.5
    entered, gate = held_after_resolve(world.cache)

    async def scenario() -> None:
        first = asyncio.ensure_future(service.served_version(world.ctx, name=NAME, ref="prod"))
        assert await asyncio.to_thread(entered.wait, 30)  # resolved prod -> 1
        await asyncio.to_thread(world.move_alias_in_db, 2)  # another process moves it
        moved = time.monotonic()
        await asyncio.sleep(1.0)  # the load takes 1 s
        gate.set()
        assert (await first).version in (1, 2)
        await asyncio.sleep(0.1)
        assert time.monotonic() - moved > 0.5 + 0.5  # well past the ref cache's window
        after = await service.served_version(world.ctx, name=NAME, ref="prod")
        assert after.version == 2, (
            f"{time.monotonic() - moved:.2f} s after the move (ref cache 0.5 s), prod still "
            "answered by version 1"
        )

    asyncio.run(scenario())


def test_a_model_changing_on_every_load_is_a_503_after_a_few_tries(world: World) -> None:
    """A change (an alias move, an unload) landing during every try: the lookup gives up
    with a 503 instead of looping for ever on a threadpool thread, and loads the version
    once, reusing it on every retry."""
    cache = world.cache
    real = cache.get
    tries = []

    def changing_get(name: str, mv: Any, **kwargs: Any) -> LoadedModel:
        tries.append(kwargs.get("ready") is not None)
        cache.forget_refs(NAME)  # lands after the resolve read the model's change count
        return real(name, mv, **kwargs)

    cache.get = changing_get  # type: ignore[method-assign]
    with pytest.raises(ServiceUnavailable):
        asyncio.run(service.served_version(world.ctx, name=NAME, ref="1"))
    assert tries == [False] + [True] * (len(tries) - 1) and len(tries) == 5
