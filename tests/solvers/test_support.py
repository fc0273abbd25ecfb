"""The MIP engines on the LP's support (solvers/support.py) and the LP race of two
algorithms in child processes (solvers/lp_race.py)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from ortools.math_opt.python import mathopt

import solvers.lp_guided as lp_guided
from models import load_scenario, scenario_from_dict
from models.check import check
from models.derived import Derived
from scenarios.altgen import generate as alt_generate
from scenarios.generate import generate
from solvers import Method, SolveOptions
from solvers.constraints import build
from solvers.greedy import ORDERS, greedy_plan
from solvers.lp_guided import evaluate, lp_bound
from solvers.lp_race import race_lp
from solvers.lpmodel import solve_proto
from solvers.search import Search
from solvers.support import SupportMip, offer_guided


def _search(sc, seconds: float) -> Search:  # type: ignore[no-untyped-def]
    now = time.perf_counter()
    return Search(sc, Derived(sc), SolveOptions(), now, now + seconds, evaluate)


def _assert_best_checked(sc, search: Search) -> None:  # type: ignore[no-untyped-def]
    from solvers.pipeline import _best_plan

    plan = _best_plan(search, search.options, search.started, time.perf_counter())
    report = check(sc, plan)
    assert report.ok, report.summary()
    assert report.objective == pytest.approx(plan.objective, rel=1e-9)


def test_a_plan_where_the_constructive_plans_miss_the_policies() -> None:
    """Alt generator, small seed 18 (domestic share 30%, local content 40%): no
    constructive plan meets both floors and the whole-model MIP found none in 10 s; the
    MIP on the LP's support proves its restriction optimal, 0.04% above the LP bound."""
    sc = scenario_from_dict(alt_generate("small", 18))
    search = _search(sc, 20.0)
    d = search.d
    for order in ("due", "regret", "release"):
        search.offer("constructive", *greedy_plan(sc, d, order_by=order))
    assert search.best is None
    SupportMip().improve(search, search.deadline)
    info = search.info["support_mip"]
    assert info["highs"]["status"] == "optimal", info
    assert search.bound_from == "lp" and math.isfinite(search.bound)
    assert search.upper is not None and search.bound <= search.upper <= search.bound * 1.001
    assert search.best is not None and search.best.source == "support mip/highs"
    # The LP is kept for the neighbourhood search after it, on the model it was solved on.
    assert search.lp_solution is not None and search.lp_solution[0] is search.full
    _assert_best_checked(sc, search)


def test_plans_the_lp_guides_where_a_policy_decides() -> None:
    """Alt generator, small seed 15 (local content 40%): the unguided constructive plans
    are more than 10% above the LP bound, and the 10 s solve had ended there (17.2%); the
    plans the whole model's LP guides come within 0.5% of it, and the best is checked."""
    sc = scenario_from_dict(alt_generate("small", 15))
    search = _search(sc, 60.0)
    for order in ORDERS:
        search.offer("constructive", *greedy_plan(sc, search.d, order_by=order))
    unguided = search.upper
    b = build(sc, search.d)
    lp = lp_bound(b, search.options, None, search.report)
    assert lp.x is not None and unguided is not None
    assert offer_guided(search, b, lp.x, time.perf_counter() + 30.0) == len(ORDERS)
    assert unguided > lp.bound * 1.10
    assert search.best is not None and search.best.source == "constructive, LP-guided"
    assert search.upper is not None and lp.bound <= search.upper <= lp.bound * 1.005
    _assert_best_checked(sc, search)


def test_guided_plans_stop_at_their_time() -> None:
    sc = scenario_from_dict(alt_generate("small", 15))
    search = _search(sc, 60.0)
    b = build(sc, search.d)
    lp = lp_bound(b, search.options, None, search.report)
    assert lp.x is not None
    assert offer_guided(search, b, lp.x, time.perf_counter()) == 0 and search.best is None


def test_the_lp_bound_is_below_a_published_optimum(benchmarks_dir: Path) -> None:
    sc = load_scenario(benchmarks_dir / "cflp" / "cap41.json")
    optimum = json.loads((benchmarks_dir / "cflp" / "optima.json").read_text())["cap41"]
    search = _search(sc, 20.0)
    search.offer("constructive", *greedy_plan(sc, search.d))
    SupportMip().improve(search, search.deadline)
    assert search.bound <= optimum * (1 + 1e-9)
    assert search.upper is not None and search.upper >= optimum * (1 - 1e-9)
    _assert_best_checked(sc, search)


