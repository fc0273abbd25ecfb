"""The reduced formulation (aggregated flows, pruned windows, strong links) and the direct
SPEC formulation (the benchmark baseline) reach the same optimum, each plan checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import load_scenario
from solvers import Formulation

# Multi-stage with transport between cities, capacitated with fixed costs, and the
# hand-checkable material/flow scenario of the CLI tests.
CASES = ["fatahi/fatahi-5x10x10-1", "fatahi/fatahi-5x5x5-3", "cflp/cap41", "gap/gap3-2"]


@pytest.mark.parametrize("name", CASES)
def test_direct_and_reduced_agree(solve_checked, benchmarks_dir: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    sc = load_scenario(benchmarks_dir / f"{name}.json")
    reduced = solve_checked(sc)
    direct = solve_checked(sc, formulation=Formulation.DIRECT)
    assert reduced.status.value == direct.status.value == "optimal"
    assert direct.objective == pytest.approx(reduced.objective, rel=1e-6)
    assert direct.solver["formulation"] == "direct"
