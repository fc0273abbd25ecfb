"""The rows of a plan summary, as data: the numbers `broker solve` prints, computed once."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from small_case import small

import broker
from broker.summary import UnmetLine, Utilization, summarize
from models.check import check

# Two workshops, one two-step component (as in tests/test_cli.py): 5 units cast at w1
# (2/h) = 10 and machined at w2 (3/h) = 15, shipped 5 * 2 kg * 10 km = 100.
SMALL: dict[str, Any] = small("summary-small")


def test_summary_of_a_plan_matches_the_hand_numbers() -> None:
    sc = broker.load_scenario(copy.deepcopy(SMALL))
    plan = broker.solve(sc)
    assert check(sc, plan).ok
    sm = summarize(sc, plan)
    assert (sm.scenario, sm.workshops, sm.requests, sm.periods) == ("summary-small", 2, 1, 2)
    assert sm.status == "optimal" and sm.no_plan is None
    assert sm.objective == pytest.approx(125.0)
    assert sm.cost is not None
    assert sm.cost["production"] == pytest.approx(25.0)
    assert sm.cost["transport"] == pytest.approx(100.0)
    assert sm.kpis["domestic_share"] == pytest.approx(1.0)
    assert sm.imported_units == 0 and sm.unmet == []
    assert sm.utilization == [Utilization("a", "cast", pytest.approx(5.0), 20.0, 1),
                              Utilization("b", "mach", pytest.approx(5.0), 20.0, 1)]
    doc = json.loads(json.dumps(sm.to_dict()))
    assert doc["utilization"][0]["share"] == pytest.approx(0.25)


def test_summary_without_a_plan_says_why() -> None:
    doc = copy.deepcopy(SMALL)
    doc["policy"] = {"min_domestic_share": 1.0}
    doc["requests"][0]["quantity"] = 50  # 20 hours of casting over 2 periods: 20 units at most
    sc = broker.load_scenario(doc)
    plan = broker.solve(sc)
    assert check(sc, plan).ok
    sm = summarize(sc, plan)
    assert sm.status == "infeasible" and sm.cost is None and sm.utilization == []
    assert sm.no_plan is not None
    assert sm.no_plan.startswith("policy.min_domestic_share 1 needs 50 of the 50 requested "
                                 "units made at home")


def test_unmet_lines_carry_the_reason() -> None:
    doc = copy.deepcopy(SMALL)
    doc["requests"][0].update(quantity=30, unmet_penalty=1.0)  # cheaper to leave than make
    sc = broker.load_scenario(doc)
    plan = broker.solve(sc)
    assert check(sc, plan).ok
    sm = summarize(sc, plan)
    assert [(u.request, u.quantity) for u in sm.unmet] == [("R1", 30)]
    assert sm.unmet == [UnmetLine(u.request, u.quantity, u.reason) for u in plan.unmet]
    assert sm.unmet[0].reason
