"""The time limit holds the whole command even where a phase does not look at the clock:
after the deadline (and a grace of 3% of the limit) the plan is taken from the search's
incumbent and the busy worker is left behind, as after a SIGINT."""

from __future__ import annotations

import threading
import time

import pytest

import solvers.pipeline
from models.plan import Plan, Status
from models.scenario import Scenario
from solvers.interrupt import solve_interruptibly
from solvers.options import SolveOptions

TINY = Scenario.model_validate({"name": "deadline", "horizon": {"periods": 1}})


def test_a_worker_past_the_deadline_is_left_and_the_incumbent_taken(
        monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    incumbent = Plan(scenario="deadline", status=Status.NO_SOLUTION)

    def busy(_sc: Scenario, options: SolveOptions) -> Plan:
        assert options.stop is not None
        options.stop.snapshot = lambda: incumbent
        release.wait(60)  # a phase that never looks at the clock
        return Plan(scenario="deadline", status=Status.INFEASIBLE)

    monkeypatch.setattr(solvers.pipeline, "solve", busy)
    try:
        outcome = solve_interruptibly(TINY, SolveOptions(time_limit=0.2,
                                                         started=time.perf_counter()))
        assert outcome.plan is incumbent
        assert (outcome.interrupted, outcome.detached) == (False, True)
        # Not a stop: a search that comes back in the grace keeps its own status.
        assert outcome.plan.status is Status.NO_SOLUTION
    finally:
        release.set()


def test_a_worker_that_returns_in_time_gives_its_own_plan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def quick(_sc: Scenario, options: SolveOptions) -> Plan:
        assert options.stop is not None and not options.stop.is_set()
        return Plan(scenario="deadline", status=Status.INFEASIBLE)

    monkeypatch.setattr(solvers.pipeline, "solve", quick)
    outcome = solve_interruptibly(TINY, SolveOptions(time_limit=30.0))
    assert outcome.plan.status is Status.INFEASIBLE
    assert (outcome.interrupted, outcome.detached) == (False, False)


def test_a_search_already_writing_its_plan_is_waited_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Past the deadline and its grace the search is writing its own plan: the snapshot
    # would write the same rows again on the same interpreter, so the watchdog waits.
    snapshots: list[int] = []

    def writing(_sc: Scenario, options: SolveOptions) -> Plan:
        assert options.stop is not None
        options.stop.snapshot = lambda: snapshots.append(1) or Plan(  # type: ignore[func-returns-value]
            scenario="deadline", status=Status.NO_SOLUTION)
        assert options.stop.claim("search")
        time.sleep(0.6)  # the limit is 0.2 s: well past it and its grace
        return Plan(scenario="deadline", status=Status.INFEASIBLE)

    monkeypatch.setattr(solvers.pipeline, "solve", writing)
    outcome = solve_interruptibly(TINY, SolveOptions(time_limit=0.2,
                                                     started=time.perf_counter()))
    assert outcome.plan.status is Status.INFEASIBLE
    assert (outcome.interrupted, outcome.detached) == (False, False)
    assert snapshots == []


def test_a_search_that_ends_after_the_snapshot_does_not_write_its_plan() -> None:
    from solvers.options import StopFlag

    stop = StopFlag()
    assert stop.claim("snapshot")
    assert not stop.claim("search") and stop.claim("snapshot")


def test_the_limit_counts_from_the_call_including_the_pipelines_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`solvers.solve` starts the clock before it loads the pipeline (0.5 s on a first
    solve): a 3 s solve of the default scenario returned at 3.7 s when it counted from
    after. A start the caller set (the CLI's: the process's) is kept."""
    import solvers

    seen: list[SolveOptions] = []

    def record(_sc: Scenario, options: SolveOptions) -> Plan:
        seen.append(options)
        return Plan(scenario="deadline", status=Status.INFEASIBLE)

    monkeypatch.setattr(solvers.pipeline, "solve", record)
    before = time.perf_counter()
    solvers.solve(TINY, SolveOptions(time_limit=3))
    assert seen[0].started is not None and before <= seen[0].started <= time.perf_counter()
    solvers.solve(TINY)
    assert seen[1].started is not None and seen[1].time_limit is None
    solvers.solve(TINY, SolveOptions(time_limit=3, started=before - 10))
    assert seen[2].started == before - 10
