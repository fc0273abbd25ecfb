"""The exceptions of the models layer: input that cannot be used, one line per problem
naming where it is in the document. Every layer above raises these (or subclasses) for bad
input; the CLI prints them and exits with 2. `DocumentError` is the parser's (a file that
cannot be parsed safely); models/io.py turns it into an `InputError` naming the file."""

from __future__ import annotations


class InputError(Exception):
    """A file that cannot be used, with one line per problem naming where it is."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class ScenarioError(InputError):
    pass


class PlanError(InputError):
    pass


class DocumentError(Exception):
    """A document that cannot be parsed safely; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line and column else (
            f"line {line}: " if line else "")
        super().__init__(where + message)


__all__ = ["DocumentError", "InputError", "PlanError", "ScenarioError"]
