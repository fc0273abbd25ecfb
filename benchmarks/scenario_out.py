"""The output the instance generators of this folder share (gap_generate.py,
cflp_generate.py): one scenario document as JSON, to a file or to stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write(make: Callable[[], dict[str, Any]], out: Path | None, summary: str) -> int:
    """Make the document and write it to `out` (stdout without one), saying so with
    `summary`; 0. A ValueError from `make` is the user's input: its message on stderr,
    2."""
    try:
        doc = make()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(doc)
    if out is None:
        print(text)
    else:
        out.write_text(text)
        print(f"wrote {doc['name']}: {summary} to {out}")
    return 0
