"""benchmarks/gap_generate.py: Chu-Beasley GAP instances in the SPEC form follow their
type's rules, load as scenarios, and the solver's optimum of a small one is the one
found by trying every assignment."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from models import scenario_from_dict


def _data(doc: dict[str, Any]) -> tuple[list[float], dict[tuple[int, int], tuple[float, float]]]:
    caps = [w["capacity"]["assembly"] for w in doc["workshops"]]
    offers = {(int(o["workshop"][5:]), int(o["component"][3:])): (o["hours"], o["unit_price"])
              for o in doc["offers"]}
    return caps, offers


@pytest.mark.parametrize("kind", ["c", "d", "e"])
def test_instances_follow_their_type(benchmark_script, kind: str) -> None:  # type: ignore[no-untyped-def]
    gen = benchmark_script("gap_generate")
    doc = gen.generate(kind, 5, 40, seed=3)
    scenario_from_dict(doc)
    caps, offers = _data(doc)
    assert len(offers) == 5 * 40 and len(doc["requests"]) == 40
    for i, cap in enumerate(caps):
        assert cap == int(0.8 * sum(offers[(i, j)][0] for j in range(40)) / 5)
    for a, c in offers.values():
        if kind == "c":
            assert 5 <= a <= 25 and 10 <= c <= 50
        elif kind == "d":
            assert 1 <= a <= 100 and -10 <= c - (111 - a) <= 10
        else:
            assert a >= 1 and c == int(c)
    assert gen.generate(kind, 5, 40, seed=3) == doc
    assert gen.generate(kind, 5, 40, seed=4) != doc


def test_the_solvers_optimum_is_the_best_assignment(  # type: ignore[no-untyped-def]
        benchmark_script, solve_checked) -> None:
    gen = benchmark_script("gap_generate")
    doc = gen.generate("d", 3, 8, seed=2)
    caps, offers = _data(doc)
    best = None
    for assign in itertools.product(range(3), repeat=8):
        used = [0.0] * 3
        for j, i in enumerate(assign):
            used[i] += offers[(i, j)][0]
        if all(u <= c for u, c in zip(used, caps, strict=True)):
            cost = sum(offers[(i, j)][1] for j, i in enumerate(assign))
            best = cost if best is None else min(best, cost)
    assert best is not None
    plan = solve_checked(doc)
    assert plan.status.value == "optimal"
    assert plan.objective == pytest.approx(best, rel=1e-9)


def test_the_command_writes_a_file_and_refuses_a_bad_size(  # type: ignore[no-untyped-def]
        benchmark_script, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mod = benchmark_script("gap_generate")
    out = tmp_path / "g.json"
    assert mod.main(["e", "4", "30", "--seed", "5", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == mod.generate("e", 4, 30, 5)
    assert mod.main(["d", "0", "30"]) == 2
    assert capsys.readouterr().err == "error: agents and jobs must be at least 1\n"
