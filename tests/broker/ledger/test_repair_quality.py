"""benchmarks/repair_quality.py on a small ledger: it runs, the repair's moved units are
counted as the repair counts them (the script asserts it), and the repair moves fewer
units and touches fewer requests than the full re-plan."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def test_repair_against_full_replan_on_a_small_ledger(  # type: ignore[no-untyped-def]
        capsys: pytest.CaptureFixture[str], tmp_path: Path, benchmark_script) -> None:
    mod = benchmark_script("repair_quality")
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    mod.prepare(db, "small", 1, 20)
    assert mod.main(["--db", db, "--time-limit", "10"]) == 0
    out = capsys.readouterr().out
    figures = {}
    for label in ("step-units moved", "requests touched"):
        m = re.search(rf"^{label}\s+([\d,]+)\s+([\d,]+)", out, re.M)
        assert m, out
        figures[label] = tuple(int(g.replace(",", "")) for g in m.groups())
    repair, full = figures["step-units moved"]
    assert 0 < repair < full
    assert figures["requests touched"][0] < figures["requests touched"][1]
    assert "repair cost within " in out
