"""From a solver's answer to the rows and cost terms of a plan (SPEC section 7)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from models.check import inclusion_violations
from models.derived import Derived
from models.evaluate import compute_kpis
from models.plan import (
    COST_TERMS,
    Cost,
    ImportRow,
    MaterialRow,
    Plan,
    ProductionRow,
    ShipmentRow,
    Status,
)
from models.scenario import Scenario
from solvers.model import Built, Raw


def _match(supply: list[tuple[str, int]], demand: list[tuple[str, int]]
           ) -> Iterable[tuple[str, str, int]]:
    """Pair units of `supply` with units of `demand` (equal totals), keeping units at the
    same workshop where they are already, then in order."""
    sup = dict(supply)
    dem = dict(demand)
    for w in list(sup):
        if w in dem:
            q = min(sup[w], dem[w])
            if q:
                yield w, w, q
                sup[w] -= q
                dem[w] -= q
    si = [(w, q) for w, q in sup.items() if q > 0]
    di = [(w, q) for w, q in dem.items() if q > 0]
    i = j = 0
    while i < len(si) and j < len(di):
        q = min(si[i][1], di[j][1])
        yield si[i][0], di[j][0], q
        si[i] = (si[i][0], si[i][1] - q)
        di[j] = (di[j][0], di[j][1] - q)
        if si[i][1] == 0:
            i += 1
        if di[j][1] == 0:
            j += 1
    if i < len(si) or j < len(di):
        raise RuntimeError("flow between steps does not balance")


def production_rows(sc: Scenario, raw: Raw) -> list[ProductionRow]:
    order = {r.id: i for i, r in enumerate(sc.requests)}
    w_order = {w.id: i for i, w in enumerate(sc.workshops)}
    keys = sorted(raw.x, key=lambda k: (order[k[0]], k[1], w_order[k[2]], k[3]))
    return [ProductionRow(request=r, step=s, workshop=w, period=t, quantity=raw.x[(r, s, w, t)])
            for r, s, w, t in keys]


def step_totals(raw: Raw) -> dict[tuple[str, int], dict[str, int]]:
    out: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (r, s, w, _t), q in raw.x.items():
        out[(r, s)][w] += q
    return out


def shipment_rows(sc: Scenario, d: Derived, b: Built, raw: Raw) -> list[ShipmentRow]:
    totals = step_totals(raw)
    w_order = {w.id: i for i, w in enumerate(sc.workshops)}
    rows: list[ShipmentRow] = []
    g_by_step: dict[tuple[str, int], list[tuple[tuple[str, str], int]]] = defaultdict(list)
    for (rid, s, a, c), q in raw.G.items():
        g_by_step[(rid, s)].append(((a, c), q))
    # Only requests with units or flows have shipments (100,000 requests, most of them
    # imported: a second per plan went on the others).
    active = {rid for rid, _s in totals} | {rid for rid, _s in g_by_step}
    for r in sc.requests:
        if r.id not in active:
            continue
        n = len(sc.component(r.component).routing)
        for s in range(n - 1):
            here = sorted(totals.get((r.id, s), {}).items(), key=lambda kv: w_order[kv[0]])
            nxt = sorted(totals.get((r.id, s + 1), {}).items(), key=lambda kv: w_order[kv[0]])
            pairs: list[tuple[str, str, int]] = []
            if (r.id, s) in b.free_flow:
                pairs = list(_match(here, nxt))
            else:
                # Split each location-pair flow among the workshops at its two ends.
                left: dict[str, list[tuple[str, int]]] = defaultdict(list)
                right: dict[str, list[tuple[str, int]]] = defaultdict(list)
                for w, q in here:
                    left[b.node_of[w]].append((w, q))
                for w, q in nxt:
                    right[b.node_of[w]].append((w, q))
                flows = sorted(g_by_step.get((r.id, s), []))
                # Same-location pairs first, so a workshop that does both steps ships to itself.
                flows.sort(key=lambda f: f[0][0] != f[0][1])
                for (a, c), q in flows:
                    src = _take(left[a], q)
                    dst = _take(right[c], q)
                    pairs.extend(_match(src, dst))
            agg: dict[tuple[str, str], int] = defaultdict(int)
            for f, t, q in pairs:
                agg[(f, t)] += q
            for (f, t), q in sorted(agg.items(), key=lambda kv: (w_order[kv[0][0]],
                                                                 w_order[kv[0][1]])):
                rows.append(ShipmentRow(request=r.id, step=s, from_=f, to=t, quantity=q))
    return rows


def _take(pool: list[tuple[str, int]], q: int) -> list[tuple[str, int]]:
    """Remove q units from the front of `pool` (workshop, units) and return them."""
    out = []
    while q > 0:
        if not pool:
            raise RuntimeError("location flow exceeds the units made there")
        w, have = pool[0]
        take = min(have, q)
        out.append((w, take))
        q -= take
        if take == have:
            pool.pop(0)
        else:
            pool[0] = (w, have - take)
    return out


def material_rows(sc: Scenario, b: Built, raw: Raw) -> list[MaterialRow]:
    # What each workshop needs, from the whole units it makes.
    need: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (rid, s, w, _t), q in raw.x.items():
        step = sc.component(sc.request(rid).component).routing[s]
        if step.material is not None and step.material_kg:
            need[(b.node_of[w], step.material)][w] += step.material_kg * q
    supply: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for (c, loc, mat), kg in sorted(raw.M.items()):
        supply[(loc, mat)].append((c, kg))
    rows = []
    w_order = {w.id: i for i, w in enumerate(sc.workshops)}
    for (loc, mat), per_w in sorted(need.items()):
        total_need = sum(per_w.values())
        sup = supply.get((loc, mat), [])
        total_sup = sum(kg for _, kg in sup)
        if total_sup <= 0:
            raise RuntimeError(f"no material {mat} delivered to {loc}")
        # The solver's split among centers, scaled to the exact need of the whole units.
        scale = total_need / total_sup
        sources: list[tuple[str, float]] = [(c, kg * scale) for c, kg in sup]
        i = 0
        for w in sorted(per_w, key=w_order.__getitem__):
            want = per_w[w]
            while want > 1e-12 and i < len(sources):
                center, have = sources[i]
                take = min(want, have)
                if take > 1e-12:
                    rows.append(MaterialRow(center=center, workshop=w, material=mat, kg=take))
                want -= take
                sources[i] = (center, have - take)
                if have - take <= 1e-12:
                    i += 1
    rows.sort(key=lambda m: (m.center, w_order[m.workshop], m.material))
    return rows


def import_rows(sc: Scenario, raw: Raw) -> list[ImportRow]:
    return [ImportRow(request=r.id, quantity=raw.z[r.id]) for r in sc.requests if r.id in raw.z]


def cost_terms(sc: Scenario, d: Derived, raw: Raw, shipments: list[ShipmentRow],
               materials: list[MaterialRow]) -> dict[str, float]:
    """Each SPEC section 6 term of the solver's answer."""
    cost = dict.fromkeys(COST_TERMS, 0.0)
    cpk = sc.transport.cost_per_kg_km
    tools: set[tuple[str, str, int]] = set()
    used: set[str] = set()
    for (rid, s, wid, t), q in raw.x.items():
        r = sc.request(rid)
        comp = sc.component(r.component)
        w = sc.workshop(wid)
        info = d.step_info(w, comp.id, s)
        cost["production"] += q * info.unit_cost
        if info.tooling > 0:
            tools.add((wid, comp.id, s))
        used.add(wid)
        if s == len(comp.routing) - 1:
            if r.destination is not None:
                km = d.dist.km(w.location, r.destination)
                assert km is not None
                cost["transport"] += cpk * comp.weight_kg * km * q
            due = sc.due(r)
            if t > due:
                cost["tardiness"] += sc.late_penalty(r) * (t - due) * q
    for sh in shipments:
        weight = sc.component(sc.request(sh.request).component).weight_kg
        km = d.dist.km(d.location_of[sh.from_], d.location_of[sh.to])
        assert km is not None
        cost["transport"] += cpk * weight * km * sh.quantity
    for mr in materials:
        center = sc.center(mr.center)
        cost["material"] += mr.kg * center.materials[mr.material].price_per_kg
        km = d.dist.km(center.location, d.location_of[mr.workshop])
        assert km is not None
        cost["transport"] += cpk * km * mr.kg
    cost["tooling"] = sum(d.step_info(sc.workshop(w), c, s).tooling for w, c, s in tools)
    cost["engagement"] = sum(sc.workshop(w).engagement_cost for w in used)
    for rid, q in raw.z.items():
        r = sc.request(rid)
        cost["import"] += q * sc.import_unit_cost(r)
        cost["tardiness"] += q * sc.late_penalty(r) * sc.import_late_periods(r)
    for rid, q in raw.u.items():
        cost["unmet"] += q * sc.unmet_penalty(sc.request(rid))
    return cost


