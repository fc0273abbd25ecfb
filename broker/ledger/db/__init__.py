"""Persistence of the broker: ORM tables, engines and migrations."""

from broker.ledger.db.engine import ENV_URL, make_engine, resolve_url
from broker.ledger.db.migrate import head_revision

__all__ = ["ENV_URL", "head_revision", "make_engine", "resolve_url"]
