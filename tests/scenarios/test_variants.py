"""Variant files: `extends` a file or a built-in, overrides by path, capacity scaling, and
the errors a planner gets when an override names nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import broker
import models
from cli import app
from scenarios import builtin_dict, variants

runner = CliRunner()

BASE: dict[str, Any] = {
    "name": "variant-base",
    "horizon": {"periods": 2},
    "policy": {"import_tariff": 0.1},
    "locations": [{"id": "ceper"}, {"id": "tegal"}],
    "routes": [{"from": "ceper", "to": "tegal", "km": 245}],
    "materials": [{"id": "fc250"}],
    "material_centers": [{"id": "mc-tegal", "location": "tegal",
                          "materials": {"fc250": {"stock_kg": 1000, "price_per_kg": 14500}}}],
    "workshops": [
        {"id": "ikm-ceper-001", "location": "ceper",
         "capacity": {"casting": 320, "machining": 80},
         "capacity_by_period": {"machining": [80, 40]},
         "rate": {"casting": 90000, "machining": 160000}},
        {"id": "ikm-ceper-002", "location": "ceper", "capacity": {"casting": 100},
         "rate": {"casting": 85000}},
        {"id": "ikm-tegal-001", "location": "tegal", "capacity": {"casting": 50, "machining": 60},
         "rate": {"casting": 95000, "machining": 150000}},
    ],
    "components": [
        {"id": "bd-12", "weight_kg": 9.5, "import": {"price": 950000, "lead_periods": 1},
         "routing": [{"process": "casting", "hours": 0.25, "material": "fc250",
                      "material_kg": 11.0},
                     {"process": "machining", "hours": 0.4}]},
    ],
    "requests": [{"id": "REQ-0001", "component": "bd-12", "quantity": 1200, "due": 1}],
}


def write(path: Path, doc: Any) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture()
def base_file(tmp_path: Path) -> Path:
    return write(tmp_path / "base.yaml", BASE)


def test_each_override_kind_sets_exactly_its_value(tmp_path: Path, base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {
        "extends": "base.yaml",
        "name": "v-all",
        "overrides": {
            "policy.min_domestic_share": 0.6,
            "policy.import_tariff": 0.25,
            "workshops[ikm-ceper-001].capacity.casting": 400,
            "material_centers[mc-tegal].materials.fc250.stock_kg": 1.0e6,
            "components[bd-12].import.price": 1.2e6,
            "requests[REQ-0001].quantity": 2000,
        },
    })
    sc = broker.load_scenario(v)
    assert sc.name == "v-all"
    assert sc.policy.min_domestic_share == 0.6
    assert sc.policy.import_tariff == 0.25
    assert sc.workshop("ikm-ceper-001").capacity == {"casting": 400.0, "machining": 80.0}
    assert sc.center("mc-tegal").materials["fc250"].stock_kg == 1.0e6
    comp = sc.component("bd-12")
    assert comp.import_ is not None and comp.import_.price == 1.2e6
    assert comp.import_.lead_periods == 1
    assert sc.request("REQ-0001").quantity == 2000
    # Everything not overridden is the base's.
    assert sc.workshop("ikm-tegal-001").capacity == {"casting": 50.0, "machining": 60.0}
    assert models.scenario_to_dict(sc)["routes"] == BASE["routes"]


def test_scale_by_cluster_and_process(tmp_path: Path, base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml",
                                    "scale": [{"capacity": 1.5, "cluster": "ceper",
                                               "process": "casting"}]})
    sc = broker.load_scenario(v)
    assert sc.workshop("ikm-ceper-001").capacity == {"casting": 480.0, "machining": 80.0}
    assert sc.workshop("ikm-ceper-002").capacity == {"casting": 150.0}
    assert sc.workshop("ikm-tegal-001").capacity == {"casting": 50.0, "machining": 60.0}


def test_scale_by_process_applies_to_capacity_by_period(tmp_path: Path,
                                                        base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml",
                                    "scale": [{"capacity": 0.5, "process": "machining"}]})
    sc = broker.load_scenario(v)
    w = sc.workshop("ikm-ceper-001")
    assert w.capacity == {"casting": 320.0, "machining": 40.0}
    assert w.capacity_by_period == {"machining": [40.0, 20.0]}
    assert sc.workshop("ikm-tegal-001").capacity == {"casting": 50.0, "machining": 30.0}


def test_scale_by_cluster_only(tmp_path: Path, base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml",
                                    "scale": [{"capacity": 2, "cluster": "tegal"}]})
    sc = broker.load_scenario(v)
    assert sc.workshop("ikm-tegal-001").capacity == {"casting": 100.0, "machining": 120.0}
    assert sc.workshop("ikm-ceper-002").capacity == {"casting": 100.0}


def test_top_level_keys_replace_the_bases(tmp_path: Path, base_file: Path) -> None:
    reqs = [{"id": "REQ-9", "component": "bd-12", "quantity": 7}]
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml", "requests": reqs})
    sc = broker.load_scenario(v)
    assert [(r.id, r.quantity) for r in sc.requests] == [("REQ-9", 7)]
    assert sc.name == "variant-base"


def test_extends_a_builtin(tmp_path: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "java-automotive",
                                    "overrides": {"policy.min_domestic_share": 0.5,
                                                  "components[bd-12].import.price": 500000}})
    sc = broker.load_scenario(v)
    base = builtin_dict("java-automotive")
    assert sc.name == base["name"]
    assert sc.policy.min_domestic_share == 0.5
    assert sc.policy.import_tariff == base["policy"]["import_tariff"]
    comp = sc.component("bd-12")
    assert comp.import_ is not None and comp.import_.price == 500000
    assert len(sc.workshops) == len(base["workshops"])


def test_chained_extends_apply_in_order(tmp_path: Path, base_file: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "mid.yaml", {
        "extends": "../base.yaml",
        "overrides": {"policy.min_domestic_share": 0.3,
                      "workshops[ikm-ceper-002].capacity.casting": 10}})
    top = write(tmp_path / "top.yaml", {
        "extends": "sub/mid.yaml",
        "overrides": {"policy.min_domestic_share": 0.7}})
    sc = broker.load_scenario(top)
    assert sc.policy.min_domestic_share == 0.7
    assert sc.workshop("ikm-ceper-002").capacity == {"casting": 10.0}


def test_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", {"extends": "b.yaml"})
    write(tmp_path / "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(models.ScenarioError) as e:
        broker.load_scenario(tmp_path / "a.yaml")
    assert e.value.problems == ["extends: cycle a.yaml -> b.yaml -> a.yaml"]


def test_overrides_that_name_nothing_are_errors_with_their_path(tmp_path: Path,
                                                                base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml", "overrides": {
        "workshops[ikm-x].capacity.casting": 400,
        "policy.min_domestic": 0.5,
        "material_centers[mc-tegal].materials.fc200.stock_kg": 5,
        "components[bd-99].import.price": 1,
        "requests[REQ-0001].quantity": 5,
        "routes[x].km": 3,
    }, "scale": [{"capacity": 2, "cluster": "sukabumi"},
                 {"capacity": 2, "cluster": "tegal", "process": "painting"}]})
    with pytest.raises(models.ScenarioError) as e:
        broker.load_scenario(v)
    assert e.value.source == str(v)
    assert e.value.problems == [
        "overrides.workshops[ikm-x].capacity.casting: no workshop 'ikm-x'",
        "overrides.policy.min_domestic: unknown key 'min_domestic' in policy",
        "overrides.material_centers[mc-tegal].materials.fc200.stock_kg: no material 'fc200' "
        "in material_centers[mc-tegal].materials",
        "overrides.components[bd-99].import.price: no component 'bd-99'",
        "overrides.routes[x].km: entries of routes have no id; replace the whole list instead",
        "scale[0].cluster: no location 'sukabumi'",
        "scale[1]: no workshop capacity matches cluster 'tegal' and process 'painting'",
    ]


def test_unknown_base_is_an_error(tmp_path: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "nowhere.yaml"})
    with pytest.raises(models.ScenarioError) as e:
        broker.load_scenario(v)
    assert e.value.problems == [
        f"extends: no file '{tmp_path / 'nowhere.yaml'}' and no built-in scenario "
        f"'nowhere.yaml' (built-in: java-automotive, java-mini)"]


def test_resolved_scenario_is_validated_like_any(tmp_path: Path, base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml",
                                    "overrides": {"policy.min_domestic_share": 1.5}})
    with pytest.raises(models.ScenarioError) as e:
        broker.load_scenario(v)
    assert e.value.problems == ["policy.min_domestic_share: must be <= 1 (got 1.5)"]


def test_cli_scenario_resolve_prints_the_resolved_yaml(tmp_path: Path,
                                                       base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml", "name": "v",
                                    "overrides": {"requests[REQ-0001].quantity": 99}})
    res = runner.invoke(app, ["scenario", "resolve", str(v)])
    assert res.exit_code == 0, res.output
    expected = json.loads(json.dumps(BASE))
    expected["name"] = "v"
    expected["requests"][0]["quantity"] = 99
    assert yaml.safe_load(res.stdout) == expected
    # The same document is what `broker solve` would solve.
    assert broker.load_scenario(v) == models.scenario_from_dict(expected)


def test_cli_scenario_resolve_bad_override_exit_2(tmp_path: Path, base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml",
                                    "overrides": {"workshops[ikm-x].capacity.casting": 1}})
    res = runner.invoke(app, ["scenario", "resolve", str(v)])
    assert res.exit_code == 2
    assert res.stderr == (f"error: {v}: 1 problem(s)\n"
                          "  overrides.workshops[ikm-x].capacity.casting: no workshop 'ikm-x'\n")
    assert "Traceback" not in res.output


def test_cli_solve_accepts_a_variant_file(tmp_path: Path, base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml",
                                    "overrides": {"requests[REQ-0001].quantity": 10}})
    res = runner.invoke(app, ["solve", str(v), "--out", str(tmp_path / "p.json"), "-q"])
    assert res.exit_code == 0, res.output
    plan = models.load_plan(tmp_path / "p.json")
    assert models.check.check(broker.load_scenario(v), plan).ok
    assert sum(p.quantity for p in plan.production if p.step == 1) + sum(
        i.quantity for i in plan.imports) == 10


def test_parse_path_keeps_dotted_ids_in_brackets() -> None:
    assert variants.parse_path("workshops[ikm.ceper.1].capacity.casting") == [
        ("workshops", "ikm.ceper.1"), ("capacity", None), ("casting", None)]
    assert variants.parse_path("material_centers[mc].materials[fc.250].stock_kg") == [
        ("material_centers", "mc"), ("materials", "fc.250"), ("stock_kg", None)]


SHADOWED = ("workshop 'ikm-ceper-001' has capacity_by_period.machining, which gives its hours "
            "in every period, so capacity.machining would change nothing; override "
            "workshops[ikm-ceper-001].capacity_by_period.machining (a list of one value per "
            "period) or scale it (scale: [{capacity: FACTOR, process: machining}]) instead")


@pytest.mark.parametrize("path", ["workshops[ikm-ceper-001].capacity.machining",
                                  "workshops[ikm-ceper-001].capacity[machining]"])
def test_an_override_that_capacity_by_period_shadows_is_refused(
        tmp_path: Path, base_file: Path, path: str) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml", "overrides": {path: 10}})
    with pytest.raises(models.ScenarioError) as e:
        broker.load_scenario(v)
    assert e.value.problems == [f"overrides.{path}: {SHADOWED}"]
    # The same map: its other process has no per-period hours and takes the change.
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml", "overrides": {
        "workshops[ikm-ceper-001].capacity.casting": 10}})
    assert broker.load_scenario(v).workshop("ikm-ceper-001").capacity["casting"] == 10
    # What the message says to use instead takes effect.
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml", "overrides": {
        "workshops[ikm-ceper-001].capacity_by_period.machining": [10, 10]}})
    w = broker.load_scenario(v).workshop("ikm-ceper-001")
    assert [w.cap("machining", t) for t in (0, 1)] == [10.0, 10.0]


def test_replacing_the_capacity_map_over_per_period_hours_is_refused(
        tmp_path: Path, base_file: Path) -> None:
    v = write(tmp_path / "v.yaml", {"extends": "base.yaml", "overrides": {
        "workshops[ikm-ceper-001].capacity": {"casting": 1, "machining": 1}}})
    with pytest.raises(models.ScenarioError) as e:
        broker.load_scenario(v)
    assert e.value.problems == [f"overrides.workshops[ikm-ceper-001].capacity: {SHADOWED}"]


def test_a_sweep_over_a_shadowed_capacity_is_refused(base_file: Path) -> None:
    from broker.analysis import sweep as sw

    with pytest.raises(models.ScenarioError) as e:
        sw.run_sweep(base_file, ["workshops[ikm-ceper-001].capacity.machining=1,2"])
    assert e.value.problems == [
        f"--vary.workshops[ikm-ceper-001].capacity.machining: {SHADOWED}"]
