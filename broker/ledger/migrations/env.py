"""Alembic environment of the ledger database.

The broker runs migrations itself (`broker db upgrade`, `Broker.upgrade()`), handing over
an open connection in `config.attributes["connection"]`; the `alembic` command line works
too, with `sqlalchemy.url` or $BROKER_DB_URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from broker.ledger.db.engine import make_engine
from broker.ledger.db.schema import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
