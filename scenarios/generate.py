"""Generated scenarios of any size, true to the Javanese clusters of `scenarios.catalog`.

`generate(size, seed)` returns a SPEC scenario document; the same size and seed give the
same document (and so the same file), whatever the machine. Workshops are spread over the
real clusters in proportion to their size, with the clusters' processes, certifications
and rates; capacity follows the calendar (Ramadan hours, Idul Fitri closing); requests
come from the buyers of each component, and their quantities are scaled so that demand
uses roughly three quarters of the capacity of its processes: most of it can be made,
and some clusters and weeks are bottlenecks.

A `profile` (`PROFILES`) stresses one side of the same market: `balanced` is the generator
as described above; `tight`, `fixed-cost`, `scarce-material` and `sourcing` start from the
same workshops, components and requests and change only what their name says
(docs/generator.md). Draws that only a profile makes come from a stream of their own, so
`balanced` gives, byte for byte, the documents this module gave before profiles existed.
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


@dataclass(frozen=True)
class Profile:
    """What a profile changes. The defaults are `balanced`, today's generator."""

    description: str
    # Share of its hours over the horizon that the busiest process needs.
    utilization: float = TARGET_UTILIZATION
    # Stock of a domestic grade, as a multiple of the demand's need for it split evenly
    # over the centers that hold it (a uniform draw in this range).
    domestic_stock: tuple[float, float] = (0.8, 1.6)
    # fixed-cost: share of workshops charging an engagement cost, its range in million IDR,
    # and share of capable workshops quoting a tooled offer for each step.
    engagement_share: float | None = None
    engagement_mio: tuple[int, int] = (40, 300)
    tooled_share: float = 0.0
    # scarce-material: imported grades of the domestic materials at the ports, and the
    # cost-based local content (TKDN) floor of the policy.
    port_stock: bool = False
    min_local_content: float = 0.0
    # sourcing: share of requests without a limit that get one, and the limits drawn.
    sourcing_share: float = 0.0
    sourcing_limits: tuple[int, ...] = (1, 2, 2, 3)


PROFILES: dict[str, Profile] = {
    "balanced": Profile("the generator as documented: about 80% of the busiest process's "
                        "hours needed, stock binding now and then"),
    "tight": Profile("demand needs 125% of the busiest process's hours over the horizon: "
                     "some of it is imported, late or unmet", utilization=1.25),
    "fixed-cost": Profile("engagement costs on 70% of the workshops (40 to 300 million IDR) "
                          "and tooled offers from 30% of the capable workshops, cheaper per "
                          "unit but with a tool 2 to 4 times the catalog's",
                          engagement_share=0.7, tooled_share=0.3),
    "scarce-material": Profile("domestic grades stocked at 35% to 75% of the need; imported "
                               "grades of the same materials at the Tanjung Priok and Tanjung "
                               "Perak ports (25% to 60% dearer, not domestic); a 40% local "
                               "content floor (TKDN)", domestic_stock=(0.35, 0.75),
                               port_stock=True, min_local_content=0.4),
    "sourcing": Profile("most requests limit how many workshops share a step (1, 2 or 3)",
                        sourcing_share=0.8),
}


