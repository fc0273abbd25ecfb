"""Tests of the independent plan checker against a plan whose cost is worked out by hand
(the case is in hand_case.py, shared with test_evaluate.py)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import pytest
from hand_case import (
    HAND_COST,
    HAND_KPIS,
    HAND_OBJECTIVE,
    SCENARIO,
    Doc,
    plan,
    recost,
    scenario,
)

from models import PlanError, plan_from_dict, scenario_from_dict
from models.check import (
    CLAIM_KINDS,
    KINDS,
    CheckReport,
    Violation,
    blocking,
    check,
)
from models.evaluate import compute_kpis, recompute_cost


def kinds(report: CheckReport) -> set[str]:
    return {v.kind for v in report.violations}


def of_kind(report: CheckReport, kind: str) -> list[Violation]:
    return [v for v in report.violations if v.kind == kind]


# --------------------------------------------------------------------------------------
# The good plan


def test_hand_plan_is_feasible_and_costs_agree() -> None:
    report = check(scenario(), plan())
    assert report.violations == []
    assert report.ok
    assert report.summary() == "feasible, costs agree"
    assert report.cost == pytest.approx(HAND_COST, rel=1e-12)
    assert report.objective == pytest.approx(HAND_OBJECTIVE, rel=1e-12)
    assert report.kpis == pytest.approx(HAND_KPIS, rel=1e-12)


def test_duplicate_rows_are_summed_without_violation() -> None:
    def split(d: Doc) -> None:
        d["production"][0]["quantity"] = 4
        d["production"].append(dict(d["production"][0], quantity=6))
        d["materials"].append(dict(d["materials"][0], kg=20.0))
        d["materials"][0]["kg"] = 40.0

    report = check(scenario(), plan(split))
    assert report.violations == []
    assert report.cost == pytest.approx(HAND_COST)


def test_good_plan_also_meets_a_lag_of_one_period() -> None:
    assert check(scenario(lambda d: d["policy"].update(step_lag_periods=1)), plan()).ok


def test_bound_equal_to_objective_is_fine() -> None:
    assert check(scenario(), plan(lambda d: d.update(bound=HAND_OBJECTIVE))).ok


def test_local_content_policy_just_met() -> None:
    # 1 - 2620/24500 = 0.8931...
    assert check(scenario(lambda d: d["policy"].update(min_local_content=0.89)), plan()).ok


# --------------------------------------------------------------------------------------
# One mutation per violation kind


def test_over_capacity() -> None:
    def move(d: Doc) -> None:
        d["production"][4]["period"] = 2  # ws-b machines 10 units in period 2, 8 h cap
        recost(d, tardiness=6.0)          # ... and R1 is no longer late
        d["kpis"]["on_time_share"] = 22 / 25

    report = check(scenario(), plan(move))
    assert report.violations == [
        Violation("capacity", "workshop ws-b, process machining, period 2",
                  "uses 10 h of 8 h available")
    ]


def test_capacity_by_period_override_is_used() -> None:
    def zero(d: Doc) -> None:
        d["workshops"][0]["capacity_by_period"] = {"casting": [10, 4, 10, 10]}

    report = check(scenario(zero), plan())
    assert report.violations == [
        Violation("capacity", "workshop ws-a, process casting, period 1",
                  "uses 4.8 h of 4 h available")
    ]


def test_broken_flow() -> None:
    report = check(scenario(), plan(lambda d: d["shipments"][1].update(quantity=9)))
    assert of_kind(report, "flow") == [
        Violation("flow", "request R1, step 0, workshop ws-a",
                  "20 unit(s) made but 19 shipped on to step 1"),
        Violation("flow", "request R1, step 1, workshop ws-b",
                  "10 unit(s) made but 9 shipped in from step 0"),
    ]


def test_missing_shipment_between_steps_at_the_same_workshop() -> None:
    report = check(scenario(), plan(lambda d: d["shipments"].pop(2)))
    assert kinds(report) == {"flow"}
    assert len(report.violations) == 2


def test_step_before_release() -> None:
    report = check(scenario(), plan(lambda d: d["production"][5].update(period=0)))
    assert report.violations == [
        Violation("release", "production[5]",
                  "step 0 of request R2 runs in period 0, before its release in period 1")
    ]


def test_precedence_broken_with_lag_one() -> None:
    def late_casting(d: Doc) -> None:
        d["production"][0]["period"] = 1  # all R1 casting in period 1

    lag1 = scenario(lambda d: d["policy"].update(step_lag_periods=1))
    # Same period is fine without a lag ...
    assert check(scenario(), plan(late_casting)).ok
    # ... but with a lag of one the machining in period 1 has nothing cast by period 0.
    report = check(lag1, plan(late_casting))
    assert report.violations == [
        Violation("precedence", "request R1, step 1",
                  "10 unit(s) made by period 1 but only 0 unit(s) of step 0 made by period 0 "
                  "(step lag 1)")
    ]


def test_precedence_broken_without_lag() -> None:
    def early(d: Doc) -> None:
        d["production"][6]["period"] = 1  # R2 machined in period 1 ... fine (2 cast by 1)
        d["production"][5]["period"] = 2  # ... but now cast in period 2

    report = check(scenario(), plan(early))
    assert "precedence" in kinds(report)


def test_demand_mismatch() -> None:
    def more_unmet(d: Doc) -> None:
        d["unmet"][0]["quantity"] = 2
        recost(d, unmet=200.0)

    report = check(scenario(), plan(more_unmet))
    assert report.violations == [
        Violation("demand", "request R2", "2 made + 2 imported + 2 unmet = 6, requested 5")
    ]


def test_import_not_allowed() -> None:
    report = check(scenario(lambda d: d["requests"][1].update(allow_import=False)), plan())
    assert report.violations == [
        Violation("import", "imports[0]",
                  "request R2 imports 2 unit(s) but the request does not allow import")
    ]


def test_import_of_component_without_import_price() -> None:
    report = check(scenario(lambda d: d["components"][0].pop("import")), plan())
    assert "import" in kinds(report)
    # Such an import cannot be priced: the recomputed import cost drops it.
    assert report.cost is not None and report.cost["import"] == 0.0


def test_material_short_of_need() -> None:
    report = check(scenario(), plan(lambda d: d["materials"][0].update(kg=50.0)))
    assert of_kind(report, "material") == [
        Violation("material", "workshop ws-a, material fc250",
                  "receives 56 kg but its production needs 66 kg")
    ]


@pytest.mark.parametrize(("table", "field", "value", "where", "text"), [
    ("materials", "kg", float("inf"), "materials[0].kg", "Infinity"),
    ("imports", "quantity", float("nan"), "imports[0].quantity", "NaN"),
    ("unmet", "quantity", float("-inf"), "unmet[0].quantity", "-Infinity"),
    ("production", "step", float("inf"), "production[0].step", "Infinity"),
])
def test_a_non_finite_number_of_a_row_is_a_number_violation(
        table: str, field: str, value: float, where: str, text: str) -> None:
    report = check(scenario(), plan(lambda d: d[table][0].update({field: value})))
    assert of_kind(report, "number") == [
        Violation("number", where, f"{text} is not a finite number")]
    assert report.blocking  # never booked nor analysed


def test_material_from_center_without_it() -> None:
    def other(d: Doc) -> None:
        d["material_centers"][1]["materials"] = {"gj": {"stock_kg": 9, "price_per_kg": 1}}
        d["materials"].append({"id": "gj"})

    report = check(scenario(other), plan())
    assert "material" in kinds(report)
    assert Violation("material", "materials[1]",
                     "center mc-a does not hold material 'fc250'") in report.violations


def test_stock_exceeded() -> None:
    def low(d: Doc) -> None:
        d["material_centers"][0]["materials"]["fc250"]["stock_kg"] = 59

    report = check(scenario(low), plan())
    assert report.violations == [
        Violation("stock", "center mc-b, material fc250", "sends 60 kg of 59 kg in stock")
    ]


def test_sourcing_limit_exceeded() -> None:
    report = check(scenario(lambda d: d["requests"][0].update(max_suppliers_per_step=1)),
                   plan())
    assert report.violations == [
        Violation("sourcing", "request R1, step 1",
                  "2 workshops (ws-a, ws-b) share the step, at most 1 may")
    ]


def test_ineligible_workshop_missing_certification() -> None:
    report = check(scenario(lambda d: d["workshops"][1].update(certifications=[])), plan())
    assert report.violations == [
        Violation("eligibility", "production[3]",
                  "workshop ws-b may not do step 1 of request R1: lacks certification ISO9001")
    ]


def test_ineligible_workshop_without_offer() -> None:
    def offers_only(d: Doc) -> None:
        d["components"][0]["offers_only"] = True

    report = check(scenario(offers_only), plan())
    # Only step 0 at ws-a has an offer; every machining row is ineligible.
    assert kinds(report) == {"eligibility"}
    assert len(report.violations) == 3


def test_policy_min_domestic_share_not_met() -> None:
    report = check(scenario(lambda d: d["policy"].update(min_domestic_share=0.9)), plan())
    assert report.violations == [
        Violation("policy", "policy.min_domestic_share",
                  "22 of 25 requested unit(s) made at home, the policy asks for at least 22.5 "
                  "(0.9)")
    ]


def test_policy_min_local_content_not_met() -> None:
    report = check(scenario(lambda d: d["policy"].update(min_local_content=0.9)), plan())
    assert kinds(report) == {"policy"}
    assert [v.where for v in report.violations] == ["policy.min_local_content"]


def test_cost_term_off() -> None:
    report = check(scenario(), plan(lambda d: recost(d, tooling=4000.0)))
    assert of_kind(report, "cost") == [
        Violation("cost", "cost.tooling", "plan says 4000, the rows give 5000")
    ]
    # The objective is the sum of the plan's terms but not of the recomputed ones.
    assert of_kind(report, "objective") == [
        Violation("objective", "objective",
                  "23641 differs from the cost recomputed from the rows 24641")
    ]


def test_cost_within_tolerance_is_accepted() -> None:
    report = check(scenario(), plan(lambda d: recost(d, transport=8500.001)))
    assert report.ok
    report = check(scenario(), plan(lambda d: recost(d, transport=8500.001)), rel_tol=1e-9)
    assert kinds(report) == {"cost", "objective"}


def test_objective_not_the_sum() -> None:
    report = check(scenario(), plan(lambda d: d.update(objective=24642.0)))
    assert report.violations == [
        Violation("objective", "objective",
                  "24642 is not the sum of the plan's cost terms 24641")
    ]


def test_bound_above_objective() -> None:
    report = check(scenario(), plan(lambda d: d.update(bound=25000.0)))
    assert report.violations == [
        Violation("bound", "bound", "lower bound 25000 is above the objective 24641")
    ]


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d.update(objective=INF), [
        Violation("number", "objective", "Infinity is not a finite number"),
        Violation("objective", "objective", "inf is not the sum of the plan's cost terms 24641"),
    ]),
    (lambda d: d["cost"].update(production=INF), [
        Violation("number", "cost.production", "Infinity is not a finite number"),
        Violation("cost", "cost.production", "plan says inf, the rows give 6280"),
        Violation("objective", "objective", "24641 is not the sum of the plan's cost terms inf"),
    ]),
    (lambda d: d["cost"].update(tardiness=-INF), [
        Violation("number", "cost.tardiness", "-Infinity is not a finite number"),
        Violation("cost", "cost.tardiness", "plan says -inf, the rows give 41"),
        Violation("objective", "objective",
                  "24641 is not the sum of the plan's cost terms -inf"),
    ]),
    # `inf <= 1e-6 * inf` holds: objective and bound both infinite once passed.
    (lambda d: d.update(objective=INF, bound=INF), [
        Violation("number", "objective", "Infinity is not a finite number"),
        Violation("number", "bound", "Infinity is not a finite number"),
        Violation("objective", "objective", "inf is not the sum of the plan's cost terms 24641"),
    ]),
    (lambda d: d.update(bound=NAN), [Violation("number", "bound", "NaN is not a finite number")]),
    (lambda d: d.update(solver={"gap": NAN, "runs": [1.0, -INF]}), [
        Violation("number", "solver.gap", "NaN is not a finite number"),
        Violation("number", "solver.runs[1]", "-Infinity is not a finite number"),
    ]),
])
def test_non_finite_numbers_are_violations_that_block(mutate: Callable[[Doc], None],
                                                      expected: list[Violation]) -> None:
    report = check(scenario(), plan(mutate))
    assert report.violations == expected
    assert [v for v in report.blocking if v.kind == "number"] == [
        v for v in expected if v.kind == "number"]


def test_non_finite_bound_of_a_plan_without_rows() -> None:
    doc = {"format": "imc-broker/plan@1", "scenario": "checker-test", "status": "no_solution",
           "bound": NAN}
    assert check(scenario(), plan_from_dict(doc)).violations == [
        Violation("number", "bound", "NaN is not a finite number")]


def test_optimal_needs_a_bound_within_1e_6() -> None:
    optimal = {"status": "optimal"}
    assert check(scenario(), plan(lambda d: d.update(optimal, bound=HAND_OBJECTIVE))).ok
    # Within 1e-6 of the objective (relative) is optimal; a solver's bound has tolerances.
    assert check(scenario(), plan(lambda d: d.update(optimal, bound=24640.98))).ok
    report = check(scenario(), plan(lambda d: d.update(optimal, bound=HAND_OBJECTIVE / 2)))
    assert report.violations == [Violation(
        "bound", "bound", "status optimal but the bound 12320.5 is 12320.5 below the objective "
        "24641 (relative gap 0.5); optimal needs at most 1e-06, else it is feasible")]
    for no_bound in (lambda d: d.update(optimal, bound=None),
                     lambda d: (d.update(optimal), d.pop("bound"))):
        assert check(scenario(), plan(no_bound)).violations == [Violation(
            "bound", "bound", "status optimal but the plan has no bound: optimal needs a lower "
            "bound within 1e-06 (relative) of the objective, else it is feasible")]
    # The same bound is fine for a feasible plan: it only says how far from optimal it is.
    assert check(scenario(), plan(lambda d: d.update(bound=HAND_OBJECTIVE / 2))).ok


@pytest.mark.parametrize(("mutate", "problem"), [
    (lambda d: d.pop("format"),
     'format: required (a plan file starts with "format": "imc-broker/plan@1")'),
    (lambda d: d["production"][0].update(quantity="10"),
     "production[0].quantity: must be a whole number (got '10')"),
    (lambda d: d["production"][0].update(quantity=True),
     "production[0].quantity: must be a whole number (got True)"),
    (lambda d: d["production"][0].update(period=1.0),
     "production[0].period: must be a whole number (got 1.0)"),
    (lambda d: d["materials"][0].update(kg="60"),
     "materials[0].kg: must be a number (got '60')"),
    (lambda d: d["cost"].update(production="6280"),
     "cost.production: must be a number (got '6280')"),
    (lambda d: d.update(objective=True), "objective: must be a number (got True)"),
    (lambda d: d["production"][0].update(workshop=7),
     "production[0].workshop: must be text (got 7)"),
])
def test_plan_types_are_strict(mutate: Callable[[Doc], None], problem: str) -> None:
    with pytest.raises(PlanError) as e:
        plan(mutate)
    assert e.value.problems == [problem]


def test_claims_alone_do_not_block() -> None:
    # Wrong cost, objective, KPIs, bound and a row's date: every claim is off, the
    # allocation is sound.
    def claims(d: Doc) -> None:
        d["cost"]["production"] += 1.0
        d["objective"] += 5.0
        d["kpis"]["on_time_share"] = 0.5
        d["bound"] = 1e9
        d["production"][0]["date"] = "2027-01-01"

    def dated(d: Doc) -> None:
        d["horizon"]["start"] = "2027-03-01"

    report = check(scenario(dated), plan(claims))
    assert kinds(report) == {"cost", "objective", "kpi", "bound", "date"} == CLAIM_KINDS
    assert report.blocking == [] == blocking(report.violations)
    assert not report.ok


def test_a_broken_allocation_blocks() -> None:
    def move(d: Doc) -> None:
        d["production"][4]["period"] = 2  # over ws-b's machining capacity in period 2
        d["bound"] = 1e9

    report = check(scenario(), plan(move))
    assert [v.kind for v in report.blocking] == ["capacity"]
    assert {v.kind for v in report.violations} - {v.kind for v in report.blocking} <= CLAIM_KINDS


def test_unmet_without_reason() -> None:
    report = check(scenario(), plan(lambda d: d["unmet"][0].update(reason="  ")))
    assert report.violations == [
        Violation("reason", "unmet[0]", "1 unit(s) of request R2 unmet with no reason")
    ]


def test_infeasible_status_with_rows() -> None:
    def infeasible(d: Doc) -> None:
        d.update(status="infeasible", objective=None, cost=None, bound=None)

    report = check(scenario(), plan(infeasible))
    assert kinds(report) == {"status"}
    assert report.violations == [
        Violation("status", "rows",
                  "status infeasible but the plan has rows: 7 production, 3 shipments, "
                  "2 materials, 1 imports, 1 unmet")
    ]
    assert report.cost is None and report.objective is None and report.kpis == {}


def test_infeasible_status_with_objective_and_cost() -> None:
    def infeasible(d: Doc) -> None:
        d.update(status="infeasible", production=[], shipments=[], materials=[], imports=[],
                 unmet=[])

    report = check(scenario(), plan(infeasible))
    assert [(v.kind, v.where) for v in report.violations] == [
        ("status", "objective"), ("status", "cost")
    ]


def test_clean_no_solution_plan() -> None:
    doc = {"format": "imc-broker/plan@1", "scenario": "checker-test", "status": "no_solution",
           "bound": 1000.0}
    report = check(scenario(), plan_from_dict(doc))
    assert report.ok
    assert report.cost is None and report.objective is None and report.kpis == {}
    assert compute_kpis(scenario(), plan_from_dict(doc)) == {}
    assert report.summary() == "no plan (status infeasible or no_solution), nothing to cost"


def test_optimal_status_without_cost() -> None:
    report = check(scenario(), plan(lambda d: d.update(cost=None, status="optimal",
                                                       bound=HAND_OBJECTIVE)))
    assert report.violations == [Violation("status", "cost", "status optimal but the cost is null")]
    # The objective is still compared with the recomputed cost.
    report = check(scenario(), plan(lambda d: d.update(cost=None, objective=1.0, bound=None)))
    assert kinds(report) == {"status", "objective"}


def test_quantity_zero_row() -> None:
    zero = {"request": "R1", "step": 1, "workshop": "ws-c", "period": 0, "quantity": 0}
    report = check(scenario(), plan(lambda d: d["production"].append(zero)))
    assert report.violations == [
        Violation("quantity", "production[7]",
                  "quantity 0: rows with quantity 0 are left out of a plan")
    ]


def test_negative_import_quantity() -> None:
    report = check(scenario(), plan(lambda d: d["imports"][0].update(quantity=-2)))
    assert "quantity" in kinds(report)
    assert "demand" in kinds(report)


def test_unknown_references() -> None:
    def bad(d: Doc) -> None:
        d["production"].append(
            {"request": "R1", "step": 1, "workshop": "ws-zz", "period": 1, "quantity": 1})
        d["production"].append(
            {"request": "R9", "step": 0, "workshop": "ws-a", "period": 1, "quantity": 1})
        d["shipments"].append(
            {"request": "R1", "step": 1, "from": "ws-a", "to": "ws-a", "quantity": 1})

    report = check(scenario(), plan(bad))
    assert report.violations == [
        Violation("reference", "production[7]", "unknown workshop 'ws-zz'"),
        Violation("reference", "production[8]", "unknown request 'R9'"),
        Violation("reference", "shipments[3]", "step 1 outside 0 .. 0 for component 'drum'"),
    ]


def test_plan_for_another_scenario() -> None:
    report = check(scenario(), plan(lambda d: d.update(scenario="other")))
    assert kinds(report) == {"reference"}


def test_period_outside_horizon() -> None:
    report = check(scenario(), plan(lambda d: d["production"][4].update(period=4)))
    assert of_kind(report, "period") == [
        Violation("period", "production[4]", "period 4 outside the horizon (0 .. 3)")
    ]
    # Tardiness is still recomputed for the row: 5 units two periods late at 7, plus 6.
    assert report.cost is not None and report.cost["tardiness"] == 5 * 2 * 7 + 6
    assert "capacity" not in kinds(report)


def test_material_from_center_without_path() -> None:
    report = check(scenario(), plan(lambda d: d["materials"][1].update(center="mc-far")))
    assert report.violations == [
        Violation("path", "materials[1]",
                  "no path from center mc-far (loc-far) to workshop ws-a (loc-a)")
    ]


def test_shipment_and_delivery_without_path() -> None:
    def isolate(d: Doc) -> None:
        d["workshops"][1]["location"] = "loc-far"

    report = check(scenario(isolate), plan())
    wheres = [v.where for v in of_kind(report, "path")]
    assert wheres == ["shipments[1]", "request R1, workshop ws-b"]


def test_kpi_disagrees() -> None:
    report = check(scenario(), plan(lambda d: d["kpis"].update(domestic_share=0.9)))
    assert report.violations == [
        Violation("kpi", "kpis.domestic_share", "plan says 0.9, the rows give 0.88")
    ]


def test_summary_lists_every_violation() -> None:
    report = check(scenario(), plan(lambda d: d.update(bound=25000.0, objective=24642.0)))
    lines = report.summary().splitlines()
    assert lines[0] == "2 violation(s)"
    assert lines[1:] == [f"  {v}" for v in report.violations]
    assert all(v.kind in KINDS for v in report.violations)


# --------------------------------------------------------------------------------------
# Size


def test_large_plan_is_checked_quickly() -> None:
    """100 000 production rows: the checker must stay linear in the number of rows."""
    n_req = 5000
    big = copy.deepcopy(SCENARIO)
    big["horizon"] = {"periods": 20}
    big["workshops"][0]["capacity"] = {"casting": 1e9, "machining": 1e9}
    big["material_centers"][0]["materials"]["fc250"]["stock_kg"] = 1e12
    big["requests"] = [
        {"id": f"R{i}", "component": "drum", "quantity": 100, "due": 19, "requires": []}
        for i in range(n_req)
    ]
    sc = scenario_from_dict(big)
    production, shipments = [], []
    for i in range(n_req):
        for s in (0, 1):
            for t in range(10):  # 10 units per period, machined in the same period
                production.append({"request": f"R{i}", "step": s, "workshop": "ws-a",
                                   "period": t, "quantity": 10})
        shipments.append({"request": f"R{i}", "step": 0, "from": "ws-a", "to": "ws-a",
                          "quantity": 100})
    doc: Doc = {"format": "imc-broker/plan@1", "scenario": "checker-test", "status": "feasible",
                "production": production,
                "shipments": shipments,
                "materials": [{"center": "mc-b", "workshop": "ws-a", "material": "fc250",
                               "kg": 3.0 * 100 * n_req}]}
    p = plan_from_dict(doc)
    cost = recompute_cost(sc, p)
    doc["cost"] = cost
    doc["objective"] = sum(cost.values())
    p = plan_from_dict(doc)
    start = time.perf_counter()
    report = check(sc, p)
    elapsed = time.perf_counter() - start
    assert report.violations == []
    assert cost["production"] == pytest.approx(n_req * 100 * (40 + 200))
    assert elapsed < 10.0
