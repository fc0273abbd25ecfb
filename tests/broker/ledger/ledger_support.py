"""Helpers of the ledger tests: a tiny registry, and databases to run them on.

SQLite runs always, in a tmp_path file. PostgreSQL runs when BROKER_TEST_PG_URL names a
server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); each test gets a fresh
schema of its own, dropped afterwards. When the variable is set and the server does not
answer, the tests fail: a CI run that meant to test PostgreSQL must not pass silently.
"""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from models import Plan, Scenario
from models.check import check

PG_ENV = "BROKER_TEST_PG_URL"
BACKENDS = ["sqlite", "postgresql"]

# Two workshops in two towns, one center, one two-step component. Capacity is tight on
# purpose: ws-b can machine 8 units a period, ws-a 10 (with a step-0 offer and tooling).
REGISTRY: dict[str, Any] = {
    "name": "ledger-test",
    "horizon": {"periods": 4, "start": "2027-01-04"},
    "transport": {"cost_per_kg_km": 0.5},
    "locations": [
        {"id": "loc-a", "lat": -7.672, "lon": 110.676},
        {"id": "loc-b", "lat": -6.869, "lon": 109.125},
        {"id": "loc-c", "lat": -6.2, "lon": 106.8},
    ],
    "materials": [{"id": "fc250"}],
    "material_centers": [
        {"id": "mc-b", "location": "loc-b",
         "materials": {"fc250": {"stock_kg": 300, "price_per_kg": 10}}},
    ],
    "workshops": [
        {"id": "ws-a", "location": "loc-a", "certifications": ["ISO9001"],
         "capacity": {"casting": 10, "machining": 10},
         "rate": {"casting": 100, "machining": 200}, "engagement_cost": 1000},
        {"id": "ws-b", "location": "loc-b",
         "capacity": {"casting": 10, "machining": 8},
         "rate": {"casting": 120, "machining": 300}, "engagement_cost": 500},
    ],
    "components": [
        {"id": "drum", "weight_kg": 2, "import": {"price": 100000, "lead_periods": 3},
         "routing": [
             {"process": "casting", "hours": 0.5, "material": "fc250", "material_kg": 3},
             {"process": "machining", "hours": 1.0},
         ]},
    ],
    "offers": [
        {"workshop": "ws-a", "component": "drum", "step": 0, "unit_price": 40, "hours": 0.4,
         "tooling_cost": 5000},
    ],
    "requests": [
        {"id": "R1", "component": "drum", "quantity": 20, "due": 3, "destination": "loc-c",
         "unmet_penalty": 1.0e6},
        {"id": "R2", "component": "drum", "quantity": 15, "due": 3, "unmet_penalty": 1.0e6},
    ],
}


def registry(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(REGISTRY)
    doc.update(changes)
    return doc


def request(rid: str, quantity: int, due: int = 3, **more: Any) -> dict[str, Any]:
    return {"id": rid, "component": "drum", "quantity": quantity, "due": due,
            "unmet_penalty": 1.0e6, **more}


def assert_checked(scenario: Scenario, plan: Plan) -> None:
    report = check(scenario, plan)
    assert report.ok, report.summary()


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of `kind`, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests skipped")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:  # any failure to reach the server named by the variable
        pytest.fail(f"{PG_ENV}={base}: PostgreSQL does not answer: {e}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
