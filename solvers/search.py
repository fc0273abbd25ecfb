"""The one search loop: it owns the deadline, the incumbent, the best bound and the
progress events; methods plug into it through one small protocol.

A method (`SearchMethod`) can do three things, each optional:
- `construct(search)`: a first plan, fast (the constructive plan of solvers/greedy.py);
- `improve(search, deadline)`: better plans until `deadline` (the MIP engine on the whole
  model, the LP-guided method, the large-neighbourhood search of solvers/lns.py);
- `bound(search, deadline)`: a proven lower bound of the SPEC model.
Methods offer what they find to the `Search` (`offer`, `raise_bound`); the loop keeps the
cheapest plan whose policies hold and the highest bound, so the returned plan is never
worse than the best constructive plan, and a method that runs out of time costs nothing
but its time. Bound providers are plain functions (`solvers.options.BoundProvider`).

Deadlines are absolute `time.perf_counter()` values, taken from the clock when each phase
starts: a phase gets a share of what is *left*, so a phase that ran long (another process
on the cores) shortens the ones after it instead of pushing the end past the limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from models.derived import Derived
from models.scenario import Scenario
from solvers.model import Built, Raw
from solvers.options import BoundProvider, ProgressEvent, SolveOptions

if TYPE_CHECKING:
    import numpy as np

# A plan proven within this relative gap of its bound is reported as optimal.
OPTIMAL_GAP = 1e-6
# Candidates kept besides the best, to fall back on should the best fail its check.
KEEP = 4


@dataclass
class Candidate:
    """A plan as a solver answer, the Built its rows are read with, and its SPEC cost;
    `vector` holds its column values in `Search.full` when known."""

    cost: float
    source: str
    built: Built
    raw: Raw
    vector: np.ndarray | None = field(default=None, repr=False)


class Search:
    """The state every method shares: clock, incumbent, bound, progress."""

    def __init__(self, sc: Scenario, d: Derived, options: SolveOptions, started: float,
                 deadline: float | None,
                 evaluate: Callable[[Scenario, Derived, Built, Raw], float | None]) -> None:
        self.sc, self.d = sc, d
        # Methods report through `options.progress`; their events pass through `_send`,
        # so that what the caller sees is the search's state, not one method's.
        self._progress = options.progress
        self._shown: tuple[float | None, float | None] = (None, None)
        self.options = (options if options.progress is None
                        else replace(options, progress=self._send))
        self.started, self.deadline = started, deadline
        self._evaluate = evaluate
        self.pool: list[Candidate] = []  # cheapest first
        self.bound = -math.inf
        self.bound_from: str | None = None
        # The whole model, when a method built it (the neighbourhood search works on it).
        self.full: Built | None = None
        # Columns of `full` a relaxation found worth using (the LP's support, with every
        # column that is neither a unit nor a flow): where set, the neighbourhood search
        # frees only these, so that its sub-models stay small.
        self.support: np.ndarray | None = None
        # The whole LP of `full` where a method solved it: (built, x, row duals).
        self.lp_solution: tuple[Built, np.ndarray, np.ndarray] | None = None
        # What to stop when the search ends (an LP race started early whose method never
        # waited for it, say): see `close`.
        self.closers: list[Callable[[], None]] = []
        # (request, step, workshop) triples a relaxation used, where `full` was not built:
        # the restricted model of solvers/restricted.py keeps them.
        self.hints: set[tuple[str, int, str]] = set()
        # What a method left running beside the search (the large path's one-period LP in
        # a child process): each call takes what has come (bound, hints, plans) and says
        # None while it waits, else whether the plans or hints changed (`take_arrivals`).
        self.arrivals: list[Callable[[], bool | None]] = []
        # Set by a search that stopped to have its restricted model built again.
        self.rebuild = False
        self.infeasible = False
        self.info: dict[str, Any] = {}
        self.events: list[str] = []

    def take_arrivals(self) -> bool:
        """Take what has come from beside the search (`arrivals`); True when the plans or
        the hints changed, so that a search on a restricted model builds it again."""
        changed = False
        for arrival in list(self.arrivals):
            got = arrival()
            if got is not None:
                self.arrivals.remove(arrival)
                changed = changed or got
        return changed

    def close(self) -> None:
        """Stop what still runs beside the search (child processes of an LP race)."""
        while self.closers:
            self.closers.pop()()

    # -- the clock ----------------------------------------------------------------------
    def now(self) -> float:
        return time.perf_counter()

    def left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.perf_counter()

    def stopped(self) -> bool:
        """Out of time, stopped from outside, or proven optimal."""
        stop = self.options.stop
        return (stop is not None and stop.is_set()) or self.left() <= 0 or self.proven()

    def interrupted(self) -> bool:
        stop = self.options.stop
        return stop is not None and stop.is_set()

    def share(self, fraction: float, reserve: float = 0.0) -> float | None:
        """A deadline `fraction` of the time left from now (after `reserve` seconds kept
        for the phases after), or None without a limit."""
        if self.deadline is None:
            return None
        now = time.perf_counter()
        return now + max(0.0, fraction * (self.deadline - now - reserve))

    # -- incumbent and bound ------------------------------------------------------------
    @property
    def best(self) -> Candidate | None:
        return self.pool[0] if self.pool else None

    @property
    def upper(self) -> float | None:
        return self.pool[0].cost if self.pool else None

    def offer(self, source: str, built: Built, raw: Raw, cost: float | None = None,
              vector: np.ndarray | None = None) -> bool:
        """Keep a plan if it meets the policies; True if it is the new incumbent. A tie
        goes to the later plan (the exact engine's after the constructive one's)."""
        if raw.status in ("infeasible", "no_solution") and not raw.x and not raw.z and (
                not raw.u):
            if raw.status == "infeasible":
                self.infeasible = True
            return False
        if cost is None:
            cost = self._evaluate(self.sc, self.d, built, raw)
        if cost is None:
            return False
        cand = Candidate(cost, source, built, raw, vector)
        best = self.upper
        new = best is None or cost <= best + 1e-9 * max(1.0, abs(best))
        if new:
            self.pool.insert(0, cand)
        else:
            self.pool.append(cand)
            self.pool.sort(key=lambda c: c.cost)
        del self.pool[KEEP + 1:]
        if new:
            self.events.append(f"{time.perf_counter() - self.started:.2f}s {source} {cost:.6g}")
            self.emit("plan")
        return new

    def raise_bound(self, value: float | None, source: str) -> None:
        if value is not None and math.isfinite(value) and value > self.bound:
            self.bound, self.bound_from = value, source
            self.emit("bound")

    def proven(self) -> bool:
        up = self.upper
        return up is not None and math.isfinite(self.bound) and (
            up - self.bound <= OPTIMAL_GAP * max(1.0, abs(up)))

    def emit(self, phase: str) -> None:
        self.report(phase)

    def report(self, phase: str, incumbent: float | None = None,
               bound: float | None = None) -> None:
        """A progress event of a method (with its own incumbent or bound, if any), merged
        with the search's state (`_send`)."""
        if self._progress is not None:
            self._send(ProgressEvent(phase, time.perf_counter() - self.started, incumbent,
                                     bound))

    def _send(self, event: ProgressEvent) -> None:
        """`event` (the search's own, or a method's) with the best incumbent and bound
        known or shown so far: the stream's incumbents never rise and its bounds never
        fall. The engine on the whole model reports its own incumbent, which may be worse
        than the constructive plan the search holds (the default scenario at 3 s showed
        405,243,100,000 after a plan of 8,949,325,850), and a method's bound may be below
        one proven before it."""
        assert self._progress is not None
        inc = _least(event.incumbent, self.upper, self._shown[0])
        bd = _most(event.bound, self.bound if math.isfinite(self.bound) else None,
                   self._shown[1])
        self._shown = (inc, bd)
        self._progress(replace(event, incumbent=inc, bound=bd))


