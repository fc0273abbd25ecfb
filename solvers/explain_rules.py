"""Unmet reasons from the inclusive-supply rules (SPEC 8.2-8.5): a minimum lot no
workshop can fill, a sourcing floor with too few workshops, the spread that caps every
workshop with room, a regional share that one more unit elsewhere would break.

`structural` runs before capacity is looked at (the rule alone keeps every unit from
being made); `at_the_margin` after it (capacity is free somewhere, and the rule is what
keeps the next unit from using it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

from models.derived import Derived
from models.scenario import Request, Scenario
from solvers.model import final_eligible, step_window


def _names(ids: list[str], most: int = 4) -> str:
    shown = ", ".join(ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


class RuleContext:
    """What the plan makes, per (request, step, workshop) and at final steps, and the
    room left at every workshop, for the reasons below."""

    def __init__(self, sc: Scenario, d: Derived, x: Mapping[tuple[str, int, str, int], int],
                 hours_used: Mapping[tuple[str, str, int], float],
                 unmet: Mapping[str, int]) -> None:
        self.sc, self.d, self.unmet = sc, d, unmet
        self.hours_used = hours_used
        self.X: dict[tuple[str, int, str], int] = defaultdict(int)
        self.final_at: dict[str, int] = defaultdict(int)
        for (rid, s, wid, _t), q in x.items():
            self.X[(rid, s, wid)] += q
            if s == len(sc.component(sc.request(rid).component).routing) - 1:
                self.final_at[wid] += q
        self.domestic = sum(self.final_at.values())
        self.at_loc: dict[str, int] = defaultdict(int)
        for wid, q in self.final_at.items():
            self.at_loc[d.location_of[wid]] += q
        self._room: dict[tuple[str, int, int, str], float] = {}

    def room(self, r: Request, s: int, wid: str) -> float:
        """Whole units of step s of r that `wid` has hours left for in the step's window."""
        # It depends on the request only through its component and release: kept, since
        # 100,000 requests asked it 1.3 million times (18 of the 25 s of their reasons).
        key = (r.component, r.release, s, wid)
        hit = self._room.get(key)
        if hit is None:
            hit = self._room[key] = self._room_of(r, s, wid)
        return hit

    def _room_of(self, r: Request, s: int, wid: str) -> float:
        sc = self.sc
        comp = sc.component(r.component)
        w = sc.workshop(wid)
        h = self.d.step_info(w, comp.id, s).hours
        if h <= 0:
            return math.inf
        proc = comp.routing[s].process
        window = step_window(sc, r, s, len(comp.routing))
        return sum(max(0, math.floor((w.cap(proc, t) - self.hours_used.get((wid, proc, t), 0.0))
                                     / h + 1e-9)) for t in window)

    def lot(self, r: Request, s: int, wid: str) -> int:
        return self.d.step_info(self.sc.workshop(wid), r.component, s).min_lot

    def structural(self, r: Request) -> str | None:
        sc = self.sc
        comp = sc.component(r.component)
        n = len(comp.routing)
        k = sc.min_suppliers(r)
        for s, step in enumerate(comp.routing):
            elig = final_eligible(self.d, r, s, n)
            where = f"step {s} ({step.process})"
            lots = {w: self.lot(r, s, w) for w in elig}
            if elig and all(v > r.quantity for v in lots.values()):
                least = min(lots.values())
                if len(elig) == 1:
                    return (f"min_lot {least} at the only eligible workshop for {where} "
                            f"({elig[0]}), {r.quantity} units requested")
                return (f"min_lot of at least {least} at all {len(elig)} eligible workshops "
                        f"for {where}, {r.quantity} units requested")
            if k > 1 and len(elig) < k:
                return (f"min_suppliers_per_step {k}: {where} has only {len(elig)} eligible "
                        f"workshop(s) ({_names(elig)}), so none of it can be made at home")
            least = max(1, min(lots.values(), default=1))
            if k > 1 and k * least > r.quantity:
                lot = f" with min_lot {least}" if least > 1 else ""
                return (f"min_suppliers_per_step {k}{lot} at {where} needs at least "
                        f"{k * least} units, {r.quantity} requested")
        return None

    def at_the_margin(self, r: Request) -> str | None:
        sc, d = self.sc, self.d
        comp = sc.component(r.component)
        n = len(comp.routing)
        left = self.unmet.get(r.id, 0)
        k = sc.min_suppliers(r)
        made_home = any(self.X.get((r.id, n - 1, w), 0) > 0
                        for w in final_eligible(d, r, n - 1, n))
        for s, step in enumerate(comp.routing):
            elig = final_eligible(d, r, s, n)
            roomy = [w for w in elig if self.room(r, s, w) >= 1]
            where = f"step {s} ({step.process})"
            if k > 1 and not made_home and len(roomy) < k:
                return (f"min_suppliers_per_step {k}: only {len(roomy)} eligible workshop(s) "
                        f"have room for {where} ({_names(roomy)})")
            # Workshops already making the step may add single units; others need a lot.
            can_add = [w for w in roomy if self.X.get((r.id, s, w), 0) > 0
                       or self.lot(r, s, w) <= min(left, self.room(r, s, w))]
            if roomy and not can_add:
                lots = sorted({self.lot(r, s, w) for w in roomy})
                return (f"min_lot: the {left} unit(s) left are fewer than the minimum lot "
                        f"({_names([str(v) for v in lots])}) of every eligible workshop with "
                        f"room for {where} ({_names(roomy)})")
        pol = sc.policy
        elig = [w for w in final_eligible(d, r, n - 1, n) if self.room(r, n - 1, w) >= 1]
        if not elig:
            return None
        v = pol.max_workshop_share
        dom = self.domestic
        if v < 1 and all(self.final_at.get(w, 0) + 1 > v * (dom + 1) + 1e-9 for w in elig):
            return (f"max_workshop_share {v:g}: every eligible workshop with room for the "
                    f"final step ({_names(elig)}) already makes its share of the {dom} "
                    f"domestic units")
        shares = {loc: s for loc, s in pol.min_location_share.items() if s > 0}
        for loc, share in shares.items():
            # One more unit outside `loc` would leave it below its share.
            if self.at_loc.get(loc, 0) < share * (dom + 1) - 1e-9 and all(
                    d.location_of[w] != loc for w in elig):
                return (f"min_location_share {loc} {share:g}: {self.at_loc.get(loc, 0)} of "
                        f"the {dom} domestic units are made at {loc}; one more unit elsewhere "
                        f"needs more there, and no eligible workshop at {loc} has room")
        return None
