"""The methods of the search loop (solvers/search.py) and the bound providers built in.

- `Constructive` (solvers/constructive.py): the constructive plans of solvers/greedy.py
  (one per request order while they take under 5% of the limit).
- `ExactMip`: the whole model on the MIP engine; its bound is the engine's.
- `LpGuided`: the LP-guided method of solvers/lp_guided.py (LP bound, guided constructive
  plans, the MIP on the columns the LP used); at large sizes it is the whole search.
- `Lns` (solvers/lns.py): large-neighbourhood search on the whole model.
"""

from __future__ import annotations

import math
import time

import solvers.lp_guided as lp_guided
import solvers.model as model
from models.derived import Derived
from models.scenario import Scenario
from solvers.constraints import build
from solvers.lagrange import lagrangian_path_bound
from solvers.lp_guided import bottleneck_bound, solve_lp_guided, start_race
from solvers.lp_race import LpRace
from solvers.mip import solve_model
from solvers.model import Built
from solvers.options import Engine, Formulation
from solvers.search import Search

# HiGHS does not look at its clock during a round of the root node's cutting planes: on the
# built-in default scenario a 0.63 s limit on the whole model returned after 1.23 s, at the
# end of the root, about three times the whole LP's 0.42 s after the start (a 0.4 s limit
# stopped at 0.46 s, before the cuts). Under a limit, where less than this many LP times are
# left of the solve, the call would end past the solve's deadline: the whole model's MIP is
# not started, and the neighbourhood search after it has the time (its sub-models are small).
ROOT_LP_TIMES = 4.0


def unit_bound_provider(sc: Scenario, d: Derived, deadline: float, upper: float | None
                        ) -> float:
    """Every unit at its cheapest, capacity ignored (solvers/lp_guided.py `unit_bound`),
    raised by what capacity bottlenecks send away (`bottleneck_bound`)."""
    return bottleneck_bound(sc, d)


def lagrangian_provider(sc: Scenario, d: Derived, deadline: float, upper: float | None
                        ) -> float:
    """The Lagrangian path bound of solvers/lagrange.py, until `deadline`."""
    if time.perf_counter() >= deadline:
        return -math.inf
    return lagrangian_path_bound(sc, d, upper, deadline).bound


class ExactMip:
    name = "exact"

    def construct(self, search: Search) -> None:
        return None

    def bound(self, search: Search, deadline: float | None) -> None:
        return None

    def improve(self, search: Search, deadline: float | None) -> None:
        sc, d, options = search.sc, search.d, search.options
        # Built already where the LP's support was searched first (solvers/support.py).
        b = search.full if search.full is not None else build(
            sc, d, direct=options.formulation is Formulation.DIRECT)
        search.full = b
        search.info["model"] = {"variables": b.model.num_vars,
                                "constraints": b.model.num_rows}
        if deadline is not None and time.perf_counter() >= deadline:
            return
        lp_seconds = search.info.get("support_mip", {}).get("lp_seconds")
        left = search.left()
        if (options.engine is Engine.HIGHS and lp_seconds is not None
                and left < ROOT_LP_TIMES * lp_seconds):
            search.info["exact_skipped"] = f"{left:.2f} s left, the LP took {lp_seconds} s"
            return
        raw = solve_model(b, options, search.started, deadline)
        search.info["mip_status"] = raw.status
        if raw.status == "infeasible":
            search.infeasible = True
            return
        search.raise_bound(raw.bound, "mip")
        if raw.solver_objective is not None:
            search.offer("mip", b, raw)


class LpGuided:
    name = "lp-guided"

    def __init__(self, unit_columns: int) -> None:
        self.unit_columns = unit_columns
        self.race: tuple[Built, LpRace | None] | None = None
        # Whether the one-period LP, solved while the race ran, raised the bound.
        self.one_period_bound = False

    def makes_plans(self, search: Search) -> bool:
        """Whether its improve step makes its own first plans: on the large path, where
        `construct` makes none (`search.run` lets it run past the deadline then)."""
        return self.unit_columns > model.whole_lp_columns(search.sc, search.options.time_limit)

    def construct(self, search: Search) -> None:
        # The whole LP's race starts here, so that the bounds run beside it.
        if not self.makes_plans(search):
            self.race = start_race(search)
            self.one_period_bound = lp_guided.early_one_period(search)

    def bound(self, search: Search, deadline: float | None) -> None:
        """Under a limit, below the large size: the Lagrangian path bound, the bound where
        the whole LP is not solved in its share (a busy machine), 4.3% below the LP on
        generated medium seed 2; not where the one-period LP gave a bound, which was
        above it wherever both were measured (8 s of ascent against the LP; generated
        medium s1 3.4293e10 / 3.4304e10, fixed-cost s1 3.5560e10 / 3.5690e10, s2
        3.8893e10 / 3.9337e10, alt medium s1 3.6640e10 / 3.8970e10): its time in this
        process would only slow the whole LP's race beside it."""
        if (search.deadline is None or deadline is None
                or self.unit_columns > model.whole_lp_columns(search.sc,
                                                              search.options.time_limit)
                or self.one_period_bound or self._lp_in_process()):
            return
        search.raise_bound(lagrangian_provider(search.sc, search.d, deadline, search.upper),
                           "lagrangian paths")

    def _lp_in_process(self) -> bool:
        """Whether the whole LP is not raced but solved in this process as the method
        begins (`lp_guided.raced`, the rule `start_race` and `lp_bound` follow: under
        RACE_MIN_COLUMNS columns, or few rows for its columns, where dual simplex alone is
        quick). The Lagrangian path bound before
        it would only delay it: on the facility location capb (102,100 columns, an LP of
        0.55 s) it took its 10% of a 120 s limit, 12 s, for a bound below the LP's, and
        the engagement moves began at 18 s (the plan 0.86-1.22% above the optimum at
        120 s)."""
        return self.race is not None and not lp_guided.raced(self.race[0].model)

    def improve(self, search: Search, deadline: float | None) -> None:
        race, self.race = self.race, None
        b, raw = solve_lp_guided(search, deadline, self.unit_columns, race)
        search.info.update(raw.extra)
        if raw.status == "infeasible":
            search.infeasible = True
            return
        search.raise_bound(raw.bound, str(raw.extra.get("bound_from", "lp")))
        # A constructive plan of the method was offered when it was found: pricing it
        # again took 3 s of a 20 s limit at 100,000 requests.
        if raw.solver_objective is not None and all(c.raw is not raw for c in search.pool):
            search.offer(str(raw.extra.get("plan", "lp-guided")), b, raw)
