"""Sweeps: solve every combination of varied values of a scenario, on local processes or a
Dask cluster, and write one table whose bytes do not depend on where or in what order the
variants ran (docs/analysis.md).

A worker gets a scenario *document* and plain options (`run_variant`), builds and solves
its own model single-threaded, checks the plan, and returns JSON-able data: no solver
object ever crosses a process boundary, and a variant that fails comes back as a row with
status `error` and the message, never as a lost future.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import models
from models.plan import COST_TERMS
from scenarios import variants

# --------------------------------------------------------------------------------------
# What varies

_SCALE = re.compile(r"scale\.capacity(?:\[([^\]]*)\])?")


@dataclass(frozen=True)
class Axis:
    """One `--vary PATH=VALUES`: an override path (or a capacity scale rule) and its
    values in the order given."""

    path: str
    values: tuple[Any, ...]
    # For `scale.capacity[cluster=..,process=..]`: the rule's filters.
    scale: tuple[tuple[str, str], ...] | None = None

    @property
    def slug(self) -> str:
        """The path as a file-name part, for `cost_vs_<slug>.png`."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", self.path).strip("_")


def _split_eq(spec: str) -> tuple[str, str]:
    depth = 0
    for i, ch in enumerate(spec):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "=" and depth == 0:
            return spec[:i].strip(), spec[i + 1:].strip()
    raise ValueError(f"'{spec}': write PATH=VALUES, e.g. policy.min_domestic_share=0:1:0.25")


def parse_value(text: str) -> Any:
    """A value of a list: integer, number, true/false, or else the text itself."""
    t = text.strip()
    if re.fullmatch(r"[+-]?\d+", t):
        return int(t)
    try:
        return float(t)
    except ValueError:
        pass
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    return t


def parse_values(text: str) -> tuple[Any, ...]:
    """`0,0.2,0.5` (a list) or `start:stop:step` (stop included when it falls on the grid).

    Ranges use decimal arithmetic, so `0:1:0.1` is exactly 0.0, 0.1, ..., 1.0 (eleven
    values, each the float nearest its decimal), not 0.30000000000000004."""
    t = text.strip()
    if not t:
        raise ValueError("no values")
    if ":" in t and "," not in t:
        parts = t.split(":")
        if len(parts) != 3:
            raise ValueError(f"'{t}': a range is start:stop:step")
        try:
            start, stop, step = (Decimal(p.strip()) for p in parts)
        except InvalidOperation:
            raise ValueError(f"'{t}': start, stop and step must be numbers") from None
        if step == 0 or (stop - start) * step < 0:
            raise ValueError(f"'{t}': step must be non-zero and go from start towards stop")
        count = int((stop - start) / step) + 1
        as_int = all(p == p.to_integral_value() and "." not in s and "e" not in s.lower()
                     for p, s in zip((start, stop, step), parts, strict=True))
        vals = [start + i * step for i in range(count)]
        return tuple(int(v) if as_int else float(v) for v in vals)
    items = [s for s in t.split(",")]
    if any(not s.strip() for s in items):
        raise ValueError(f"'{t}': empty value in the list")
    return tuple(parse_value(s) for s in items)


def parse_vary(spec: str) -> Axis:
    """`policy.min_domestic_share=0:1:0.25`, `components[bd-12].import.price=8e5,1e6`, or
    `scale.capacity[cluster=ceper,process=casting]=1,1.5,2` (either filter optional)."""
    path, text = _split_eq(spec)
    values = parse_values(text)
    m = _SCALE.fullmatch(path)
    if m is not None:
        filters: list[tuple[str, str]] = []
        for part in (m.group(1) or "").split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise ValueError(f"'{path}': filters are cluster=ID and/or process=NAME")
            k, v = (s.strip() for s in part.split("=", 1))
            if k not in ("cluster", "process"):
                raise ValueError(f"'{path}': unknown filter '{k}' (cluster, process)")
            filters.append((k, v))
        return Axis(path, values, tuple(filters))
    if path.startswith("scale"):
        raise ValueError(f"'{path}': write scale.capacity[cluster=ID,process=NAME]")
    try:
        variants.parse_path(path)
    except ValueError as e:
        raise ValueError(f"'{path}': {e}") from None
    return Axis(path, values)


