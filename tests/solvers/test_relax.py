"""The LP bounds of solvers/relax.py are lower bounds of the SPEC model: below published
and exact optima, and at least the unit bound; the strong links make the fixed costs
count (CFLP: the strong LP is above the weak one)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

import solvers.lp_guided as lp_guided
import solvers.relax as relax
from models import load_scenario, scenario_from_dict
from models.derived import Derived
from scenarios import builtin_dict
from scenarios.generate import generate

BENCH = ["cflp/cap41", "cflp/cap71", "gap/gap3-2", "gap/gap12-4", "fatahi/fatahi-5x10x10-1"]
# The built-in default scenario's proven optimum (tests/scenarios/test_builtin_solve.py
# proves it; solving it here again would take 12-25 s).
DEFAULT_OPTIMUM = 8_230_460_122


def _providers() -> list[tuple[str, object]]:
    return [("full", relax.full_lp_bound), ("grouped", relax.grouped_lp_bound),
            ("grouped by component", relax.coarse_lp_bound)]


def _check(sc_bound: float, optimum: float, floor: float) -> None:
    assert math.isfinite(sc_bound)
    assert floor - 1e-6 * max(1.0, optimum) <= sc_bound <= optimum * (1 + 1e-9) + 1e-6


@pytest.mark.parametrize("name", BENCH)
def test_bounds_below_published_optimum(benchmarks_dir: Path, name: str) -> None:
    folder, stem = name.split("/")
    optimum = json.loads((benchmarks_dir / folder / "optima.json").read_text())[stem]
    sc = load_scenario(benchmarks_dir / f"{name}.json")
    d = Derived(sc)
    floor = lp_guided.unit_bound(sc, d)
    for _label, provider in _providers():
        _check(provider(sc, d, time.perf_counter() + 60, None), optimum, floor)  # type: ignore[operator]


def test_strong_links_tighten_facility_location(benchmarks_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """cap71 (16 sites, 50 customers) written compactly, as models above
    COMPACT_ABOVE_X unit columns are (cflp-large): the disaggregated links
    x_ij <= d_j y_i lift the LP bound; without them it is the weak CFLP relaxation."""
    import solvers.constraints as constraints

    monkeypatch.setattr(constraints, "COMPACT_ABOVE_X", 0)
    optimum = json.loads((benchmarks_dir / "cflp" / "optima.json").read_text())["cap71"]
    sc = load_scenario(benchmarks_dir / "cflp" / "cap71.json")
    d = Derived(sc)
    strong = relax.full_lp(sc, d, None)
    assert strong.links > 0 and strong.value is not None
    monkeypatch.setattr(relax, "add_strong_links", lambda b, requests: 0)
    weak = relax.full_lp(sc, d, None)
    assert weak.value is not None
    assert weak.value < strong.value <= optimum * (1 + 1e-9)


def test_default_scenario(solve_checked) -> None:  # noqa: ARG001 - the checker fixture's
    sc = scenario_from_dict(builtin_dict("java-automotive"))
    d = Derived(sc)
    floor = lp_guided.unit_bound(sc, d)
    for _label, provider in _providers():
        _check(provider(sc, d, time.perf_counter() + 60, None), DEFAULT_OPTIMUM, floor)  # type: ignore[operator]


@pytest.mark.parametrize("seed", [1, 3])
def test_bounds_below_exact_optimum(solve_checked, seed: int) -> None:
    doc = generate("small", seed)
    exact = solve_checked(doc)
    assert exact.status.value == "optimal" and exact.objective is not None
    sc = scenario_from_dict(doc)
    d = Derived(sc)
    floor = lp_guided.unit_bound(sc, d)
    for _label, provider in _providers():
        _check(provider(sc, d, time.perf_counter() + 60, None), exact.objective, floor)  # type: ignore[operator]


def test_merged_requests_keep_their_units() -> None:
    """Requests of one component, certifications, destination (and release) become one,
    with their quantities summed; each keeps its own way of not being made."""
    sc = scenario_from_dict(generate("small", 2))
    merged, members = relax.merge_requests(sc)
    assert sum(r.quantity for r in merged.requests) == sc.total_quantity()
    assert sorted(r.id for rs in members.values() for r in rs) == sorted(
        r.id for r in sc.requests)
    for r in merged.requests:
        rs = members[r.id]
        assert r.release == min(m.release for m in rs)
        assert {(m.component, tuple(sorted(m.requires)), m.destination) for m in rs} == {
            (r.component, tuple(sorted(r.requires)), r.destination)}
    coarse, _ = relax.merge_requests(sc, by_release=False)
    assert len(coarse.requests) <= len(merged.requests) < len(sc.requests)


def test_past_deadline_returns_no_bound() -> None:
    sc = scenario_from_dict(generate("small", 1))
    assert relax.grouped_lp_bound(sc, Derived(sc), time.perf_counter() - 1.0, None) == -math.inf


def test_grouped_lp_past_its_deadline_is_not_built() -> None:
    # Building it alone took 2 s of a plan of 100,000 requests that was already late.
    sc = scenario_from_dict(generate("small", 1))
    late = relax.grouped_lp(sc, Derived(sc), time.perf_counter() - 1.0)
    assert late.bound == -math.inf and late.columns == 0 and late.value is None
