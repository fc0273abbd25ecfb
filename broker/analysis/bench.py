"""Benchmark runner: the project's solver (`reduced`) against the baseline (`direct`, the
SPEC model as written) on the public benchmark families and on generated instances of every
size and profile, each line judged against the targets of docs/benchmarks.md.

Every solve runs in a fresh child process started with the `spawn` context, one process
per run: the peak RSS a child reports is then that run's own, not the high-water mark of
everything solved before it, and a run that crashes or hangs takes only its own process
down. The child sends its progress (phase, incumbent, bound) through a pipe, so that a run
killed for overrunning still reports how far it got, and the parent stamps every message
with its own clock: the seconds of a solve are measured from outside the process that
solves. With `busy`, a second child spins on one core for as long as the solve runs, as
another user's job would on a shared machine.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import math
import multiprocessing as mp
import os
import resource
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import models
from broker.analysis.bench_choices import Family
from solvers.options import Formulation

# A child gets this long beyond its time limit before it is killed: generous, because
# loading a large scenario and building its model happen outside the solver's clock only
# when they are slow, and a slow build is what the benchmark is meant to show, not hide.
KILL_FACTOR = 1.5
KILL_GRACE = 30.0
# A solve without a time limit (the published optima) is stopped after this long.
NO_LIMIT_KILL = 1800.0
# Issue targets measured by this runner: `--time-limit S` returns within S x 1.1, and the
# first plan comes within 5% of the limit (at most 2 s on small and medium).
TIME_LIMIT_SLACK = 1.1
FIRST_PLAN_SHARE = 0.05
FIRST_PLAN_CAP = 2.0
# A plan reproduces a known optimum when it is within this of it (relative).
OPTIMUM_TOL = 1e-6

SCENARIO_SUFFIXES = (".json", ".yaml", ".yml")
STATUSES = ("optimal", "feasible", "infeasible", "no_solution", "error", "killed")
PROJECT = Formulation.REDUCED
BASELINE = Formulation.DIRECT
DEFAULT_SCENARIO = "java-automotive"


@dataclass(frozen=True)
class Target:
    """`reference` within `within` (relative) in `seconds`; `seconds` None: without a time
    limit, `within` 0: proven optimal (the optimum reproduced)."""

    text: str
    within: float
    seconds: float | None
    reference: str  # "optimum", "best known", "bound"
    peak_mb: float | None = None


# The Targets table of the robustness issue (docs/benchmarks.md), by what an instance is.
FAMILY_TARGETS: dict[str, list[Target]] = {
    "gap-large": [Target("<= 0.2% of the best known value in 60 s", 0.002, 60.0, "best known")],
    "cflp-large": [Target("<= 0.5% of the optimum in 120 s", 0.005, 120.0, "optimum")],
    # The 79 shared optima: still proven optimal without a time limit.
    "gap": [Target("proven optimal without a limit", 0.0, None, "optimum")],
    "cflp": [Target("proven optimal without a limit", 0.0, None, "optimum")],
    "fatahi": [Target("proven optimal without a limit", 0.0, None, "optimum")],
    "default": [Target("proven optimal without a limit", 0.0, None, "optimum"),
                Target("<= 10% of the optimum in 3 s", 0.10, 3.0, "optimum"),
                Target("<= 1% of the optimum in 10 s", 0.01, 10.0, "optimum")],
}
SIZE_TARGETS: dict[str, list[Target]] = {
    "medium": [Target("<= 0.5% of the best bound in 60 s", 0.005, 60.0, "bound")],
    "large": [Target("<= 5% of the best bound in 60 s", 0.05, 60.0, "bound"),
              Target("<= 1% of the best bound in 600 s", 0.01, 600.0, "bound")],
    "national": [Target("<= 3% of the best bound in 1,800 s, peak <= 16 GB", 0.03, 1800.0,
                        "bound", peak_mb=16384.0)],
}
BUSY_MEDIUM = Target("<= 1% of the best bound in 60 s beside a busy core", 0.01, 60.0,
                     "bound")
# The time limit a family or size is measured at when none is given.
FAMILY_LIMITS: dict[str, list[float | None]] = {
    "gap": [None], "cflp": [None], "fatahi": [None], "gap-large": [60.0],
    "cflp-large": [120.0], "default": [None, 3.0, 10.0],
}
SIZE_LIMITS: dict[str, float] = {"small": 10.0, "medium": 60.0, "large": 60.0,
                                 "national": 1800.0}


@dataclass(frozen=True)
class Instance:
    """A generated instance, a scenario file or a built-in scenario, with what is known of
    its optimum, and the time limit it is solved with."""

    name: str
    time_limit: float | None = None
    family: str | None = None
    size: str | None = None
    seed: int | None = None
    profile: str | None = None
    generator: str | None = None
    path: str | None = None
    builtin: str | None = None
    optimum: float | None = None
    best_known: float | None = None
    known_bound: float | None = None

    @property
    def key(self) -> str:
        """The instance and its limit: what the two formulations' rows are paired by."""
        return f"{self.name}@{_limit_text(self.time_limit)}"


