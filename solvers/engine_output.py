"""What the MIP engines print themselves, kept off the terminal unless asked for.

HiGHS writes some lines straight to the process's standard output from C++ (for instance
`HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();` during a MIP),
whatever its own output options say, so `broker solve -q` was not quiet and a portfolio
child's plan on stdout could be preceded by an engine line. `hidden()` points file
descriptors 1 and 2 at the null device and Python's `sys.stdout` and `sys.stderr` at
copies of the originals: everything Python prints arrives as before, anything written
below Python (the engines) is dropped. `BROKER_ENGINE_OUTPUT=1` keeps the engines'
output (to debug an engine).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TextIO

ENV = "BROKER_ENGINE_OUTPUT"


def shown() -> bool:
    """Whether the engines' own output is asked for (`BROKER_ENGINE_OUTPUT` set, not 0)."""
    return os.environ.get(ENV, "").strip() not in ("", "0")


@contextmanager
def _hidden_fd(name: str, fd: int) -> Iterator[None]:
    stream: TextIO = getattr(sys, name)
    try:
        if stream.fileno() != fd:  # already redirected (a test runner's capture): leave it
            yield
            return
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        yield
        return
    stream.flush()
    keep = os.dup(fd)
    line = bool(getattr(stream, "line_buffering", False))
    copy = open(keep, "w", buffering=1 if line else -1,  # noqa: SIM115 - closed below
                encoding=stream.encoding, errors=stream.errors, closefd=True)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)
    setattr(sys, name, copy)
    try:
        yield
    finally:
        copy.flush()
        os.dup2(keep, fd)
        setattr(sys, name, stream)
        copy.close()


@contextmanager
def hidden() -> Iterator[None]:
    """Within: the engines' own output (file descriptors 1 and 2) goes nowhere, Python's
    `sys.stdout` and `sys.stderr` still reach where they did. Nothing changes when
    `shown()`, or for a stream that is not the process's own (a test's capture)."""
    if shown():
        yield
        return
    with ExitStack() as stack:
        stack.enter_context(_hidden_fd("stdout", 1))
        stack.enter_context(_hidden_fd("stderr", 2))
        yield
