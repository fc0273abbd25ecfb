"""Parsing YAML and JSON text into plain documents, with bounds a hostile file cannot pass.

A scenario or plan file comes from a planner's editor, a spreadsheet export or another
service; any of them can hold a mistake, and a shared service can be sent anything. So
the parser refuses, with the line and the limit in the message:

- a key given twice in one mapping (YAML and JSON both keep the last silently, so
  `quantity: 400` then `quantity: 9000` would plan 9,000 units);
- nesting deeper than `MAX_DEPTH` levels (a scenario is about six deep; Python's own
  parsers recurse and would stop with a RecursionError far below 100,000 levels);
- YAML aliases that expand the document by more than `MAX_ALIAS_NODES` nodes, and
  recursive aliases: a few hundred bytes of nested aliases ("billion laughs") stand for
  hundreds of millions of nodes once expanded, which is what validation and every
  message would walk.

It also reads YAML numbers written like `1e9` or `5.0e+6` as numbers (YAML 1.2), not as
the strings YAML 1.1 makes of those without a dot: with strict types, a penalty written
`1e9` would otherwise be refused as "not a number".
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from models.errors import DocumentError

# Deepest nesting of lists and mappings a document may have.
MAX_DEPTH = 100
# Nodes that YAML aliases may add to a document once expanded (the document's own nodes
# do not count). An anchor reused for a few hundred workshops' capacity is far below it.
MAX_ALIAS_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_FLOAT_TAG = "tag:yaml.org,2002:float"


# --------------------------------------------------------------------------------------
# YAML


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that stops composing past MAX_DEPTH (before Python's recursion limit)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels",
                                    mark.line + 1, mark.column + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# Dates stay ISO text, as in JSON: a document is the same data whichever format it came
# in, and every writer (JSON files, the ledger, sweeps) can store it. The models read the
# text as a date where the schema has one (`horizon.start`).
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BoundedLoader.add_constructor(_TIMESTAMP_TAG,
                               yaml.SafeLoader.construct_yaml_str)  # type: ignore[type-var]

# YAML 1.2 floats: 1e9, 1E-3, +5e6 as well as 1.0e9 (YAML 1.1 only knows the dotted form).
_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_BoundedLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT_12, list("-+0123456789"))


class _Dumper(yaml.SafeDumper):
    """SafeDumper that quotes every string the loader above would read as something else:
    PyYAML's own dumper knows only YAML 1.1 floats, so it wrote a name such as `0E0` or
    `1e5` bare, and the file read back gave a number (found by the round-trip property
    test, tests/models/test_properties.py)."""


_Dumper.add_implicit_resolver(_FLOAT_TAG, _FLOAT_12, list("-+0123456789"))

# Unicode's line breaks that YAML also reads as line breaks (NEL, LS, PS): in a plain or
# single-quoted scalar they are folded on reading (a name of one NEL read back as a space);
# the double-quoted style writes them as escapes.
_YAML_BREAKS = frozenset("\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _YAML_BREAKS.intersection(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(doc: Any) -> str:
    """`doc` as YAML text that `load_yaml` reads back as the same data."""
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _key(node: Node) -> tuple[str, str] | None:
    """What makes two mapping keys the same key: tag and text of a scalar."""
    if isinstance(node, ScalarNode) and node.tag != _MERGE_TAG:
        return (node.tag, node.value)
    return None


def _walk_yaml(root: Node) -> None:
    """One pass over the composed graph (aliases are shared nodes): duplicate keys, with
    the path and both lines; recursive aliases; and the size once aliases are expanded.
    Iterative, so that it works at any depth the composer let through."""
    size: dict[int, int] = {}  # id(node) -> nodes in its expansion
    own = 0  # distinct nodes
    on_stack: set[int] = set()
    # (node, path, children pushed yet?)
    stack: list[tuple[Node, str, bool]] = [(root, "", False)]
    while stack:
        node, path, expanded = stack.pop()
        nid = id(node)
        if expanded:
            on_stack.discard(nid)
            kids = _children(node)
            size[nid] = 1 + sum(size[id(k)] for k, _ in kids)
            if size[nid] - own > MAX_ALIAS_NODES:
                raise DocumentError(
                    f"{path or '(document)'} (line {node.start_mark.line + 1}): aliases "
                    f"expand the document by more than {MAX_ALIAS_NODES:,} nodes; write the "
                    f"values out or use fewer aliases")
            continue
        if nid in size:
            continue
        if nid in on_stack:
            raise DocumentError(f"{path or '(document)'} (line {node.start_mark.line + 1}): "
                                f"recursive alias (a value that contains itself)")
        own += 1
        on_stack.add(nid)
        stack.append((node, path, True))
        if isinstance(node, MappingNode):
            first: dict[tuple[str, str], int] = {}
            for k, _v in node.value:
                key = _key(k)
                if key is None:
                    continue
                line = k.start_mark.line + 1
                if key in first:
                    where = _join(path, k.value)
                    raise DocumentError(f"{where}: duplicate key '{k.value}' at line {line} "
                                        f"(first at line {first[key]})")
                first[key] = line
        # Reversed, so that children are visited in document order (the first place that
        # expands too far is the one named).
        for child, child_path in reversed(_children(node, path)):
            if id(child) not in size:
                stack.append((child, child_path, False))


def _children(node: Node, path: str = "") -> list[tuple[Node, str]]:
    if isinstance(node, SequenceNode):
        return [(c, f"{path}[{i}]") for i, c in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: list[tuple[Node, str]] = []
        for k, v in node.value:
            out.append((k, path))
            out.append((v, _join(path, str(k.value) if isinstance(k, ScalarNode) else "?")))
        return out
    return []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def load_yaml(text: str) -> Any:
    """Parse YAML with the bounds above; YAML errors propagate as `yaml.YAMLError`."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _walk_yaml(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