@dataclass
class BenchRow:
    """One solve of one instance with one formulation."""

    instance: str
    formulation: str
    status: str
    time_limit: float | None
    family: str | None = None
    size: str | None = None
    profile: str | None = None
    busy: bool = False
    objective: float | None = None
    bound: float | None = None
    # The plan's own gap (objective - bound) / objective.
    gap: float | None = None
    # Seconds of the solve call measured by the parent, from the child's "start" message
    # (sent just before `solve`) to its "solved" message (sent as `solve` returns).
    seconds: float | None = None
    # Seconds from starting the child process to the "solved" message: interpreter, imports
    # and loading the scenario included, as a user of the command line would see it.
    wall_seconds: float | None = None
    # When the first incumbent was reported, seconds after the solve started (parent clock).
    first_plan_seconds: float | None = None
    build_seconds: float | None = None
    # Peak resident memory of the child process (includes the interpreter and OR-Tools).
    peak_mb: float | None = None
    check_ok: bool | None = None
    # seconds / time_limit: the time-limit rule wants this <= 1.1.
    overrun: float | None = None
    optimum: float | None = None
    best_known: float | None = None
    # The reference the row is measured against and the plan's distance to it:
    # (objective - reference) / |reference|. "optimum" and "best known" come with the
    # instance, "bound" is the best proven bound of any formulation in the same run.
    reference: str | None = None
    reference_value: float | None = None
    reference_gap: float | None = None
    # Against the baseline of the same instance in the same run (project rows only).
    speedup: float | None = None
    objective_ratio: float | None = None
    gap_diff: float | None = None
    # The spinning process of a busy run: its CPU seconds prove that it competed.
    busy_cpu_seconds: float | None = None
    target: str | None = None
    verdict: bool | None = None
    message: str = ""


@dataclass(frozen=True)
class TargetLine:
    """One verdict on a target: passed is None when this run cannot tell."""

    text: str
    passed: bool | None


def default_benchmarks_dir() -> Path:
    """$IMC_SHARED_DIR/benchmarks, else the shared folder beside the repository."""
    env = os.environ.get("IMC_SHARED_DIR")
    if env:
        return Path(env).expanduser() / "benchmarks"
    return Path(__file__).resolve().parents[3] / "shared" / "benchmarks"


def _limit_text(limit: float | None) -> str:
    return "none" if limit is None else f"{limit:g}s"


# --------------------------------------------------------------------------------------
# Instances


def generated(sizes: Iterable[str], seeds: Iterable[int], profiles: Iterable[str] = (
        "balanced",), generator: str = "catalog", time_limit: float | None = None,
              default_limit: bool = False) -> list[Instance]:
    """Generated instances, size by size, profile by profile and seed by seed. Without a
    `time_limit`, each size's target limit when `default_limit`, else none."""
    from scenarios.generate import PROFILES, SIZES

    sizes, seeds, profiles = list(sizes), list(seeds), list(profiles)
    bad = [f"unknown size '{s}' (known: {', '.join(SIZES)})" for s in sizes if s not in SIZES]
    if bad:
        raise models.InputError("--size", bad)
    bad = [f"unknown profile '{p}' (known: {', '.join(PROFILES)})" for p in profiles
           if p not in PROFILES]
    if bad:
        raise models.InputError("--profile", bad)
    if generator == "alt" and profiles != ["balanced"]:
        raise models.InputError("--profile", ["profiles belong to the catalog generator; the "
                                              "alt generator draws its own mix"])
    out = []
    for size in sizes:
        limit = time_limit if time_limit is not None or not default_limit else SIZE_LIMITS[size]
        for profile in profiles:
            for seed in seeds:
                name = f"{size}-s{seed}" + ("" if profile == "balanced" else f"-{profile}")
                if generator == "alt":
                    name = f"alt-{name}"
                out.append(Instance(name=name, time_limit=limit, size=size, seed=seed,
                                    profile=profile, generator=generator))
    return out


