"""The built-in scenarios: the registry, and each document's integrity checked both on its
own (references, lengths, ids) and through the scenario models."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from typing import Any

import pytest

import models
from models.derived import Derived
from scenarios import BUILTIN, DEFAULT_SCENARIO, builtin_dict, builtin_names
from scenarios import catalog as cat

ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def test_registry() -> None:
    assert DEFAULT_SCENARIO == "java-automotive"
    assert builtin_names() == list(BUILTIN)
    assert DEFAULT_SCENARIO in builtin_names()
    assert "java-mini" in builtin_names()
    for name, (description, build) in BUILTIN.items():
        assert description and "\n" not in description
        assert build()["name"] == name


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as err:
        builtin_dict("no-such")
    message = str(err.value)
    assert "no-such" in message
    assert all(n in message for n in builtin_names())


def _check_document(doc: dict[str, Any]) -> None:
    """SPEC section 2 rules, checked here independently of the models."""
    T = doc["horizon"]["periods"]
    lists = ["locations", "materials", "material_centers", "workshops", "components"]
    ids: dict[str, set[str]] = {}
    for key in [*lists, "requests"]:
        values = [x["id"] for x in doc.get(key, [])]
        assert len(values) == len(set(values)), f"duplicate id in {key}"
        assert all(ID.match(v) for v in values), key
        ids[key] = set(values)
    for c in doc["material_centers"]:
        assert c["location"] in ids["locations"]
        assert set(c["materials"]) <= ids["materials"]
        for st in c["materials"].values():
            assert st["stock_kg"] >= 0 and st["price_per_kg"] >= 0
    for w in doc["workshops"]:
        assert w["location"] in ids["locations"], w["id"]
        assert set(w["capacity"]) <= set(w["rate"]), f"{w['id']}: process without rate"
        for p, seq in w.get("capacity_by_period", {}).items():
            assert len(seq) == T, (w["id"], p)
            assert p in w["rate"], (w["id"], p)
            assert all(h >= 0 for h in seq)
    comps = {c["id"]: c for c in doc["components"]}
    for c in doc["components"]:
        assert c["routing"], c["id"]
        for st in c["routing"]:
            if "material" in st:
                assert st["material"] in ids["materials"]
                assert st["material_kg"] > 0
    shops = {w["id"]: w for w in doc["workshops"]}
    for o in doc.get("offers", []):
        assert o["workshop"] in shops and o["component"] in comps
        steps = comps[o["component"]]["routing"]
        assert 0 <= o["step"] < len(steps)
        # An offer from a shop that cannot run the process would be dead weight.
        assert steps[o["step"]]["process"] in shops[o["workshop"]]["capacity"]
    for r in doc["requests"]:
        assert r["component"] in comps
        assert r["quantity"] >= 1
        assert 0 <= r["release"] <= r["due"] <= T - 1, r["id"]
        if "destination" in r:
            assert r["destination"] in ids["locations"]


@pytest.mark.parametrize("name", list(BUILTIN))
def test_document_is_valid_and_deterministic(name: str) -> None:
    doc = builtin_dict(name)
    assert json.loads(json.dumps(doc)) == doc  # plain JSON types only
    assert builtin_dict(name) == doc
    date.fromisoformat(doc["horizon"]["start"])
    _check_document(doc)
    sc = models.scenario_from_dict(doc, name)
    d = Derived(sc)
    # Every request has somewhere to be made (or at least be imported).
    for r in sc.requests:
        steps = len(sc.component(r.component).routing)
        made = all(d.eligible[(r.id, s)] for s in range(steps))
        assert made or sc.import_allowed(r), r.id


def test_default_scenario_shape() -> None:
    doc = builtin_dict(DEFAULT_SCENARIO)
    assert doc["name"] == "java-automotive"
    assert doc["currency"] == "IDR"
    assert doc["horizon"] == {"periods": 8, "period_days": 7, "start": "2027-02-22"}
    assert doc["policy"]["step_lag_periods"] in (0, 1)
    assert doc["policy"]["import_tariff"] > 0
    assert 1.0 <= doc["transport"]["cost_per_kg_km"] <= 3.0

    shops = doc["workshops"]
    assert len(shops) >= 40
    clusters = Counter(w["id"].split("-")[1] for w in shops)
    for c in ("ceper", "tegal", "purbalingga", "sukabumi", "pasuruan", "sidoarjo",
              "yogyakarta", "semarang", "jabodetabek"):
        assert clusters[c] >= 1, c
    names = {w["name"] for w in shops}
    assert {"CV Baja Kurnia", "CV Byakta Prakasa"} <= names
    assert any("IATF16949" in w["certifications"] for w in shops)
    assert any(w.get("engagement_cost", 0) > 0 for w in shops)

    # The Idul Fitri week: most workshops at half or less, foundries cold.
    lebaran = cat.lebaran_period(date(2027, 2, 22), 8)
    assert lebaran == 2
    shares = [seq[lebaran] / w["capacity"][p] for w in shops
              for p, seq in w["capacity_by_period"].items()]
    assert sum(s <= 0.5 for s in shares) > 0.8 * len(shares)
    assert any(s == 0 for s in shares)

    centers = {c["id"] for c in doc["material_centers"]}
    assert "mc-tegal" in centers and len(centers) >= 2
    assert any(not m["domestic"] for c in doc["material_centers"]
               for m in c["materials"].values())

    comps = doc["components"]
    assert len(comps) >= 6
    assert sum(len(c["routing"]) >= 3 for c in comps) >= 6
    assert any(c.get("import") for c in comps) and any(c["offers_only"] for c in comps)
    assert any(o["tooling_cost"] > 0 for o in doc["offers"])

    reqs = doc["requests"]
    assert len(reqs) >= 20
    assert all(100 <= r["quantity"] <= 10_000 for r in reqs)
    assert any(r["requires"] for r in reqs)
    assert any("max_suppliers_per_step" in r for r in reqs)
    assert any(r.get("allow_import") is False for r in reqs)
    buyers = {r["buyer"] for r in reqs}
    assert {"PT Astra Daihatsu Motor", "PT INKA (Persero)", "PT PLN (Persero)"} <= buyers

    # Inclusive supply (SPEC 8.2, 8.3): minimum lots on every casting step, and a
    # carmaker that dual-sources.
    for c in comps:
        for st in c["routing"]:
            if st["process"] in ("casting", "al_casting"):
                assert st["min_lot"] >= 100, c["id"]
            else:
                assert "min_lot" not in st
    dual = [r for r in reqs if r.get("min_suppliers_per_step", 1) >= 2]
    assert dual and all(r["buyer"] == "PT Toyota Motor Manufacturing Indonesia" for r in dual)


def test_default_scenario_eligibility_is_selective() -> None:
    """Each step is open to a handful of shops, not to every one: realistic, and it keeps
    the exact model small enough to prove optimal."""
    sc = models.scenario_from_dict(builtin_dict(DEFAULT_SCENARIO))
    d = Derived(sc)
    counts = [len(ws) for ws in d.eligible.values()]
    assert max(counts) <= 15
    assert sum(counts) / len(counts) <= 10
