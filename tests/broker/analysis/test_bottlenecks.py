"""Bottlenecks: dual values of capacity and stock, and re-solved expansions, by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import models
from broker.analysis.bottlenecks import bottlenecks
from cli import app
from models.check import check

# One workshop, 10 h of casting per period, 1 h and 2 IDR per unit; 25 units wanted, the
# import costs 10. Optimum: make 20 (40), import 5 (50) = 90. One more hour in a period
# makes one more unit instead of importing it: saves 10 - 2 = 8 per hour, in both periods.
# Capacity x 1.1 gives 22 hours: 22 made (44) + 3 imported (30) = 74, a saving of 16.
CAPACITY = {
    "name": "bn-capacity",
    "horizon": {"periods": 2},
    "locations": [{"id": "a"}],
    "workshops": [{"id": "w1", "location": "a", "capacity": {"cast": 10},
                   "rate": {"cast": 2}}],
    "components": [{"id": "c", "import": {"price": 10},
                    "routing": [{"process": "cast", "hours": 1}]}],
    "requests": [{"id": "R", "component": "c", "quantity": 25}],
}

# 100 units of 1 kg each; center A has 50 kg at 1/kg, center B plenty at 3/kg, no
# transport cost. Optimum: 50 kg from A (50) + 50 kg from B (150) = 200. One more kg at A
# replaces one from B: 2 per kg. Capacity (1000 h) does not bind: no capacity rows listed.
STOCK = {
    "name": "bn-stock",
    "horizon": {"periods": 1},
    "locations": [{"id": "a"}],
    "materials": [{"id": "m"}],
    "material_centers": [
        {"id": "A", "location": "a", "materials": {"m": {"stock_kg": 50, "price_per_kg": 1}}},
        {"id": "B", "location": "a", "materials": {"m": {"stock_kg": 1000,
                                                         "price_per_kg": 3}}},
    ],
    "workshops": [{"id": "w1", "location": "a", "capacity": {"cast": 1000},
                   "rate": {"cast": 0}}],
    "components": [{"id": "c", "routing": [{"process": "cast", "hours": 1, "material": "m",
                                            "material_kg": 1}]}],
    "requests": [{"id": "R", "component": "c", "quantity": 100}],
}


def test_capacity_value_and_reresolved_expansion() -> None:
    sc = models.scenario_from_dict(CAPACITY)
    rep = bottlenecks(sc, verify=1, expand=0.1)
    assert rep.plan is not None and check(sc, rep.plan).ok
    assert rep.objective == pytest.approx(90.0)
    assert rep.lp_objective == pytest.approx(90.0)
    assert [(c.workshop, c.period, c.value_per_hour) for c in rep.capacity] == [
        ("w1", 0, pytest.approx(8.0)), ("w1", 1, pytest.approx(8.0))]
    (cluster,) = rep.clusters
    assert (cluster.cluster, cluster.process, cluster.periods) == ("a", "cast", [0, 1])
    # 8 per extra hour in one period; 16 for one more hour in each of the two.
    assert cluster.best_value_per_hour == pytest.approx(8.0)
    assert cluster.value_hour_each_period == pytest.approx(16.0)
    (inv,) = rep.invest
    assert inv.extra_hours == pytest.approx(2.0)
    assert inv.estimated_saving == pytest.approx(16.0)
    assert inv.saving == pytest.approx(16.0)
    assert inv.proven and inv.note is None


# w2 is cheaper per unit (1 an hour against 5 at w1) but costs 1,000 to engage: the plan
# makes the 10 units at w1 (50). w2's capacity row in the LP with w2 left out reads
# hours - 100 * 0 <= 0; its dual (4 per hour) is what engaging w2 would be worth, not what
# an hour more there saves: the expansion re-solves to the same 50. w1's 100 h do not bind.
UNENGAGED = {
    "name": "bn-unengaged",
    "horizon": {"periods": 1},
    "locations": [{"id": "a"}, {"id": "b"}],
    "routes": [{"from": "a", "to": "b", "km": 1}],
    "workshops": [
        {"id": "w1", "location": "a", "capacity": {"cast": 100}, "rate": {"cast": 5}},
        {"id": "w2", "location": "b", "capacity": {"cast": 100}, "rate": {"cast": 1},
         "engagement_cost": 1000},
    ],
    "components": [{"id": "c", "routing": [{"process": "cast", "hours": 1}]}],
    "requests": [{"id": "R", "component": "c", "quantity": 10}],
}


def test_capacity_of_an_unengaged_workshop_is_no_saving() -> None:
    sc = models.scenario_from_dict(UNENGAGED)
    rep = bottlenecks(sc, verify=3)
    assert rep.plan is not None and check(sc, rep.plan).ok
    assert rep.objective == pytest.approx(50.0)
    assert {r.workshop for r in rep.plan.production} == {"w1"}
    assert rep.capacity == [] and rep.clusters == [] and rep.invest == []


# 4 h a unit at 2 an hour (8) against an import at 10, 10 h a period: whole units make 2 a
# period (16 h of 20 used), the LP with continuous units 2.5 and prices an hour at
# (10 - 8) / 4 = 0.5. Capacity x 1.1 (11 h) still makes 2 whole units a period: the
# re-solve, proven optimal, saves nothing, and says why.
WHOLE_UNITS = {
    "name": "bn-whole-units",
    "horizon": {"periods": 2},
    "locations": [{"id": "a"}],
    "workshops": [{"id": "w1", "location": "a", "capacity": {"cast": 10},
                   "rate": {"cast": 2}}],
    "components": [{"id": "c", "import": {"price": 10},
                    "routing": [{"process": "cast", "hours": 4}]}],
    "requests": [{"id": "R", "component": "c", "quantity": 10}],
}


def test_expansion_that_saves_nothing_says_why() -> None:
    sc = models.scenario_from_dict(WHOLE_UNITS)
    rep = bottlenecks(sc, verify=1, expand=0.1)
    assert rep.plan is not None and check(sc, rep.plan).ok
    assert rep.objective == pytest.approx(4 * 8 + 6 * 10)
    (inv,) = rep.invest
    assert inv.estimated_saving == pytest.approx(0.5 * 2 * 1.0)
    assert inv.saving == pytest.approx(0.0, abs=1e-6) and inv.proven
    assert inv.note is not None and inv.note.startswith(
        "re-solved to proven optimality, the added hours save nothing")


def test_cli_prints_the_note_instead_of_a_zero_row(tmp_path: Path) -> None:
    f = tmp_path / "s.json"
    f.write_text(json.dumps(WHOLE_UNITS))
    res = CliRunner().invoke(app, ["bottlenecks", str(f), "--verify", "1"])
    assert res.exit_code == 0, res.output
    assert "Where to invest" not in res.stdout
    assert ("a cast x 1.1 (2 extra hours, 1 by the duals): re-solved to proven optimality, "
            "the added hours save nothing") in res.stdout


def test_stock_value() -> None:
    sc = models.scenario_from_dict(STOCK)
    rep = bottlenecks(sc, verify=0)
    assert rep.plan is not None and check(sc, rep.plan).ok
    assert rep.objective == pytest.approx(200.0)
    assert rep.capacity == []
    assert [(s.center, s.material, s.value_per_kg) for s in rep.stock] == [
        ("A", "m", pytest.approx(2.0))]


def test_given_plan_is_priced_not_resolved() -> None:
    """A plan given on the command line is priced with its own choices fixed, not solved
    again: its objective is kept and capacity gets the same 8 per hour."""
    from solvers import SolveOptions, solve

    sc = models.scenario_from_dict(CAPACITY)
    plan = solve(sc, SolveOptions())
    assert check(sc, plan).ok
    rep = bottlenecks(sc, plan, verify=0)
    assert rep.objective == pytest.approx(plan.objective)
    assert [c.value_per_hour for c in rep.capacity] == [pytest.approx(8.0)] * 2


def test_cli_bottlenecks(tmp_path: Path) -> None:
    f = tmp_path / "s.json"
    f.write_text(json.dumps(CAPACITY))
    res = CliRunner().invoke(app, ["bottlenecks", str(f), "--verify", "1"])
    assert res.exit_code == 0, res.output
    assert "Where to invest" in res.stdout
    assert "16" in res.stdout
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"format": "imc-broker/plan@1", "scenario": "bn-capacity",
                               "status": "optimal", "objective": 1, "cost": {},
                               "production": [{"request": "R", "step": 0, "workshop": "w9",
                                               "period": 0, "quantity": 1}]}))
    res = CliRunner().invoke(app, ["bottlenecks", str(f), str(bad)])
    assert res.exit_code == 2
    assert "unknown workshop 'w9'" in res.stderr