def _least(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _most(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


class SearchMethod(Protocol):
    """What a method may do for the loop; each call may offer plans and bounds to the
    search directly, and returns when done or at its deadline."""

    name: str

    def construct(self, search: Search) -> None: ...

    def improve(self, search: Search, deadline: float | None) -> None: ...

    def bound(self, search: Search, deadline: float | None) -> None: ...


def provide_bounds(search: Search, providers: Sequence[tuple[str, BoundProvider]],
                   deadline: float | None) -> None:
    """Run each bound provider in turn, each with an equal share of the time up to
    `deadline` (a few seconds when the solve has no limit), and keep the best."""
    for i, (name, provider) in enumerate(providers):
        # The first provider (the unit bound, milliseconds) runs even past the deadline,
        # as the first plan does: on a busy machine a 1 s limit on generated medium was
        # gone before the constructive plan was, and the plan came without any bound.
        if search.stopped() and (i > 0 or search.interrupted() or search.proven()):
            return
        if deadline is None:
            until = time.perf_counter() + 5.0
        else:
            now = time.perf_counter()
            until = now + max(0.0, deadline - now) / (len(providers) - i)
        search.raise_bound(provider(search.sc, search.d, until, search.upper), name)


@dataclass
class Phase:
    """One method's improve step, with the share of the time left it may use (the last
    phase gets all of it)."""

    method: SearchMethod
    share: float = 1.0


def run(search: Search, methods: Sequence[SearchMethod], phases: Sequence[Phase],
        providers: Sequence[tuple[str, BoundProvider]], bound_share: float = 0.1,
        reserve: float = 0.0) -> None:
    """The loop: every method constructs, the bound providers run, every method adds its
    bound, then the phases improve in order, each until its share of the time left (the
    last until the deadline less `reserve`, kept for writing the plan), all of it
    stopping as soon as the plan is proven optimal or the search is stopped."""
    # With `constructive_last` a fallback method's plans are made only where the others
    # leave no proven-optimal plan (a quote, whose engine proves most plans optimal).
    fallbacks = [m for m in methods
                 if search.options.constructive_last and getattr(m, "fallback", False)]
    _construct(search, [m for m in methods if m not in fallbacks])
    search.info["first_plan_seconds"] = time.perf_counter() - search.started
    provide_bounds(search, providers, search.share(bound_share, reserve))
    for m in methods:
        if search.stopped():
            break
        m.bound(search, search.share(bound_share, reserve))
    for i, ph in enumerate(phases):
        # A method that makes its first plans in its improve step (`makes_plans`: the
        # LP-guided method on the large path) runs even past the deadline where there is
        # no plan yet, as a first constructive plan is made (`_construct`): a 1,000 x
        # 1,000 facility location whose file took 9.5 s to read under a 10 s limit had
        # come back without any plan.
        makes_plans = getattr(ph.method, "makes_plans", None)
        late_first = (i == 0 and search.best is None and not search.interrupted()
                      and makes_plans is not None and makes_plans(search))
        if search.infeasible or (search.stopped() and not late_first):
            break
        # Where every later phase improves a plan and there is none yet, this phase has
        # all the time: on a small alt-generator instance whose constructive plan missed
        # the policies, the MIP stopped at its half of a 10 s limit without a plan, and
        # the solve returned at 6.9 s with none.
        last = i == len(phases) - 1 or (search.best is None and all(
            getattr(later.method, "needs_incumbent", False) for later in phases[i + 1:]))
        until = search.share(1.0 if last else ph.share, reserve)
        ph.method.improve(search, until)
    if fallbacks and not search.proven() and not search.infeasible:
        _construct(search, fallbacks)


def _construct(search: Search, methods: Sequence[SearchMethod]) -> None:
    for m in methods:
        # The first constructive plan is made even past the deadline: a late plan is
        # better than none, and it takes well under a second below national size.
        if search.interrupted() or (search.best is not None and search.left() <= 0):
            break
        m.construct(search)
