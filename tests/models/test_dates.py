"""SPEC 8.1: release and due as ISO dates, and the dates a plan of a dated scenario carries."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import broker
import models
from models.check import check
from models.dates import period_of, resolve_dates, with_dates
from scenarios import builtin_dict


def mini(**horizon: Any) -> dict[str, Any]:
    doc = builtin_dict("java-mini")  # 4 weekly periods from 2027-03-01; due 2 and 3
    doc["horizon"].update(horizon)
    return doc


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(models.ScenarioError) as e:
        models.scenario_from_dict(doc)
    return e.value.problems


def test_period_of_floors_by_period_days() -> None:
    from datetime import date
    start = date(2027, 3, 1)
    assert [period_of(date(2027, 3, d), start, 7) for d in (1, 7, 8, 14, 15)] == [0, 0, 1, 1, 2]


def test_dates_mean_the_same_as_their_periods() -> None:
    dated = mini()
    dated["requests"][0].update(release="2027-03-03", due="2027-03-19")  # periods 0 and 2
    dated["requests"][1]["due"] = "2027-03-28"  # the horizon's last day: period 3
    sc = models.scenario_from_dict(dated)
    assert [(r.release, r.due) for r in sc.requests] == [(0, 2), (0, 3)]
    assert sc == models.scenario_from_dict(mini())
    # The input document is not changed.
    assert dated["requests"][0]["due"] == "2027-03-19"


def test_bad_dates_name_their_path() -> None:
    doc = mini()
    doc["requests"][0].update(release="2027-02-28", due="2027-03-29")
    doc["requests"][1]["due"] = "next week"
    assert problems(doc) == [
        "requests[0].release: date 2027-02-28 is before horizon.start 2027-03-01",
        "requests[0].due: date 2027-03-29 is after the horizon (2027-03-01 .. 2027-03-28)",
        "requests[1].due: not a period number or an ISO date (YYYY-MM-DD) (got 'next week')",
    ]


def test_a_date_needs_a_start() -> None:
    doc = mini()
    del doc["horizon"]["start"]
    doc["requests"][0]["due"] = "2027-03-19"
    assert problems(doc) == [
        "requests[0].due: a date needs horizon.start; give a period number or set "
        "horizon.start (got '2027-03-19')"]


def test_resolve_dates_leaves_undated_documents_alone() -> None:
    doc = mini()
    assert resolve_dates(doc) == (doc, [])


def test_a_dated_plan_carries_due_and_delivery_dates_and_checks() -> None:
    sc = models.scenario_from_dict(mini())
    plan = broker.solve(sc)
    assert check(sc, plan).ok
    assert all(row.date == f"2027-03-{1 + 7 * row.period:02d}" for row in plan.production)
    assert plan.requests is not None
    by_id = {rd.request: rd for rd in plan.requests}
    assert (by_id["REQ-0001"].due, by_id["REQ-0001"].due_date) == (2, "2027-03-15")
    assert (by_id["REQ-0002"].due, by_id["REQ-0002"].due_date) == (3, "2027-03-22")
    for r in sc.requests:
        rd = by_id[r.id]
        delivered = sum(d.quantity for d in rd.deliveries) + rd.unmet
        assert delivered == r.quantity
    # Written and read back, the dates survive and still check.
    again = models.plan_from_dict(plan.to_dict())
    assert again.to_dict() == plan.to_dict() and check(sc, again).ok


def test_the_checker_refuses_wrong_dates() -> None:
    sc = models.scenario_from_dict(mini())
    plan = broker.solve(sc)
    doc = plan.to_dict()
    bad = copy.deepcopy(doc)
    bad["production"][0]["date"] = "2027-03-02"
    bad["requests"][0]["due_date"] = "2027-03-22"
    bad["requests"][1]["deliveries"][0]["quantity"] += 1
    got = {(v.kind, v.where) for v in check(sc, models.plan_from_dict(bad)).violations}
    assert got == {("date", "production[0].date"), ("date", "requests[0].due_date"),
                   ("date", "requests[1].deliveries")}
    # Dates in a plan of an undated scenario are a claim the scenario cannot back.
    undated = mini()
    del undated["horizon"]["start"]
    v = check(models.scenario_from_dict(undated), plan).violations
    assert [(x.kind, x.where) for x in v] == [("date", "horizon.start")]


def test_an_undated_plan_has_no_date_keys() -> None:
    doc = mini()
    del doc["horizon"]["start"]
    sc = models.scenario_from_dict(doc)
    plan = broker.solve(sc)
    d = plan.to_dict()
    assert "requests" not in d and all("date" not in row for row in d["production"])
    assert with_dates(sc, plan) is plan and check(sc, plan).ok