def family(fam: str, root: str | Path, time_limit: float | None = None,
           only: Sequence[str] = ()) -> list[Instance]:
    """The instances of a public family (a folder of the shared benchmarks, or the built-in
    default scenario), at the family's target limits unless `time_limit` is given; `only`
    keeps the named files (stems)."""
    limits = [time_limit] if time_limit is not None else FAMILY_LIMITS[fam]
    if fam == Family.default:
        insts = [Instance(name=DEFAULT_SCENARIO, time_limit=None, family=fam,
                          builtin=DEFAULT_SCENARIO)]
        # The optimum comes from the run without a limit (always solved first), so that the
        # limited runs are measured against it even when the scenario changes.
        insts += [Instance(name=DEFAULT_SCENARIO, time_limit=lim, family=fam,
                           builtin=DEFAULT_SCENARIO)
                  for lim in limits if lim is not None]
        return insts
    folder = Path(root) / fam
    files = from_paths([folder], read=False)  # the shared folders hold scenarios only
    if only:
        files = [f for f in files if f.name in only]
    return [dataclasses.replace(f, family=fam, time_limit=lim) for f in files for lim in limits]


def from_paths(paths: Iterable[str | Path], time_limit: float | None = None, *,
               read: bool = True) -> list[Instance]:
    """Scenario files, given one by one or as folders of them; what is known of the optimum
    comes from an `optima.json` (value by file stem) or a `known.json` (best_known, bound,
    optimal by file stem) beside the file, as in the shared benchmark folders; a file in a
    folder named after a family (gap, cflp-large, ...) is judged by that family's target.
    `read`: each file is read and validated first, so that one that is not a scenario is
    refused (InputError) before any child runs."""
    out: list[Instance] = []
    problems: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.iterdir()
                           if f.suffix.lower() in SCENARIO_SUFFIXES
                           and f.name not in ("optima.json", "known.json"))
            if not files:
                problems.append(f"{p}: no scenario files (.json, .yaml) in this folder")
        elif p.is_file():
            files = [p]
        else:
            problems.append(f"{p}: no such file or folder")
            continue
        for f in files:
            # Read here, one at a time, so that a file that is not a scenario is refused
            # before any child starts (exit 2), not reported as a failed run (exit 1).
            try:
                if read:
                    models.load_scenario(f)
            except models.InputError as e:
                problems.extend(f"{f}: {q}" for q in e.problems)
                continue
            opt, best, bound = _known(f)
            # A file of a shared benchmark folder is judged as its family.
            fam = f.parent.name if f.parent.name in FAMILY_TARGETS else None
            out.append(Instance(name=f.stem, time_limit=time_limit, family=fam,
                                path=str(f.resolve()), optimum=opt, best_known=best,
                                known_bound=bound))
    if problems:
        raise models.InputError("--instances", problems)
    return out


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _known(file: Path) -> tuple[float | None, float | None, float | None]:
    """(optimum, best known value, best known bound) of a benchmark file."""
    optima = _read_json(file.parent / "optima.json")
    if isinstance(optima, dict):
        v = optima.get(file.stem)
        if isinstance(v, int | float):
            return float(v), float(v), float(v)
    known = _read_json(file.parent / "known.json")
    if isinstance(known, dict) and isinstance(known.get(file.stem), dict):
        k = known[file.stem]
        best = k.get("best_known")
        bound = k.get("bound")
        best = float(best) if isinstance(best, int | float) else None
        bound = float(bound) if isinstance(bound, int | float) else None
        opt = best if k.get("optimal") is True else None
        return opt, best, bound
    return None, None, None


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
# The child processes


