"""The choices `broker bench` offers on its command line, apart from the runner
(`bench.py`): the command is defined when the CLI loads, the runner only when it runs."""

from __future__ import annotations

from enum import StrEnum


class Family(StrEnum):
    """The public benchmark families of the shared folder, and the built-in default."""

    gap = "gap"
    cflp = "cflp"
    fatahi = "fatahi"
    gap_large = "gap-large"
    cflp_large = "cflp-large"
    default = "default"