@dataclass(frozen=True)
class Variant:
    index: int
    values: tuple[Any, ...]
    overrides: dict[str, Any] = field(default_factory=dict)
    scale: list[dict[str, Any]] = field(default_factory=list)


def expand(axes: Sequence[Axis]) -> list[Variant]:
    """Every combination, row-major over the axes in order (the last varies fastest)."""
    out = []
    for i, combo in enumerate(itertools.product(*(a.values for a in axes))):
        overrides: dict[str, Any] = {}
        scale: list[dict[str, Any]] = []
        for a, v in zip(axes, combo, strict=True):
            if a.scale is None:
                overrides[a.path] = v
            else:
                scale.append({"capacity": v, **dict(a.scale)})
        out.append(Variant(i, tuple(combo), overrides, scale))
    return out


# --------------------------------------------------------------------------------------
# One variant, on a worker


def run_variant(scenario_doc: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Validate, solve single-threaded with the sweep's seed and time limit, and check one
    variant. Inputs and output are plain JSON-able data (picklable for any executor).

    Returns {"row": {...}, "plan": plan JSON or None, "utilization": [[cluster, process,
    used, available], ...], "seconds": wall clock}. Never raises: a failure is a row with
    status `error` and the message."""
    started = time.perf_counter()
    try:
        return _run_variant(scenario_doc, options, started)
    except Exception as e:  # noqa: BLE001 - a worker reports, the sweep decides
        detail = traceback.format_exception_only(type(e), e)[-1].strip()
        return {"row": {"status": "error", "message": detail}, "plan": None,
                "utilization": [], "seconds": time.perf_counter() - started}


def _run_variant(doc: dict[str, Any], options: dict[str, Any], started: float
                 ) -> dict[str, Any]:
    from broker.summary import utilization
    from models.check import check
    from solvers import Engine, SolveOptions, solve

    try:
        sc = models.scenario_from_dict(doc, "variant")
    except models.ScenarioError as e:
        return {"row": {"status": "error", "message": "; ".join(e.problems)}, "plan": None,
                "utilization": [], "seconds": time.perf_counter() - started}
    opts = SolveOptions(time_limit=options.get("time_limit"), seed=int(options.get("seed", 0)),
                        # One thread per variant, said explicitly: the sweep's parallelism is
                        # across variants, and a single-threaded solve is reproducible.
                        threads=1, engine=Engine(options.get("engine", "highs")),
                        gap=float(options.get("gap", 1e-7)))
    plan = solve(sc, opts)
    report = check(sc, plan)
    k = plan.kpis
    row: dict[str, Any] = {
        "status": plan.status.value,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
    }
    cost = plan.cost.as_dict() if plan.cost is not None else {}
    for term in COST_TERMS:
        row[f"cost_{term}"] = cost.get(term)
    row.update({
        "domestic_share": k.get("domestic_share"),
        "local_content": k.get("local_content"),
        "on_time_share": k.get("on_time_share"),
        "unmet_units": sum(u.quantity for u in plan.unmet) if plan.status.has_plan else None,
        "imported_units": (sum(i.quantity for i in plan.imports)
                           if plan.status.has_plan else None),
        **(_spread(sc, plan) if plan.status.has_plan else {}),
        "check": "ok" if report.ok else f"FAILED ({len(report.violations)} violations)",
        "message": plan.diagnosis or ("" if report.ok else report.violations[0].message),
    })
    util = [[u.cluster, u.process, u.used_hours, u.available_hours]
            for u in utilization(sc, plan)] if plan.status.has_plan else []
    return {"row": row, "plan": plan.to_dict(), "utilization": util,
            "timings": plan.timings or {}, "seconds": time.perf_counter() - started}


# --------------------------------------------------------------------------------------
# The sweep


def _spread(sc: models.Scenario, plan: models.Plan) -> dict[str, Any]:
    """What inclusion looks like in a plan (SPEC 8.4, 8.5): how many workshops and
    locations get any work, and the largest share of the domestic (final-step) units one
    workshop makes (None without domestic units)."""
    steps = {r.id: len(sc.component(r.component).routing) for r in sc.requests}
    at: dict[str, int] = {}
    for p in plan.production:
        if p.step == steps[p.request] - 1:
            at[p.workshop] = at.get(p.workshop, 0) + p.quantity
    working = {p.workshop for p in plan.production}
    domestic = sum(at.values())
    return {"workshops_used": len(working),
            "locations_used": len({sc.workshop(w).location for w in working}),
            "max_workshop_share": max(at.values()) / domestic if domestic else None}


RESULT_COLUMNS = ("status", "objective", "bound", "gap",
                  *(f"cost_{t}" for t in COST_TERMS),
                  "domestic_share", "local_content", "on_time_share", "unmet_units",
                  "imported_units", "workshops_used", "locations_used",
                  "max_workshop_share", "check", "message")


@dataclass(frozen=True)
class VariantResult:
    """One variant's outcome, built once: `record_runs` returns copies with run ids."""

    variant: Variant
    name: str
    row: dict[str, Any]
    plan: dict[str, Any] | None
    utilization: list[list[Any]]
    seconds: float
    scenario_doc: dict[str, Any] | None
    timings: dict[str, float] = field(default_factory=dict)
    run_id: int | None = None


@dataclass(frozen=True)
class SweepResult:
    """A sweep's variants in grid order, built once: recording the runs returns a new
    result, and writing the files returns the files' paths."""

    axes: list[Axis]
    results: list[VariantResult]
    options: dict[str, Any] = field(default_factory=dict)
    scenario: str = "scenario"  # the base scenario's name, for titles
    currency: str = "IDR"  # the base scenario's currency, for axis labels

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.row.get("status") == status)


