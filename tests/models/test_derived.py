"""Road distances (SPEC section 3): shortest paths over the routes, and the groups of
locations that can ship to each other, against networkx as the reference."""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
import pytest

from models import scenario_from_dict
from models.derived import Distances
from scenarios.altgen import generate as alt_generate


def _reference(doc: dict[str, Any]) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(loc["id"] for loc in doc["locations"])
    for rt in doc["routes"]:
        a, b = rt["from"], rt["to"]
        if a != b and (not g.has_edge(a, b) or g[a][b]["km"] > rt["km"]):
            g.add_edge(a, b, km=rt["km"])
    return g


def _assert_as_networkx(doc: dict[str, Any]) -> Distances:
    dist = Distances(scenario_from_dict(doc))
    g = _reference(doc)
    ids = [loc["id"] for loc in doc["locations"]]
    for a in ids:
        want = nx.single_source_dijkstra_path_length(g, a, weight="km")
        for b in ids:
            got = dist.km(a, b)
            if b in want:
                assert got == pytest.approx(want[b], rel=1e-12, abs=1e-9), (a, b)
            else:
                assert got is None, (a, b)
    assert sorted(dist.components(), key=sorted) == sorted(
        (frozenset(c) for c in nx.connected_components(g)), key=sorted)
    return dist


def test_parallel_links_self_loops_and_an_island() -> None:
    """The shorter of two parallel links counts, a self-loop does not, and a location no
    road reaches has no distance to the others."""
    doc = {
        "name": "roads", "horizon": {"periods": 1},
        "locations": [{"id": i} for i in ("a", "b", "c", "d", "e")],
        "routes": [{"from": "a", "to": "b", "km": 10}, {"from": "b", "to": "a", "km": 7},
                   {"from": "b", "to": "c", "km": 5}, {"from": "a", "to": "c", "km": 20},
                   {"from": "c", "to": "c", "km": 1}, {"from": "d", "to": "d", "km": 3}],
        "workshops": [], "components": [], "requests": [],
    }
    dist = _assert_as_networkx(doc)
    assert dist.km("a", "c") == 12
    assert dist.km("c", "a") == 12
    assert dist.km("a", "d") is None
    assert dist.components() == [frozenset("abc"), frozenset("d"), frozenset("e")]


@pytest.mark.parametrize(("size", "seed"), [("small", 4), ("small", 19), ("medium", 18)])
def test_alt_generator_islands_as_networkx(size: str, seed: int) -> None:
    """The alt generator's island layouts (seed 4: two islands without a ferry)."""
    doc = alt_generate(size, seed)
    dist = _assert_as_networkx(doc)
    assert len(dist.components()) == 2
    big, small = dist.components()
    assert len(big) >= len(small)
    for a, b in itertools.product(sorted(big)[:3], sorted(small)[:3]):
        assert dist.km(a, b) is None