def _load(inst: dict[str, Any]) -> models.Scenario:
    if inst["path"] is not None:
        return models.load_scenario(inst["path"])
    if inst["builtin"] is not None:
        from scenarios import builtin_dict

        return models.scenario_from_dict(builtin_dict(inst["builtin"]))
    if inst["generator"] == "alt":
        from scenarios import altgen

        return models.scenario_from_dict(altgen.generate(inst["size"], inst["seed"]))
    from scenarios.generate import generate

    return models.scenario_from_dict(generate(inst["size"], inst["seed"], inst["profile"]))


def _child(conn: Any, inst: dict[str, Any], formulation: str, time_limit: float | None,
           seed: int, threads: int) -> None:
    """Load or generate the scenario, solve, check, and send the result. Runs in a spawned
    process: everything it gets and sends is plain data."""
    try:
        from models.check import check
        from solvers import SolveOptions, solve
        from solvers.options import ProgressEvent

        sc = _load(inst)
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
        conn.send(("solved", time.perf_counter() - started))
        report = check(sc, plan)
        problems = [] if report.ok else report.summary().splitlines()[:3]
        if (report.ok and plan.objective is not None and report.objective is not None
                and not math.isclose(plan.objective, report.objective, rel_tol=1e-6,
                                     abs_tol=1e-6)):
            problems.append(f"objective {plan.objective!r} but the checker's cost of the "
                            f"rows is {report.objective!r}")
        conn.send(("result", {
            "status": plan.status.value,
            "objective": plan.objective,
            "bound": plan.bound,
            "gap": plan.gap,
            "build_seconds": (plan.timings or {}).get("build"),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            # A run without a plan has nothing the checker could reject.
            "check_ok": not problems if plan.status.has_plan else None,
            "message": "; ".join(problems),
        }))
    except BaseException as e:  # noqa: BLE001 - every failure must come back as a row
        with contextlib.suppress(Exception):
            conn.send(("error", f"{type(e).__name__}: {e}",
                       traceback.format_exc(limit=5)))
    finally:
        conn.close()


def _spin() -> None:
    """The busy neighbour: one core's worth of pure computation until it is stopped."""
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a live process (Linux /proc)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


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


# Set by run_one while a busy run's spinner lives, for the tests to see it stop.
last_spinner_pid: int | None = None


def run_one(inst: Instance, formulation: Formulation, seed: int = 0, threads: int = 1,
            busy: bool = False) -> BenchRow:
    """Solve one instance with one formulation in a fresh process; never raises for a
    failed run: a crash gives status `error`, an overrun status `killed`. With `busy`, a
    spinning process shares the machine from before the child starts until it ends."""
    global last_spinner_pid
    time_limit = inst.time_limit
    row = BenchRow(instance=inst.name, formulation=formulation.value, status="error",
                   time_limit=time_limit, family=inst.family, size=inst.size,
                   profile=inst.profile, busy=busy, optimum=inst.optimum,
                   best_known=inst.best_known)
    ctx = mp.get_context("spawn")
    spinner = None
    if busy:
        spinner = ctx.Process(target=_spin, name="bench-busy", daemon=True)
        spinner.start()
        last_spinner_pid = spinner.pid
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, name=f"bench-{inst.name}-{formulation.value}",
                       args=(child, dataclasses.asdict(inst), formulation.value, time_limit,
                             seed, threads), daemon=True)
    allowed = (NO_LIMIT_KILL if time_limit is None
               else time_limit * KILL_FACTOR + KILL_GRACE)
    launched = time.monotonic()
    proc.start()
    child.close()  # so that the child's exit reads as EOF here
    deadline = launched + allowed
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
            now = time.monotonic()
            if msg[0] == "start":
                solve_started = now
            elif msg[0] == "progress":
                _, phase, elapsed, incumbent, bound = msg
                if phase != "build" and row.build_seconds is None:
                    row.build_seconds = elapsed
                if (incumbent is not None and row.first_plan_seconds is None
                        and solve_started is not None):
                    row.first_plan_seconds = now - solve_started
                seen = [incumbent if incumbent is not None else seen[0],
                        bound if bound is not None else seen[1]]
            elif msg[0] == "solved":
                if solve_started is not None:
                    row.seconds = now - solve_started
                row.wall_seconds = now - launched
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
            row.message = f"killed after {allowed:.0f} s while {phase}"
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)
        parent.close()
        if spinner is not None:
            row.busy_cpu_seconds = _cpu_seconds(spinner.pid)
            spinner.kill()
            spinner.join(10)
    if result is None and row.status == "error" and not row.message:
        row.message = f"child process ended with exit code {proc.exitcode} and no result"
    if result is None and seen != [None, None]:
        row.message += (f" (last reported: incumbent {_num(seen[0])}, "
                        f"bound {_num(seen[1])})")
    if row.seconds is not None and time_limit:
        row.overrun = row.seconds / time_limit
    return row


