"""Generated scenarios of any size, true to the Javanese clusters of `scenarios.catalog`.

`generate(size, seed)` returns a SPEC scenario document; the same size and seed give the
same document (and so the same file), whatever the machine. Workshops are spread over the
real clusters in proportion to their size, with the clusters' processes, certifications
and rates; capacity follows the calendar (Ramadan hours, Idul Fitri closing); requests
come from the buyers of each component, and their quantities are scaled so that demand
uses roughly three quarters of the capacity of its processes: most of it can be made,
and some clusters and weeks are bottlenecks.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from scenarios import catalog as cat


@dataclass(frozen=True)
class Size:
    workshops: int
    requests: int
    periods: int


SIZES: dict[str, Size] = {
    "small": Size(30, 25, 4),
    "medium": Size(150, 200, 8),
    "large": Size(450, 2000, 12),
    "national": Size(5000, 20000, 12),
}

# Demand is scaled so that the busiest process needs this share of its hours.
TARGET_UTILIZATION = 0.8


def generate(size: str, seed: int) -> dict[str, Any]:
    """A scenario document of the named size (`SIZES`), reproducible from `seed`."""
    if size not in SIZES:
        raise KeyError(f"unknown size '{size}' (known: {', '.join(SIZES)})")
    spec = SIZES[size]
    rng = random.Random(f"{size}/{seed}")
    start = cat.DEFAULT_START
    periods = spec.periods
    calendar = cat.calendar_factors(start, periods)
    lebaran = cat.lebaran_period(start, periods)

    workshops = _workshops(rng, spec.workshops, periods, calendar, lebaran)
    components = list(cat.COMPONENTS)
    offers = _offers(rng, workshops, components)
    requests = _requests(rng, spec.requests, periods, components)
    _balance(requests, workshops, components, periods)

    # Stock scales with demand so that material is a bottleneck now and then, not always.
    need: dict[str, float] = defaultdict(float)
    comp_by_id = {c.id: c for c in components}
    for r in requests:
        for st in comp_by_id[r["component"]].routing:
            if st.material is not None and st.material_kg is not None:
                need[st.material] += st.material_kg * r["quantity"]
    held: dict[str, int] = defaultdict(int)
    for mc in cat.MATERIAL_CENTERS:
        for mat in mc.stock_kg:
            held[mat] += 1
    centers = []
    for mc in cat.MATERIAL_CENTERS:
        stock = {}
        for mat in mc.stock_kg:
            share = need[mat] / held[mat] if held[mat] else 0.0
            stock[mat] = {"stock_kg": float(round(share * rng.uniform(0.8, 1.6), -1)),
                          "price_per_kg": float(cat.MATERIAL_BY_ID[mat].price_per_kg),
                          "domestic": cat.MATERIAL_BY_ID[mat].domestic}
        centers.append({"id": mc.id, "name": mc.name, "location": mc.place,
                        "materials": stock})

    used_places = {w["location"] for w in workshops} | {c["location"] for c in centers} | {
        r["destination"] for r in requests}
    return {
        "name": f"generated-{size}-s{seed}",
        "currency": "IDR",
        "horizon": {"periods": periods, "period_days": 7, "start": start.isoformat()},
        "transport": {"cost_per_kg_km": 2.0, "road_factor": 1.25},
        "policy": {"min_domestic_share": 0.0, "min_local_content": 0.0,
                   "import_tariff": 0.1, "step_lag_periods": 0,
                   "unmet_penalty": 5.0e7, "late_penalty": 2500.0},
        "locations": [{"id": p.id, "name": p.name, "lat": p.lat, "lon": p.lon}
                      for p in cat.PLACES if p.id in used_places],
        "materials": [{"id": m.id, "name": m.name} for m in cat.MATERIALS],
        "material_centers": centers,
        "workshops": workshops,
        "components": [_component_doc(c) for c in components],
        "offers": offers,
        "requests": requests,
    }


def _workshops(rng: random.Random, count: int, periods: int, calendar: list[float],
               lebaran: int | None) -> list[dict[str, Any]]:
    weights = [c.typical_workshops for c in cat.CLUSTERS]
    total = sum(weights)
    # Largest-remainder split of `count` over the clusters by their size.
    quotas = [count * w / total for w in weights]
    counts = [int(q) for q in quotas]
    for i in sorted(range(len(quotas)), key=lambda i: counts[i] - quotas[i])[:count - sum(counts)]:
        counts[i] += 1
    out: list[dict[str, Any]] = []
    for cluster, n in zip(cat.CLUSTERS, counts, strict=True):
        for k in range(n):
            procs = [p for p, share in cluster.process_share.items() if rng.random() < share]
            if not procs:
                procs = [cluster.specialities[0] if cluster.specialities
                         else next(iter(cluster.process_share))]
            capacity: dict[str, float] = {}
            for p in procs:
                lo, hi = cat.PROCESS_BY_ID[p].hours_per_week
                capacity[p] = float(rng.randrange(lo, hi + 1, 5))
            factor = rng.uniform(0.9, 1.15)
            rate = {p: float(cat.workshop_rate(p, cluster.id, factor)) for p in procs}
            certs = [c for c, share in cluster.certification_share.items()
                     if rng.random() < share]
            # Around Idul Fitri some workshops close the whole week, most follow the calendar.
            closes = lebaran is not None and rng.random() < 0.25
            by_period = {}
            for p, hours in capacity.items():
                seq = [round(hours * f) for f in calendar]
                if closes and lebaran is not None:
                    seq[lebaran] = 0
                if any(h != hours for h in seq):
                    by_period[p] = [float(h) for h in seq]
            w: dict[str, Any] = {
                "id": f"ikm-{cluster.id}-{k + 1:04d}",
                "name": _name(rng),
                "location": rng.choice(cluster.places),
                "certifications": certs,
                "capacity": capacity,
                "rate": rate,
            }
            if by_period:
                w["capacity_by_period"] = by_period
            if rng.random() < 0.15:
                w["engagement_cost"] = float(rng.randrange(3, 15) * 1_000_000)
            out.append(w)
    return out


def _name(rng: random.Random) -> str:
    return (f"{rng.choice(cat.NAME_PREFIXES)} {rng.choice(cat.NAME_WORDS_A)} "
            f"{rng.choice(cat.NAME_WORDS_B)}")


def _component_doc(c: cat.Component) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": c.id, "name": c.name, "weight_kg": c.weight_kg,
                           "offers_only": c.offers_only, "routing": []}
    for st in c.routing:
        step: dict[str, Any] = {"process": st.process, "hours": st.hours}
        if st.material is not None:
            step["material"] = st.material
            step["material_kg"] = st.material_kg
        doc["routing"].append(step)
    if c.import_price is not None:
        doc["import"] = {"price": float(c.import_price), "lead_periods": c.lead_periods or 0}
    return doc


def _offers(rng: random.Random, workshops: list[dict[str, Any]],
            components: list[cat.Component]) -> list[dict[str, Any]]:
    """Quotes with tooling for the steps that need a dedicated tool. Offers-only components
    get quotes from a fifth of the capable workshops (at least three), others from a
    tenth: the rest may still do those steps at their rate, with no tool to pay."""
    out = []
    for c in components:
        for s, st in enumerate(c.routing):
            tooling = c.tooling_idr.get(s)
            if tooling is None and not c.offers_only:
                continue
            capable = [w for w in workshops if st.process in w["capacity"]]
            share = 0.2 if c.offers_only else 0.1
            k = min(len(capable), max(3, round(share * len(capable))))
            for w in rng.sample(capable, k):
                hours = round(st.hours * rng.uniform(0.85, 1.05), 4)
                offer: dict[str, Any] = {
                    "workshop": w["id"], "component": c.id, "step": s,
                    "unit_price": float(round(w["rate"][st.process] * hours
                                              * rng.uniform(0.85, 1.0))),
                    "hours": hours,
                }
                if tooling:
                    offer["tooling_cost"] = float(round(tooling * rng.uniform(0.7, 1.3), -5))
                out.append(offer)
    return out


def _requests(rng: random.Random, count: int, periods: int,
              components: list[cat.Component]) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        c = rng.choice(components)
        buyer = cat.BUYER_BY_ID[rng.choice(c.buyers)]
        n = len(c.routing)
        release = rng.randrange(0, max(1, periods - n))
        due = min(periods - 1, release + n - 1 + rng.randrange(0, max(1, periods // 2)))
        r: dict[str, Any] = {
            "id": f"REQ-{i + 1:05d}",
            "buyer": buyer.name,
            "component": c.id,
            "quantity": rng.randrange(c.lot[0], c.lot[1] + 1, 50),
            "release": release,
            "due": due,
            "destination": rng.choice(buyer.sites),
            "requires": list(buyer.requires),
        }
        if rng.random() < 0.3:
            r["max_suppliers_per_step"] = rng.choice((2, 3))
        if buyer.state_owned and c.import_price is not None:
            # State buyers follow domestic preference: many of their orders forbid import.
            r["allow_import"] = rng.random() < 0.5
        out.append(r)
    return out


def _balance(requests: list[dict[str, Any]], workshops: list[dict[str, Any]],
             components: list[cat.Component], periods: int) -> None:
    """Scale all quantities by one factor so that the busiest process needs
    TARGET_UTILIZATION of its hours over the horizon."""
    comp_by_id = {c.id: c for c in components}
    need: dict[str, float] = defaultdict(float)
    for r in requests:
        for st in comp_by_id[r["component"]].routing:
            need[st.process] += st.hours * r["quantity"]
    have: dict[str, float] = defaultdict(float)
    for w in workshops:
        for p, hours in w["capacity"].items():
            seq = w.get("capacity_by_period", {}).get(p)
            have[p] += sum(seq) if seq else hours * periods
    load = max((need[p] / have[p] for p in need if have[p] > 0), default=0.0)
    if load <= 0:
        return
    factor = TARGET_UTILIZATION / load
    for r in requests:
        r["quantity"] = max(1, int(round(r["quantity"] * factor / 10.0)) * 10)
