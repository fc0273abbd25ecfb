"""Scenario variants: a file that names a base scenario and changes values by path::

    extends: ../java-automotive.yaml      # or a built-in name such as java-automotive
    name: java-automotive-ds60
    overrides:
      policy.min_domestic_share: 0.6
      workshops[ikm-ceper-001].capacity_by_period.casting: [400, 400, 400, 400, 400, 400, 400, 400]
      material_centers[mc-tegal].materials.fc250.stock_kg: 1.0e6
      components[bd-12].import.price: 1.2e6
      requests[REQ-0001].quantity: 2000
    scale:
      - {capacity: 1.5, cluster: ceper, process: casting}

Paths name list entries by id (`workshops[ID]`), never by position, so that a variant
keeps meaning the same thing when the base gains or reorders entries. Every step of a path
must name something that exists (or, for the last key, a field the schema allows), and an
override that names nothing is an error with its path: a typo silently ignored would make
an analysis answer a question nobody asked. So is an override that per-period hours make a
no-op (`capacity.PROCESS` of a workshop with `capacity_by_period.PROCESS`). See
docs/analysis.md.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import models
from models.scenario import Scenario
from scenarios import builtin_dict, builtin_names

# Keys of a variant file that are not scenario keys.
VARIANT_KEYS = ("extends", "overrides", "scale")

# Singular names for messages such as "no workshop 'ikm-x'".
_SINGULAR = {
    "workshops": "workshop",
    "material_centers": "material center",
    "components": "component",
    "requests": "request",
    "locations": "location",
    "materials": "material",
    "routing": "step",
}

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)?(?:\[([^\]]*)\])?")


def parse_path(path: str) -> list[tuple[str, str | None]]:
    """`workshops[w1].capacity.casting` -> [("workshops", "w1"), ("capacity", None),
    ("casting", None)]. Ids may contain dots, so dots only split outside brackets; a map key
    that contains a dot can be written in brackets too (`materials[fc.250]`)."""
    parts: list[str] = []
    depth, cur = 0, ""
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    out: list[tuple[str, str | None]] = []
    for part in parts:
        if part and "[" not in part and "]" not in part:
            # A plain key: may be a map key such as a material id with digits first.
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", part):
                raise ValueError(f"bad path segment '{part}'")
            out.append((part, None))
            continue
        m = _SEGMENT.fullmatch(part)
        if not part or m is None or m.group(1) is None or not m.group(2):
            raise ValueError(f"bad path segment '{part}'")
        out.append((m.group(1), m.group(2)))
    return out


# --------------------------------------------------------------------------------------
# The shape of a scenario, read from its pydantic models, so that a path is checked
# against the schema without a second, hand-written copy of it.


def _unwrap(ann: Any) -> Any:
    """Strip Annotated[...] and Optional[...] down to the type that holds the value."""
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann
            ann = args[0]
        else:
            return ann


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """Document key (alias when there is one) -> annotation."""
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


class _PathError(Exception):
    pass


def _walk_set(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at `path` in `doc` (in place), checking every step against the schema."""
    try:
        segments = parse_path(path)
    except ValueError as e:
        raise _PathError(str(e)) from None
    node: Any = doc
    ann: Any = Scenario
    where = "scenario"
    for i, (key, ident) in enumerate(segments):
        last = i == len(segments) - 1
        if _is_model(ann):
            fields = _fields(ann)
            if key not in fields:
                raise _PathError(f"unknown key '{key}' in {where}")
            field_ann = _unwrap(fields[key])
        else:
            # A map such as capacity or materials: any key, values of one type.
            field_ann = _unwrap(typing.get_args(ann)[1]) if typing.get_origin(ann) is dict \
                else None
            if field_ann is None:
                raise _PathError(f"{where} has no part '{key}'")
        if ident is None:
            if last:
                node[key] = copy.deepcopy(value)
                return
            child = node.get(key)
            if child is None:
                if _is_model(ann) and (_is_model(field_ann)
                                       or typing.get_origin(field_ann) is dict):
                    # An absent section (policy, transport, a component's import, a
                    # workshop's capacity) has defaults: start it empty and let validation
                    # fill in or reject the rest.
                    child = node[key] = {}
                else:
                    kind = _SINGULAR.get(where.split(".")[-1].split("[")[0], "key")
                    raise _PathError(f"no {kind} '{key}' in {where}")
            node, ann, where = child, field_ann, key if where == "scenario" else f"{where}.{key}"
            continue
        # key[ident]: an entry of a list by id, or a map key written in brackets.
        if typing.get_origin(field_ann) is list:
            item_ann = _unwrap(typing.get_args(field_ann)[0])
            if not (_is_model(item_ann) and "id" in _fields(item_ann)):
                raise _PathError(f"entries of {key} have no id; replace the whole list "
                                 f"instead")
            entries = node.get(key) or []
            match = [e for e in entries if isinstance(e, dict) and str(e.get("id")) == ident]
            if not match:
                raise _PathError(f"no {_SINGULAR.get(key, key)} '{ident}'")
            if last:
                raise _PathError(f"a path must name a value inside {key}[{ident}]")
            node, ann = match[0], item_ann
            where = f"{key}[{ident}]" if where == "scenario" else f"{where}.{key}[{ident}]"
        elif typing.get_origin(field_ann) is dict:
            mapping = node.get(key)
            if mapping is None:
                mapping = node[key] = {}
            val_ann = _unwrap(typing.get_args(field_ann)[1])
            if last:
                mapping[ident] = copy.deepcopy(value)
                return
            if ident not in mapping:
                raise _PathError(f"no {_SINGULAR.get(key, 'key')} '{ident}' in {key}")
            node, ann = mapping[ident], val_ann
            where = f"{where}.{key}[{ident}]"
        else:
            raise _PathError(f"{key} is not a list or map: '[{ident}]' names nothing")


