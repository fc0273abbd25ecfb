"""Replaying a recorded run bit for bit, and comparing two runs (docs/analysis.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import models
from broker.errors import ReplayError
from broker.ledger import Broker, RunRecord
from models.derived import Derived
from models.plan import COST_TERMS, Plan
from models.scenario import Scenario

# How many differing values a replay lists; the first few say where the plans part ways.
MAX_DIFFERENCES = 20


@dataclass
class Replay:
    run: RunRecord
    plan: Plan
    reproduced: bool
    # Why the plan may legitimately differ (versions, threads), said before the verdict.
    notes: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)


def run_scenario(run: RunRecord) -> Scenario:
    """The scenario a run solved, from its stored document."""
    if not run.scenario_document:
        raise ReplayError(f"run {run.id}", [
            f"a {run.kind} run keeps no scenario document, so it cannot be replayed or "
            f"its hours compared; only runs of `broker solve` and `broker sweep` keep one"])
    return models.scenario_from_dict(json.loads(run.scenario_document), f"run {run.id}")


def replay(b: Broker, run_id: int) -> Replay:
    """Solve a recorded run again with its options and seed, and compare the plan file
    with the stored one."""
    from broker.version import __version__
    from solvers import Engine, SolveOptions, ortools_version, solve

    run = b.run(run_id)
    sc = run_scenario(run)
    if run.document is None:
        raise ReplayError(f"run {run.id}", ["the run keeps no plan to compare with"])
    o = run.options
    options = SolveOptions(time_limit=o.get("time_limit"), seed=int(o.get("seed", 0)),
                           threads=int(o.get("threads", 1)),
                           engine=Engine(o.get("engine", "highs")),
                           gap=float(o.get("gap", 1e-7)))
    notes: list[str] = []
    installed = ortools_version()
    if run.solver_version != installed:
        notes.append(f"recorded with OR-Tools {run.solver_version}, installed {installed}: "
                     f"the plan may differ")
    if run.broker_version and run.broker_version != __version__:
        notes.append(f"recorded with IMC Broker {run.broker_version}, installed "
                     f"{__version__}: the plan may differ")
    if options.threads > 1:
        notes.append(f"the run used {options.threads} threads: only a single-threaded "
                     f"solve is reproducible exactly; replayed with {options.threads} "
                     f"threads as recorded, the plan may differ")
    stored = json.loads(run.document)
    if options.time_limit is not None and stored.get("status") != "optimal":
        notes.append(f"the run stopped at its time limit of {options.time_limit:g} s before "
                     f"proving optimality: where the search stands then depends on the "
                     f"machine's speed, so the plan may differ")
    plan = solve(sc, options)
    fresh = json.loads(plan.to_json())
    diffs = diff_documents(stored, fresh)
    return Replay(run, plan, reproduced=plan.to_json() == run.document, notes=notes,
                  differences=diffs[:MAX_DIFFERENCES])


def diff_documents(a: Any, b: Any, path: str = "") -> list[str]:
    """`path: A -> B` for every value that differs, in document order."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in list(a) + [k for k in b if k not in a]:
            p = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append(f"{p}: (absent) -> {json.dumps(b[k])}")
            elif k not in b:
                out.append(f"{p}: {json.dumps(a[k])} -> (absent)")
            else:
                out += diff_documents(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            p = f"{path}[{i}]"
            if i >= len(a):
                out.append(f"{p}: (absent) -> {json.dumps(b[i])}")
            elif i >= len(b):
                out.append(f"{p}: {json.dumps(a[i])} -> (absent)")
            else:
                out += diff_documents(a[i], b[i], p)
        return out
    return [] if a == b and type(a) is type(b) else [f"{path}: {json.dumps(a)} -> "
                                                     f"{json.dumps(b)}"]


# --------------------------------------------------------------------------------------
# Compare


@dataclass(frozen=True)
class Line:
    section: str  # "cost", "kpi", "workshop", "cluster"
    name: str  # the cost term, KPI, or "w1 units" / "ceper hours"
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        if self.a is None or self.b is None:
            return None
        return self.b - self.a

    @property
    def differs(self) -> bool:
        if self.a is None or self.b is None:
            return self.a is not self.b
        return abs(self.b - self.a) > 1e-9 * max(1.0, abs(self.a), abs(self.b))


@dataclass
class Comparison:
    a: RunRecord
    b: RunRecord
    lines: list[Line]
    notes: list[str] = field(default_factory=list)


def _allocation(sc: Scenario, plan: Plan) -> dict[tuple[str, str], dict[str, float]]:
    """(level, key) -> {"units": final-step units, "hours": hours} by workshop and by
    cluster (the workshop's location)."""
    d = Derived(sc)
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: {"units": 0.0,
                                                                         "hours": 0.0})
    for row in plan.production:
        r = sc.request(row.request)
        comp = sc.component(r.component)
        w = sc.workshop(row.workshop)
        hours = d.step_info(w, comp.id, row.step).hours * row.quantity
        final = row.quantity if row.step == len(comp.routing) - 1 else 0
        for key in (("workshop", w.id), ("cluster", w.location)):
            out[key]["units"] += final
            out[key]["hours"] += hours
    return out


def compare(b: Broker, run_a: int, run_b: int) -> Comparison:
    """Cost terms, KPIs and allocation (final-step units and hours by workshop and by
    cluster) of two runs."""
    ra, rb = b.run(run_a), b.run(run_b)
    notes: list[str] = []
    plans = []
    for r in (ra, rb):
        if r.document is None:
            raise ReplayError(f"run {r.id}", ["the run keeps no plan"])
        plans.append(models.plan_from_dict(json.loads(r.document), f"run {r.id}"))
    pa, pb = plans
    lines: list[Line] = []
    ca = pa.cost.as_dict() if pa.cost is not None else {}
    cb = pb.cost.as_dict() if pb.cost is not None else {}
    for t in COST_TERMS:
        lines.append(Line("cost", t, ca.get(t), cb.get(t)))
    lines.append(Line("cost", "total", pa.objective, pb.objective))
    for k in sorted(set(pa.kpis) | set(pb.kpis)):
        lines.append(Line("kpi", k, pa.kpis.get(k), pb.kpis.get(k)))
    lines.append(Line("kpi", "imported_units", float(sum(i.quantity for i in pa.imports)),
                      float(sum(i.quantity for i in pb.imports))))
    lines.append(Line("kpi", "unmet_units", float(sum(u.quantity for u in pa.unmet)),
                      float(sum(u.quantity for u in pb.unmet))))
    if ra.scenario_document and rb.scenario_document:
        alloc_a = _allocation(run_scenario(ra), pa)
        alloc_b = _allocation(run_scenario(rb), pb)
        for level in ("workshop", "cluster"):
            keys = sorted({k for (lv, k) in set(alloc_a) | set(alloc_b) if lv == level})
            for k in keys:
                va, vb = alloc_a.get((level, k)), alloc_b.get((level, k))
                for what in ("units", "hours"):
                    lines.append(Line(level, f"{k} {what}", va[what] if va else 0.0,
                                      vb[what] if vb else 0.0))
    else:
        notes.append("allocation by workshop and cluster needs the scenario of both runs; "
                     "only runs of `broker solve` and `broker sweep` keep it")
    if ra.scenario_hash != rb.scenario_hash:
        notes.append(f"the runs solved different scenarios (hash {ra.scenario_hash[:12]} "
                     f"vs {rb.scenario_hash[:12]})")
    return Comparison(ra, rb, lines, notes)
