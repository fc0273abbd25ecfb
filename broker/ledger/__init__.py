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
- results.py: the typed results (the exceptions are broker/errors.py's);
- db/: the ORM tables and engines; migrations/: the Alembic scripts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from broker.errors import LedgerConflict, SchemaError
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

if TYPE_CHECKING:
    from broker.ledger.facade import Broker
else:
    # `Broker` is loaded when first used: `broker.ledger.db` (migrations, `broker db`)
    # needs neither the solvers nor the facade. Only at run time, so that the type
    # checker sees the names above and nothing else.
    def __getattr__(name: str) -> Any:
        if name != "Broker":
            raise AttributeError(f"module 'broker.ledger' has no attribute '{name}'")
        value = importlib.import_module("broker.ledger.facade").Broker
        globals()[name] = value
        return value


__all__ = [
    "Broker",
    "CenterInfo",
    "CommitResult",
    "ComponentInfo",
    "ImportResult",
    "LedgerConflict",
    "LedgerExport",
    "PlanResult",
    "ProcessInfo",
    "Quote",
    "RequestRecord",
    "RunRecord",
    "SchemaError",
    "StockInfo",
    "SubmitResult",
    "WorkshopInfo",
]
