"""What every model of SPEC sections 4 to 6 is made of: the built model with the maps from
its columns back to SPEC decisions (`Built`), a solver's answer in SPEC terms (`Raw`), and
the small rules shared by the model, the constructive plan and the explanations (step
windows, delivery distance, eligibility of a final step)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.derived import Derived
from models.scenario import Request, Scenario
from solvers.lpmodel import ArrayModel

# Models with more unit columns x than this are written compactly. Per-period links
# (x[r,s,w,t] <= bound_t * y) tighten the LP a little, but on the generated medium instance
# they moved the root bound by 1e-5 while the LP took 25 s instead of 15; and precedence
# goes through cumulative columns. On small models both choices cost search time instead
# (the default scenario took 47-108 s instead of 13-24 s with cumulative columns).
COMPACT_ABOVE_X = 20_000
# Up to this many columns the LP-guided method solves the LP whole, in one round: pricing
# pays off only where the whole LP would not fit in the time given. Read at each use
# (`model.FULL_LP_MAX_COLUMNS`), here beside the model rather than in solvers/lp_guided.py,
# so that solvers/pipeline.py reads it before the engines load.
FULL_LP_MAX_COLUMNS = 500_000
# ... and this many times as many where every component is one step and the horizon one
# period (facility location, assignment): the LP's rows are then only the requests' and
# the capacities', and dual simplex solves it whole (a facility location of 1,000 sites x
# 1,000 customers, 1.0 M columns: 10.6 s), where the large path, which never builds the
# whole model, left its plan 44.9% above its bound at 120 s (6.9% whole).
FLAT_LP_FACTOR = 4
# ... where the time limit gives at least this many seconds per unit column: building that
# model and its LP took 20 s and 10.6 s, and at a 30 s limit the large path's plan was no
# worse (325,200 against 337,136; both far from the bound).
FLAT_SECONDS_PER_COLUMN = 1e-4


def whole_lp_columns(scenario: Scenario, time_limit: float | None) -> int:
    """The most unit columns for which the LP-guided method builds the whole model and
    solves its LP whole (`FULL_LP_MAX_COLUMNS`, `FLAT_LP_FACTOR`,
    `FLAT_SECONDS_PER_COLUMN`)."""
    flat = scenario.horizon.periods == 1 and all(
        len(c.routing) == 1 for c in scenario.components)
    if not flat:
        return FULL_LP_MAX_COLUMNS
    most = FULL_LP_MAX_COLUMNS * FLAT_LP_FACTOR
    if time_limit is not None:
        most = min(most, max(FULL_LP_MAX_COLUMNS, int(time_limit / FLAT_SECONDS_PER_COLUMN)))
    return most


@dataclass
class Built:
    """The model and the maps from its columns and rows back to SPEC decisions."""

    model: ArrayModel
    x: dict[tuple[str, int, str, int], int] = field(default_factory=dict)
    G: dict[tuple[str, int, str, str], int] = field(default_factory=dict)
    M: dict[tuple[str, str, str], int] = field(default_factory=dict)  # center, location, mat
    z: dict[str, int] = field(default_factory=dict)
    u: dict[str, int] = field(default_factory=dict)
    # Requests whose consecutive steps are linked by totals only: transport between them is
    # free and every pair of their locations has a path, so flows are rebuilt afterwards.
    free_flow: set[tuple[str, int]] = field(default_factory=set)
    # Rows whose dual values price capacity and stock, and the binaries of the discrete
    # choices (engagement, tooling, sourcing), keyed as the plan would name them.
    cap_rows: dict[tuple[str, str, int], int] = field(default_factory=dict)
    stock_rows: dict[tuple[str, str], int] = field(default_factory=dict)
    eng: dict[str, int] = field(default_factory=dict)
    tool: dict[tuple[str, str, int], int] = field(default_factory=dict)
    src: dict[tuple[str, int, str], int] = field(default_factory=dict)
    # "Makes any unit at home" of the requests with a sourcing floor (SPEC 8.3).
    home: dict[str, int] = field(default_factory=dict)
    # The domestic units of SPEC 5.8 as one column, where the spread or a regional share
    # needs it (SPEC 8.4, 8.5).
    domestic: int | None = None
    # Cumulative units of (request, step) by period, in a compact model's precedence rows.
    cum: dict[tuple[str, int, int], int] = field(default_factory=dict)
    # The node each workshop's flows and materials are aggregated at: its location, or
    # the workshop itself in the direct formulation; and the location of every node.
    node_of: dict[str, str] = field(default_factory=dict)
    node_loc: dict[str, str] = field(default_factory=dict)
    # The component of every request.
    component_of: dict[str, str] = field(default_factory=dict)


@dataclass
class Raw:
    """A solver's answer in SPEC terms, before rows are written."""

    status: str
    bound: float | None
    solver_objective: float | None
    x: dict[tuple[str, int, str, int], int] = field(default_factory=dict)
    G: dict[tuple[str, int, str, str], int] = field(default_factory=dict)
    M: dict[tuple[str, str, str], float] = field(default_factory=dict)
    z: dict[str, int] = field(default_factory=dict)
    u: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def step_window(scenario: Scenario, r: Request, s: int, n_steps: int) -> range:
    lag = scenario.policy.step_lag_periods
    first = r.release + s * lag
    last = scenario.horizon.periods - 1 - (n_steps - 1 - s) * lag
    return range(first, last + 1)


def delivery_km(d: Derived, r: Request, workshop_loc: str) -> float | None:
    if r.destination is None:
        return 0.0
    return d.dist.km(workshop_loc, r.destination)


def final_eligible(d: Derived, r: Request, s: int, n_steps: int) -> list[str]:
    """Eligible workshops; for the final step, only those with a road to the destination
    (a unit that cannot be delivered is not delivered)."""
    ws = d.eligible[(r.id, s)]
    if s == n_steps - 1 and r.destination is not None:
        # Kept per (eligible list, destination): requests share their eligible lists
        # (models/derived.py), and 100,000 requests asked this half a million times. The
        # list is kept with its answer, so that its id is not reused for another one.
        cache = d.__dict__.setdefault("_final_eligible", {})
        key = (id(ws), r.destination)
        hit = cache.get(key)
        if hit is None or hit[0] is not ws:
            hit = cache[key] = (ws, [w for w in ws
                                     if delivery_km(d, r, d.location_of[w]) is not None])
        return hit[1]
    return ws


def eligible_counts(sc: Scenario, d: Derived) -> tuple[int, int]:
    """(request, step, eligible workshop) triples (the one-period relaxation's unit
    columns), and those times their step windows (the full model's at most)."""
    triples = columns = 0
    for r in sc.requests:
        n = len(sc.component(r.component).routing)
        for s in range(n):
            k = len(final_eligible(d, r, s, n))
            triples += k
            columns += k * len(step_window(sc, r, s, n))
    return triples, columns


def estimate_unit_columns(sc: Scenario, d: Derived) -> int:
    """How many unit columns x the full model has at most (eligible workshops times step
    windows), counted without building it."""
    return eligible_counts(sc, d)[1]
