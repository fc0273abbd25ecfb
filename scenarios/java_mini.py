"""The built-in `java-mini` scenario: three workshops and two brake-drum orders over four
weeks, small enough to follow by hand.

A Ceper foundry casts, two Tegal shops machine and paint, and Hino and Isuzu want drums
delivered to their West Java plants. The foundry shuts for Idul Fitri (period 1), so the
drums for the early order are cast in week one or late; Hino asks for ISO 9001, which
only one of the two machine shops holds.
"""

from __future__ import annotations

from typing import Any

from scenarios import catalog as cat

NAME = "java-mini"
PERIODS = 4
START = "2027-03-01"  # a Monday; Idul Fitri falls in the second week


def _place(pid: str) -> dict[str, Any]:
    p = cat.PLACE_BY_ID[pid]
    return {"id": p.id, "name": p.name, "lat": p.lat, "lon": p.lon}


def _rate(process: str, cluster: str) -> int:
    return cat.workshop_rate(process, cluster)


def build() -> dict[str, Any]:
    """The `java-mini` scenario as a plain, JSON-serialisable document."""
    drum = cat.COMPONENT_BY_ID["bd-12"]
    fc250 = cat.MATERIAL_BY_ID["fc250"]
    return {
        "name": NAME,
        "currency": "IDR",
        "horizon": {"periods": PERIODS, "period_days": 7, "start": START},
        "transport": {"cost_per_kg_km": 2.0, "road_factor": 1.25},
        "policy": {
            "import_tariff": 0.1,
            "step_lag_periods": 0,
            "unmet_penalty": 5.0e7,
            "late_penalty": 4200.0,
        },
        "locations": [_place(p) for p in
                      ("ceper", "adiwerna", "talang", "kbi-purwakarta", "karawang")],
        "materials": [{"id": fc250.id, "name": fc250.name}],
        "material_centers": [{
            "id": "mc-ceper", "name": "Ceper foundry supply", "location": "ceper",
            "materials": {"fc250": {"stock_kg": 20000.0,
                                    "price_per_kg": float(fc250.price_per_kg)}},
        }],
        "workshops": [
            {
                "id": "ikm-ceper-001", "name": "CV Baja Kurnia", "location": "ceper",
                "certifications": ["SNI", "ISO9001"],
                "capacity": {"casting": 105, "painting": 30},
                # The cupola is cold over Idul Fitri and warms up slowly after it.
                "capacity_by_period": {"casting": [95, 0, 60, 105],
                                       "painting": [27, 9, 24, 30]},
                "rate": {"casting": _rate("casting", "ceper"),
                         "painting": _rate("painting", "ceper")},
            },
            {
                "id": "ikm-tegal-001", "name": "CV Duta Presisi Tegal",
                "location": "adiwerna", "certifications": ["SNI", "ISO9001"],
                "capacity": {"machining": 80, "painting": 30},
                "capacity_by_period": {"machining": [80, 32, 64, 80],
                                       "painting": [30, 12, 24, 30]},
                "rate": {"machining": _rate("machining", "tegal"),
                         "painting": _rate("painting", "tegal")},
            },
            {
                "id": "ikm-tegal-002", "name": "UD Sinar Teknik Adiwerna",
                "location": "talang", "certifications": ["SNI"],
                "capacity": {"machining": 70},
                "capacity_by_period": {"machining": [70, 21, 56, 70]},
                "rate": {"machining": cat.workshop_rate("machining", "tegal", 0.95)},
            },
        ],
        "components": [{
            "id": drum.id, "name": drum.name, "weight_kg": drum.weight_kg,
            "import": {"price": float(drum.import_price or 0),
                       "lead_periods": drum.lead_periods or 0},
            "routing": [
                {"process": s.process, "hours": s.hours,
                 **({"material": s.material, "material_kg": s.material_kg}
                    if s.material else {})}
                for s in drum.routing
            ],
        }],
        "requests": [
            {"id": "REQ-0001", "buyer": cat.BUYER_BY_ID["hmmi"].name, "component": "bd-12",
             "quantity": 400, "release": 0, "due": 2, "destination": "kbi-purwakarta",
             "requires": ["ISO9001"]},
            {"id": "REQ-0002", "buyer": cat.BUYER_BY_ID["isuzu"].name, "component": "bd-12",
             "quantity": 300, "release": 0, "due": 3, "destination": "karawang"},
        ],
    }
