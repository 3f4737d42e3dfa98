"""AESVC_PRELOAD: load and warm named versions in the background; /readyz waits on them."""

from __future__ import annotations

import logging
import threading
from typing import Any

from service.context import AppContext

log = logging.getLogger(__name__)
RETRY_S = 2.0


class Preloader:
    """Retries until every name@ref is loaded (a model may still be training at start)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.refs = ctx.settings.preload_refs
        self.state: dict[str, str] = {f"{n}@{r}": "pending" for n, r in self.refs}
        self._stopping = threading.Event()

    def start(self) -> None:
        if self.refs:
            threading.Thread(target=self._run, name="aesvc-preload", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def ready(self) -> bool:
        return all(state == "loaded" for state in self.state.values())

    def check(self) -> dict[str, Any]:
        return {"ok": self.ready, "versions": dict(self.state)}

    def _run(self) -> None:
        while not self._stopping.is_set():
            for name, ref in self.refs:
                label = f"{name}@{ref}"
                if self.state[label] == "loaded":
                    continue
                try:
                    with self.ctx.session_factory() as session:
                        loaded = self.ctx.inference()[1].resolve(session, name, ref)
                    self.state[label] = "loaded"
                    log.info("preloaded %s (version %s, warm)", label, loaded.version)
                except Exception as exc:
                    self.state[label] = f"not loaded: {exc}"
            if self.ready or self._stopping.wait(RETRY_S):
                return
