"""Built-in scenarios: plain SPEC documents (dicts), true to the Javanese clusters.

`broker.builtin_scenario(name)` turns one into a validated model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def _builder(module: str) -> Callable[[], dict[str, Any]]:
    """The `build` of `scenarios.<module>`, imported when first called: the catalog behind
    the built-ins costs every command that never uses one (a quote, say) its import."""

    def build() -> dict[str, Any]:
        doc: dict[str, Any] = importlib.import_module(f"scenarios.{module}").build()
        return doc

    return build


BUILTIN: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "java-automotive": (
        "automotive and rail components across the Javanese metal clusters, 8 weeks "
        "around Idul Fitri 2027",
        _builder("java_auto"),
    ),
    "java-mini": (
        "three workshops and two brake-drum orders over four weeks, small enough to follow "
        "by hand",
        _builder("java_mini"),
    ),
}

DEFAULT_SCENARIO = "java-automotive"


def builtin_names() -> list[str]:
    return list(BUILTIN)


def builtin_dict(name: str) -> dict[str, Any]:
    try:
        _, build = BUILTIN[name]
    except KeyError:
        raise KeyError(f"unknown built-in scenario '{name}' (known: "
                       f"{', '.join(BUILTIN)})") from None
    return build()
