"""Cost and KPIs of a plan's rows (models/evaluate.py), on the hand-worked case of
hand_case.py: the numbers the checker compares a plan's own figures with."""

from __future__ import annotations

import pytest
from hand_case import HAND_COST, HAND_KPIS, plan, recost, scenario

from models import plan_from_dict
from models.check import check
from models.evaluate import compute_kpis, recompute_cost


def test_recompute_cost_matches_hand_numbers() -> None:
    cost = recompute_cost(scenario(), plan())
    assert list(cost) == list(HAND_COST)
    assert cost == pytest.approx(HAND_COST, rel=1e-12)


def test_recompute_cost_ignores_the_plans_claimed_cost() -> None:
    cost = recompute_cost(scenario(), plan(lambda d: recost(d, production=1.0)))
    assert cost["production"] == 6280.0


def test_compute_kpis_matches_hand_numbers() -> None:
    assert compute_kpis(scenario(), plan()) == pytest.approx(HAND_KPIS, rel=1e-12)


def test_compute_kpis_uses_the_given_cost() -> None:
    cost = dict(HAND_COST, production=6280.0 + 24500.0)  # total doubles to 49000
    kpis = compute_kpis(scenario(), plan(), cost)
    assert kpis["local_content"] == pytest.approx(1 - 2620 / 49000)


def test_kpis_without_requests_are_one() -> None:
    sc = scenario(lambda d: d.update(requests=[]))
    empty = plan_from_dict({"format": "imc-broker/plan@1", "scenario": "checker-test",
                            "status": "optimal", "objective": 0, "bound": 0, "cost": {}})
    assert compute_kpis(sc, empty) == {"domestic_share": 1.0, "local_content": 1.0,
                                       "on_time_share": 1.0}
    assert check(sc, empty).ok