Progress = Callable[[int, int, VariantResult], None]


def run_sweep(base: str | Path | Mapping[str, Any], vary: Sequence[str | Axis],
              *, time_limit: float | None = None, seed: int = 0, gap: float = 1e-7,
              engine: str = "highs", workers: int = 1, executor: str = "local",
              progress: Progress | None = None) -> SweepResult:
    """Solve every variant of `base` (scenario or variant file, built-in name, or
    document) that the `vary` axes make. Raises `models.ScenarioError` when the base is
    invalid or a varied path names nothing (nothing is solved then); any other failure of
    a variant is reported in its row."""
    base_doc = _base_document(base)
    axes = [a if isinstance(a, Axis) else _axis(a) for a in vary]
    grid = expand(axes)
    _check_paths(base_doc, axes)
    name = str(base_doc.get("name", "scenario"))
    options = {"time_limit": time_limit, "seed": seed, "gap": gap, "engine": engine}

    results: list[VariantResult | None] = [None] * len(grid)
    docs: dict[int, dict[str, Any]] = {}
    done = 0

    def finish(v: Variant, out: dict[str, Any]) -> None:
        nonlocal done
        r = VariantResult(v, f"{name}@{v.index:03d}", dict(out["row"]), out.get("plan"),
                          list(out.get("utilization") or []), float(out.get("seconds", 0.0)),
                          docs.get(v.index), dict(out.get("timings") or {}))
        results[v.index] = r
        done += 1
        if progress is not None:
            progress(done, len(grid), r)

    pending: list[Variant] = []
    for v in grid:
        try:
            docs[v.index] = variants.variant_doc(base_doc, v.overrides, v.scale,
                                                 name=f"{name}@{v.index:03d}")
            pending.append(v)
        except models.ScenarioError as e:
            finish(v, {"row": {"status": "error", "message": "; ".join(e.problems)}})

    if pending:
        _execute(pending, docs, options, workers, executor, finish)
    return SweepResult(axes, [r for r in results if r is not None], options, scenario=name,
                       currency=str(base_doc.get("currency", "IDR")))


def _axis(spec: str) -> Axis:
    try:
        return parse_vary(spec)
    except ValueError as e:
        raise models.ScenarioError("--vary", [str(e)]) from None


