"""The resident quote of the service: the registry and the committed bookings are kept in
memory as the residual scenario document, and reloaded only when the ledger version
moves (a commit, a cancel or a registry change by any process, the CLI included). A quote
then costs one version query, the validation of a scenario cut down to what the request
can use, and its solves.
"""

from __future__ import annotations

import contextlib
import gc
import json
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import models
from broker.ledger import Broker
from broker.ledger.quote import ResidualIndex, pruned_for_request, quote_in
from broker.ledger.requests import reprefix
from broker.ledger.results import Quote

CACHE_SIZE = 512


class QuotePool:
    """Quotes solved in worker processes, each with the residual document of the ledger
    version it last priced at. In one server process the quotes of 16 clients took turns
    on one interpreter (21 ms of CPU each, p95 449 ms at 16 concurrent clients on a quiet
    2-core machine, docs/service.md); in worker processes they use every core. The
    workers are forks of the plan jobs' fork server (solver loaded once) and die with it,
    so with the server."""

    def __init__(self, url: str, processes: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import forkserver

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["broker.service.forkserver"])
        forkserver.ensure_running()
        self.processes = processes
        self._pool = ProcessPoolExecutor(processes, mp_context=ctx, initializer=_worker_init,
                                         initargs=(url,))

    def warm(self) -> None:
        """Start every worker and load the ledger there, so that the first quotes do not
        pay for it."""
        futures = [self._pool.submit(_worker_warm, 0.2) for _ in range(self.processes)]
        for f in futures:
            f.result(timeout=120)

    def quote(self, item: dict[str, Any], time_limit: float, version: int
              ) -> tuple[Quote, int]:
        kind, *rest = self._pool.submit(_worker_quote, item, time_limit, version).result()
        if kind == "input":
            raise models.InputError(rest[0], rest[1])
        return rest[0], rest[1]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


_worker_quoter: ResidentQuoter | None = None


def _worker_init(url: str) -> None:
    global _worker_quoter
    from broker.service.worker import die_with_parent

    die_with_parent()
    _worker_quoter = ResidentQuoter(Broker(url))


def _worker_warm(seconds: float) -> None:
    """Load and validate the ledger, and solve a one-column model with the quotes' engine
    (its first solve in a process costs more than a quote's); held a little, so that each
    worker of the pool gets one."""
    from ortools.math_opt.python import mathopt

    import solvers.earliest  # noqa: F401 - a quote's earliest period needs it

    assert _worker_quoter is not None
    with contextlib.suppress(models.InputError):  # an empty registry has nothing to load
        base, _ = _worker_quoter.base()
        _worker_quoter.index(base)
    m = mathopt.Model()
    x = m.add_integer_variable(lb=0, ub=1)
    m.minimize(x)
    mathopt.solve(m, mathopt.SolverType.GSCIP)
    # What the worker holds from now on (modules, the ledger) out of the cyclic
    # collector's reach, as in the server process: its collections took 0.49 ms of a
    # quote's CPU, 0.16 ms frozen (the bench's medium registry).
    gc.freeze()
    time.sleep(seconds)


def _worker_quote(item: dict[str, Any], time_limit: float, version: int
                  ) -> tuple[Any, ...]:
    """("ok", quote, version priced at) or ("input", source, problems): an InputError
    does not survive pickling (its arguments are not its constructor's)."""
    assert _worker_quoter is not None
    try:
        q, at = _worker_quoter.compute(item, time_limit, at_least=version)
    except models.InputError as e:
        return ("input", e.source, e.problems)
    return ("ok", q, at)


class ResidentQuoter:
    def __init__(self, broker: Broker, pool: QuotePool | None = None):
        self.broker = broker
        self.pool = pool
        self._lock = threading.Lock()
        self._version: int | None = None
        self._base: dict[str, Any] | None = None
        # The residual document validated once, for the quotes solved here (in a worker,
        # or in this process without one); built at the first quote of each version.
        self._index: ResidualIndex | None = None
        self._index_lock = threading.Lock()
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
            if self.pool is not None:
                q, at = self.pool.quote(item, time_limit, version)
                q = replace(q, seconds=time.perf_counter() - t0)
            else:
                q, at = self._quote_at(base, version, item, time_limit, t0)
            with self._lock:
                # Under the version it was priced at (a worker may have seen a later one).
                self._cache[(at, fp, time_limit)] = q
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            mine.set()
        return q, at

    def compute(self, item: dict[str, Any], time_limit: float, at_least: int = 0
                ) -> tuple[Quote, int]:
        """The quote of one request, without the cache: at the state in memory when it is
        at version `at_least` or later, else at the ledger's current one."""
        t0 = time.perf_counter()
        with self._lock:
            base, version = self._base, self._version
        if base is None or version is None or version < at_least:
            base, version = self.base()
        return self._quote_at(base, version, item, time_limit, t0)

    def index(self, base: dict[str, Any]) -> ResidualIndex:
        """The validated index of `base`, a residual document this quoter handed out."""
        with self._index_lock:
            if self._index is None or self._index.doc is not base:
                self._index = ResidualIndex(base)
            return self._index

    def _quote_at(self, base: dict[str, Any], version: int, item: dict[str, Any],
                  time_limit: float, t0: float) -> tuple[Quote, int]:
        sc = self.index(base).scenario_for(item)
        if sc is None:
            # A problem somewhere: the cut document, validated whole, names it.
            try:
                sc = models.scenario_from_dict(pruned_for_request(base, item), "quote")
            except models.ScenarioError as e:
                raise models.InputError("quote", [reprefix(p, "(request)")
                                                  for p in e.problems]) from None
        return quote_in(sc, time_limit, t0), version
