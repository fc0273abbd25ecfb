"""`Broker`: the ledger's one object, a thin facade over the modules of this package.

    b = Broker("postgresql+psycopg://broker@db/broker")
    b.import_scenario("central-java.yaml")
    b.submit("requests.yaml")
    proposal = b.plan(time_limit=30)
    b.commit(proposal.plan_id)          # LedgerConflict when someone else got there first

Every method is one transaction: it happens wholly or not at all. Each method is the
function of the same name in registry.py, requests.py, planning.py, quote.py or
history.py, called with the broker as its store; the database, schema and transactions
are `Store`'s (store.py).
"""

from __future__ import annotations

from broker.ledger import history, planning
from broker.ledger import quote as _quote
from broker.ledger import registry as _registry
from broker.ledger import repair as _repair
from broker.ledger import requests as _requests
from broker.ledger.store import Store


class Broker(Store):
    """Registry, requests and capacity ledger in one database (SQLite or PostgreSQL)."""

    # registry
    import_scenario = _registry.import_scenario
    import_workshops_csv = _registry.import_workshops_csv
    set_capacity = _registry.set_capacity
    workshops = _registry.workshops
    centers = _registry.centers
    components = _registry.components
    registry = _registry.registry

    # requests
    submit = _requests.submit
    requests = _requests.requests
    request = _requests.request
    cancel = _requests.cancel

    # planning and commit
    residual_scenario = planning.residual_scenario
    plan = planning.plan
    stored_plan = planning.stored_plan

    commit = planning.commit

    # disruptions and repair
    disrupt = _repair.disrupt
    commit_repair = _repair.commit
    is_repair = _repair.is_repair_id

    # quote
    quote = _quote.quote
    residual_document = _quote.residual_document

    # history and export
    record_solve = history.record_solve
    export = history.export
    runs = history.runs
    run = history.run
    ledger_version = history.ledger_version


__all__ = ["Broker"]