# --------------------------------------------------------------------------------------
# The benchmark


def run_bench(instances: Sequence[Instance],
              formulations: Sequence[Formulation] = (PROJECT, BASELINE), *, seed: int = 0,
              threads: int = 1, busy: bool = False,
              progress: Callable[[BenchRow], None] | None = None) -> list[BenchRow]:
    """Solve every instance with every formulation, one fresh process per run and one run
    at a time (runs side by side would share the cores and skew the seconds), then fill
    in the references, the project's ratios against the baseline and the verdicts."""
    rows: list[BenchRow] = []
    optimum_of_default: float | None = None
    for inst in instances:
        if inst.family == Family.default and inst.time_limit is not None:
            inst = dataclasses.replace(inst, optimum=optimum_of_default)
        for f in formulations:
            row = run_one(inst, Formulation(f), seed=seed, threads=threads, busy=busy)
            rows.append(row)
            if (inst.family == Family.default and inst.time_limit is None
                    and row.status == "optimal" and row.check_ok):
                optimum_of_default = row.objective
            if progress is not None:
                progress(row)
    finish(rows)
    return rows


def finish(rows: Sequence[BenchRow]) -> None:
    """References, ratios and verdicts, once every row of the run is in."""
    add_references(rows)
    add_ratios(rows)
    for r in rows:
        r.target, r.verdict = judge(r)


def _key(r: BenchRow) -> str:
    return f"{r.instance}@{_limit_text(r.time_limit)}"


def add_references(rows: Sequence[BenchRow]) -> None:
    """The known optimum, else the best known value, else the best proven bound any
    formulation reached on the instance in this run (every bound is a proven lower bound
    of the same SPEC model)."""
    best_bound: dict[str, float] = {}
    for r in rows:
        if r.bound is not None and r.status in ("optimal", "feasible"):
            best_bound[r.instance] = max(best_bound.get(r.instance, -math.inf), r.bound)
    for r in rows:
        if r.optimum is not None:
            r.reference, r.reference_value = "optimum", r.optimum
        elif r.best_known is not None:
            r.reference, r.reference_value = "best known", r.best_known
        elif r.instance in best_bound:
            r.reference, r.reference_value = "bound", best_bound[r.instance]
        if r.reference_value is not None and r.objective is not None:
            r.reference_gap = ((r.objective - r.reference_value)
                               / max(abs(r.reference_value), 1e-9))


def add_ratios(rows: Sequence[BenchRow]) -> None:
    """speedup = baseline seconds / project seconds (above 1: the project is faster);
    objective_ratio = project / baseline objective (below 1: the project's plan is
    cheaper); gap_diff = project gap - baseline gap (negative: the project is closer)."""
    base = {_key(r): r for r in rows if r.formulation == BASELINE.value}
    for r in rows:
        b = base.get(_key(r))
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


def to_json(rows: Sequence[BenchRow], lines: Sequence[TargetLine]) -> dict[str, Any]:
    """The whole run as one JSON document."""
    return {"format": "imc-broker/bench@1",
            "rows": [dataclasses.asdict(r) for r in rows],
            "targets": [{"text": ln.text, "passed": ln.passed} for ln in lines],
            "cpus": os.cpu_count()}


# --------------------------------------------------------------------------------------
# The targets


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.2%}"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "NOT MEASURED"}[passed]


def targets_of(r: BenchRow) -> list[Target]:
    """The issue's targets that speak to a row: the project's rows only."""
    if r.formulation != PROJECT.value:
        return []
    if r.family is not None:
        return FAMILY_TARGETS.get(r.family, [])
    if r.size == "medium" and r.busy:
        return [BUSY_MEDIUM]
    return SIZE_TARGETS.get(r.size or "", [])