def generate(size: str, seed: int, profile: str = "balanced") -> dict[str, Any]:
    """A scenario document of the named size (`SIZES`) and profile (`PROFILES`),
    reproducible from `seed`."""
    if size not in SIZES:
        raise KeyError(f"unknown size '{size}' (known: {', '.join(SIZES)})")
    if profile not in PROFILES:
        raise KeyError(f"unknown profile '{profile}' (known: {', '.join(PROFILES)})")
    spec = SIZES[size]
    prof = PROFILES[profile]
    rng = random.Random(f"{size}/{seed}")
    # The profile's own draws: the shared stream `rng` is consumed the same way whatever
    # the profile, so every profile has balanced's workshops, components and requests.
    prng = random.Random(f"{size}/{seed}/{profile}")
    start = cat.DEFAULT_START
    periods = spec.periods
    calendar = cat.calendar_factors(start, periods)
    lebaran = cat.lebaran_period(start, periods)

    workshops = _workshops(rng, spec.workshops, periods, calendar, lebaran)
    components = list(cat.COMPONENTS)
    offers = _offers(rng, workshops, components)
    requests = _requests(rng, spec.requests, periods, components)
    _balance(requests, workshops, components, periods, prof.utilization)

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
            lo, hi = prof.domestic_stock if cat.MATERIAL_BY_ID[mat].domestic else (0.8, 1.6)
            stock[mat] = {"stock_kg": float(round(share * rng.uniform(lo, hi), -1)),
                          "price_per_kg": float(cat.MATERIAL_BY_ID[mat].price_per_kg),
                          "domestic": cat.MATERIAL_BY_ID[mat].domestic}
        centers.append({"id": mc.id, "name": mc.name, "location": mc.place,
                        "materials": stock})

    if prof.engagement_share is not None:
        _engagement(prng, workshops, prof)
    if prof.tooled_share > 0:
        offers = _tooled_offers(prng, workshops, components, offers, prof.tooled_share)
    if prof.port_stock:
        centers += _port_centers(prng, need)
    if prof.sourcing_share > 0:
        for r in requests:
            if "max_suppliers_per_step" not in r and prng.random() < prof.sourcing_share:
                r["max_suppliers_per_step"] = prng.choice(prof.sourcing_limits)

    places = {p.id: p for p in (*cat.PLACES, *cat.PORTS)}
    used_places = {w["location"] for w in workshops} | {c["location"] for c in centers} | {
        r["destination"] for r in requests}
    return {
        "name": f"generated-{size}-s{seed}" + ("" if profile == "balanced" else f"-{profile}"),
        "currency": "IDR",
        "horizon": {"periods": periods, "period_days": 7, "start": start.isoformat()},
        "transport": {"cost_per_kg_km": 2.0, "road_factor": 1.25},
        "policy": {"min_domestic_share": 0.0, "min_local_content": prof.min_local_content,
                   "import_tariff": 0.1, "step_lag_periods": 0,
                   "unmet_penalty": 5.0e7, "late_penalty": 2500.0},
        "locations": [{"id": p.id, "name": p.name, "lat": p.lat, "lon": p.lon}
                      for p in places.values() if p.id in used_places],
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
             components: list[cat.Component], periods: int,
             utilization: float = TARGET_UTILIZATION) -> None:
    """Scale all quantities by one factor so that the busiest process needs
    `utilization` of its hours over the horizon."""
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
    factor = utilization / load
    for r in requests:
        r["quantity"] = max(1, int(round(r["quantity"] * factor / 10.0)) * 10)


# --------------------------------------------------------------------------------------
# What the profiles add


def _engagement(prng: random.Random, workshops: list[dict[str, Any]], prof: Profile) -> None:
    """fixed-cost: onboarding a workshop (audit, part approval, trial runs, a buyer's
    supplier-development visit) costs tens to hundreds of millions of IDR, on most of them."""
    assert prof.engagement_share is not None
    lo, hi = prof.engagement_mio
    for w in workshops:
        if prng.random() < prof.engagement_share:
            w["engagement_cost"] = float(prng.randrange(lo, hi + 1, 5) * 1_000_000)
        else:
            w.pop("engagement_cost", None)


def _tooled_offers(prng: random.Random, workshops: list[dict[str, Any]],
                   components: list[cat.Component], offers: list[dict[str, Any]],
                   share: float) -> list[dict[str, Any]]:
    """fixed-cost: for every step, a share of the capable workshops quote with a dedicated
    tool (pattern, die, fixture): 5% to 25% fewer hours and 25% to 45% cheaper per unit than
    their rate, for a tool 2 to 4 times the catalog's (20 million IDR where the catalog has
    none). A quote replaces the same workshop's balanced offer for that step."""
    by_key = {(o["workshop"], o["component"], o["step"]): o for o in offers}
    for c in components:
        for s, st in enumerate(c.routing):
            capable = [w for w in workshops if st.process in w["capacity"]]
            k = min(len(capable), max(3, round(share * len(capable))))
            base = c.tooling_idr.get(s, 20_000_000)
            for w in prng.sample(capable, k):
                hours = round(st.hours * prng.uniform(0.75, 0.95), 4)
                by_key[(w["id"], c.id, s)] = {
                    "workshop": w["id"], "component": c.id, "step": s,
                    "unit_price": float(round(w["rate"][st.process] * st.hours
                                              * prng.uniform(0.55, 0.75))),
                    "hours": hours,
                    "tooling_cost": float(round(base * prng.uniform(2.0, 4.0), -5)),
                }
    return list(by_key.values())


def _port_centers(prng: random.Random, need: dict[str, float]) -> list[dict[str, Any]]:
    """scarce-material: bonded warehouses at the two main ports hold imported grades of the
    domestic materials (duty, freight and margin make them 25% to 60% dearer), enough for
    30% to 60% of the need each; they count as foreign in the local content."""
    out = []
    for port in cat.PORTS:
        stock = {}
        for m in cat.MATERIALS:
            if not m.domestic or need[m.id] <= 0:
                continue
            stock[m.id] = {"stock_kg": float(round(need[m.id] * prng.uniform(0.3, 0.6), -1)),
                           "price_per_kg": float(round(m.price_per_kg
                                                       * prng.uniform(1.25, 1.6), -1)),
                           "domestic": False}
        out.append({"id": f"mc-{port.id}", "name": f"Bonded warehouse {port.name}",
                    "location": port.id, "materials": stock})
    return out
