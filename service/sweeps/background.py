"""Advancing sweeps in the background: the API's periodic pass over every running sweep,
and a worker's look at a trial's sweep as soon as the trial ends (service.sweeps.advance
says why both are safe at once)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import ArtifactStore
from service.config import Settings
from service.database import first_line, is_database_unavailable
from service.sweeps.advance import advance_sweep
from service.sweeps.schemas import SweepStatus
from service.sweeps.tables import Sweep

log = logging.getLogger(__name__)


def after_trial(
    factory: sessionmaker[Session], store: ArtifactStore, settings: Settings, sweep_id: str
) -> None:
    """A worker just finished one of this sweep's trials: queue the next one now. Best
    effort: the API's pass does the same within AESVC_SWEEP_ADVANCE_S."""
    try:
        advance_sweep(factory, store, settings, sweep_id)
    except Exception as exc:
        log.warning(
            "sweep %s: not advanced after its trial (the API will): %s", sweep_id, first_line(exc)
        )


def advance_all(factory: sessionmaker[Session], store: ArtifactStore, settings: Settings) -> int:
    """Advance every running sweep; returns how many."""
    with factory() as session:
        ids = session.scalars(select(Sweep.id).where(Sweep.status == SweepStatus.RUNNING)).all()
    for sweep_id in ids:
        try:
            advance_sweep(factory, store, settings, sweep_id)
        except Exception as exc:
            down = is_database_unavailable(exc)  # expected in an outage: no stack trace
            log.warning(
                "sweep %s: not advanced, tried again on the next pass: %s",
                sweep_id,
                first_line(exc),
                exc_info=not down,
            )
    return len(ids)


class SweepAdvancer:
    """A daemon thread in the API that advances the running sweeps every interval."""

    def __init__(
        self, factory: sessionmaker[Session], store: ArtifactStore, settings: Settings
    ) -> None:
        self.factory, self.store, self.settings = factory, store, settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweep-advancer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.sweep_advance_s):
            try:
                advance_all(self.factory, self.store, self.settings)
            except Exception as exc:  # the database away: the next pass tries again
                down = is_database_unavailable(exc)
                log.warning("sweeps not advanced: %s", first_line(exc), exc_info=not down)