def apply_overrides(doc: dict[str, Any], overrides: Mapping[str, Any],
                    prefix: str = "overrides") -> list[str]:
    """Set each `path: value` in `doc` (in place); return one problem line per override
    that names nothing, as `<prefix>.<path>: <why>`."""
    problems: list[str] = []
    for path, value in overrides.items():
        try:
            _walk_set(doc, str(path), value)
        except _PathError as e:
            problems.append(f"{prefix}.{path}: {e}")
            continue
        why = _shadowed_capacity(doc, str(path))
        if why is not None:
            problems.append(f"{prefix}.{path}: {why}")
    return problems


def _shadowed_capacity(doc: dict[str, Any], path: str) -> str | None:
    """Why an override of `workshops[W].capacity.P` (or of the whole `capacity` map) would
    change nothing: `capacity_by_period.P`, one value for every period, takes precedence
    (SPEC section 3). Read on the document as overridden, so that a variant which also
    replaces `capacity_by_period` is judged by the result."""
    segments = parse_path(path)
    if len(segments) < 2 or segments[0][0] != "workshops" or segments[0][1] is None:
        return None
    key, ident = segments[1]
    if key != "capacity":
        return None
    wid = segments[0][1]
    ws = next((w for w in doc.get("workshops") or []
               if isinstance(w, dict) and str(w.get("id")) == wid), None)
    if ws is None or not isinstance(ws.get("capacity_by_period"), dict):
        return None
    by_period = ws["capacity_by_period"]
    if ident is not None:
        named = [ident]
    elif len(segments) > 2:
        named = [segments[2][0]]
    else:
        capacity = ws.get("capacity")
        named = list(capacity) if isinstance(capacity, dict) else []
    shadowed = [p for p in named if p in by_period]
    if not shadowed:
        return None
    p = shadowed[0]
    return (f"workshop '{wid}' has capacity_by_period.{p}, which gives its hours in every "
            f"period, so capacity.{p} would change nothing; override "
            f"workshops[{wid}].capacity_by_period.{p} (a list of one value per period) or "
            f"scale it (scale: [{{capacity: FACTOR, process: {p}}}]) instead")


def apply_scale(doc: dict[str, Any], rules: Any, prefix: str = "scale") -> list[str]:
    """Multiply `capacity` and `capacity_by_period` of the workshops a rule selects (by
    `cluster`, the workshop's location id, and/or `process`) by its `capacity` factor."""
    if not isinstance(rules, list):
        return [f"{prefix}: a list of rules such as {{capacity: 1.5, cluster: ceper, "
                f"process: casting}}"]
    problems: list[str] = []
    for i, rule in enumerate(rules):
        where = f"{prefix}[{i}]"
        if not isinstance(rule, dict):
            problems.append(f"{where}: a mapping with capacity, cluster, process")
            continue
        unknown = sorted(set(rule) - {"capacity", "cluster", "process"})
        if unknown:
            problems.append(f"{where}.{unknown[0]}: unknown key (use capacity, cluster, "
                            f"process)")
            continue
        factor = rule.get("capacity")
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 0:
            problems.append(f"{where}.capacity: a factor >= 0 is required")
            continue
        cluster, process = rule.get("cluster"), rule.get("process")
        if cluster is not None and not any(
                loc.get("id") == cluster for loc in doc.get("locations") or []):
            problems.append(f"{where}.cluster: no location '{cluster}'")
            continue
        hit = False
        for w in doc.get("workshops") or []:
            if cluster is not None and w.get("location") != cluster:
                continue
            for key in ("capacity", "capacity_by_period"):
                table = w.get(key) or {}
                for p in list(table):
                    if process is not None and p != process:
                        continue
                    hit = True
                    v = table[p]
                    table[p] = [x * factor for x in v] if isinstance(v, list) else v * factor
        if not hit:
            sel = " and ".join(s for s in (
                f"cluster '{cluster}'" if cluster is not None else "",
                f"process '{process}'" if process is not None else "") if s) or "any workshop"
            problems.append(f"{where}: no workshop capacity matches {sel}")
    return problems


