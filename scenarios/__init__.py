"""Built-in scenarios: plain SPEC documents (dicts), true to the Javanese clusters.

`broker.builtin_scenario(name)` turns one into a validated model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scenarios import java_auto, java_mini

BUILTIN: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "java-automotive": (
        "automotive and rail components across the Javanese metal clusters, 8 weeks "
        "around Idul Fitri 2027",
        java_auto.build,
    ),
    "java-mini": (
        "three workshops and two brake-drum orders over four weeks, small enough to follow "
        "by hand",
        java_mini.build,
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