def _pick(r: BenchRow, ts: list[Target]) -> Target | None:
    """The target the row's limit measures: the one at exactly that limit (none for no
    limit), else the longest one the limit reaches, else the shortest."""
    if not ts:
        return None
    for t in ts:
        if t.seconds == r.time_limit:
            return t
    reached = [t for t in ts if t.seconds is not None and r.time_limit is not None
               and t.seconds <= r.time_limit]
    if reached:
        return max(reached, key=lambda t: t.seconds or 0.0)
    timed = [t for t in ts if t.seconds is not None]
    return min(timed, key=lambda t: t.seconds or 0.0) if timed else ts[0]


def judge(r: BenchRow) -> tuple[str | None, bool | None]:
    """The row's target and whether it is met: None when the run cannot tell (a limit too
    short for the target that did not reach it, no reference)."""
    t = _pick(r, targets_of(r))
    if t is None:
        return None, None
    has_plan = r.status in ("optimal", "feasible") and r.check_ok is True
    if t.within == 0:
        ok = (has_plan and r.status == "optimal" and r.reference_gap is not None
              and abs(r.reference_gap) <= OPTIMUM_TOL)
        return t.text, ok if r.time_limit is None or ok else None
    in_time = t.seconds is None or (r.seconds is not None and r.seconds <= t.seconds
                                    * TIME_LIMIT_SLACK)
    near = r.reference_gap is not None and r.reference_gap <= t.within + 1e-12
    memory = t.peak_mb is None or (r.peak_mb is not None and r.peak_mb <= t.peak_mb)
    ok = has_plan and in_time and near and memory
    if ok:
        return t.text, True
    if r.reference_gap is None and has_plan:
        return t.text, None  # nothing to measure against
    limit_reaches = (r.time_limit is not None and t.seconds is not None
                     and r.time_limit >= t.seconds)
    return t.text, False if limit_reaches or r.status in ("error", "killed") else None


def targets(rows: Sequence[BenchRow]) -> list[TargetLine]:
    """One line per project row with a target, then the anytime rules for every run with
    a limit: returned within 1.1 x the limit, first plan within 5% of it."""
    lines: list[TargetLine] = []

    def add(text: str, passed: bool | None) -> None:
        lines.append(TargetLine(f"{text}: {_verdict(passed)}", passed))

    for r in rows:
        if r.target is None:
            continue
        secs = "-" if r.seconds is None else f"{r.seconds:.1f} s"
        ref = "" if r.reference is None else f" of the {r.reference}"
        busy = " (busy)" if r.busy else ""
        add(f"{r.instance}@{_limit_text(r.time_limit)}{busy}: {r.status}, "
            f"{_pct(r.reference_gap)}{ref} in {secs} (target {r.target})", r.verdict)
    timed = [r for r in rows if r.status != "error" and r.time_limit]
    if timed:
        late = [r for r in timed if r.overrun is None or r.overrun > TIME_LIMIT_SLACK]
        worst = max((r.overrun for r in timed if r.overrun is not None), default=None)
        add(f"time limit: {len(timed) - len(late)}/{len(timed)} runs returned within "
            f"{TIME_LIMIT_SLACK:g} x the limit (worst {'-' if worst is None else f'{worst:.2f}'}"
            " x)", not late)
    project = [r for r in timed if r.formulation == PROJECT.value]
    if project:
        slow = [r for r in project if not _first_in_time(r)]
        add(f"first plan: {len(project) - len(slow)}/{len(project)} project runs reported an "
            f"incumbent within {FIRST_PLAN_SHARE:.0%} of the limit (<= {FIRST_PLAN_CAP:g} s "
            "on small and medium)"
            + (f"; late: {', '.join(r.instance for r in slow[:5])}" if slow else ""), not slow)
    return lines


def _first_in_time(r: BenchRow) -> bool:
    """An incumbent within 5% of the limit, and within 2 s on small and medium."""
    if r.first_plan_seconds is None or r.time_limit is None:
        return False
    allowed = FIRST_PLAN_SHARE * r.time_limit
    if r.size in ("small", "medium"):
        allowed = min(allowed, FIRST_PLAN_CAP)
    return r.first_plan_seconds <= allowed
