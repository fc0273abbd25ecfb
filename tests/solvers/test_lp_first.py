"""The relaxation first (`SolveOptions.lp_first`) and the constructive plan last
(`SolveOptions.constructive_last`), the quote's switches: an integral LP solution is the
MIP's optimum, a fractional one goes on to the MIP engine, and the constructive plan is
made only where the engine leaves no proven-optimal plan. Every plan goes through the
checker; optima are the engine's own without the switches, or published ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ortools.math_opt.python import mathopt

import models
import solvers.mip as mip_mod
from models.check import check
from models.plan import Plan
from models.scenario import Scenario
from scenarios.generate import generate
from solvers import Engine, SolveOptions, solve
from solvers.model import Raw
from solvers.pipeline import solve_keeping_search

QUOTE = dict(engine=Engine.SCIP, presolve=False, cuts=False, heuristics=False,
             neighbourhood=False, constructive_orders=1, inference_branching=True)


def one_request_cases() -> list[Scenario]:
    """One-request scenarios of generated small registries, as a quote prices them (the
    fixed-cost profile's seed 2 has one whose relaxation is fractional, REQ-00002)."""
    out = []
    for profile, seed in (("balanced", 1), ("fixed-cost", 2)):
        doc = generate("small", seed, profile)
        for item in doc["requests"][:5]:
            out.append(models.scenario_from_dict(doc | {
                "requests": [item], "name": f"{profile}-{seed}-{item['id']}"}))
    return out


def checked(sc: Scenario, plan: Plan) -> Plan:
    report = check(sc, plan)
    assert report.ok, report.violations
    return plan


def engines_called(monkeypatch: pytest.MonkeyPatch) -> list[mathopt.SolverType]:
    """Every engine `solve_model` hands a model to, in order."""
    called: list[mathopt.SolverType] = []
    real = mip_mod.solve_proto

    def spy(am: Any, proto: Any, solver_type: mathopt.SolverType, *a: Any, **k: Any) -> Any:
        called.append(solver_type)
        return real(am, proto, solver_type, *a, **k)

    monkeypatch.setattr(mip_mod, "solve_proto", spy)
    return called


def test_an_integral_relaxation_is_the_optimum_without_the_mip_engine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    called = engines_called(monkeypatch)
    glop_only = fractional = 0
    for sc in one_request_cases():
        called.clear()
        plan = checked(sc, solve(sc, SolveOptions(time_limit=20, lp_first=True, **QUOTE)))
        engines = list(called)
        exact = checked(sc, solve(sc, SolveOptions(time_limit=20, **QUOTE)))
        assert plan.status.value == exact.status.value == "optimal", sc.name
        assert plan.objective == pytest.approx(exact.objective, rel=1e-9), sc.name
        assert plan.bound is not None and plan.bound <= plan.objective
        if not engines:
            continue  # the constructive plan met the unit bound: nothing to search
        if engines == [mathopt.SolverType.GLOP]:
            glop_only += 1
        else:
            # The relaxation was fractional: the MIP engine decided.
            assert engines == [mathopt.SolverType.GLOP, mathopt.SolverType.GSCIP], sc.name
            fractional += 1
    # Most of a quote's models have an integral relaxation (60 of 83 on the bench's
    # ledger); these cases hold both kinds.
    assert glop_only >= 5 and fractional >= 1


def test_a_fractional_relaxation_goes_on_to_the_mip_engine(
        benchmarks_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GAP instance: its LP is fractional, and the published optimum still comes."""
    called = engines_called(monkeypatch)
    optima = json.loads((benchmarks_dir / "gap" / "optima.json").read_text("utf-8"))
    sc = models.load_scenario(benchmarks_dir / "gap" / "gap1-0.json")
    plan = checked(sc, solve(sc, SolveOptions(lp_first=True, **QUOTE)))
    assert called == [mathopt.SolverType.GLOP, mathopt.SolverType.GSCIP]
    assert plan.status.value == "optimal"
    assert plan.objective == pytest.approx(optima["gap1-0"], rel=1e-9)


def test_the_constructive_plan_comes_last_and_only_when_needed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sc = one_request_cases()[0]
    options = SolveOptions(time_limit=20, lp_first=True, constructive_last=True, **QUOTE)
    plan, search = solve_keeping_search(sc, options)
    checked(sc, plan)
    assert search is not None and plan.status.value == "optimal"
    assert not any("constructive" in e for e in search.events), search.events
    before, search = solve_keeping_search(sc, SolveOptions(time_limit=20, **QUOTE))
    assert search is not None and "constructive" in search.events[0]
    assert plan.objective == pytest.approx(before.objective, rel=1e-9)

    # The engine ends without a plan: the constructive one is made after it.
    monkeypatch.setattr(mip_mod, "integral_relaxation", lambda *a: None)
    monkeypatch.setattr("solvers.methods.solve_model", lambda *a, **k: Raw(
        status="no_solution", bound=None, solver_objective=None))
    plan, search = solve_keeping_search(sc, options)
    checked(sc, plan)
    assert search is not None and plan.status.value == "feasible"
    assert [e.split()[1] for e in search.events] == ["constructive"]


def test_the_switches_are_recorded_and_read_back() -> None:
    on = SolveOptions(lp_first=True, constructive_last=True, **QUOTE)
    desc = on.describe()
    assert desc["lp_first"] is True and desc["constructive_last"] is True
    assert SolveOptions.from_description(desc) == on
    # Off, they are not written, so descriptions recorded before read the same.
    assert not {"lp_first", "constructive_last"} & set(SolveOptions().describe())