# --------------------------------------------------------------------------------------
# JSON

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _Duplicate
    return d


def _find_duplicate(text: str) -> DocumentError:
    """Line, path and first line of the first duplicate key in valid JSON `text` (only
    run when the fast parse found one, so the common case pays nothing)."""
    # Frames: [keys seen -> line, current key] for objects, [index] for arrays.
    frames: list[tuple[str, Any]] = []
    path: list[str] = []
    line, last = 1, 0
    expect_key = False
    for m in _TOKEN.finditer(text):
        line += text.count("\n", last, m.start())
        last = m.start()
        tok = m.group()
        if tok == "{":
            frames.append(("obj", {}))
            path.append("")
            expect_key = True
        elif tok == "[":
            frames.append(("arr", [0]))
            path.append("[0]")
            expect_key = False
        elif tok in "}]" and len(tok) == 1:
            frames.pop()
            path.pop()
            expect_key = False
        elif tok == ",":
            kind, state = frames[-1]
            if kind == "obj":
                expect_key = True
            else:
                state[0] += 1
                path[-1] = f"[{state[0]}]"
        elif tok == ":":
            expect_key = False
        elif expect_key and frames and frames[-1][0] == "obj":
            key = json.loads(tok)
            seen = frames[-1][1]
            path[-1] = f".{key}"
            where = "".join(path).lstrip(".")
            if key in seen:
                return DocumentError(f"{where}: duplicate key '{key}' at line {line} "
                                     f"(first at line {seen[key]})")
            seen[key] = line
    return DocumentError("duplicate key")


def load_json(text: str) -> Any:
    """Parse JSON with the bounds above; syntax errors propagate as JSONDecodeError."""
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
    except _Duplicate:
        raise _find_duplicate(text) from None
    except RecursionError:
        raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels") from None
    _check_depth(doc)
    return doc


def _check_depth(doc: Any) -> None:
    # Level by level, keeping only the containers: a scenario with 100,000 requests has a
    # million scalars, which a stack of (node, depth) pairs would push and pop one by one.
    # A tuple of types and list comprehensions: with `dict | list` and a generator each,
    # the walk over the 1 M offers of a 1,000 x 1,000 facility location took 0.8 s, 0.5 s so.
    kinds = (dict, list)
    level = [doc] if isinstance(doc, kinds) else []
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels")
        nxt: list[Any] = []
        for node in level:
            nxt += [v for v in (node.values() if isinstance(node, dict) else node)
                    if isinstance(v, kinds)]
        level = nxt
        depth += 1
