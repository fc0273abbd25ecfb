"""The broker as the service of record: a registry of workshops and material centers,
requests that arrive over time, and a ledger of committed capacity (docs/ledger.md).

`Broker` (facade.py) is the one object; the modules hold what it does:

- store.py: the database, its schema revision, and the transactions;
- registry.py: workshops, centers, components and offers, and capacity changes;
- requests.py: submit (idempotent), list, cancel;
- planning.py: the residual scenario, a stored proposal, and the commit;
- bookings.py: pure arithmetic of what a plan books and what is left (no database);
- quote.py: the cost and earliest period of one new request;
- history.py: runs, recorded solves and the export of the ledger as one plan;
- results.py: the typed results (their exceptions are in broker/errors.py);
- db/: the ORM tables and engines; migrations/: the Alembic scripts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from broker.ledger.facade import Broker
    from broker.ledger.results import (
        CenterInfo,
        CommitResult,
        ComponentInfo,
        ImportResult,
        LedgerExport,
        PlanResult,
        ProcessInfo,
        Quote,
        RequestRecord,
        RunRecord,
        StockInfo,
        SubmitResult,
        WorkshopInfo,
    )

_RESULTS = ("CenterInfo", "CommitResult", "ComponentInfo", "ImportResult", "LedgerExport",
            "PlanResult", "ProcessInfo", "Quote", "RequestRecord", "RunRecord", "StockInfo",
            "SubmitResult", "WorkshopInfo")

# Loaded when first used: `broker.ledger.db` (migrations, `broker db`) needs neither the
# solvers nor the facade.
_EXPORTS: dict[str, str] = {
    "Broker": "broker.ledger.facade",
    **{name: "broker.ledger.results" for name in _RESULTS},
}


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'broker.ledger' has no attribute '{name}'") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Broker",
    "CenterInfo",
    "CommitResult",
    "ComponentInfo",
    "ImportResult",
    "LedgerExport",
    "PlanResult",
    "ProcessInfo",
    "Quote",
    "RequestRecord",
    "RunRecord",
    "StockInfo",
    "SubmitResult",
    "WorkshopInfo",
]
