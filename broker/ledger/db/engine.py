"""Engines for the ledger database: an embedded SQLite file by default, PostgreSQL in
production, chosen by URL (`--db URL` or `BROKER_DB_URL`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from models.errors import InputError

ENV_URL = "BROKER_DB_URL"
DEFAULT_FILE = "imc-broker.db"
# How long a writer waits for another writer's transaction before giving up (seconds).
# Commits hold the lock for milliseconds; a minute only runs out when something is stuck.
BUSY_TIMEOUT_S = 60.0
# Execution option that makes a SQLite transaction take the write lock at BEGIN, so that
# what it reads cannot change before it writes (the ledger's read-check-write).
WRITE_LOCK = "broker_write_lock"


def resolve_url(url: str | None = None) -> str:
    """The database URL: the argument, else $BROKER_DB_URL, else ./imc-broker.db.

    A bare path (no `scheme://`) means a SQLite file; `postgresql://` means psycopg 3."""
    raw = url or os.environ.get(ENV_URL) or DEFAULT_FILE
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser()}"
    if raw.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# What the ledger runs on; the message for any other URL says so.
SUPPORTED = ("SQLite (a file path or sqlite:///FILE) or PostgreSQL with psycopg 3 "
             "(postgresql+psycopg://USER@HOST:PORT/DB)")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine set up for the ledger's locking rules (see docs/ledger.md).

    A URL that does not parse, names another database, or needs a driver that is not
    installed is an `InputError` saying what the ledger runs on (the URL itself is not
    repeated: it may hold a password)."""
    raw = resolve_url(url)
    try:
        resolved = make_url(raw)
    except (ArgumentError, ValueError) as e:
        raise InputError("database URL", [f"not a valid URL ({e}); use {SUPPORTED}"]) from None
    backend = resolved.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InputError("database URL", [f"unsupported database '{resolved.drivername}': the "
                                          f"ledger runs on {SUPPORTED}"])
    try:
        if backend == "sqlite":
            return _sqlite_engine(resolved.render_as_string(hide_password=False), **kwargs)
        return create_engine(resolved, pool_pre_ping=True, **kwargs)
    except (ImportError, NoSuchModuleError) as e:
        raise InputError("database URL", [
            f"the driver for '{resolved.drivername}' is not installed ({e}); use "
            f"{SUPPORTED}"]) from None
    except (ArgumentError, ValueError, TypeError) as e:
        raise InputError("database URL", [f"not a valid URL ({e}); use {SUPPORTED}"]) from None


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling would BEGIN lazily and DEFERRED; the ledger
        # needs to choose BEGIN IMMEDIATE itself, so the driver is put in autocommit mode.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit the broker reported is on disk, also after a power cut.
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_LOCK, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
