"""The neighbourhood search on a restricted model (solvers/restricted.py), where the whole
model is too large to build: forced here on a small generated instance by lowering the
LP-guided method's threshold."""

from __future__ import annotations

import solvers.lp_guided as lp_guided
from models import scenario_from_dict
from scenarios.generate import generate
from solvers import Method


def test_large_path_improves_on_a_restricted_model(solve_checked, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(lp_guided, "FULL_LP_MAX_COLUMNS", 0)
    sc = scenario_from_dict(generate("small", 2))
    plan = solve_checked(sc, time_limit=8.0, method=Method.LP_GUIDED)
    info = plan.solver or {}
    restricted = info.get("restricted", {})
    assert restricted.get("unit_columns", 0) > 0, {k: info[k] for k in info if k not in ("engine",)}
    lns = info.get("lns", {})
    assert lns.get("iterations", 0) > 0 and lns.get("improvements", 0) > 0, info
    assert str(info.get("plan", "")).startswith("lns/")
    # Its plans come from a restriction: they prove nothing of the whole model's bound.
    assert plan.bound is not None and plan.bound <= plan.objective


def test_an_engine_error_leaves_the_constructive_plan(solve_checked, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """HiGHS failed with "HighsStatus: kError [INTERNAL]" on sub-models of the search (alt
    generator's large seed 1) and the error ended the solve without a plan: an engine's
    error is now an answer without a solution."""
    import types

    from ortools.math_opt.python import mathopt

    import solvers.lpmodel as lpmodel

    def fail(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("HighsStatus: kError [INTERNAL]")

    monkeypatch.setattr(lpmodel, "_solver", types.SimpleNamespace(solve=fail))
    am = lpmodel.ArrayModel("tiny")
    am.var(0, 1, integer=True, cost=1.0)
    ans = lpmodel.solve_proto(am, am.to_proto(), mathopt.SolverType.HIGHS,
                              mathopt.SolveParameters())
    assert ans.reason is mathopt.TerminationReason.OTHER_ERROR and ans.x is None
    assert ans.error == "RuntimeError: HighsStatus: kError [INTERNAL]"
    sc = scenario_from_dict(generate("small", 2))
    plan = solve_checked(sc, time_limit=2.0)
    assert plan.status.value == "feasible"
    assert str((plan.solver or {}).get("plan", "")).startswith("constructive")
