"""The constructive method of the search loop (solvers/search.py): the plans of
solvers/greedy.py, one per request order and variant while they take under 5% of the limit.

It loads no engine: solvers/pipeline.py makes its first plan before OR-Tools is imported
(0.3-0.5 s of a process's first solve), as a plan at once is what a limit of a few seconds
needs most.
"""

from __future__ import annotations

import time

from solvers.greedy import (
    FIT_LADDER,
    ORDERS,
    binds_local_content,
    greedy_plan,
    greedy_variants,
)
from solvers.search import Search

# The constructive plans may take this share of the limit (the first one always runs).
CONSTRUCT_SHARE = 0.05
# ... or this many seconds, whichever is more (each order takes 0.07 s on the default).
CONSTRUCT_MIN = 0.3
# The plans with the hours priced, where the first plan left units unmet, may go on to
# this share of the limit or this many seconds: the plan with every unit placed is what
# a short limit writes (gap-large e15900 at 2 s: 124 of 900 jobs unmet when they stopped
# at 0.3 s, one step short of the plan that places all).
FIT_SHARE, FIT_MIN = 0.1, 0.5


class Constructive:
    name = "constructive"
    # Its plans are the fallback: with `SolveOptions.constructive_last` they are made only
    # where the other methods leave no proven-optimal plan (solvers/search.py `run`).
    fallback = True

    def __init__(self) -> None:
        # Made once: solvers/pipeline.py may construct before the loop does.
        self.made = False

    def construct(self, search: Search) -> None:
        if self.made:
            return
        self.made = True
        sc, d = search.sc, search.d
        limit = None if search.deadline is None else search.deadline - search.started
        # Counted from here, not from the solve's start: loading and derived data took
        # the whole 5% of a 3 s limit on the default scenario, and with it the two request
        # orders that give its best constructive plan (8.7% from the optimum, not 10.0%).
        t0 = time.perf_counter()
        # A given count bounds the plans, fee-blind variants included: a quote asks for one
        # (its one request has one order; the second plan was 4 of its 45 ms of CPU).
        orders = search.options.constructive_orders
        binds = False
        i = 0
        for order_by, fees, priced in greedy_variants(sc, ORDERS):
            if priced and not binds:
                continue
            if orders is not None and i >= orders:
                break
            if i > 0 and _spent(search, t0, limit):
                break
            # The first order may use the time left less 5% of the limit; past its
            # deadline the requests not yet placed are imported or left unmet.
            until = None
            if search.deadline is not None and limit is not None:
                until = search.deadline - 0.05 * limit if i == 0 else min(
                    search.deadline, t0 + max(CONSTRUCT_SHARE * limit, CONSTRUCT_MIN))
            b, raw = greedy_plan(sc, d, order_by=order_by, deadline=until, fees=fees,
                                 priced=priced)
            binds = binds or binds_local_content(raw)
            search.offer("constructive", b, raw)
            i += 1
            if i == 1 and orders is None and sum(raw.u.values()) > 0:
                # The first plan left units unmet: the plans with the hours priced come
                # before the other orders, which rank the same way and leave as many (on
                # gap-large e15900 the other orders took the 0.3 s the method has under
                # a 2 s limit, and the command wrote a plan with 668 of 900 jobs unmet).
                self._fitted(search, t0, limit)

    def _fitted(self, search: Search, t0: float, limit: float | None) -> None:
        """Workshops ranked with their hours priced, the price raised in turn until a plan
        leaves no unit unmet (`greedy.hour_prices`)."""
        for fit in FIT_LADDER:
            if _spent(search, t0, limit, FIT_SHARE, FIT_MIN):
                break
            until = None if limit is None or search.deadline is None else min(
                search.deadline, t0 + max(FIT_SHARE * limit, FIT_MIN))
            b, raw = greedy_plan(search.sc, search.d, order_by=ORDERS[0], deadline=until,
                                 fees=True, fit=fit)
            search.offer("constructive/fitted", b, raw)
            if not sum(raw.u.values()):
                break

    def improve(self, search: Search, deadline: float | None) -> None:
        return None

    def bound(self, search: Search, deadline: float | None) -> None:
        return None


def _spent(search: Search, t0: float, limit: float | None, share: float = CONSTRUCT_SHARE,
           least: float = CONSTRUCT_MIN) -> bool:
    """Whether the method's time (from `t0`: `share` of the limit, at least `least`
    seconds) is spent, or the search interrupted."""
    return search.interrupted() or (limit is not None and (
        time.perf_counter() - t0 > max(share * limit, least) or search.left() <= 0))
