"""The resident quote of the service: the registry and the committed bookings are kept in
memory as the residual scenario document, and reloaded only when the ledger version
moves (a commit, a cancel or a registry change by any process, the CLI included). A quote
then costs one version query, the validation of a scenario cut down to what the request
can use, and its solves.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import models
from broker.ledger import Broker
from broker.ledger.quote import pruned_for_request, quote_in
from broker.ledger.requests import reprefix
from broker.ledger.results import Quote

CACHE_SIZE = 512


class ResidentQuoter:
    def __init__(self, broker: Broker):
        self.broker = broker
        self._lock = threading.Lock()
        self._version: int | None = None
        self._base: dict[str, Any] | None = None
        self._cache: OrderedDict[tuple[int, str, float], Quote] = OrderedDict()
        self._inflight: dict[tuple[int, str, float], threading.Event] = {}
        self.reloads = 0

    @property
    def version(self) -> int | None:
        """The ledger version of the state in memory."""
        return self._version

    def base(self) -> tuple[dict[str, Any], int]:
        """The residual scenario document (no requests) at the current ledger version."""
        version = self.broker.ledger_version()
        with self._lock:
            if self._base is not None and self._version == version:
                return self._base, version
        doc, at = self.broker.residual_document()
        with self._lock:
            self._base, self._version = doc, at
            self._cache.clear()
            self.reloads += 1
        return doc, at

    def quote(self, item: dict[str, Any], *, time_limit: float = 0.5) -> tuple[Quote, int]:
        """The quote of one request and the ledger version it was priced at."""
        t0 = time.perf_counter()
        item = {k: v for k, v in item.items() if k != "idempotency_key"}
        base, version = self.base()
        # The same request (whatever its id) at the same ledger version has the same quote.
        fp = json.dumps({k: v for k, v in item.items() if k != "id"}, sort_keys=True,
                        default=str)
        key = (version, fp, time_limit)
        while True:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    break
                # The same quote asked for at once by several clients is solved once.
                running = self._inflight.get(key)
                if running is None:
                    mine = self._inflight[key] = threading.Event()
                    break
            running.wait(timeout=60)
        if hit is not None:
            return replace(hit, request=str(item.get("id", hit.request)),
                           seconds=time.perf_counter() - t0), version
        try:
            doc = pruned_for_request(base, item)
            try:
                sc = models.scenario_from_dict(doc, "quote")
            except models.ScenarioError as e:
                raise models.InputError("quote", [reprefix(p, "(request)")
                                                  for p in e.problems]) from None
            q = quote_in(sc, time_limit, t0)
            with self._lock:
                self._cache[key] = q
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            mine.set()
        return q, version