def test_support_mip_then_the_whole_model_under_a_limit(solve_checked) -> None:  # type: ignore[no-untyped-def]
    """Alt generator, small seed 1 (no policy): the whole-model MIP held a plan that
    imports everything after 10 s, and the solve ended 12.9% above the bound; the support
    comes first now."""
    sc = scenario_from_dict(alt_generate("small", 1))
    plan = solve_checked(sc, time_limit=15.0)
    info = plan.solver or {}
    assert "highs" in info["support_mip"], info
    assert plan.bound is not None and plan.objective is not None
    assert plan.objective <= plan.bound * 1.01, (plan.objective, plan.bound)


def test_the_race_gives_the_lp_optimum_and_leaves_no_child() -> None:
    sc = scenario_from_dict(generate("small", 1))
    b = build(sc, Derived(sc))
    am = b.model
    proto = am.to_proto(relax=True)
    before = _children()
    alone = solve_proto(am, proto, mathopt.SolverType.HIGHS, mathopt.SolveParameters())
    raced = race_lp(am, proto, mathopt.SolveParameters(), time.perf_counter() + 60)
    assert raced.reason is mathopt.TerminationReason.OPTIMAL
    assert raced.primal_bound == pytest.approx(alone.primal_bound, rel=1e-9)
    assert raced.x is not None and raced.duals is not None
    cost = np.frombuffer(am.cost, dtype=np.float64)
    assert float(np.dot(cost, raced.x)) == pytest.approx(alone.primal_bound, rel=1e-7)
    assert _children() <= before


def test_a_race_past_its_deadline_returns_at_once() -> None:
    sc = scenario_from_dict(generate("medium", 1))
    b = build(sc, Derived(sc))
    am = b.model
    before = _children()
    t0 = time.perf_counter()
    ans = race_lp(am, am.to_proto(relax=True), mathopt.SolveParameters(), t0 + 0.2)
    assert ans.reason is not mathopt.TerminationReason.OPTIMAL
    assert time.perf_counter() - t0 < 8.0
    assert _children() <= before


