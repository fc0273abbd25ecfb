"""The small two-workshop scenario several CLI and summary tests use: one two-step
component, 5 units cast at w1 (2/h) = 10 and machined at w2 (3/h) = 15, shipped
5 * 2 kg * 10 km = 100 (worked out by hand in tests/test_cli.py's test_solve_summary)."""

from __future__ import annotations

import copy
from typing import Any

_SMALL: dict[str, Any] = {
    "horizon": {"periods": 2},
    "transport": {"cost_per_kg_km": 1.0},
    "locations": [{"id": "a"}, {"id": "b"}],
    "routes": [{"from": "a", "to": "b", "km": 10}],
    "workshops": [
        {"id": "w1", "location": "a", "capacity": {"cast": 10}, "rate": {"cast": 2}},
        {"id": "w2", "location": "b", "capacity": {"mach": 10}, "rate": {"mach": 3}},
    ],
    "components": [
        {"id": "c", "weight_kg": 2, "routing": [{"process": "cast", "hours": 1},
                                                {"process": "mach", "hours": 1}]},
    ],
    "requests": [{"id": "R1", "component": "c", "quantity": 5, "due": 1}],
}


def small(name: str, **changes: Any) -> dict[str, Any]:
    """A fresh copy of the small scenario named `name`, with top-level keys replaced."""
    return {"name": name, **copy.deepcopy(_SMALL), **changes}
