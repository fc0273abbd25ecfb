"""benchmarks/cflp_generate.py: facility location instances of Cornuejols, Sridharan and
Thizy's kind in the SPEC form follow their rules, load as scenarios, and the solver's
optimum of a small one is the one found by trying every set of open sites."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from models import scenario_from_dict


def test_instances_follow_the_rules(benchmark_script) -> None:  # type: ignore[no-untyped-def]
    gen = benchmark_script("cflp_generate")
    doc = gen.generate(6, 50, ratio=3, seed=3)
    scenario_from_dict(doc)
    caps = [w["capacity"]["supply"] for w in doc["workshops"]]
    demand = [r["quantity"] for r in doc["requests"]]
    assert len(caps) == 6 and len(demand) == 50 and len(doc["offers"]) == 6 * 50
    assert all(5 <= d <= 35 and d == int(d) for d in demand)
    # Rounded up per site: at least the ratio, less than one unit more per site.
    assert 3 * sum(demand) <= sum(caps) < 3 * sum(demand) + 6
    for w, cap in zip(doc["workshops"], caps, strict=True):
        root = math.sqrt(cap)
        assert 100 * root <= w["engagement_cost"] <= 90 + 110 * root + 1e-3
    # A unit costs 10 times a distance in the unit square.
    assert all(0 <= o["unit_price"] <= 10 * math.sqrt(2) for o in doc["offers"])
    assert gen.generate(6, 50, ratio=3, seed=3) == doc
    assert gen.generate(6, 50, ratio=3, seed=4) != doc


def test_the_solvers_optimum_is_the_best_set_of_open_sites(  # type: ignore[no-untyped-def]
        benchmark_script, solve_checked) -> None:
    gen = benchmark_script("cflp_generate")
    # Capacity ten times the demand over three sites: no site can be short, so each
    # customer goes whole to its cheapest open site.
    doc = gen.generate(3, 7, ratio=10, seed=2)
    fee = [w["engagement_cost"] for w in doc["workshops"]]
    price = {(o["workshop"], o["component"]): o["unit_price"] for o in doc["offers"]}
    best = math.inf
    for k in range(1, 4):
        for opened in itertools.combinations(range(3), k):
            cost = sum(fee[i] for i in opened) + sum(
                r["quantity"] * min(price[(f"wh{i}", r["component"])] for i in opened)
                for r in doc["requests"])
            best = min(best, cost)
    plan = solve_checked(doc)
    assert plan.status.value == "optimal"
    assert plan.objective == pytest.approx(best, rel=1e-9)


def test_the_command_writes_a_file_and_refuses_a_bad_size(  # type: ignore[no-untyped-def]
        benchmark_script, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mod = benchmark_script("cflp_generate")
    out = tmp_path / "f.json"
    assert mod.main(["4", "30", "--ratio", "2", "--seed", "5", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == mod.generate(4, 30, 2, 5)
    assert mod.main(["0", "30"]) == 2
    assert capsys.readouterr().err == "error: sites and customers must be at least 1\n"
    assert mod.main(["4", "30", "--ratio", "0.5"]) == 2
    assert capsys.readouterr().err == (
        "error: ratio must be at least 1 (capacity over demand), not 0.5\n")
