"""Benchmark runner: the project's solver (`reduced`) against the baseline (`direct`, the
SPEC model as written) on the same instances in one run (docs/benchmarks.md).

Every solve runs in a fresh child process started with the `spawn` context, one process
per run: the peak RSS a child reports is then that run's own, not the high-water mark of
everything solved before it, and a run that crashes or hangs takes only its own process
down. The child sends its progress (phase, incumbent, bound) through a pipe, so that a run
killed for overrunning still reports how far it got, e.g. how long the model took to build.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import multiprocessing as mp
import resource
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import models
from solvers.options import Formulation

# A child gets this long beyond its time limit before it is killed: generous, because
# loading a large scenario and building its model happen outside the solver's clock only
# when they are slow, and a slow build is what the benchmark is meant to show, not hide.
KILL_FACTOR = 1.5
KILL_GRACE = 30.0
# SPEC targets measured by this runner: `--time-limit S` returns within S x 1.1.
TIME_LIMIT_SLACK = 1.1

SCENARIO_SUFFIXES = (".json", ".yaml", ".yml")
STATUSES = ("optimal", "feasible", "infeasible", "no_solution", "error", "killed")
PROJECT = Formulation.REDUCED
BASELINE = Formulation.DIRECT


@dataclass(frozen=True)
class Instance:
    """A generated instance (size and seed) or a scenario file, with its published optimum
    when one is known."""

    name: str
    size: str | None = None
    seed: int | None = None
    path: str | None = None
    optimum: float | None = None


@dataclass
class BenchRow:
    """One solve of one instance with one formulation."""

    instance: str
    formulation: str
    status: str
    time_limit: float
    size: str | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    # Wall time of the `solve` call (build + search + extraction), in the child.
    seconds: float | None = None
    build_seconds: float | None = None
    # Peak resident memory of the child process (includes the interpreter and OR-Tools).
    peak_mb: float | None = None
    check_ok: bool | None = None
    # seconds / time_limit: the time-limit rule wants this <= 1.1.
    overrun: float | None = None
    optimum: float | None = None
    optimum_gap: float | None = None
    # Against the baseline of the same instance in the same run (project rows only).
    speedup: float | None = None
    objective_ratio: float | None = None
    gap_diff: float | None = None
    message: str = ""


@dataclass(frozen=True)
class TargetLine:
    """One verdict on a speed target: passed is None when this run cannot tell."""

    text: str
    passed: bool | None


# --------------------------------------------------------------------------------------
# Instances


def generated(sizes: Iterable[str], seeds: Iterable[int]) -> list[Instance]:
    """Generated instances, size by size and seed by seed."""
    from scenarios.generate import SIZES

    sizes, seeds = list(sizes), list(seeds)
    bad = [s for s in sizes if s not in SIZES]
    if bad:
        raise models.InputError("--size", [f"unknown size '{s}' (known: {', '.join(SIZES)})"
                                           for s in bad])
    return [Instance(name=f"{size}-s{seed}", size=size, seed=seed)
            for size in sizes for seed in seeds]


def from_paths(paths: Iterable[str | Path]) -> list[Instance]:
    """Scenario files, given one by one or as folders of them; the optimum comes from an
    `optima.json` beside the file (keyed by file name without suffix), as in the shared
    benchmark folders."""
    out: list[Instance] = []
    problems: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.iterdir()
                           if f.suffix.lower() in SCENARIO_SUFFIXES and f.name != "optima.json")
            if not files:
                problems.append(f"{p}: no scenario files (.json, .yaml) in this folder")
        elif p.is_file():
            files = [p]
        else:
            problems.append(f"{p}: no such file or folder")
            continue
        for f in files:
            out.append(Instance(name=f.stem, path=str(f.resolve()), optimum=_optimum(f)))
    if problems:
        raise models.InputError("--instances", problems)
    return out


def _optimum(file: Path) -> float | None:
    optima = file.parent / "optima.json"
    if not optima.is_file():
        return None
    try:
        value = json.loads(optima.read_text(encoding="utf-8")).get(file.stem)
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def parse_seeds(text: str) -> list[int]:
    """`1,2,5` -> [1, 2, 5]."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds:
        raise models.InputError("--seeds", [f"'{text}': write integers separated by commas, "
                                            "e.g. 1,2"])
    return seeds


# --------------------------------------------------------------------------------------
# The child process


