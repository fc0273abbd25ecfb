"""The exceptions of the broker layer (the ledger and the analysis tools). Bad input is
`models.InputError` or a subclass of it, as everywhere in the project: the CLI exits with
2 on those; `LedgerConflict` is the ledger's own (exit 4)."""

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


class ReplayError(models.InputError):
    """A run that cannot be replayed (no scenario kept, unknown id)."""


__all__ = ["LedgerConflict", "ReplayError", "SchemaError"]
