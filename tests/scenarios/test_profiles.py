"""Generator profiles: each is valid, reproducible, shares balanced's market and has the
property its name claims (docs/generator.md)."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import models
from cli import GenProfile, app
from scenarios import catalog as cat
from scenarios.generate import PROFILES, generate

SIZE, SEED = "small", 3


def _need_and_capacity(doc: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """Hours each process needs for all requested units (step hours) and has over the
    horizon."""
    comps = {c["id"]: c for c in doc["components"]}
    need: dict[str, float] = defaultdict(float)
    for r in doc["requests"]:
        for st in comps[r["component"]]["routing"]:
            need[st["process"]] += st["hours"] * r["quantity"]
    have: dict[str, float] = defaultdict(float)
    periods = doc["horizon"]["periods"]
    for w in doc["workshops"]:
        for p, hours in w["capacity"].items():
            seq = w.get("capacity_by_period", {}).get(p)
            have[p] += sum(seq) if seq else hours * periods
    return need, have


def _material_need(doc: dict[str, Any]) -> dict[str, float]:
    comps = {c["id"]: c for c in doc["components"]}
    need: dict[str, float] = defaultdict(float)
    for r in doc["requests"]:
        for st in comps[r["component"]]["routing"]:
            if "material" in st:
                need[st["material"]] += st["material_kg"] * r["quantity"]
    return need


def test_cli_choices_are_the_profiles() -> None:
    assert [p.value for p in GenProfile] == list(PROFILES)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_profile_valid_deterministic_same_market(profile: str) -> None:
    doc = generate(SIZE, SEED, profile)
    sc = models.scenario_from_dict(doc)  # every reference resolves, every rule holds
    suffix = "" if profile == "balanced" else f"-{profile}"
    assert sc.name == f"generated-{SIZE}-s{SEED}{suffix}"
    assert json.dumps(doc) == json.dumps(generate(SIZE, SEED, profile))
    assert doc != generate(SIZE, SEED + 1, profile)
    base = generate(SIZE, SEED)
    # The same market under a different stress: same workshops, parts, buyers' orders.
    assert [w["id"] for w in doc["workshops"]] == [w["id"] for w in base["workshops"]]
    assert [(r["id"], r["component"], r["due"]) for r in doc["requests"]] == [
        (r["id"], r["component"], r["due"]) for r in base["requests"]]
    assert doc["components"] == base["components"]


def test_balanced_is_the_default() -> None:
    assert json.dumps(generate("medium", 2, "balanced")) == json.dumps(generate("medium", 2))


def test_unknown_profile() -> None:
    with pytest.raises(KeyError, match="unknown profile 'loose'"):
        generate(SIZE, 1, "loose")


def test_tight_needs_more_hours_than_there_are() -> None:
    need, have = _need_and_capacity(generate(SIZE, SEED, "tight"))
    loads = {p: need[p] / have[p] for p in need}
    assert max(loads.values()) == pytest.approx(1.25, abs=0.05)
    need, have = _need_and_capacity(generate(SIZE, SEED))
    assert max(need[p] / have[p] for p in need) == pytest.approx(0.8, abs=0.05)


def test_fixed_cost_engagement_and_tooling_dominate() -> None:
    doc = generate(SIZE, SEED, "fixed-cost")
    ws = doc["workshops"]
    engaged = [w for w in ws if w.get("engagement_cost", 0) > 0]
    assert len(engaged) >= 0.5 * len(ws)
    # Engaging a workshop costs more than a whole week of all its processes at its rates.
    week = statistics.median(sum(w["capacity"][p] * w["rate"][p] for p in w["capacity"])
                             for w in engaged)
    assert statistics.median(w["engagement_cost"] for w in engaged) > week
    # Every step of every component has tooled quotes: cheaper per unit than the rate,
    # for a tool of at least twice the catalog's (20 million IDR where it has none).
    rates = {w["id"]: w["rate"] for w in ws}
    comps = {c["id"]: c for c in doc["components"]}
    tooled: dict[tuple[str, int], int] = defaultdict(int)
    for o in doc["offers"]:
        st = comps[o["component"]]["routing"][o["step"]]
        if o.get("tooling_cost", 0) >= 2 * cat.COMPONENT_BY_ID[o["component"]].tooling_idr.get(
                o["step"], 20_000_000):
            assert o["unit_price"] < rates[o["workshop"]][st["process"]] * st["hours"]
            tooled[(o["component"], o["step"])] += 1
    capable = {(c["id"], s): min(3, sum(st["process"] in w["capacity"] for w in ws))
               for c in doc["components"] for s, st in enumerate(c["routing"])}
    assert all(tooled[k] >= n for k, n in capable.items()), [
        k for k, n in capable.items() if tooled[k] < n]
    base = generate(SIZE, SEED)
    assert sum(w.get("engagement_cost", 0) for w in ws) > 10 * sum(
        w.get("engagement_cost", 0) for w in base["workshops"])


def test_scarce_material_short_at_home_imported_at_the_ports() -> None:
    doc = generate(SIZE, SEED, "scarce-material")
    need = _material_need(doc)
    home: dict[str, float] = defaultdict(float)
    port: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in doc["material_centers"]:
        for m, st in c["materials"].items():
            if st["domestic"]:
                home[m] += st["stock_kg"]
            elif cat.MATERIAL_BY_ID[m].domestic:
                port[m].append(st)
    domestic_needed = [m for m in need if cat.MATERIAL_BY_ID[m].domestic and need[m] > 0]
    assert domestic_needed
    for m in domestic_needed:
        assert home[m] < need[m], m  # not enough at home for all of it
        # The ports make up for it, dearer and foreign.
        assert len(port[m]) == 2
        assert all(st["price_per_kg"] > cat.MATERIAL_BY_ID[m].price_per_kg for st in port[m])
    assert doc["policy"]["min_local_content"] == 0.4
    assert {c["location"] for c in doc["material_centers"]} >= {"tanjung-priok",
                                                                "tanjung-perak"}
    # Balanced stock covers the need of most grades.
    base_need = _material_need(base := generate(SIZE, SEED))
    base_home: dict[str, float] = defaultdict(float)
    for c in base["material_centers"]:
        for m, st in c["materials"].items():
            base_home[m] += st["stock_kg"]
    assert sum(base_home[m] >= base_need[m] for m in domestic_needed) > len(
        domestic_needed) / 2


def test_sourcing_most_requests_limited() -> None:
    reqs = generate("medium", SEED, "sourcing")["requests"]
    limits = [r.get("max_suppliers_per_step") for r in reqs]
    assert sum(v is not None for v in limits) >= 0.75 * len(reqs)
    assert {1, 2, 3} <= set(limits)
    base = generate("medium", SEED)["requests"]
    assert sum("max_suppliers_per_step" in r for r in base) <= 0.4 * len(base)


def test_cli_profile(tmp_path: Path) -> None:
    out = tmp_path / "tight.json"
    res = CliRunner().invoke(app, ["scenario", "generate", "--size", "small", "--seed", "3",
                                   "--profile", "fixed-cost", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert models.load_scenario(out) == models.scenario_from_dict(
        generate("small", 3, "fixed-cost"))
    res = CliRunner().invoke(app, ["scenario", "generate", "--size", "small", "--profile",
                                   "loose", "--out", str(out)])
    assert res.exit_code == 2
    assert "'loose' is not one of" in res.stderr


def test_scarce_material_plan_meets_the_local_content_floor(solve_checked) -> None:  # type: ignore[no-untyped-def]
    plan = solve_checked(generate(SIZE, 1, "scarce-material"), time_limit=20)
    assert plan.status.value in ("optimal", "feasible")
    assert plan.kpis["local_content"] >= 0.4 - 1e-9
    # Some imported grade is bought at a port: the home stock cannot carry the plan.
    assert any(m.center.startswith("mc-tanjung-") for m in plan.materials)
