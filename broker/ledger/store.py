"""The ledger's database: engines, the schema check, and the two kinds of transaction
every ledger operation runs in (`locked` for writers, `snapshot` for readers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Self

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

import models
from broker.errors import SchemaError
from broker.ledger.db import migrate
from broker.ledger.db import schema as t
from broker.ledger.db.engine import WRITE_LOCK, is_sqlite, make_engine, resolve_url

_PG_MIGRATION_LOCK = 0x1BC0_B40C  # advisory lock id: one migrator at a time


class Store:
    """One ledger database (SQLite or PostgreSQL) and its transactions."""

    def __init__(self, url: str | None = None, *, auto_migrate: bool = True,
                 check_schema: bool = True, engine: Engine | None = None):
        self.url = resolve_url(url)
        self.engine = engine if engine is not None else make_engine(self.url)
        self.sqlite = is_sqlite(self.engine)
        # Writes that take the ledger lock (BEGIN IMMEDIATE on SQLite).
        self.writer = self.engine.execution_options(**{WRITE_LOCK: True})
        # Planning reads the registry and the bookings in several statements: one snapshot.
        self.reader = (self.engine if self.sqlite else
                       self.engine.execution_options(isolation_level="REPEATABLE READ"))
        if check_schema:
            self._ensure_schema(auto_migrate)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- schema

    def _ensure_schema(self, auto_migrate: bool) -> None:
        head = migrate.head_revision()
        with self.engine.connect() as conn:
            current = migrate.current_revision(conn)
            empty = current is None and migrate.is_empty(conn)
        if current == head:
            return
        if empty and auto_migrate:
            self.upgrade()
            return
        where = resolve_url(self.url)
        raise SchemaError(where, [f"database at schema revision {current or '(none)'}, this "
                                  f"broker needs {head}: run `broker db upgrade`"])

    def upgrade(self, revision: str = "head") -> str | None:
        """Migrate the database to `revision`; returns the revision it is at now."""
        with self.writer.connect() as conn:
            if not self.sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                             {"k": _PG_MIGRATION_LOCK})
            migrate.upgrade(conn, revision)
            conn.commit()
        return self.revision()

    def downgrade(self, revision: str = "base") -> str | None:
        """Migrate the database down to `revision`; returns the revision it is at now."""
        with self.writer.connect() as conn:
            if not self.sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                             {"k": _PG_MIGRATION_LOCK})
            migrate.downgrade(conn, revision)
            conn.commit()
        return self.revision()

    def revision(self) -> str | None:
        """The schema revision the database is at (None: not migrated)."""
        with self.engine.connect() as conn:
            return migrate.current_revision(conn)

    # ----- transactions

    @contextmanager
    def locked(self) -> Iterator[tuple[Session, t.Settings]]:
        """A write transaction holding the ledger lock: SQLite by BEGIN IMMEDIATE,
        PostgreSQL by the settings row FOR UPDATE. Writers wait for each other."""
        with Session(self.writer, expire_on_commit=False) as s, s.begin():
            st = s.scalars(select(t.Settings).where(t.Settings.id == 1)
                           .with_for_update()).one()
            yield s, st

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read transaction that sees one state of the ledger."""
        with Session(self.reader, expire_on_commit=False) as s, s.begin():
            yield s


def settings(s: Session) -> t.Settings:
    st = s.get(t.Settings, 1)
    assert st is not None
    return st


def settings_version(s: Session) -> int:
    """The ledger version, 0 before any registry import (a solve needs no registry)."""
    st = s.get(t.Settings, 1)
    return st.version if st is not None else 0


def require_registry(st: t.Settings) -> None:
    if st.periods < 1:
        raise models.InputError("registry", [
            "the registry is empty: run `broker registry import SCENARIO` first"])


def utc(d: datetime) -> datetime:
    # SQLite keeps no time zone; every stamp the broker writes is UTC.
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)
