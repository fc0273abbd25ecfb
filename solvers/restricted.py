"""The neighbourhood search where the whole model is too large to build.

Above `solvers.model.FULL_LP_MAX_COLUMNS` unit columns (generated large: 3.0 M, the
alt generator's large: 4.3 M) the LP-guided method works on relaxations and constructive
plans only, and nothing improved its plan afterwards: on generated large seed 1 it had
its last plan at 3 s of a 60 s limit and the solve returned at 42 s; on the alt
generator's large seed 1, at 50 s. This method builds the SPEC model restricted to the
(request, step, workshop) triples worth having:

- those of every plan the search holds (so the incumbent is a point of the model),
- those the relaxations used (`Search.hints`: the one-period LP's support),
- each (request, step)'s `CHEAPEST` cheapest eligible workshops by unit cost,

with every period of each triple's window, and runs the neighbourhood search of
solvers/lns.py on it. Its plans are plans of the scenario (the restriction only fixes
other unit columns at 0, `models.derived.Derived.restricted`), so every constraint of SPEC
sections 5 and 8 holds by construction; its bounds say nothing of the whole model and are
not raised.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

from solvers.constraints import build
from solvers.greedy import CapacityState
from solvers.lns import Lns
from solvers.model import step_window
from solvers.search import Search

# Requests the search frees at first: a tenth of generated large's 2,000 hit the 3 s limit
# of a 60 s solve four times in a row without a better plan.
START_SIZE = 20
# Cheapest workshops of every (request, step) in the model, besides the plans' and hints'.
CHEAPEST = 3
# Unit columns of the restricted model at most (about 1 s to build per 100,000 on the
# development machine, and the search's own tables in proportion; the build must also fit
# in the time left, below); fewer cheapest workshops first, then none, then without the
# relaxations' triples, then no search.
MAX_COLUMNS = 1_200_000
# Seconds the build takes per unit column (generated large, 251,475: 2.5 s): the time left
# must be at least twice that, and a few seconds more for the search.
SECONDS_PER_COLUMN = 1e-5


class RestrictedLns:
    """The `improve` method of the search loop (solvers/search.py) for large models."""

    name = "lns (restricted)"
    needs_incumbent = True

    def construct(self, search: Search) -> None:
        return None

    def bound(self, search: Search, deadline: float | None) -> None:
        return None

    def improve(self, search: Search, deadline: float | None) -> None:
        if deadline is None or search.best is None or search.stopped():
            return
        info = search.info.setdefault("restricted", {})
        while not search.stopped():
            if search.full is None:
                t0 = time.perf_counter()
                keep, columns = triples(search)
                left = deadline - t0
                if columns > MAX_COLUMNS or left < 2 * SECONDS_PER_COLUMN * columns + 3.0:
                    info["skipped"] = (f"{columns:,} unit columns do not fit in "
                                       f"{max(0.0, left):.1f} s")
                    return
                search.full = build(search.sc, search.d.restricted(keep))
                info.update(unit_columns=len(search.full.x),
                            columns=search.full.model.num_vars,
                            build_seconds=time.perf_counter() - t0)
            # Without an LP of its own: the restricted model's LP is no bound, and where its
            # size let the search try it, it was not solved (alt generator's large seed 1 at
            # 600 s: 259,251 columns, no solution in its 29.5 s, the first sub-model at 64 s
            # of the search's start; generated large fixed-cost seed 1: 856,594 columns, not
            # solved in 120 s by either algorithm).
            search.rebuild = False
            Lns(size=START_SIZE, own_lp=False, whole=False).improve(search, deadline)
            if not search.rebuild:
                return
            # The one-period LP solved beside the search (solvers/lp_guided.py) brought
            # its triples and the plans it guides, which the model may not hold: built
            # again with them.
            search.full = None
            info["rebuilt"] = int(info.get("rebuilt", 0)) + 1


def triples(search: Search) -> tuple[dict[tuple[str, int], set[str]], int]:
    """The workshops to keep for every (request, step), and the unit columns they make
    (periods of each step's window), with as many cheapest workshops (CHEAPEST down to 0)
    as fit in MAX_COLUMNS."""
    sc, d = search.sc, search.d
    in_plans = [(rid, s, wid) for cand in search.pool for (rid, s, wid, _t) in cand.raw.x]
    plans = _workshops(in_plans)
    hinted = _workshops([*in_plans, *search.hints])
    # The incumbent's own triples, the least a search from it needs.
    incumbent = _workshops((rid, s, wid) for (rid, s, wid, _t) in (
        search.best.raw.x if search.best is not None else ()))
    ranking = CapacityState(sc, d)
    width: dict[tuple[str, int], int] = {}
    for r in sc.requests:
        n = len(sc.component(r.component).routing)
        for s in range(n):
            width[(r.id, s)] = len(step_window(sc, r, s, n))
    # Each (request, step)'s cheapest workshops, ranked once for every try below.
    cheapest: dict[tuple[str, int], list[str]] = {}
    keep: dict[tuple[str, int], set[str]] = {}
    columns = 0
    # With the relaxations' triples first; where even those do not fit (generated
    # national: 21.2 M unit columns with the grouped LP's support spread over its
    # members, and the search stood aside after 100 s of a 600 s limit), the plans'
    # own (1.7 M there), then the incumbent's (83,319 triples, about 1 M columns), each
    # with the cheapest workshops that fit.
    for base in (hinted, plans, incumbent):
        for k in range(CHEAPEST, -1, -1):
            keep = {key: set(ws) for key, ws in base.items()}
            if k:
                if not cheapest:
                    cheapest = {(r.id, s): [w for _c, w in ranking.ranked(r, s)[:CHEAPEST]]
                                for r in sc.requests
                                for s in range(len(sc.component(r.component).routing))}
                for key, ws in cheapest.items():
                    keep.setdefault(key, set()).update(ws[:k])
            columns = sum(len(ws) * width[key] for key, ws in keep.items())
            if columns <= MAX_COLUMNS:
                return keep, columns
    return keep, columns


def _workshops(triples: Iterable[tuple[str, int, str]]) -> dict[tuple[str, int], set[str]]:
    """The workshops of each (request, step) among `triples`."""
    out: dict[tuple[str, int], set[str]] = defaultdict(set)
    for rid, s, wid in triples:
        out[(rid, s)].add(wid)
    return out