# --------------------------------------------------------------------------------------
# Resolving `extends`


def is_variant(doc: Any) -> bool:
    return isinstance(doc, dict) and "extends" in doc


def resolve(source: str | Path | Mapping[str, Any], base_dir: str | Path | None = None
            ) -> dict[str, Any]:
    """The scenario document a variant file (or parsed variant) stands for, not yet
    validated; a plain scenario document comes back unchanged. Raises
    `models.ScenarioError` naming every override that names nothing, or a cycle."""
    if isinstance(source, Mapping):
        where = Path(base_dir) if base_dir is not None else Path.cwd()
        return _resolve_chain(dict(source), "<variant>", where, [])
    path = Path(source)
    return _resolve_chain(*_read(path, []))


def _read(path: Path, chain: list[str]) -> tuple[Any, str, Path, list[str]]:
    key = str(path.resolve())
    if key in chain:
        names = [Path(c).name for c in chain[chain.index(key):]] + [path.name]
        raise models.ScenarioError(str(path), [f"extends: cycle {' -> '.join(names)}"])
    return models.read_document(path), str(path), path.parent, [*chain, key]


def _resolve_chain(doc: Any, source: str, base_dir: Path, chain: list[str]
                   ) -> dict[str, Any]:
    """Follow `extends` to the base, then apply each variant on the way back. A loop, not
    recursion: a chain of any length resolves (docs/analysis.md)."""
    variants: list[tuple[dict[str, Any], str]] = []
    while is_variant(doc):
        ext = doc["extends"]
        if not isinstance(ext, str) or not ext:
            raise models.ScenarioError(source, ["extends: a file path or a built-in "
                                                "scenario name"])
        variants.append((doc, source))
        target = base_dir / ext
        if target.is_file():
            doc, source, base_dir, chain = _read(target, chain)
        elif ext in builtin_names():
            doc, source = builtin_dict(ext), f"built-in '{ext}'"
        else:
            raise models.ScenarioError(source, [
                f"extends: no file '{target}' and no built-in scenario '{ext}' (built-in: "
                f"{', '.join(builtin_names())})"])
    if not isinstance(doc, dict):
        raise models.ScenarioError(source, ["(document): a scenario must be a mapping of "
                                            "keys"])
    resolved = copy.deepcopy(doc) if variants else doc
    for variant, where in reversed(variants):
        _apply_variant(resolved, variant, where)
    return resolved


def _apply_variant(resolved: dict[str, Any], doc: dict[str, Any], source: str) -> None:
    # Scenario keys in the variant replace the base's whole, before the finer overrides.
    for k, v in doc.items():
        if k not in VARIANT_KEYS:
            resolved[k] = copy.deepcopy(v)
    problems: list[str] = []
    overrides = doc.get("overrides")
    if overrides is not None:
        if isinstance(overrides, dict):
            problems += apply_overrides(resolved, overrides)
        else:
            problems.append("overrides: a mapping of paths to values")
    if doc.get("scale") is not None:
        problems += apply_scale(resolved, doc["scale"])
    if problems:
        raise models.ScenarioError(source, problems)


def load(source: str | Path | Mapping[str, Any], base_dir: str | Path | None = None
         ) -> Scenario:
    """A validated scenario from a scenario or variant file (or parsed document)."""
    name = "<scenario>" if isinstance(source, Mapping) else str(source)
    return models.scenario_from_dict(resolve(source, base_dir), name)


def variant_doc(base: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                scale: Sequence[Mapping[str, Any]] | None = None,
                name: str | None = None) -> dict[str, Any]:
    """A copy of the scenario document `base` with overrides and scale rules applied, as a
    sweep makes its variants. Raises `models.ScenarioError` for paths that name nothing."""
    doc = copy.deepcopy(dict(base))
    problems = apply_overrides(doc, overrides or {})
    if scale:
        problems += apply_scale(doc, [dict(r) for r in scale])
    if problems:
        raise models.ScenarioError(name or str(doc.get("name", "<scenario>")), problems)
    if name is not None:
        doc["name"] = name
    return doc
