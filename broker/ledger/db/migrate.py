"""Schema migrations of the ledger database, run by the broker itself.

Alembic is imported only to migrate. Checking whether a database is at the head revision
happens on every command, so it reads the revision files and the `alembic_version` table
directly: it keeps commands such as `broker quote` quick to start.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = str(resources.files("broker.ledger") / "migrations")
_REVISION = re.compile(r"^revision: str = \"([^\"]+)\"", re.M)
_DOWN = re.compile(r"^down_revision: str \| None = (?:\"([^\"]+)\"|None)", re.M)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("version_path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str:
    """The newest revision: the one no other revision names as its down revision."""
    revisions: set[str] = set()
    parents: set[str] = set()
    versions = resources.files("broker.ledger") / "migrations" / "versions"
    for f in versions.iterdir():
        if not f.name.endswith(".py"):
            continue
        src = f.read_text(encoding="utf-8")
        rev, down = _REVISION.search(src), _DOWN.search(src)
        if rev is None or down is None:
            continue
        revisions.add(rev.group(1))
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {sorted(heads)}")
    return heads.pop()


def current_revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_empty(connection: Connection) -> bool:
    """True for a database that has none of the broker's tables (a new file, a new schema)."""
    names = set(inspect(connection).get_table_names())
    return not names & {"alembic_version", "settings", "requests"}


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(connection), revision)
