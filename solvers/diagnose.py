"""Why a scenario has no plan at all, naming the policy that cannot be met and the best
value reachable.

A plan that makes nothing at home meets capacity, flow, precedence, materials, sourcing,
minimum lots and sourcing floors (they bind only where units are made), the spread and
regional shares (no domestic units) and local content (total 0 gives local content 1).
So a scenario is infeasible only when `min_domestic_share` asks for units at home, and
then because eligibility, capacity, materials and time cannot make them, or because one
of the inclusive-supply rules (SPEC 8.2-8.5) cannot be met together with it.

First the reasons that need no solve (too few workshops for the spread, a region with no
eligible workshop), then, for models small enough to solve a few times, each rule is
dropped in turn: the first whose removal leaves a plan is named, with the best value of
it that still has one (found by bisection on feasibility solves).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from models.derived import Derived
from models.scenario import Scenario
from solvers.constraints import build
from solvers.model import COMPACT_ABOVE_X, final_eligible
from solvers.options import SolveOptions

# Seconds for one feasibility solve; bisection steps for the best reachable value.
FEASIBILITY_SECONDS = 10.0
BISECTION_STEPS = 6
# The whole diagnosis stops trying rules after this many seconds.
DIAGNOSIS_SECONDS = 60.0


def diagnose_infeasible(sc: Scenario, d: Derived | None = None) -> str:
    d = d if d is not None else Derived(sc)
    pol = sc.policy
    need = pol.min_domestic_share * sc.total_quantity()
    domestic = (f"policy.min_domestic_share {pol.min_domestic_share:g} (at least "
                f"{need:,.0f} of the {sc.total_quantity():,} requested units made at home)")
    finals = _final_workshops(sc, d)
    v = pol.max_workshop_share
    if v < 1 and need > 0:
        needed = math.ceil(1 / v - 1e-9)
        if len(finals) < needed:
            best = f"; the smallest share reachable is 1/{len(finals)} = {1 / len(finals):.4g}" \
                if finals else ""
            return (f"policy.max_workshop_share {v:g} needs {needed} workshops making final "
                    f"steps; {len(finals)} are eligible{best} (with {domestic})")
    for loc, share in pol.min_location_share.items():
        if share > 0 and need > 0 and not any(d.location_of[w] == loc for w in finals):
            return (f"policy.min_location_share.{loc} {share:g} needs final steps made at "
                    f"{loc}, but no workshop there is eligible for any final step, so the "
                    f"share reachable is 0 (with {domestic})")
    found = _drop_rules(sc)
    if found is not None:
        return f"{found} (with {domestic})"
    reach = _reachable(sc) if pol.min_local_content == 0 else None
    if reach is not None:
        most, limits = reach
        total = sc.total_quantity()
        text = (f"policy.min_domestic_share {pol.min_domestic_share:g} needs {need:,.0f} of "
                f"the {total:,} requested units made at home; at most {most:,} "
                f"({_share(most, total)}) can be")
        return text + (f", limited by {limits}" if limits else "")
    # The version 1 wording, unchanged where no SPEC 8 rule is set.
    text = (f"policy.min_domestic_share {pol.min_domestic_share:g} needs {need:,.0f} of the "
            f"{sc.total_quantity():,} requested units made at home, more than eligibility, "
            f"capacity, materials and time allow")
    if pol.min_local_content > 0:
        text += f" together with policy.min_local_content {pol.min_local_content:g}"
    if sc.has_inclusion_rules():
        text += " and the minimum lots, sourcing floors, spread and regional shares"
    return text


def _share(part: int, total: int) -> str:
    """687 of 1000 -> '68.7%', never rounded up to a share it falls short of."""
    return f"{math.floor(1000 * part / total) / 10:.1f}%" if total else "0%"


# Unmet reasons that name no resource: in the zero-cost solve below nothing is "cheaper to
# leave", so such a reason means no single resource explains the units left.
_NO_RESOURCE = ("cheaper to leave it", "not placed when the search stopped")


def _reachable(sc: Scenario) -> tuple[int, str] | None:
    """The most units the scenario can make at home, and what holds them there, from one
    solve in which nothing costs anything but an unmade unit (1 each) and nothing may be
    imported: its optimum makes as many units as eligibility, capacity, materials, time
    and the inclusive-supply rules allow, and its unmet reasons name what binds. None when
    that solve is not proven optimal in `FEASIBILITY_SECONDS` (a larger count could then
    exist). Only without `min_local_content`, which a zero-cost plan would meet trivially."""
    from models.io import scenario_from_dict, scenario_to_dict
    from solvers.explain import explain_unmet
    from solvers.extract import material_rows
    from solvers.mip import solve_model

    doc = scenario_to_dict(sc)
    doc["transport"] = {"cost_per_kg_km": 0.0}
    doc["policy"] = dict(doc.get("policy", {}), min_domestic_share=0.0, import_tariff=0.0)
    for w in doc.get("workshops", []):
        w["rate"] = {p: 0.0 for p in w.get("rate", {})}
        w["engagement_cost"] = 0.0
    for o in doc.get("offers", []):
        o["tooling_cost"] = 0.0
        if "unit_price" in o:
            o["unit_price"] = 0.0
    for c in doc.get("material_centers", []):
        for st in c.get("materials", {}).values():
            st["price_per_kg"] = 0.0
    doc["requests"] = [dict(r, allow_import=False, late_penalty=0.0, unmet_penalty=1.0)
                       for r in doc.get("requests", [])]
    probe = scenario_from_dict(doc, "diagnosis")
    d = Derived(probe)
    b = build(probe, d)
    # The objective counts unmade units: a gap below one unit proves the count.
    raw = solve_model(b, SolveOptions(time_limit=FEASIBILITY_SECONDS, gap=1e-9),
                      time.perf_counter())
    if raw.status != "optimal":
        return None
    why = explain_unmet(probe, d, raw.x, material_rows(probe, b, raw), raw.u, proven=True)
    unmet: dict[str, int] = {}
    reasons: dict[str, list[str]] = {}
    for rid, q in raw.u.items():
        if q <= 0:
            continue
        reason = why[rid]
        if reason.startswith(_NO_RESOURCE):
            reason = "capacity, materials and time together (no single one used up)"
        unmet[reason] = unmet.get(reason, 0) + q
        reasons.setdefault(reason, []).append(rid)
    best = sc.total_quantity() - sum(unmet.values())
    parts = []
    for reason in sorted(unmet, key=lambda k: -unmet[k])[:3]:
        rids = reasons[reason]
        who = ", ".join(rids[:3]) + (f" and {len(rids) - 3} more" if len(rids) > 3 else "")
        parts.append(f"{reason} ({unmet[reason]:,} unit(s) of {who} left)")
    if len(unmet) > 3:
        parts.append(f"{len(unmet) - 3} other reason(s)")
    return best, "; ".join(parts)


def _final_workshops(sc: Scenario, d: Derived) -> set[str]:
    out: set[str] = set()
    for r in sc.requests:
        n = len(sc.component(r.component).routing)
        out.update(final_eligible(d, r, n - 1, n))
    return out


def _copy(sc: Scenario, **update: object) -> Scenario:
    out = sc.model_copy(update=update)
    out._idx = None  # the copied look-up cache would name the original lists
    return out


def _with_policy(sc: Scenario, **values: object) -> Scenario:
    return _copy(sc, policy=sc.policy.model_copy(update=values))


def _without_lots(sc: Scenario) -> Scenario:
    components = [c.model_copy(update={"routing": [st.model_copy(update={"min_lot": 0})
                                                   for st in c.routing]})
                  for c in sc.components]
    offers = [o.model_copy(update={"min_lot": None}) for o in sc.offers]
    return _copy(sc, components=components, offers=offers)


def _without_floors(sc: Scenario) -> Scenario:
    return _copy(sc, requests=[r.model_copy(update={"min_suppliers_per_step": None})
                               for r in sc.requests])


def _feasible(sc: Scenario) -> bool | None:
    """Whether `sc` has a plan: True, False, or None when the solve ran out of time."""
    from solvers.mip import solve_model

    d = Derived(sc)
    b = build(sc, d)
    # Any plan answers the question: a gap of 1 stops at the first one.
    raw = solve_model(b, SolveOptions(time_limit=FEASIBILITY_SECONDS, gap=1.0),
                      time.perf_counter())
    if raw.status in ("optimal", "feasible"):
        return True
    return False if raw.status == "infeasible" else None


def _bisect(feasible_at: Callable[[float], bool | None], bad: float, good: float,
            steps: int = BISECTION_STEPS) -> float:
    """The value nearest `bad` found feasible, searching between `bad` (infeasible) and
    `good` (feasible)."""
    for _ in range(steps):
        mid = (bad + good) / 2
        if feasible_at(mid):
            good = mid
        else:
            bad = mid
    return good


def _drop_rules(sc: Scenario) -> str | None:
    """The first inclusive-supply rule whose removal leaves a plan, with its best
    reachable value; None when none does or the model is too large to try."""
    d = Derived(sc)
    columns = sum(len(ws) for ws in d.eligible.values()) * sc.horizon.periods
    if columns > COMPACT_ABOVE_X or not sc.has_inclusion_rules():
        return None
    started = time.perf_counter()
    pol = sc.policy

    def in_time() -> bool:
        return time.perf_counter() - started < DIAGNOSIS_SECONDS

    if pol.max_workshop_share < 1 and in_time() and _feasible(
            _with_policy(sc, max_workshop_share=1.0)):
        best = _bisect(lambda v: _feasible(_with_policy(sc, max_workshop_share=v)),
                       pol.max_workshop_share, 1.0)
        return (f"policy.max_workshop_share {pol.max_workshop_share:g} cannot be met: the "
                f"smallest share with a plan is about {best:.3g}")
    for loc, share in pol.min_location_share.items():
        if share <= 0 or not in_time():
            continue
        others = {k: v for k, v in pol.min_location_share.items() if k != loc}
        if _feasible(_with_policy(sc, min_location_share=others)):
            best = _bisect(lambda v, loc=loc, others=others: _feasible(  # type: ignore[misc]
                _with_policy(sc, min_location_share={**others, loc: v})), share, 0.0)
            return (f"policy.min_location_share.{loc} {share:g} cannot be met: the largest "
                    f"share of {loc} with a plan is about {best:.3g}")
    if any(sc.min_suppliers(r) > 1 for r in sc.requests) and in_time() and _feasible(
            _without_floors(sc)):
        return ("min_suppliers_per_step cannot be met: without the sourcing floors a plan "
                "exists")
    lots = any(st.min_lot > 1 for c in sc.components for st in c.routing) or any(
        (o.min_lot or 0) > 1 for o in sc.offers)
    if lots and in_time() and _feasible(_without_lots(sc)):
        return "the minimum lots (min_lot) cannot be met: without them a plan exists"
    return None
