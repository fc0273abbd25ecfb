"""Cross-reference checks of a scenario document (SPEC section 2).

They run on the raw document, not on the model, so that they still report every problem
when some field elsewhere is malformed: a planner fixes a file in one pass, not ten.
Each problem is one line `path: message`, the path as in the document
(`requests[3].component`).
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from models.scenario import MAX_PERIODS


def loc_to_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


_MESSAGES = {
    "missing": "required field missing",
    "extra_forbidden": "unknown field",
    "string_pattern_mismatch": "not a valid identifier (letters, digits, '-', '_', '.' only)",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
}

# The most of a value a message repeats: a wrong value is shown to say what was read, not
# to copy a 100,000-element list (or an alias bomb) into the terminal.
ECHO_CHARS = 80
_repr = reprlib.Repr()
_repr.maxstring = ECHO_CHARS
_repr.maxother = ECHO_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxset = 6
_repr.maxdict = 4
_repr.maxlevel = 3
_repr.maxlong = 40


def shown(value: Any) -> str:
    """`value` as a message shows it: its repr, cut to about ECHO_CHARS characters. The
    work is bounded too (reprlib stops at a few entries per level)."""
    text = _repr.repr(value)
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS - 3] + "..."


def _is_non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def pydantic_problems(err: ValidationError) -> list[str]:
    problems = []
    for e in err.errors(include_url=False):
        loc = e["loc"]
        # Union members add their type name to the location; a planner does not care.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p in _UNION_TAGS))
        ctx = e.get("ctx") or {}
        if e["type"] in _BOUNDS:
            finite = "a finite number " if _is_non_finite(e.get("input")) else ""
            msg = f"must be {finite}{_BOUNDS[e['type']]} {next(iter(ctx.values())):g}"
        else:
            msg = _MESSAGES.get(e["type"], e["msg"].rstrip("."))
        if e["type"] not in ("missing",) and "input" in e and not isinstance(e["input"], dict):
            msg += f" (got {shown(e['input'])})"
        problems.append(f"{loc_to_path(loc)}: {msg}")
    return list(dict.fromkeys(problems))


_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
           "less_than": "<"}

_UNION_TAGS = {"int", "float", "str", "bool", "list[...]", "dict[...]", "constrained-int",
               "constrained-float", "constrained-str", "Import", "function-after[...]"}


def _list(doc: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    items = doc.get(key)
    if not isinstance(items, list):
        return []
    return [(i, it) for i, it in enumerate(items) if isinstance(it, dict)]


def _num(v: Any) -> float | None:
    # Only real numbers: a string or a bool is a type error reported by the model.
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _ids(doc: dict[str, Any], key: str, problems: list[str]) -> set[str]:
    seen: dict[str, int] = {}
    for i, it in _list(doc, key):
        ident = it.get("id")
        if not isinstance(ident, str):
            continue
        if ident in seen:
            first = f"{key}[{seen[ident]}]"
            problems.append(f"{key}[{i}].id: duplicate id {shown(ident)} (first at {first})")
        else:
            seen[ident] = i
    return set(seen)


def cross_check(doc: dict[str, Any]) -> list[str]:
    """All problems that relate one part of the document to another."""
    problems: list[str] = []
    locations = _ids(doc, "locations", problems)
    materials = _ids(doc, "materials", problems)
    centers = _ids(doc, "material_centers", problems)
    workshops = _ids(doc, "workshops", problems)
    components = _ids(doc, "components", problems)
    _ids(doc, "requests", problems)
    del centers

    horizon = doc.get("horizon")
    periods: int | None = None
    if isinstance(horizon, dict):
        n = _int(horizon.get("periods"))
        # Out of range, it is reported as such once; lengths are not held against it.
        periods = n if n is not None and 1 <= n <= MAX_PERIODS else None

    def ref(path: str, value: Any, known: set[str], what: str) -> None:
        if isinstance(value, str) and value not in known:
            problems.append(f"{path}: unknown {what} {shown(value)}")

    for i, rt in _list(doc, "routes"):
        ref(f"routes[{i}].from", rt.get("from"), locations, "location")
        ref(f"routes[{i}].to", rt.get("to"), locations, "location")

    for i, mc in _list(doc, "material_centers"):
        ref(f"material_centers[{i}].location", mc.get("location"), locations, "location")
        mats = mc.get("materials")
        if isinstance(mats, dict):
            for mat in mats:
                ref(f"material_centers[{i}].materials.{mat}", mat, materials, "material")

    wk_proc: dict[str, set[str]] = {}
    for i, w in _list(doc, "workshops"):
        path = f"workshops[{i}]"
        ref(f"{path}.location", w.get("location"), locations, "location")
        cap = w.get("capacity") if isinstance(w.get("capacity"), dict) else {}
        cbp = w.get("capacity_by_period") if isinstance(w.get("capacity_by_period"), dict) else {}
        rate = w.get("rate") if isinstance(w.get("rate"), dict) else {}
        assert isinstance(cap, dict) and isinstance(cbp, dict) and isinstance(rate, dict)
        for proc, seq in cbp.items():
            if isinstance(seq, list) and periods is not None and len(seq) != periods:
                problems.append(
                    f"{path}.capacity_by_period.{proc}: has {len(seq)} entries, "
                    f"horizon.periods is {periods}"
                )
        procs = set()
        for proc in list(cap) + list(cbp):
            values = [cap.get(proc)] if proc not in cbp else cbp[proc]
            values = values if isinstance(values, list) else []
            if any((_num(v) or 0) > 0 for v in values):
                procs.add(proc)
        for proc in sorted(procs):
            if proc not in rate:
                problems.append(f"{path}.rate: process '{proc}' has capacity but no rate")
        if isinstance(w.get("id"), str):
            wk_proc[w["id"]] = procs

    routings: dict[str, int] = {}
    for i, c in _list(doc, "components"):
        routing = c.get("routing")
        if isinstance(c.get("id"), str) and isinstance(routing, list):
            routings[c["id"]] = len(routing)
        for j, st in enumerate(routing if isinstance(routing, list) else []):
            if not isinstance(st, dict):
                continue
            path = f"components[{i}].routing[{j}]"
            mat = st.get("material")
            kg = _num(st.get("material_kg"))
            if mat is not None:
                ref(f"{path}.material", mat, materials, "material")
                if kg is None or kg <= 0:
                    problems.append(f"{path}.material_kg: a material step needs material_kg > 0")
            elif st.get("material_kg") is not None and (kg or 0) > 0:
                problems.append(f"{path}.material: material_kg given but no material")

    seen_offers: dict[tuple[Any, Any, Any], int] = {}
    # Paths are written only for a problem: a facility location of 1,000 sites and 1,000
    # customers has 1 M offers, and formatting three paths each took a second of reading it.
    for i, o in _list(doc, "offers"):
        wid, comp, step = o.get("workshop"), o.get("component"), _int(o.get("step"))
        if not (isinstance(wid, str) and wid in workshops):
            ref(f"offers[{i}].workshop", wid, workshops, "workshop")
        if not (isinstance(comp, str) and comp in components):
            ref(f"offers[{i}].component", comp, components, "component")
        if (step is not None and isinstance(comp, str) and comp in routings
                and not 0 <= step < routings[comp]):
            problems.append(
                f"offers[{i}].step: step {step} outside the routing of '{comp}' "
                f"(0 .. {routings[comp] - 1})"
            )
        key = (wid, comp, step)
        if isinstance(wid, str | int) and isinstance(comp, str | int) and step is not None:
            if key in seen_offers:
                problems.append(f"offers[{i}]: duplicate offer for workshop '{key[0]}', component "
                                f"'{key[1]}', step {key[2]} (first at offers[{seen_offers[key]}])")
            else:
                seen_offers[key] = i

    for i, r in _list(doc, "requests"):
        path = f"requests[{i}]"
        ref(f"{path}.component", r.get("component"), components, "component")
        if r.get("destination") is not None:
            ref(f"{path}.destination", r.get("destination"), locations, "location")
        rel, due = r.get("release", 0), r.get("due")
        if periods is not None:
            for field_name, v in (("release", rel), ("due", due)):
                if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v < periods:
                    problems.append(
                        f"{path}.{field_name}: period {v} outside the horizon (0 .. {periods - 1})"
                    )
        rel_i, due_i = _int(rel), _int(due)
        if rel_i is not None and due_i is not None and rel_i > due_i:
            problems.append(f"{path}.release: release {rel} is after due {due}")
        lo, hi = r.get("min_suppliers_per_step"), r.get("max_suppliers_per_step")
        if isinstance(lo, int) and isinstance(hi, int) and _whole(lo) and _whole(hi) and lo > hi:
            problems.append(f"{path}.min_suppliers_per_step: {lo} is more than "
                            f"max_suppliers_per_step {hi}")

    policy = doc.get("policy")
    shares = policy.get("min_location_share") if isinstance(policy, dict) else None
    if isinstance(shares, dict):
        for loc in shares:
            ref(f"policy.min_location_share.{loc}", loc, locations, "location")
        values = [_num(v) for v in shares.values()]
        total = sum(v for v in values if v is not None and 0 <= v <= 1)
        if total > 1 + 1e-9:
            problems.append(f"policy.min_location_share: shares sum to {total:g}, more than 1")
    return problems


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