@pytest.mark.parametrize("early_share", [lp_guided.EARLY_ONE_PERIOD_SHARE, 0.0])
def test_the_medium_path_races_the_whole_lp_while_the_bounds_run(
        solve_checked, monkeypatch, early_share: float) -> None:  # type: ignore[no-untyped-def]
    """The whole LP's race starts when the method constructs, before the one-period LP
    and the bounds, so that they run beside it; the method then waits for that race rather
    than starting another. The Lagrangian path bound (a tenth of the limit) runs only
    where the one-period LP gave no bound (here: no time in its share)."""
    import solvers.methods as methods
    from solvers.lp_race import LpRace

    events: list[str] = []

    class Recorded(LpRace):
        def __init__(self, am, *args, **kwargs):  # type: ignore[no-untyped-def]
            events.append(f"race {am.num_vars}")
            super().__init__(am, *args, **kwargs)

    real_provider = methods.lagrangian_provider
    real_early = lp_guided.early_one_period

    def provider(*args, **kwargs):  # type: ignore[no-untyped-def]
        events.append("lagrangian")
        return real_provider(*args, **kwargs)

    def early(search):  # type: ignore[no-untyped-def]
        events.append("one-period")
        return real_early(search)

    def no_second_race(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a second race was started")

    monkeypatch.setattr(lp_guided, "RACE_MIN_COLUMNS", 0)
    monkeypatch.setattr(lp_guided, "EARLY_ONE_PERIOD_SHARE", early_share)
    monkeypatch.setattr(lp_guided, "EARLY_MIN_SECONDS", 0.0)  # a short limit, for speed
    monkeypatch.setattr(lp_guided, "LpRace", Recorded)
    monkeypatch.setattr(lp_guided, "race_lp", no_second_race)
    monkeypatch.setattr(lp_guided, "early_one_period", early)
    monkeypatch.setattr(methods, "lagrangian_provider", provider)
    sc = scenario_from_dict(generate("small", 1))
    plan = solve_checked(sc, time_limit=10.0, method=Method.LP_GUIDED)
    expected = ["race", "one-period"] + (["lagrangian"] if early_share == 0 else [])
    assert [e.split()[0] for e in events] == expected, events
    assert (plan.solver or {}).get("relaxation") == "lp"
    assert plan.bound is not None and plan.objective is not None


def _children() -> set[str]:
    """The live child processes of this one (other tests may have left their own, such
    as the service's fork server)."""
    import os

    return _children_of(os.getpid())


def test_a_race_whose_children_cannot_run_solves_in_the_process(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import solvers.lp_race as lp_race

    monkeypatch.setattr(lp_race.sys, "executable", "/bin/false")
    sc = scenario_from_dict(generate("small", 1))
    am = build(sc, Derived(sc)).model
    proto = am.to_proto(relax=True)
    alone = solve_proto(am, proto, mathopt.SolverType.HIGHS, mathopt.SolveParameters())
    raced = race_lp(am, proto, mathopt.SolveParameters(), time.perf_counter() + 60)
    assert raced.reason is mathopt.TerminationReason.OPTIMAL
    assert raced.primal_bound == pytest.approx(alone.primal_bound, rel=1e-9)


def test_the_race_dies_with_its_parent(tmp_path: Path) -> None:
    """A solve killed mid-race (a cancelled service job) leaves no LP running."""
    import os
    import signal
    import subprocess
    import sys

    script = tmp_path / "race.py"
    script.write_text(
        "import time\n"
        "from ortools.math_opt.python import mathopt\n"
        "from models import scenario_from_dict\n"
        "from models.derived import Derived\n"
        "from scenarios.generate import generate\n"
        "from solvers.constraints import build\n"
        "from solvers.lp_race import race_lp\n"
        "sc = scenario_from_dict(generate('medium', 1))\n"
        "am = build(sc, Derived(sc)).model\n"
        "print('racing', flush=True)\n"
        "race_lp(am, am.to_proto(relax=True), mathopt.SolveParameters(),\n"
        "        time.perf_counter() + 120)\n")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"racing"
    deadline = time.monotonic() + 30
    kids: set[str] = set()
    while time.monotonic() < deadline and len(kids) < 2:
        kids = _children_of(proc.pid)
        time.sleep(0.1)
    assert len(kids) == 2, kids
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{k}").exists() for k in kids):
        time.sleep(0.1)
    assert not [k for k in kids if Path(f"/proc/{k}").exists()
                and Path(f"/proc/{k}/stat").read_text().split()[2] != "Z"]


def _children_of(pid: int) -> set[str]:
    out = set()
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text().split()
        except OSError:
            continue
        if stat[3] == str(pid) and stat[2] != "Z":
            out.add(p.name)
    return out


def test_a_race_never_waited_for_stops_with_the_search() -> None:
    """A solve that ends before its LP-guided method waits (a stop, the deadline) leaves
    no LP running: the search's `close` stops the race started early."""
    from solvers.methods import LpGuided
    from solvers.model import estimate_unit_columns

    sc = scenario_from_dict(generate("medium", 1))
    before = _children()
    search = _search(sc, 120.0)
    method = LpGuided(estimate_unit_columns(sc, search.d))
    method.construct(search)
    assert method.race is not None and method.race[1] is not None
    kids = _children() - before
    assert len(kids) == 2, kids
    search.close()
    assert not search.closers
    assert _children() <= before


def test_the_second_engine_has_a_floor_in_seconds(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Where the first engine's plan is not close to the bound, SCIP has at least
    SECOND_MIN_SECONDS, even past the phase's own deadline (the phases after it are
    budgeted from the clock), and never past the solve's."""
    import solvers.support as support
    from solvers.lpmodel import Answer

    real = support.solve_proto
    limits: dict[str, float] = {}

    def spy(am, proto, engine, params, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not any(proto.variables.integers):
            return real(am, proto, engine, params, *args, **kwargs)  # the LP
        limits[engine.name] = params.time_limit.total_seconds()
        if engine is mathopt.SolverType.HIGHS:  # found nothing in its share
            return Answer(reason=mathopt.TerminationReason.NO_SOLUTION_FOUND,
                          primal_bound=math.inf, dual_bound=-math.inf)
        return real(am, proto, engine, params, *args, **kwargs)

    monkeypatch.setattr(support, "solve_proto", spy)
    sc = scenario_from_dict(generate("small", 1))
    search = _search(sc, 30.0)
    search.offer("constructive", *greedy_plan(sc, search.d))
    SupportMip().improve(search, time.perf_counter() + 0.5)
    assert set(limits) == {"HIGHS", "GSCIP"}, limits
    assert limits["HIGHS"] < 0.5
    assert support.SECOND_MIN_SECONDS - 0.05 <= limits["GSCIP"] <= 30.0
    assert search.info["support_mip"]["scip"]["status"] in ("optimal", "feasible")
    _assert_best_checked(sc, search)