def rows_plan(sc: Scenario, d: Derived, b: Built, raw: Raw) -> tuple[Plan, dict[str, float]]:
    """The plan of a solver's answer as rows with its cost (no unmet rows, explanations
    or bound: what the policies and SPEC 8 rules are judged on) and its cost terms."""
    shipments = shipment_rows(sc, d, b, raw)
    materials = material_rows(sc, b, raw)
    terms = cost_terms(sc, d, raw, shipments, materials)
    plan = Plan(scenario=sc.name, status=Status.FEASIBLE, cost=Cost.from_dict(terms),
                production=production_rows(sc, raw), shipments=shipments,
                materials=materials, imports=import_rows(sc, raw))
    return plan, terms


def evaluate(sc: Scenario, d: Derived, b: Built, raw: Raw) -> float | None:
    """The SPEC cost of a constructive answer, from its rows, or None when it misses a
    policy or an inclusive-supply rule (SPEC 5.8, 8.2-8.5; it meets every other
    constraint by construction). Both are judged by the checker, from the same rows."""
    pol = sc.policy
    inclusion = sc.has_inclusion_rules()
    if not (pol.min_domestic_share > 0 or pol.min_local_content > 0 or inclusion):
        # No rule to judge: the cost alone, without the production and import rows.
        return sum(cost_terms(sc, d, raw, shipment_rows(sc, d, b, raw),
                              material_rows(sc, b, raw)).values())
    plan, terms = rows_plan(sc, d, b, raw)
    kpis = compute_kpis(sc, plan, terms)
    if (kpis["domestic_share"] < pol.min_domestic_share - 1e-9
            or kpis["local_content"] < pol.min_local_content - 1e-9):
        return None
    if inclusion and inclusion_violations(sc, plan):
        return None
    return sum(terms.values())
