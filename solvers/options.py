"""Options every solver back-end accepts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.plan import Plan


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
        }
