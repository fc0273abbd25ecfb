"""A second, independent generator of SPEC scenarios, for testing on instances nobody tuned on.

`scenarios.generate` builds every instance from one catalog (the Javanese clusters, twelve
components, their buyers) and one recipe (80% load on the busiest process, stock near the
need, sourcing limits on 30%). A solver developed on it can learn that recipe. This module
shares neither: it draws the structure itself, instance by instance, from wider ranges:

- **layout** of the workshops: `corridor` (towns along a toll road), `hub` (one dense
  industrial estate and small satellites), `scattered` (many villages of a few workshops)
  or `islands` (two groups joined only by a ferry route: explicit `routes`, so some
  places cannot ship to each other at all);
- **workshops**: a few large anchor firms among many small ones (capacity spread over two
  orders of magnitude), maintenance shutdowns in random periods, occasional zero rates;
- **certifications**: rare ones that only a handful of workshops hold;
- **components** made up per instance: one to six steps, some with two or three material
  steps (insert casting, clad sheet), a share `offers_only`, import prices from far below
  to far above the cost of making at home, or no import at all;
- **horizon**: short or long (2 to 16 periods), with or without a lag between steps;
- **penalties**: per-request unmet and late penalties from "cheaper to leave it" to
  prohibitive, requests without a due period or without a destination;
- **policies**: sometimes a domestic-share or local-content floor.

`generate(size, seed)` takes the sizes of `scenarios.generate.SIZES` (the same counts of
workshops and requests) and is deterministic in `(size, seed)`. `extended=True` also uses
SPEC section 8 fields (minimum lots, dual sourcing, spread, regional shares). See
docs/generator.md.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from scenarios.generate import SIZES

LAYOUTS = ("corridor", "hub", "scattered", "islands")

# Generic metal-working processes with a base rate per hour (IDR) and the range of hours
# per unit a step of that process takes. Wider and different from the catalog's.
PROCESSES: dict[str, tuple[int, tuple[float, float]]] = {
    "casting": (95_000, (0.05, 0.5)),
    "forging": (130_000, (0.02, 0.3)),
    "machining": (165_000, (0.05, 1.2)),
    "grinding": (150_000, (0.02, 0.4)),
    "stamping": (135_000, (0.005, 0.05)),
    "bending": (110_000, (0.01, 0.1)),
    "welding": (115_000, (0.02, 0.4)),
    "heat_treatment": (125_000, (0.01, 0.2)),
    "plating": (90_000, (0.01, 0.1)),
    "painting": (80_000, (0.01, 0.1)),
    "assembly": (70_000, (0.02, 0.3)),
    "inspection": (60_000, (0.005, 0.05)),
}
# Processes that consume a material when a step of theirs is the one that does.
MATERIAL_PROCESSES = ("casting", "forging", "machining", "stamping", "bending", "welding")
CERTIFICATIONS = ("SNI", "ISO9001", "ISO14001", "IATF16949", "SMK3", "ISO45001")
# Materials: (id, price per kg, domestic).
MATERIALS = (
    ("gray-iron", 13_500, True), ("ductile-iron", 17_000, True), ("steel-sheet", 15_000, True),
    ("steel-bar", 17_500, True), ("alloy-bar", 27_000, False), ("stainless", 39_000, False),
    ("aluminium", 47_000, True), ("aluminium-hi", 58_000, False), ("copper", 135_000, False),
    ("brass", 95_000, True),
)
# A box around Java and Madura, for coordinates.
LAT, LON = (-8.4, -6.0), (105.5, 114.5)


@dataclass(frozen=True)
class Shape:
    """The structure drawn for one instance (kept in the scenario's name for the reader)."""

    layout: str
    periods: int
    places: int
    processes: tuple[str, ...]
    components: int
    materials: int
    centers: int
    utilization: float


def generate(size: str, seed: int, extended: bool = False) -> dict[str, Any]:
    """A scenario document with the workshop and request counts of `size`, reproducible from
    `seed`; `extended` adds SPEC section 8 fields (minimum lots, dual sourcing, spread,
regional shares) and a start date."""
    if size not in SIZES:
        raise KeyError(f"unknown size '{size}' (known: {', '.join(SIZES)})")
    counts = SIZES[size]
    rng = random.Random(f"alt/{size}/{seed}/{int(extended)}")
    shape = _shape(rng, size)
    places = _places(rng, shape)
    routes = _routes(rng, places, shape.layout)
    procs = list(shape.processes)
    workshops = _workshops(rng, counts.workshops, places, procs, shape.periods)
    materials = rng.sample(MATERIALS, shape.materials)
    components = _components(rng, shape, procs, materials)
    offers = _offers(rng, workshops, components, extended)
    # A lag between steps only where the horizon leaves room for the longest routing.
    longest = max(len(c["routing"]) for c in components)
    lag = rng.choice((0, 1)) if shape.periods >= longest + 2 else 0
    requests = _requests(rng, counts.requests, components, places, shape, lag, extended)
    for c in components:
        del c["home_cost"]
    _scale(requests, workshops, components, shape)
    centers = _centers(rng, shape, places, materials, requests, components)

    sc: dict[str, Any] = {
        "name": f"alt-{size}-s{seed}-{shape.layout}-{shape.periods}p",
        "currency": "IDR",
        "horizon": {"periods": shape.periods, "period_days": rng.choice((7, 7, 7, 14))},
        "transport": {"cost_per_kg_km": round(rng.uniform(0.5, 5.0), 2),
                      "road_factor": round(rng.uniform(1.1, 1.6), 2)},
        "policy": _policy(rng, places, lag, extended),
        "locations": [{"id": p["id"], "lat": p["lat"], "lon": p["lon"]} for p in places],
        "materials": [{"id": m[0]} for m in materials],
        "material_centers": centers,
        "workshops": workshops,
        "components": components,
        "offers": offers,
        "requests": requests,
    }
    if routes:
        sc["routes"] = routes
    if extended:
        start = date(2027, 1, 4) + timedelta(days=7 * rng.randrange(0, 40))
        sc["horizon"]["start"] = start.isoformat()
    return sc


def _shape(rng: random.Random, size: str) -> Shape:
    periods = {"small": (2, 8), "medium": (3, 12), "large": (4, 16), "national": (6, 12)}[size]
    n_procs = rng.randint(4, len(PROCESSES))
    return Shape(
        layout=rng.choice(LAYOUTS),
        periods=rng.randint(*periods),
        places={"small": rng.randint(3, 8), "medium": rng.randint(5, 20),
                "large": rng.randint(10, 40), "national": rng.randint(30, 80)}[size],
        processes=tuple(rng.sample(list(PROCESSES), n_procs)),
        components={"small": rng.randint(3, 8), "medium": rng.randint(6, 20),
                    "large": rng.randint(10, 40), "national": rng.randint(20, 60)}[size],
        materials=rng.randint(2, len(MATERIALS)),
        centers=rng.randint(1, 6),
        utilization=rng.choice((0.5, 0.7, 0.85, 0.95, 1.05, 1.2)),
    )


def _places(rng: random.Random, shape: Shape) -> list[dict[str, Any]]:
    n = shape.places
    out = []
    for i in range(n):
        if shape.layout == "corridor":
            f = i / max(1, n - 1)
            lat = -6.3 - 1.2 * f + rng.gauss(0, 0.05)
            lon = 106.5 + 6.0 * f + rng.gauss(0, 0.05)
        elif shape.layout == "hub":
            near = i < max(2, n // 2)
            lat = -6.5 + rng.gauss(0, 0.08 if near else 0.6)
            lon = 107.2 + rng.gauss(0, 0.08 if near else 1.5)
        elif shape.layout == "islands":
            west = i % 2 == 0
            lat = rng.uniform(-7.2, -6.2) if west else rng.uniform(-7.9, -6.9)
            lon = rng.uniform(105.8, 107.8) if west else rng.uniform(111.5, 114.0)
        else:
            lat, lon = rng.uniform(*LAT), rng.uniform(*LON)
        out.append({"id": f"loc-{i:03d}", "lat": round(min(max(lat, -9.0), -5.5), 4),
                    "lon": round(min(max(lon, 105.0), 115.0), 4)})
    return out


def _km(a: dict[str, Any], b: dict[str, Any]) -> float:
    dlat = math.radians(b["lat"] - a["lat"])
    dlon = math.radians(b["lon"] - a["lon"])
    h = (math.sin(dlat / 2) ** 2 + math.cos(math.radians(a["lat"]))
         * math.cos(math.radians(b["lat"])) * math.sin(dlon / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def _routes(rng: random.Random, places: list[dict[str, Any]], layout: str
            ) -> list[dict[str, Any]]:
    """Explicit road links for the islands layout: a chain inside each group, a few extra
    links, and one ferry link between the groups (sometimes none: then the groups cannot
    ship to each other and each has to manage on its own)."""
    if layout != "islands":
        return []
    out = []
    groups = [places[0::2], places[1::2]]
    for g in groups:
        for a, b in zip(g, g[1:], strict=False):
            out.append({"from": a["id"], "to": b["id"], "km": round(_km(a, b) * 1.3, 1)})
        for _ in range(len(g) // 3):
            a, b = rng.sample(g, 2) if len(g) >= 2 else (g[0], g[0])
            if a is not b:
                out.append({"from": a["id"], "to": b["id"],
                            "km": round(_km(a, b) * rng.uniform(1.2, 1.6), 1)})
    if groups[1] and rng.random() < 0.8:
        a, b = rng.choice(groups[0]), rng.choice(groups[1])
        out.append({"from": a["id"], "to": b["id"], "km": round(_km(a, b) * 1.8, 1)})
    return out


def _workshops(rng: random.Random, count: int, places: list[dict[str, Any]],
               procs: list[str], periods: int) -> list[dict[str, Any]]:
    # Each place specialises: its workshops run its processes more often.
    bias = {p["id"]: {q: rng.uniform(0.1, 0.9) for q in procs} for p in places}
    weight = [rng.paretovariate(1.2) for _ in places]
    certs_share = {c: rng.choice((0.02, 0.05, 0.2, 0.5, 0.8)) for c in CERTIFICATIONS}
    out = []
    for i in range(count):
        loc = rng.choices(places, weight)[0]["id"]
        mine = [q for q in procs if rng.random() < bias[loc][q]] or [rng.choice(procs)]
        anchor = rng.random() < 0.05
        capacity: dict[str, float] = {}
        rate: dict[str, float] = {}
        for q in mine:
            base = rng.lognormvariate(math.log(60), 0.7) * (8 if anchor else 1)
            capacity[q] = float(max(4, round(base)))
            r = PROCESSES[q][0] * rng.uniform(0.7, 1.4) * (0.9 if anchor else 1.0)
            rate[q] = 0.0 if rng.random() < 0.005 else float(round(r, -3))
        w: dict[str, Any] = {
            "id": f"w{i:05d}",
            "location": loc,
            "certifications": [c for c, s in certs_share.items()
                               if rng.random() < min(1.0, s * (2.5 if anchor else 1))],
            "capacity": capacity,
            "rate": rate,
        }
        # Maintenance: one process is down for one or two random periods.
        if periods > 1 and rng.random() < 0.3:
            q = rng.choice(mine)
            seq = [capacity[q]] * periods
            for t in rng.sample(range(periods), min(periods - 1, rng.randint(1, 2))):
                seq[t] = 0.0
            w["capacity_by_period"] = {q: seq}
        if rng.random() < (0.6 if anchor else 0.2):
            w["engagement_cost"] = float(round(rng.lognormvariate(math.log(2e7), 1.0), -5))
        out.append(w)
    return out


def _components(rng: random.Random, shape: Shape, procs: list[str],
                materials: list[tuple[str, int, bool]]) -> list[dict[str, Any]]:
    out = []
    mat_procs = [p for p in procs if p in MATERIAL_PROCESSES] or procs[:1]
    for k in range(shape.components):
        n = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))
        steps: list[dict[str, Any]] = []
        first = rng.choice(mat_procs)
        n_mat = rng.choice((1, 1, 1, 2, 3)) if n >= 2 else 1
        weight = round(rng.lognormvariate(math.log(3.0), 1.0), 2)
        for s in range(n):
            proc = first if s == 0 else rng.choice(procs)
            lo, hi = PROCESSES[proc][1]
            step: dict[str, Any] = {"process": proc, "hours": round(rng.uniform(lo, hi), 4)}
            # Material steps: the first, and more for multi-material parts.
            if s == 0 or (s < n_mat + 1 and proc in MATERIAL_PROCESSES and rng.random() < 0.7):
                mat = rng.choice(materials)[0]
                step["material"] = mat
                step["material_kg"] = round(weight * (rng.uniform(1.05, 1.4) if s == 0
                                                      else rng.uniform(0.05, 0.4)), 3)
            steps.append(step)
        home = sum(st["hours"] * PROCESSES[st["process"]][0]
                   + st.get("material_kg", 0) * dict((m[0], m[1]) for m in materials)
                   .get(st.get("material", ""), 0) for st in steps)
        # home_cost is dropped before the document is returned: only the requests' unmet
        # penalties are drawn against it.
        c: dict[str, Any] = {"id": f"part-{k:03d}", "weight_kg": weight,
                             "offers_only": rng.random() < 0.2, "routing": steps,
                             "home_cost": home}
        if rng.random() < 0.8:
            c["import"] = {"price": float(round(home * rng.uniform(0.6, 2.5), -2)),
                           "lead_periods": rng.randint(0, shape.periods + 2)}
        out.append(c)
    return out


def _offers(rng: random.Random, workshops: list[dict[str, Any]],
            components: list[dict[str, Any]], extended: bool) -> list[dict[str, Any]]:
    out = []
    by_proc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for w in workshops:
        for q in w["capacity"]:
            by_proc[q].append(w)
    for c in components:
        for s, st in enumerate(c["routing"]):
            capable = by_proc[st["process"]]
            if not capable:
                continue
            share = rng.uniform(0.1, 0.5) if c["offers_only"] else rng.choice((0, 0, 0.05, 0.2))
            k = min(len(capable), max(1 if c["offers_only"] else 0,
                                      round(share * len(capable))))
            tool = rng.choice((0, 0, 5e6, 3e7, 1.5e8))
            for w in rng.sample(capable, k):
                o: dict[str, Any] = {"workshop": w["id"], "component": c["id"], "step": s}
                kind = rng.random()
                hours = round(st["hours"] * rng.uniform(0.6, 1.3), 4)
                if kind < 0.4:
                    o["unit_price"] = float(round(w["rate"][st["process"]] * hours
                                                  * rng.uniform(0.6, 1.2)))
                    o["hours"] = hours
                elif kind < 0.7:
                    o["hours"] = hours  # priced at the workshop's rate
                else:
                    o["unit_price"] = float(round(w["rate"][st["process"]] * st["hours"]
                                                  * rng.uniform(0.5, 1.1)))
                if tool:
                    o["tooling_cost"] = float(round(tool * rng.uniform(0.5, 1.5), -4))
                if extended and rng.random() < 0.15:
                    o["min_lot"] = rng.choice((10, 50, 200))
                out.append(o)
        if extended:
            for st in c["routing"]:
                if rng.random() < 0.15:
                    st["min_lot"] = rng.choice((5, 20, 100))
    return out


def _requests(rng: random.Random, count: int, components: list[dict[str, Any]],
              places: list[dict[str, Any]], shape: Shape, lag: int, extended: bool
              ) -> list[dict[str, Any]]:
    periods = shape.periods
    popularity = [rng.paretovariate(1.0) for _ in components]
    out = []
    for i in range(count):
        c = rng.choices(components, popularity)[0]
        # Room for the routing: with a lag between steps, the last step runs at least
        # (steps - 1) * lag periods after the first.
        span = (len(c["routing"]) - 1) * lag
        release = rng.randrange(max(1, periods - span))
        # A heavy tail of series sizes, and single pieces (spares, prototypes, GAP-like).
        qty = 1 if rng.random() < 0.05 else max(2, round(rng.lognormvariate(math.log(400), 1.3)))
        r: dict[str, Any] = {"id": f"R{i:05d}", "component": c["id"], "quantity": qty,
                             "release": release}
        if rng.random() < 0.9:
            r["due"] = min(periods - 1, release + span
                           + rng.randrange(0, max(1, periods // 2 + 1)))
        if rng.random() < 0.85:
            r["destination"] = rng.choice(places)["id"]
        need = rng.random()
        if need < 0.3:
            r["requires"] = [rng.choice(CERTIFICATIONS)]
        elif need < 0.4:
            r["requires"] = rng.sample(CERTIFICATIONS, 2)
        if rng.random() < 0.2:
            r["max_suppliers_per_step"] = rng.choice((1, 1, 2, 4))
            if extended and r["max_suppliers_per_step"] >= 2 and rng.random() < 0.5:
                r["min_suppliers_per_step"] = 2
        if c.get("import") and rng.random() < 0.2:
            r["allow_import"] = False
        if rng.random() < 0.3:
            # From below the cost of making it (then leaving it is right) to far above.
            r["unmet_penalty"] = float(round(c["home_cost"] * rng.lognormvariate(
                math.log(3.0), 1.0), -2))
        if rng.random() < 0.3:
            r["late_penalty"] = float(round(rng.lognormvariate(math.log(5e3), 1.5), -1))
        out.append(r)
    return out


def _scale(requests: list[dict[str, Any]], workshops: list[dict[str, Any]],
           components: list[dict[str, Any]], shape: Shape) -> None:
    """One factor on all quantities so that the busiest process needs `shape.utilization`
    of its hours; single-piece requests stay single pieces."""
    comp = {c["id"]: c for c in components}
    need: dict[str, float] = defaultdict(float)
    for r in requests:
        for st in comp[r["component"]]["routing"]:
            need[st["process"]] += st["hours"] * r["quantity"]
    have: dict[str, float] = defaultdict(float)
    for w in workshops:
        for q, h in w["capacity"].items():
            seq = w.get("capacity_by_period", {}).get(q)
            have[q] += sum(seq) if seq else h * shape.periods
    load = max((need[q] / have[q] for q in need if have[q] > 0), default=0.0)
    if load <= 0:
        return
    f = shape.utilization / load
    for r in requests:
        if r["quantity"] > 1:
            r["quantity"] = max(1, round(r["quantity"] * f))


def _centers(rng: random.Random, shape: Shape, places: list[dict[str, Any]],
             materials: list[tuple[str, int, bool]], requests: list[dict[str, Any]],
             components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    comp = {c["id"]: c for c in components}
    need: dict[str, float] = defaultdict(float)
    for r in requests:
        for st in comp[r["component"]]["routing"]:
            if "material" in st:
                need[st["material"]] += st["material_kg"] * r["quantity"]
    out = []
    for j in range(shape.centers):
        held = rng.sample(materials, rng.randint(1, len(materials)))
        stock = {}
        for m, price, domestic in held:
            stock[m] = {"stock_kg": float(round(need[m] * rng.uniform(0.2, 1.5), 1)),
                        "price_per_kg": float(round(price * rng.uniform(0.85, 1.3))),
                        "domestic": domestic if rng.random() < 0.85 else not domestic}
        out.append({"id": f"mc-{j}", "location": rng.choice(places)["id"],
                    "materials": stock})
    # Every material some step uses is held somewhere (otherwise its steps are simply
    # ineligible, which the validator allows but which says little).
    held_any = {m for c in out for m in c["materials"]}
    for m, price, domestic in materials:
        if m not in held_any and need[m] > 0:
            out[0]["materials"][m] = {"stock_kg": float(round(need[m] * 0.8, 1)),
                                      "price_per_kg": float(price), "domestic": domestic}
    return out


def _policy(rng: random.Random, places: list[dict[str, Any]], lag: int, extended: bool
            ) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "min_domestic_share": rng.choice((0.0, 0.0, 0.0, 0.1, 0.3)),
        "min_local_content": rng.choice((0.0, 0.0, 0.25, 0.4)),
        "import_tariff": rng.choice((0.0, 0.05, 0.1, 0.3)),
        "step_lag_periods": lag,
        "unmet_penalty": float(rng.choice((5e6, 5e7, 1e8, 1e9))),
        "late_penalty": float(rng.choice((0.0, 1e3, 2e4))),
    }
    if extended:
        if rng.random() < 0.5:
            policy["max_workshop_share"] = rng.choice((0.2, 0.5))
        if rng.random() < 0.5:
            policy["min_location_share"] = {rng.choice(places)["id"]: rng.choice((0.05, 0.1))}
    return policy
