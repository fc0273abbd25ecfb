"""The ledger's exceptions. Bad input is `models.InputError` (or its subclasses), as
everywhere in the project; these two are the ledger's own."""

from __future__ import annotations

from collections.abc import Sequence

import models


class LedgerConflict(Exception):
    """The ledger changed so that the operation no longer fits: plan again.

    `problems` names what no longer fits, one line each."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        self.problems = list(problems)
        lines = "".join(f"\n  {p}" for p in self.problems)
        super().__init__(message + lines)
        self.message = message


class SchemaError(models.InputError):
    """The database is not at the schema revision this broker needs."""


__all__ = ["LedgerConflict", "SchemaError"]
