"""Progress events reach the library's callback while the engine searches."""

from __future__ import annotations

from pathlib import Path

from models import load_scenario
from solvers import ProgressEvent
from solvers.mip import parse_highs_progress


def test_highs_table_lines_parsed() -> None:
    line = (" R       0       0         0   0.00%   1012720.977169  1027113.7875       1.40%"
            "        0      0      0       130     0.2s")
    assert parse_highs_progress(line) == (1027113.7875, 1012720.977169)
    first = (" J       0       0         0   0.00%   -inf            4.32680003e+13     Large"
             "        0      0      0         0     0.0s")
    assert parse_highs_progress(first) == (4.32680003e13, None)
    assert parse_highs_progress("  Timing            3.02") is None
    assert parse_highs_progress("816 rows, 865 cols, 3165 nonzeros  0s") is None


def test_callback_gets_phases_incumbent_and_bound(solve_checked, benchmarks_dir: Path) -> None:  # type: ignore[no-untyped-def]
    events: list[ProgressEvent] = []
    plan = solve_checked(load_scenario(benchmarks_dir / "cflp" / "cap43.json"),
                         progress=events.append)
    phases = [e.phase for e in events]
    assert phases[0] == "build" and phases[-1] == "done"
    searching = [e for e in events if e.phase == "search" and e.incumbent is not None]
    assert searching, "no incumbent reported during the search"
    assert all(e.bound is None or e.bound <= e.incumbent + 1e-6 for e in searching
               if e.incumbent is not None)
    assert events[-1].incumbent == plan.objective
    assert [e.elapsed for e in events] == sorted(e.elapsed for e in events)


def test_events_show_the_search_state_never_a_worse_plan(solve_checked) -> None:  # type: ignore[no-untyped-def]
    """Under a limit the default scenario's engine reports its own first incumbent
    (everything imported, 49 times the constructive plan) after the constructive plan;
    the stream shows the search's incumbent, so it never rises, and its bound never
    falls."""
    from models import scenario_from_dict
    from scenarios import builtin_dict

    events: list[ProgressEvent] = []
    plan = solve_checked(scenario_from_dict(builtin_dict("java-automotive")), time_limit=3.0,
                         progress=events.append)
    incumbents = [e.incumbent for e in events if e.incumbent is not None]
    bounds = [e.bound for e in events if e.bound is not None]
    assert incumbents and bounds
    assert incumbents == sorted(incumbents, reverse=True)
    assert bounds == sorted(bounds)
    assert events[-1].incumbent == plan.objective
