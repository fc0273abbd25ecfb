"""Migrations of the ledger database: up from empty, down again, and the ORM agrees with
what the migration scripts create."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from ledger_support import BACKENDS, database
from sqlalchemy import inspect

import models
from broker import Broker, head_revision
from broker.ledger.db.schema import Base


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as u:
        yield u


def test_up_from_empty_and_down_again(url: str) -> None:
    b = Broker(url, check_schema=False)
    assert b.revision() is None
    assert b.upgrade() == head_revision()
    with b.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        # The migration scripts and the ORM describe the same schema.
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    assert b.downgrade("base") is None
    with b.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    assert b.upgrade() == head_revision()  # and up again
    b.close()


def test_first_use_migrates_and_outdated_schema_is_refused(url: str) -> None:
    with Broker(url) as b:  # an empty database is migrated on first use
        assert b.revision() == head_revision()
        b.downgrade("base")
        with b.engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE requests (id INTEGER)")
            conn.commit()
    with pytest.raises(models.InputError, match="broker db upgrade"):
        Broker(url)


def test_head_revision_read_from_files_matches_alembic() -> None:
    from alembic.script import ScriptDirectory

    from broker.ledger.db.migrate import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
