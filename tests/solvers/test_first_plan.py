"""The first plan of a process's first solve comes before OR-Tools and numpy are loaded:
on a 10 s limit their import (0.3-0.5 s) was most of the 5% in which the first plan is
due. Each case runs in a fresh interpreter, where nothing has loaded the engines yet; its
plan then goes through the checker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from models import scenario_from_dict
from models.check import check
from models.plan import Plan

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
from models import scenario_from_dict
from scenarios.generate import generate
from solvers import Method, SolveOptions, solve

seen = []

def progress(ev):
    if ev.incumbent is not None and not seen:
        seen.append([m for m in ("ortools.math_opt.python.mathopt",
                                 "ortools.math_opt.core.python.solver", "networkx", "numpy")
                     if m in sys.modules])

sc = scenario_from_dict(generate("small", 1))
plan = solve(sc, SolveOptions(time_limit=2.0, method=Method(sys.argv[1]), progress=progress))
loaded = [m for m in ("ortools.math_opt.python.mathopt",) if m in sys.modules]
print(json.dumps({"at_first_plan": seen[0] if seen else None, "at_end": loaded,
                  "plan": plan.model_dump(mode="json", by_alias=True)}))
"""


@pytest.mark.parametrize("method", ["auto", "lp-guided"])
def test_the_first_plan_comes_before_the_engines_load(method: str) -> None:
    """`auto` on generated small (the whole model on the MIP engine) and `lp-guided` (the
    whole LP raced): the constructive plan is offered while OR-Tools, numpy and networkx
    are not loaded; the engines load after it, and the plan passes the checker."""
    out = subprocess.run([sys.executable, "-c", CODE, method], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["at_first_plan"] == []
    assert got["at_end"] == ["ortools.math_opt.python.mathopt"]
    from scenarios.generate import generate

    sc = scenario_from_dict(generate("small", 1))
    plan = Plan.model_validate(got["plan"])
    assert plan.status.has_plan
    report = check(sc, plan)
    assert report.ok, report.summary()