def _child(conn: Any, inst: dict[str, Any], formulation: str, time_limit: float, seed: int,
           threads: int) -> None:
    """Load or generate the scenario, solve, check, and send the result. Runs in a spawned
    process: everything it gets and sends is plain data."""
    try:
        from broker.api import load_scenario
        from models.check import check
        from solvers import SolveOptions, solve
        from solvers.options import ProgressEvent

        if inst["path"] is not None:
            sc = load_scenario(inst["path"])
        else:
            from scenarios.generate import generate

            sc = models.scenario_from_dict(generate(inst["size"], inst["seed"]))
        last: list[Any] = [None]

        def progress(ev: ProgressEvent) -> None:
            # Only changes cross the pipe: the engine's log may report many times a second.
            key = (ev.phase, ev.incumbent, ev.bound)
            if key != last[0]:
                last[0] = key
                conn.send(("progress", ev.phase, ev.elapsed, ev.incumbent, ev.bound))

        conn.send(("start",))
        started = time.perf_counter()
        plan = solve(sc, SolveOptions(time_limit=time_limit, seed=seed, threads=threads,
                                      formulation=Formulation(formulation), progress=progress))
        seconds = time.perf_counter() - started
        report = check(sc, plan)
        conn.send(("result", {
            "status": plan.status.value,
            "objective": plan.objective,
            "bound": plan.bound,
            "gap": plan.gap,
            "seconds": seconds,
            "build_seconds": (plan.timings or {}).get("build"),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            # A run without a plan has nothing the checker could reject.
            "check_ok": report.ok if plan.status.has_plan else None,
            "message": "" if report.ok else report.summary().splitlines()[0],
        }))
    except BaseException as e:  # noqa: BLE001 - every failure must come back as a row
        with contextlib.suppress(Exception):
            conn.send(("error", f"{type(e).__name__}: {e}",
                       traceback.format_exc(limit=5)))
    finally:
        conn.close()


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _peak_mb_of(pid: int | None) -> float | None:
    """VmHWM of a live process (Linux), for a child about to be killed."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_one(inst: Instance, formulation: Formulation, time_limit: float, seed: int = 0,
            threads: int = 1) -> BenchRow:
    """Solve one instance with one formulation in a fresh process; never raises for a
    failed run: a crash gives status `error`, an overrun status `killed`."""
    row = BenchRow(instance=inst.name, formulation=formulation.value, status="error",
                   time_limit=time_limit, size=inst.size, optimum=inst.optimum)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, name=f"bench-{inst.name}-{formulation.value}",
                       args=(child, dataclasses.asdict(inst), formulation.value, time_limit,
                             seed, threads), daemon=True)
    proc.start()
    child.close()  # so that the child's exit reads as EOF here
    deadline = time.monotonic() + time_limit * KILL_FACTOR + KILL_GRACE
    solve_started: float | None = None
    result: dict[str, Any] | None = None
    # The last incumbent and bound the engine reported: only words for a run that dies,
    # since no plan was delivered (and checked) for them.
    seen: list[float | None] = [None, None]
    try:
        while result is None:
            left = deadline - time.monotonic()
            if left <= 0 or not parent.poll(left):
                break
            try:
                msg = parent.recv()
            except EOFError:
                break
            if msg[0] == "start":
                solve_started = time.monotonic()
            elif msg[0] == "progress":
                _, phase, elapsed, incumbent, bound = msg
                if phase != "build" and row.build_seconds is None:
                    row.build_seconds = elapsed
                seen = [incumbent if incumbent is not None else seen[0],
                        bound if bound is not None else seen[1]]
            elif msg[0] == "result":
                result = msg[1]
            elif msg[0] == "error":
                row.message = msg[1]
                break
        if result is not None:
            for key, value in result.items():
                setattr(row, key, value)
        elif proc.is_alive() and time.monotonic() >= deadline:
            row.peak_mb = _peak_mb_of(proc.pid)
            row.status = "killed"
            row.seconds = time.monotonic() - (solve_started or deadline)
            phase = "building the model" if row.build_seconds is None else "searching"
            row.message = (f"killed after {time_limit * KILL_FACTOR + KILL_GRACE:.0f} s "
                           f"while {phase}")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)
        parent.close()
    if result is None and row.status == "error" and not row.message:
        row.message = f"child process ended with exit code {proc.exitcode} and no result"
    if result is None and seen != [None, None]:
        row.message += (f" (last reported: incumbent {_num(seen[0])}, "
                        f"bound {_num(seen[1])})")
    if row.seconds is not None and time_limit > 0:
        row.overrun = row.seconds / time_limit
    if row.optimum is not None and row.objective is not None:
        row.optimum_gap = (row.objective - row.optimum) / max(abs(row.optimum), 1e-9)
    return row


# --------------------------------------------------------------------------------------
# The benchmark


def run_bench(instances: Sequence[Instance], time_limit: float,
              formulations: Sequence[Formulation] = (PROJECT, BASELINE), *, seed: int = 0,
              threads: int = 1, progress: Callable[[BenchRow], None] | None = None,
              ) -> list[BenchRow]:
    """Solve every instance with every formulation, one fresh process per run and one run
    at a time (runs side by side would share the cores and skew the seconds), then fill
    in the project's ratios against the baseline of the same instance."""
    rows: list[BenchRow] = []
    for inst in instances:
        for f in formulations:
            row = run_one(inst, Formulation(f), time_limit, seed=seed, threads=threads)
            rows.append(row)
            if progress is not None:
                progress(row)
    add_ratios(rows)
    return rows


