"""Options every solver back-end accepts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from models.scenario import MAX_SEED

if TYPE_CHECKING:
    from models.derived import Derived
    from models.plan import Plan
    from models.scenario import Scenario

# A bound provider: f(scenario, derived, deadline, upper) -> a proven lower bound of the
# SPEC model's optimum, or -inf. `deadline` is a time.perf_counter() value it must return
# by; `upper` the cost of the best plan found so far (for Polyak-type steps), or None.
BoundProvider = Callable[["Scenario", "Derived", float, "float | None"], float]


class Engine(StrEnum):
    """MIP engines reachable through OR-Tools MathOpt (see docs/solver.md for the choice)."""

    HIGHS = "highs"
    SCIP = "scip"


class Formulation(StrEnum):
    """`reduced`: the SPEC model with exact reductions and strong links (docs/solver.md);
    `direct`: the SPEC model as written, the baseline that benchmarks compare against."""

    REDUCED = "reduced"
    DIRECT = "direct"


class Method(StrEnum):
    """`exact`: the whole model goes to the MIP engine; `lp-guided`: an LP bound by column
    generation, then the MIP engine on the columns the LP used (solvers/lp_guided.py); `auto`:
    lp-guided for large models under a time limit, exact otherwise (docs/solver.md)."""

    AUTO = "auto"
    EXACT = "exact"
    LP_GUIDED = "lp-guided"


class StopFlag:
    """Set from outside (a SIGINT handler, a service cancelling a job) to ask a running
    solve to stop searching and return the best plan it has, with its bound."""

    def __init__(self) -> None:
        self._event = threading.Event()
        # Set by a running solve: the plan of its incumbent at the moment of the call.
        self.snapshot: Callable[[], Plan] | None = None
        self._lock = threading.Lock()
        self._writer: str | None = None

    def claim(self, who: str) -> bool:
        """Whether `who` is the one to write the plan: the search once it ends, or whoever
        takes the snapshot because it did not come back in time, whichever asks first.
        Both at once would write the same rows twice on one interpreter (at 100,000
        requests the snapshot of a search already writing its plan doubled the time)."""
        with self._lock:
            if self._writer is None:
                self._writer = who
            return self._writer == who

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class ProgressEvent:
    phase: str  # "build", "plan", "bound", "lp", "search", "done"
    elapsed: float
    incumbent: float | None = None
    bound: float | None = None

    @property
    def gap(self) -> float | None:
        if self.incumbent is None or self.bound is None:
            return None
        return max(0.0, (self.incumbent - self.bound) / max(abs(self.incumbent), 1e-9))


@dataclass(frozen=True)
class SolveOptions:
    """How to solve. `time_limit=None` solves to proven optimality."""

    time_limit: float | None = None
    seed: int = 0
    threads: int = 1
    engine: Engine = Engine.HIGHS
    formulation: Formulation = Formulation.REDUCED
    method: Method = Method.AUTO
    # Relative gap at which the search may stop: half the 1e-6 at which a plan counts as
    # proven optimal, so that published optima are reproduced to 1e-6 with a margin for
    # the engine's own tolerances. (1e-7 cost the default scenario twice the time.)
    gap: float = 5e-7
    progress: Callable[[ProgressEvent], None] | None = field(default=None, compare=False)
    # Also price capacity and stock: dual values of the LP with the plan's discrete choices
    # fixed (see solvers/sensitivity.py), returned in `Plan.sensitivity`.
    duals: bool = False
    # Price this plan instead of solving: its discrete choices are fixed, nothing is searched.
    fixed_plan: Plan | None = field(default=None, compare=False)
    # The time.perf_counter() at which the time limit started counting: the CLI sets it when
    # the command starts, so that loading, validation and derived data count too. None:
    # when `solvers.solve` is called (before it loads the pipeline).
    started: float | None = field(default=None, compare=False)
    # Ask the search to stop early (see StopFlag); the best plan so far is returned.
    stop: StopFlag | None = field(default=None, compare=False)
    # More lower bounds of the SPEC model to take the best of (see BoundProvider).
    bound_providers: tuple[BoundProvider, ...] = field(default=(), compare=False)
    # Repair with minimal change (solvers/repair.py): units booked per (request, step,
    # workshop, period), each unit not kept there costing `change_penalty` on top of the
    # SPEC cost. Solved by the exact model; the plan's cost stays the SPEC cost.
    keep: Mapping[tuple[str, int, str, int], int] | None = field(default=None, compare=False)
    change_penalty: float = 0.0
    # The engine's presolve, cutting planes and primal heuristics. Off pays on the small
    # models of a one-request quote: SCIP on the 88 quote models of a generated medium
    # registry took 30 ms on average (the slowest 446 ms) with them, 10-12 ms (the slowest
    # 67-94 ms) without; the constructive plan is there as the incumbent anyway. Leave
    # them on for whole markets.
    presolve: bool = True
    cuts: bool = True
    heuristics: bool = True
    # Under a time limit, what the engine leaves of its half goes to the neighbourhood
    # search (solvers/lns.py). False: the engine has the whole limit, for models it proves
    # optimal well within it (a quote's), where the split only cut the proof short.
    neighbourhood: bool = True
    # How many constructive plans to try (solvers/greedy.py `greedy_variants`: each request
    # order with fees counted, then fee-blind); None: as many as 5% of the limit allows.
    # A quote needs one, the incumbent should the engine run out of time (three took 20 ms
    # of a 129 ms quote under the profiler).
    constructive_orders: int | None = None
    # SCIP only: branch on inference history first. On the small MIPs of a one-request
    # quote, where `max_suppliers_per_step` binds, SCIP's default (reliability pseudo-cost)
    # branching spends its time in strong-branching LPs that pay only on large models:
    # over 100 quotes of each of two generated medium ledgers (CPU, least of three runs),
    # 34 / 53 -> 26 / 36 ms a quote on average, the slowest 383 / 1,134 -> 142 / 420 ms,
    # the same costs and earliest periods, one completion period of 200 another of the
    # same cost (docs/service.md). Bound propagation off as well halved most quotes again
    # but took one from 134 ms to 1.5 s.
    inference_branching: bool = False
    # Solve the LP relaxation first (GLOP) and, where every integer column comes back
    # integral, take its solution as the MIP's optimum without starting the MIP engine.
    # On a one-request quote the relaxation is integral for most requests (60 of the 83
    # cheapest-plan models of the service bench's ledger): 4.8 ms of GLOP against 11.4 ms
    # of SCIP on those, 4.8 ms lost on the others (docs/service.md).
    lp_first: bool = False
    # Make the constructive plan only where the engine leaves no proven-optimal plan,
    # not before it: a quote's engine proves almost every plan optimal within its limit,
    # and the constructive plan, with its evaluation and check, was about 3 of a quote's
    # 23 ms of CPU (docs/service.md).
    constructive_last: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed {self.seed} outside 0 .. {MAX_SEED}: the engines take "
                             "a 32-bit seed")

    def describe(self) -> dict[str, Any]:
        """The options that shape the plan, as recorded in the plan file."""
        return {
            "engine": self.engine.value,
            "formulation": self.formulation.value,
            "method": self.method.value,
            "time_limit": self.time_limit,
            "seed": self.seed,
            "threads": self.threads,
            "gap": self.gap,
            # Only when changed, so that descriptions recorded before read the same.
            **{k: False for k in ("presolve", "cuts", "heuristics", "neighbourhood")
               if not getattr(self, k)},
            **({} if self.constructive_orders is None
               else {"constructive_orders": self.constructive_orders}),
            **({"inference_branching": True} if self.inference_branching else {}),
            **({"lp_first": True} if self.lp_first else {}),
            **({"constructive_last": True} if self.constructive_last else {}),
        }

    @classmethod
    def from_description(cls, desc: dict[str, Any], **more: Any) -> SolveOptions:
        """The options `describe` recorded (how a portfolio passes them to its children
        whole), with `more` on top."""
        fields: dict[str, Any] = {
            "time_limit": desc["time_limit"], "seed": desc["seed"], "threads": desc["threads"],
            "engine": Engine(desc["engine"]), "formulation": Formulation(desc["formulation"]),
            "method": Method(desc["method"]), "gap": desc["gap"],
            **{k: bool(desc[k]) for k in ("presolve", "cuts", "heuristics", "neighbourhood",
                                          "inference_branching", "lp_first",
                                          "constructive_last")
               if k in desc},
            **({"constructive_orders": desc["constructive_orders"]}
               if "constructive_orders" in desc else {})}
        return cls(**{**fields, **more})
