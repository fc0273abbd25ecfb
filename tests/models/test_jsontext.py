"""The plan file's writer (models/jsontext.py) gives `json.dumps(doc, indent=2,
ensure_ascii=False)` byte for byte, for any JSON document."""

from __future__ import annotations

import json
from enum import IntEnum, StrEnum
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from models.jsontext import dumps_indented

SCALARS = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.text(alphabet=st.characters(), max_size=12))
DOCS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=30)


@given(DOCS)
def test_same_text_as_the_standard_encoder(doc: Any) -> None:
    assert dumps_indented(doc) == json.dumps(doc, indent=2, ensure_ascii=False)


class Colour(StrEnum):
    RED = "red"


class Size(IntEnum):
    BIG = 3


def test_subclasses_tuples_and_keys_it_does_not_take() -> None:
    for doc in ({"c": Colour.RED, "s": Size.BIG, "t": (1, [2.5, -0.0])}, {1: "a", None: 2},
                [float("nan"), float("inf"), -float("inf"), 1e16, 1e-7], {}, [], [[{}]]):
        assert dumps_indented(doc) == json.dumps(doc, indent=2, ensure_ascii=False)