def add_ratios(rows: Sequence[BenchRow]) -> None:
    """speedup = baseline seconds / project seconds (above 1: the project is faster);
    objective_ratio = project / baseline objective (below 1: the project's plan is
    cheaper); gap_diff = project gap - baseline gap (negative: the project is closer)."""
    base = {r.instance: r for r in rows if r.formulation == BASELINE.value}
    for r in rows:
        b = base.get(r.instance)
        if r.formulation != PROJECT.value or b is None:
            continue
        # A killed or crashed run's seconds are the kill time, not a solve time.
        if (r.seconds and b.seconds is not None
                and "killed" not in (r.status, b.status) and "error" not in (r.status, b.status)):
            r.speedup = b.seconds / r.seconds
        if r.objective is not None and b.objective:
            r.objective_ratio = r.objective / b.objective
        if r.gap is not None and b.gap is not None:
            r.gap_diff = r.gap - b.gap


def write_csv(rows: Sequence[BenchRow], path: str | Path) -> None:
    fields = [f.name for f in dataclasses.fields(BenchRow)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in dataclasses.asdict(r).items()})


# --------------------------------------------------------------------------------------
# The targets


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.2%}"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "NOT MEASURED"}[passed]


def _memory(r: BenchRow, mb: str, limit_mb: int) -> tuple[str, bool | None]:
    """A killed run's peak is only how far memory had grown when it was stopped: a
    lower bound, which can fail the target but never pass it."""
    target = f"(target <= {limit_mb:,} MB)"
    if r.peak_mb is None:
        return f"{r.instance}: peak {mb} {target}", None
    if r.status == "killed":
        return (f"{r.instance}: peak >= {mb} when killed {target}",
                False if r.peak_mb > limit_mb else None)
    return f"{r.instance}: peak {mb} {target}", r.peak_mb <= limit_mb


def targets(rows: Sequence[BenchRow]) -> list[TargetLine]:
    """The speed targets that the rows can speak to, for the project's solver on generated
    instances (docs/benchmarks.md), and the time-limit rule for every run."""
    lines: list[TargetLine] = []

    def add(text: str, passed: bool | None) -> None:
        lines.append(TargetLine(f"{text}: {_verdict(passed)}", passed))

    for r in rows:
        if r.formulation != PROJECT.value or r.size not in ("medium", "large", "national"):
            continue
        has_plan = r.status in ("optimal", "feasible")
        secs = "-" if r.seconds is None else f"{r.seconds:.1f} s"
        mb = "-" if r.peak_mb is None else f"{r.peak_mb:,.0f} MB"
        if r.size == "medium":
            ok = (has_plan and r.bound is not None and r.gap is not None and r.gap <= 0.01
                  and r.seconds is not None and r.seconds <= 60)
            add(f"{r.instance}: gap {_pct(r.gap)} in {secs} (target <= 1% in 60 s)", ok)
        elif r.size == "large":
            ok = has_plan and r.seconds is not None and r.seconds <= 60
            add(f"{r.instance}: {r.status} in {secs} (target: a plan in <= 60 s)",
                ok if ok or r.time_limit >= 60 else None)
            within = (has_plan and r.gap is not None and r.gap <= 0.02
                      and r.seconds is not None and r.seconds <= 600)
            # A run stopped before 600 s that has not reached 2% says nothing either way.
            add(f"{r.instance}: gap {_pct(r.gap)} in {secs} (target <= 2% in 600 s)",
                True if within else (False if r.time_limit >= 600 else None))
            add(*_memory(r, mb, 4096))
        else:
            ok = (has_plan and r.bound is not None and r.seconds is not None
                  and r.seconds <= 1800)
            add(f"{r.instance}: {r.status}, bound {'yes' if r.bound is not None else 'no'} in "
                f"{secs} (target: a plan and a bound in <= 1,800 s)",
                True if ok else (False if r.time_limit >= 1800 else None))
            add(*_memory(r, mb, 16384))
    timed = [r for r in rows if r.status != "error"]
    if timed:
        late = [r for r in timed if r.overrun is None or r.overrun > TIME_LIMIT_SLACK]
        worst = max((r.overrun for r in timed if r.overrun is not None), default=None)
        add(f"time limit: {len(timed) - len(late)}/{len(timed)} runs returned within "
            f"{TIME_LIMIT_SLACK:g} x the limit (worst {'-' if worst is None else f'{worst:.2f}'}"
            " x)", not late)
    return lines