def _base_document(base: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    from scenarios import builtin_dict, builtin_names

    if isinstance(base, Mapping):
        doc = variants.resolve(base)
        source = "<scenario>"
    elif not Path(base).exists() and str(base) in builtin_names():
        doc, source = builtin_dict(str(base)), f"built-in '{base}'"
    else:
        doc, source = variants.resolve(Path(base)), str(base)
    # The base must be valid on its own; only the varied values may break a variant.
    models.scenario_from_dict(doc, source)
    # As a file holds it (dates as ISO text): a document built in code may hold dates,
    # and every variant is copied, sent to workers and written as JSON.
    return models.io.json_document(doc)


def _check_paths(base_doc: dict[str, Any], axes: Sequence[Axis]) -> None:
    """A varied path that names nothing fails the sweep before anything is solved: it is a
    typo, the same for every value."""
    problems: list[str] = []
    for a in axes:
        trial = json.loads(json.dumps(base_doc))
        if a.scale is None:
            problems += variants.apply_overrides(trial, {a.path: a.values[0]}, prefix="--vary")
        else:
            problems += [p.replace("scale[0]", f"--vary {a.path}") for p in
                         variants.apply_scale(trial, [{"capacity": 1.0, **dict(a.scale)}])]
    if problems:
        raise models.ScenarioError("--vary", problems)


def _execute(pending: list[Variant], docs: dict[int, dict[str, Any]],
             options: dict[str, Any], workers: int, executor: str,
             finish: Callable[[Variant, dict[str, Any]], None]) -> None:
    if executor == "local":
        _run_local(pending, docs, options, workers, finish)
    elif executor.startswith(("dask://", "tcp://", "tls://", "inproc://")):
        address = "tcp://" + executor[len("dask://"):] if executor.startswith("dask://") \
            else executor
        _run_dask(pending, docs, options, address, finish)
    else:
        raise models.InputError("--executor", [f"unknown executor '{executor}': use local "
                                               f"or dask://HOST:PORT"])


def _run_local(pending: list[Variant], docs: dict[int, dict[str, Any]],
               options: dict[str, Any], workers: int,
               finish: Callable[[Variant, dict[str, Any]], None]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # `spawn`: a forked child of a process that has loaded the solver's threads can
    # deadlock; a fresh interpreter per worker costs a second once per sweep.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx) as pool:
        futures = {pool.submit(run_variant, docs[v.index], options): v for v in pending}
        for fut in as_completed(futures):
            finish(futures[fut], _outcome(fut))


def _run_dask(pending: list[Variant], docs: dict[int, dict[str, Any]],
              options: dict[str, Any], address: str,
              finish: Callable[[Variant, dict[str, Any]], None]) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - dask is a declared dependency
        raise models.InputError("--executor", ["dask executor needs `pip install "
                                               "dask[distributed]`"]) from None
    try:
        client = Client(address, timeout=10)
    except OSError as e:
        raise models.InputError("--executor", [f"cannot reach the Dask scheduler at "
                                               f"{address}: {e}"]) from None
    with client:
        # pure=False: two variants with equal documents are still two tasks to run.
        futures = {client.submit(run_variant, docs[v.index], options, pure=False,
                                 key=f"variant-{v.index:04d}-{time.time_ns()}"): v
                   for v in pending}
        for fut in as_completed(list(futures)):
            finish(futures[fut], _outcome(fut))


def _outcome(fut: Any) -> dict[str, Any]:
    """A future's result; a worker that died or could not run the task gives an error
    row instead of an exception that would lose the other variants."""
    try:
        out = fut.result()
    except Exception as e:  # noqa: BLE001
        return {"row": {"status": "error", "message": f"worker failed: {type(e).__name__}: "
                                                      f"{e}"}}
    return out if isinstance(out, dict) else {"row": {"status": "error",
                                                      "message": "worker returned no result"}}


def record_runs(sweep: SweepResult, db: str | None = None) -> SweepResult:
    """Keep each variant that was solved in the database's run history, like `broker
    solve` does, so that `broker replay` and `broker compare` work on it. Returns the
    sweep with each recorded variant's run id; `sweep` itself is left as it was."""
    from broker.ledger import Broker
    from solvers import Engine, SolveOptions

    options = sweep.options
    opts = SolveOptions(time_limit=options.get("time_limit"), seed=int(options.get("seed", 0)),
                        threads=1, engine=Engine(options.get("engine", "highs")),
                        gap=float(options.get("gap", 1e-7)))
    results: list[VariantResult] = []
    with Broker(db) as b:
        for r in sweep.results:
            if r.plan is None or r.scenario_doc is None:
                results.append(r)
                continue
            sc = models.scenario_from_dict(r.scenario_doc, r.name)
            plan = models.plan_from_dict(r.plan | {"timings": r.timings}, r.name)
            results.append(replace(r, run_id=b.record_solve(sc, plan, opts).id))
    return replace(sweep, results=results)
