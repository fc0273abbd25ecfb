"""The `broker` command: a thin Typer layer over the `broker` library."""

from __future__ import annotations

import dataclasses
import functools
import gc
import importlib
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

import broker
import models
from broker.analysis.bench_choices import Family as BenchFamily
from models.scenario import MAX_SEED
from scenarios import BUILTIN, DEFAULT_SCENARIO

if TYPE_CHECKING:
    from concurrent.futures import Future

    from broker.analysis import bench

app = typer.Typer(
    name="broker",
    # Help is plain text: `[cluster=ID,process=NAME]` is an option's syntax, not markup.
    rich_markup_mode=None,
    help="IMC Broker: allocate requests for manufactured components to workshops and "
    "material centers, optimally, and check the plans.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
scenario_app = typer.Typer(help="Built-in scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")

# Piped or redirected, a table is printed at full width: a cut id or number is useless to
# the program reading it (a terminal keeps its own width).
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 100_000)
err = Console(stderr=True, soft_wrap=True)

EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT, EXIT_NO_PLAN = 0, 1, 2, 3

log = logging.getLogger("broker.cli")


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


def _print_version(value: bool) -> None:
    if value:
        from broker.version import __version__

        out.print(f"imc-broker {__version__}", highlight=False, markup=False)
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version,
                                          is_eager=True, help="Print the version and exit.")
                       ] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, show_default=False,
                                         help="Logs on stderr: -v info (solver progress), "
                                         "-vv debug.")] = 0,
    log_level: Annotated[LogLevel | None, typer.Option(
        help="Log level on stderr (overrides -v); default warning.")] = None,
) -> None:
    """IMC Broker: allocate requests for manufactured components to workshops and
    material centers, optimally, and check the plans."""
    level = (log_level.value.upper() if log_level is not None
             else ("WARNING", "INFO", "DEBUG")[min(verbose, 2)])
    _configure_logging(level)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a test runner swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


LOGGERS = ("broker", "solvers", "models", "scenarios")


def _configure_logging(level: str) -> None:
    """The project's loggers (the standard logging module) to stderr at `level`; stdout
    stays the command's output. Only the project's loggers, not the root: a host program
    or test runner keeps its own handlers."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
            logger.propagate = False


# Set by `main()`: the process is this command's own (not a test calling `app`), so what it
# loads may be frozen out of the garbage collector's reach for the rest of its life.
_own_process = False


def preload(*modules: str) -> None:
    """Import `modules`; in a process of its own, with the cyclic garbage collector paused,
    then freeze everything loaded so far (`gc.freeze`): the collector no longer walks the
    objects module imports leave behind (classes, functions, pydantic and SQLAlchemy
    machinery, several hundred thousand of them), which never become garbage. A fresh
    `broker quote` spent about a fifth of its CPU in such walks
    (benchmarks/quote_cpu.py)."""
    if not _own_process:
        for name in modules:
            importlib.import_module(name)
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def say_error(label: str, message: str) -> None:
    """`label` in bold red, then `message` as plain text: a message may hold anything a file
    or a database said (square brackets included), so it is never read as markup. Without a
    terminal (a pipe, a log) the style is dropped and the line stays plain."""
    err.print(Text.assemble((label, "bold red"), " ", message), highlight=False)


def fail_input(e: models.InputError) -> NoReturn:
    say_error("error:", f"{e.source}: {len(e.problems)} problem(s)")
    # Plain lines in one write: through the console one by one, 100,000 problems took
    # 12 s to print after 2 s of validation.
    err.file.write("".join(f"  {p}\n" for p in e.problems))
    err.file.flush()
    raise typer.Exit(EXIT_INPUT)


AsJson = Annotated[bool, typer.Option("--json", help="One JSON document on stdout "
                                      "(docs/cli.md).")]


def print_json(kind: str, doc: dict[str, Any]) -> None:
    """One JSON document on stdout: `format` names what it is (`imc-broker/KIND@1`), then
    the command's data with stable keys (docs/cli.md); dates as ISO text."""
    from broker.ledger.results import to_json

    body = {"format": f"imc-broker/{kind}@1", **to_json(doc)}
    sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


class SchemaKind(StrEnum):
    scenario = "scenario"
    plan = "plan"


@app.command()
def solve(
    scenario: Annotated[
        str | None,
        typer.Argument(help="Scenario file (.yaml/.json) or built-in name; default: "
                       f"the built-in '{DEFAULT_SCENARIO}'."),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write the plan (JSON).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds; without it, solve to proven optimality.",
                                   min=0.01)
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the solver.", min=0, max=MAX_SEED)] = 0,
    threads: Annotated[int, typer.Option(help="Solver threads.", min=1)] = 1,
    engine: Annotated[broker.Engine, typer.Option(help="MIP engine.")] = broker.Engine.HIGHS,
    method: Annotated[broker.Method, typer.Option(
        help="exact: the whole model to the MIP engine; lp-guided: LP bound, then the MIP "
             "on the columns the LP used; auto: lp-guided for large models under a time "
             "limit.")] = broker.Method.AUTO,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    db: DbUrl = None,
    record: Annotated[bool, typer.Option(help="Keep the run in the database's history.")
                      ] = True,
    as_json: AsJson = False,
) -> None:
    """Solve a scenario, write its plan and keep the run in the history (`broker runs`).
    Exit 0: optimal or feasible; 3: infeasible or no solution in time (the plan file is
    still written); 2: invalid input; 130: stopped by Ctrl-C (the best plan so far is
    written; a second Ctrl-C exits at once)."""
    # The time limit counts from the start of the process (its imports, loading and
    # validation are part of it, as a limit measured from outside sees them).
    started = time.perf_counter() - (_startup_seconds() if _own_process else 0.0)
    preload("solvers.pipeline")
    try:
        sc = broker.load_scenario(scenario)
    except models.InputError as e:
        fail_input(e)
    from solvers.interrupt import EXIT_INTERRUPTED, solve_interruptibly

    quiet = quiet or as_json
    live = _live_progress() if not quiet and out.is_terminal else None
    options = broker.SolveOptions(time_limit=time_limit, seed=seed, threads=threads,
                                  engine=engine, method=method, started=started,
                                  progress=_progress_logger(live.event if live else None))
    history = _open_history(db) if record else None
    with live or nullcontext():
        plan, interrupted, detached = solve_interruptibly(sc, options)
    target = out_file or Path(f"{sc.name}.plan.json")
    models.write_plan(plan, target)
    if not quiet:
        print_summary(broker.summarize(
            sc, plan, deliveries=len(sc.requests) <= MAX_DELIVERY_LINES))
        out.print(f"plan written to [bold]{target}[/]", highlight=False)
    run_id = _record(history, sc, plan, options, quiet) if history is not None else None
    if as_json:
        print_json("solve", broker.summarize(sc, plan).to_dict()
                   | {"plan_file": str(target), "run": run_id})
    code = EXIT_INTERRUPTED if interrupted else EXIT_OK if plan.status.has_plan else EXIT_NO_PLAN
    if _own_process:
        out.file.flush()
        err.file.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        # The search may still be inside an engine call (detached): leave without waiting
        # for it (in a test calling `app`, the daemon thread is left to finish on its
        # own). Otherwise the same: freeing the plan and the scenario object by object
        # took 1.3 s of a 20 s limit at 100,000 requests, after everything was written.
        os._exit(code)
    raise typer.Exit(code)


def _startup_seconds() -> float:
    """How long this command has run: the process's age, but at most twice the CPU time it
    has used, plus 0.2 s. Starting up is CPU work (the interpreter, the imports), while a
    command that a shell runs last (`bash -c '...; broker solve ...'`, a script's last
    line) takes over the shell's process, whose age then counts all the shell ran before
    it: after 5 s of `sleep`, a 3 s limit was spent before the command began, and the
    plan imported everything (405.2e9 against 8.94e9)."""
    return min(_process_age(), 2.0 * time.process_time() + 0.2)


def _process_age() -> float:
    """Seconds since this process started (Linux /proc; 0 where that cannot be read)."""
    try:
        stat = Path("/proc/self/stat").read_text()
        # Field 22, after the parenthesised command name (which may hold spaces).
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def _open_history(db: str | None) -> Future[broker.Broker]:
    """The history database, opened in a thread while the solve runs: its driver, engine
    and schema check took 0.5-0.8 s after the solve of the default scenario, and a 3 s
    limit ended at 3.4-3.7 s where the solve itself was done by 2.9 s."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="history")
    try:
        return pool.submit(broker.Broker, db)
    finally:
        pool.shutdown(wait=False)


def _record(history: Future[broker.Broker], sc: models.Scenario, plan: models.Plan,
            options: broker.SolveOptions, quiet: bool) -> int | None:
    """Keep the run; a database that cannot be written costs the history, not the plan.
    The run's id, or None when it was not recorded."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with history.result() as b:
            run = b.record_solve(sc, plan, options)
            where = make_url(b.url).render_as_string(hide_password=True)
    except (SQLAlchemyError, models.InputError, OSError) as e:
        reason = getattr(e, "orig", None) or e
        err.print(f"warning: run not recorded: {reason}", highlight=False, markup=False)
        return None
    if not quiet:
        out.print(f"run {run.id} recorded in {where}", highlight=False)
    return run.id


def _progress_logger(show: Callable[[broker.ProgressEvent], None] | None
                     ) -> Callable[[broker.ProgressEvent], None] | None:
    """The solve's progress events, also logged at INFO (`broker -v solve`): off unless
    asked for, so a default run prints nothing on stderr."""
    solve_log = logging.getLogger("broker.solve")
    if not solve_log.isEnabledFor(logging.INFO):
        return show

    def event(ev: broker.ProgressEvent) -> None:
        solve_log.info("%s: incumbent %s, bound %s, gap %s, %.2fs", ev.phase,
                       _money(ev.incumbent), _money(ev.bound),
                       "-" if ev.gap is None else f"{ev.gap:.4%}", ev.elapsed)
        if show is not None:
            show(ev)

    return event


class _live_progress:
    """One live line while solving: phase, incumbent, bound, gap, elapsed (terminals only).
    It renders itself at each refresh, so the clock runs between the engine's reports."""

    def __init__(self) -> None:
        from rich.live import Live

        self._last = broker.ProgressEvent("build", 0.0)
        self._at = time.perf_counter()
        self._live = Live(self, console=out, transient=True, refresh_per_second=4)

    def event(self, ev: broker.ProgressEvent) -> None:
        self._last, self._at = ev, time.perf_counter()

    def __rich__(self) -> str:
        ev = self._last
        gap = "-" if ev.gap is None else f"{ev.gap:.3%}"
        elapsed = ev.elapsed + time.perf_counter() - self._at
        return (f"{ev.phase}  incumbent {_money(ev.incumbent)}  bound {_money(ev.bound)}  "
                f"gap {gap}  elapsed {elapsed:.1f}s")

    def __enter__(self) -> _live_progress:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)


def _money(v: float | None, currency: str = "") -> str:
    return "-" if v is None else f"{v:,.0f}" + (f" {currency}" if currency else "")


# The summary lists each request's deliveries up to this many requests (all in --json),
# and the requests with the most unmet units up to this many.
MAX_DELIVERY_LINES = 30
MAX_UNMET_LINES = 30


def _period_label(sc: models.Scenario, t: int) -> str:
    """A period number, with its first day when the scenario has dates (SPEC 8.1)."""
    h = sc.horizon
    if h.start is None:
        return str(t)
    from models.dates import period_start

    return f"{t} ({period_start(h.start, h.period_days, t).isoformat()})"


def _when(period: int, day: str | None) -> str:
    """A period as a planner reads it: its first day when the scenario has dates."""
    return f"{day} (period {period})" if day else f"period {period}"


def print_summary(sm: broker.PlanSummary) -> None:
    dates = f" ({sm.start_date} .. {sm.end_date})" if sm.start_date else ""
    out.print(f"[bold]{sm.scenario}[/]: {sm.workshops} workshops, {sm.requests} requests, "
              f"{sm.periods} periods{dates}", highlight=False)
    out.print(
        f"status [bold]{sm.status}[/]  objective {_money(sm.objective, sm.currency)}  "
        f"bound {_money(sm.bound)}  gap {'-' if sm.gap is None else f'{sm.gap:.4%}'}  "
        f"time {sm.seconds:.2f}s", highlight=False)
    if sm.cost is None:
        out.print(f"no plan: {sm.no_plan}", highlight=False)
        return
    costs = Table(title="Cost", show_edge=False)
    costs.add_column("term")
    costs.add_column(sm.currency, justify="right")
    for term, v in sm.cost.items():
        costs.add_row(term, _money(v))
    costs.add_row("[bold]total[/]", f"[bold]{_money(sm.objective)}[/]")
    out.print(costs)
    k = sm.kpis
    out.print(f"domestic share {k.get('domestic_share', 0):.1%}  local content "
              f"{k.get('local_content', 0):.1%}  on-time share {k.get('on_time_share', 0):.1%}  "
              f"imported units {sm.imported_units:,}", highlight=False)
    if sm.deliveries and len(sm.deliveries) <= MAX_DELIVERY_LINES:
        t = Table(title="Deliveries against due dates", show_edge=False)
        for col in ("request", "units", "due", "delivered (units in period)", "unmet"):
            t.add_column(col, justify="right" if col in ("units", "unmet") else "left")
        for ln in sm.deliveries:
            t.add_row(ln.request, f"{ln.quantity:,}", _when(ln.due, ln.due_date),
                      ", ".join(f"{q:,} on {ln.delivered_dates.get(p) or f'period {p}'}"
                                + (" (late)" if p > ln.due else "")
                                for p, q in ln.delivered.items()) or "-",
                      f"{ln.unmet:,}" if ln.unmet else "")
        out.print(t)
    if sm.unmet:
        # The largest first, at most MAX_UNMET_LINES of them (100,000 requests gave a
        # table of 12,000 lines that took 5 s to print); the plan file and --json have all.
        rows = sorted(sm.unmet, key=lambda row: (-row.quantity, row.request))
        t = Table(title="Unmet demand", show_edge=False)
        t.add_column("request")
        t.add_column("units", justify="right")
        t.add_column("why")
        for row in rows[:MAX_UNMET_LINES]:
            t.add_row(row.request, f"{row.quantity:,}", row.reason)
        out.print(t)
        if len(rows) > MAX_UNMET_LINES:
            out.print(f"... and {len(rows) - MAX_UNMET_LINES:,} more requests with unmet "
                      f"units ({sum(r.quantity for r in rows[MAX_UNMET_LINES:]):,} units): "
                      "every one is in the plan file and in --json", highlight=False)
    util = Table(title="Utilization by cluster and process (hours over the horizon)",
                 show_edge=False)
    for col in ("cluster", "process", "workshops", "used", "available", "share"):
        util.add_column(col, justify="left" if col in ("cluster", "process") else "right")
    for u in sm.utilization:
        util.add_row(u.cluster, u.process, str(u.workshops), f"{u.used_hours:,.0f}",
                     f"{u.available_hours:,.0f}", f"{u.share:.0%}")
    out.print(util)


# `broker check` lists every violation up to this many; beyond, a summary by kind (a plan
# checked against the wrong scenario has thousands, all saying the same few things).
CHECK_LIST_ALL_UP_TO = 20
CHECK_EXAMPLES_PER_KIND = 3


@app.command()
def check(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in name.")],
    plan: Annotated[Path, typer.Argument(help="Plan file (JSON).")],
    show_all: Annotated[bool, typer.Option(
        "--all", help=f"List every violation (by default, beyond {CHECK_LIST_ALL_UP_TO}, "
        f"a count per kind and {CHECK_EXAMPLES_PER_KIND} examples of each).")] = False,
    as_json: AsJson = False,
) -> None:
    """Check a plan against its scenario with no solver: feasibility and every cost term.
    Exit 0 when feasible and its costs agree, 1 otherwise, 2 for invalid input."""
    try:
        sc = broker.load_scenario(scenario)
        p = models.load_plan(plan)
    except models.InputError as e:
        fail_input(e)
    report = broker.check(sc, p)
    if as_json:
        print_json("check", {"scenario": sc.name, "plan_file": str(plan), "ok": report.ok,
                             "objective": report.objective, "cost": report.cost,
                             "kpis": report.kpis,
                             "violations": [dataclasses.asdict(v) for v in report.violations]})
        raise typer.Exit(EXIT_OK if report.ok else EXIT_VIOLATIONS)
    if report.ok:
        out.print(f"[green]OK[/]: plan {escape(str(plan))} is feasible for "
                  f"'{escape(sc.name)}' and its costs agree"
                  f" (objective {_money(report.objective, sc.currency)})", highlight=False)
        raise typer.Exit(EXIT_OK)
    vs = report.violations
    out.print(f"[red]FAILED[/]: {len(vs):,} violation(s) in plan {escape(str(plan))}",
              highlight=False)
    if show_all or len(vs) <= CHECK_LIST_ALL_UP_TO:
        for v in vs:
            out.print(f"  {v}", highlight=False, markup=False)
        raise typer.Exit(EXIT_VIOLATIONS)
    for kind, n, examples in report.by_kind(CHECK_EXAMPLES_PER_KIND):
        out.print(f"  [{kind}] {n:,} violation(s)" + (", for example:" if n > len(examples)
                                                       else ":"), highlight=False, markup=False)
        for v in examples:
            out.print(f"    {v.where}: {v.message}", highlight=False, markup=False)
        if n > len(examples):
            out.print(f"    ... and {n - len(examples):,} more", highlight=False, markup=False)
    out.print("(every violation: `broker check --all`)", highlight=False, markup=False)
    raise typer.Exit(EXIT_VIOLATIONS)


@app.command()
def schema(kind: Annotated[SchemaKind, typer.Argument(help="Which file format.")]) -> None:
    """Print the JSON Schema of the scenario or plan file, for other services."""
    from models.schema import json_schema

    # Plain JSON on stdout (no colours), a file another service can read as it is.
    sys.stdout.write(json.dumps(json_schema(kind.value), indent=2, ensure_ascii=False) + "\n")


@scenario_app.command("list")
def scenario_list(as_json: AsJson = False) -> None:
    """Name the built-in scenarios."""
    if as_json:
        print_json("scenarios", {"scenarios": [
            {"name": name, "description": desc, "default": name == DEFAULT_SCENARIO}
            for name, (desc, _) in BUILTIN.items()]})
        return
    for name, (desc, _) in BUILTIN.items():
        mark = " (default)" if name == DEFAULT_SCENARIO else ""
        out.print(f"{name}{mark}: {desc}", highlight=False)


class GenSize(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"
    national = "national"


class GenProfile(StrEnum):
    balanced = "balanced"
    tight = "tight"
    fixed_cost = "fixed-cost"
    scarce_material = "scarce-material"
    sourcing = "sourcing"


class GenKind(StrEnum):
    catalog = "catalog"
    alt = "alt"


@scenario_app.command("generate")
def scenario_generate(
    size: Annotated[GenSize, typer.Option(help="small 30 workshops / 25 requests / 4 periods; "
                                          "medium 150/200/8; large 450/2000/12; national "
                                          "5000/20000/12.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="File to write (.yaml/.json).")],
    seed: Annotated[int, typer.Option(help="Same size, seed and profile, same file.")] = 1,
    profile: Annotated[GenProfile, typer.Option(
        help="balanced (the default generator); tight (capacity short of demand); "
        "fixed-cost (engagement and tooling dominate); scarce-material (domestic stock "
        "short, imported grades at the ports); sourcing (most requests limit their "
        "suppliers per step).")] = GenProfile.balanced,
    generator: Annotated[GenKind, typer.Option(
        help="catalog: the Javanese clusters and their profiles; alt: an independent "
        "generator of other structures, for held-out testing (no profiles).")
    ] = GenKind.catalog,
    extended: Annotated[bool, typer.Option(
        help="alt only: also use SPEC 8 fields (minimum lots, dual sourcing, spread, "
        "regional shares).")] = False,
) -> None:
    """Write a generated scenario (see docs/generator.md)."""
    from scenarios import altgen
    from scenarios.generate import generate

    if out_file.suffix.lower() not in (".yaml", ".yml", ".json"):
        fail_input(models.InputError(str(out_file), ["use a .yaml, .yml or .json file name"]))
    if generator is GenKind.alt and profile is not GenProfile.balanced:
        fail_input(models.InputError("--profile", [
            f"'{profile.value}': profiles belong to the catalog generator; the alt "
            "generator draws its own mix"]))
    if extended and generator is not GenKind.alt:
        fail_input(models.InputError("--extended", ["only with --generator alt"]))
    doc = (altgen.generate(size.value, seed, extended) if generator is GenKind.alt
           else generate(size.value, seed, profile.value))
    models.dump_document(doc, out_file)
    out.print(f"wrote {doc['name']}: {len(doc['workshops'])} workshops, "
              f"{len(doc['requests'])} requests, {doc['horizon']['periods']} periods to "
              f"{out_file}", highlight=False)


@scenario_app.command("export")
def scenario_export(
    name: Annotated[str, typer.Argument(help="Built-in scenario name (`broker scenario "
                                        "list`).")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="File to write (.yaml/.json).")],
) -> None:
    """Write a built-in scenario as a scenario file."""
    try:
        sc = broker.builtin_scenario(name)
        if out_file.suffix.lower() not in (".yaml", ".yml", ".json"):
            raise models.InputError(str(out_file), ["use a .yaml, .yml or .json file name"])
    except models.InputError as e:
        fail_input(e)
    models.dump_document(models.scenario_to_dict(sc), out_file)
    out.print(f"wrote {name} to {out_file}", highlight=False)


# --------------------------------------------------------------------------------------
# The service of record: registry, requests and the capacity ledger (docs/ledger.md)

EXIT_CONFLICT = 4

db_app = typer.Typer(help="The ledger database.", no_args_is_help=True)
registry_app = typer.Typer(help="Registry: workshops, centers, components, offers.",
                           no_args_is_help=True)
request_app = typer.Typer(help="Requests for components.", no_args_is_help=True)
runs_app = typer.Typer(help="History of plans and commits.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(registry_app, name="registry")
app.add_typer(request_app, name="request")
app.add_typer(runs_app, name="runs")

DbUrl = Annotated[
    str | None,
    typer.Option("--db", envvar="BROKER_DB_URL", show_envvar=True,
                 help="Database URL (sqlite:///FILE, postgresql+psycopg://...) or SQLite "
                 "file; default ./imc-broker.db."),
]


class RegistryKind(StrEnum):
    workshops = "workshops"
    centers = "centers"
    components = "components"


@contextmanager
def _ledger(db: str | None, check_schema: bool = True) -> Iterator[broker.Broker]:
    """The broker of `--db`, with its errors turned into messages and exit codes."""
    from sqlalchemy.exc import SQLAlchemyError

    preload("broker.ledger.facade")
    try:
        with broker.Broker(db, check_schema=check_schema) as b:
            yield b
    except models.InputError as e:
        fail_input(e)
    except broker.LedgerConflict as e:
        say_error("conflict:", e.message)
        for p in e.problems:
            err.print(f"  {p}", highlight=False, markup=False)
        raise typer.Exit(EXIT_CONFLICT) from None
    except SQLAlchemyError as e:
        reason = getattr(e, "orig", None) or e
        say_error("error:", f"database: {reason}")
        raise typer.Exit(EXIT_INPUT) from None


@db_app.command("upgrade")
def db_upgrade(db: DbUrl = None, revision: Annotated[
        str, typer.Option(help="Target revision.")] = "head") -> None:
    """Migrate the database schema (a new SQLite file is migrated on first use anyway)."""
    with _ledger(db, check_schema=False) as b:
        rev = b.upgrade(revision)
        out.print(f"database {b.url} at revision {rev}", highlight=False)


@db_app.command("current")
def db_current(db: DbUrl = None) -> None:
    """Print the schema revision of the database."""
    with _ledger(db, check_schema=False) as b:
        out.print(f"{b.revision() or '(empty)'} (this broker: {broker.head_revision()})",
                  highlight=False)


@registry_app.command("import")
def registry_import(
    source: Annotated[str, typer.Argument(help="Scenario file (.yaml/.json) or built-in name, "
                                          "or a .csv of workshops.")],
    db: DbUrl = None,
) -> None:
    """Store a scenario's settings, locations, routes, materials, centers, workshops,
    components and offers; a re-import updates, never duplicates. Exit 4 when a change
    would take capacity that committed requests hold."""
    with _ledger(db) as b:
        res = (b.import_workshops_csv(source) if source.lower().endswith(".csv")
               else b.import_scenario(source))
    for label, counts in (("created", res.created), ("updated", res.updated),
                          ("unchanged", res.unchanged)):
        if counts:
            out.print(f"{label}: " + ", ".join(f"{n} {k}" for k, n in counts.items()),
                      highlight=False)
    out.print(f"ledger version {res.ledger_version}", highlight=False)


@registry_app.command("list")
def registry_list(kind: Annotated[RegistryKind, typer.Argument(help="What to list.")],
                  db: DbUrl = None, as_json: AsJson = False) -> None:
    """List workshops (hours and booked hours over the horizon), centers (stock and
    booked kg) or components."""
    with _ledger(db) as b:
        if as_json:
            items = (b.workshops() if kind is RegistryKind.workshops else b.centers()
                     if kind is RegistryKind.centers else b.components())
            print_json(f"registry-{kind.value}", {kind.value: items})
            return
        table = Table(show_edge=False)
        if kind is RegistryKind.workshops:
            for col in ("workshop", "location", "process", "rate", "hours", "booked"):
                table.add_column(col, justify="right" if col in ("rate", "hours", "booked")
                                 else "left")
            for w in b.workshops():
                for i, p in enumerate(w.processes):
                    table.add_row(w.id if i == 0 else "", w.location if i == 0 else "",
                                  p.process, _money(p.rate), f"{p.hours:,.1f}",
                                  f"{p.booked:,.1f}")
        elif kind is RegistryKind.centers:
            for col in ("center", "location", "material", "stock kg", "booked kg", "price"):
                table.add_column(col)
            for c in b.centers():
                for i, st in enumerate(c.stocks):
                    table.add_row(c.id if i == 0 else "", c.location if i == 0 else "",
                                  st.material, f"{st.stock_kg:,.1f}", f"{st.booked_kg:,.1f}",
                                  _money(st.price_per_kg))
        else:
            for col in ("component", "name", "routing", "import price", "offers"):
                table.add_column(col)
            for comp in b.components():
                table.add_row(comp.id, comp.name or "", " > ".join(comp.processes),
                              _money(comp.import_price), str(comp.offers))
    out.print(table)


@registry_app.command("capacity")
def registry_capacity(
    workshop: Annotated[str, typer.Argument(help="Workshop id.")],
    process: Annotated[str, typer.Argument(help="Process.")],
    hours: Annotated[float, typer.Argument(help="Hours per period.")],
    period: Annotated[list[int] | None, typer.Option(
        "--period", "-p", help="Period to change (repeat); without it, the base capacity.")
    ] = None,
    rate: Annotated[float | None, typer.Option(help="Cost per hour (needed for a new "
                                                     "process).")] = None,
    db: DbUrl = None,
) -> None:
    """Change a workshop's capacity for some periods or all. Exit 4 when committed
    requests hold more hours than would be left."""
    with _ledger(db) as b:
        res = b.set_capacity(workshop, process, hours, period or None, rate=rate)
    out.print(f"{res.source} set to {hours:g} h"
              + (f" in period(s) {', '.join(map(str, period))}" if period else "")
              + f"; ledger version {res.ledger_version}", highlight=False)


@request_app.command("submit")
def request_submit(
    file: Annotated[Path, typer.Argument(help="YAML/JSON list of requests, or a scenario "
                                         "file whose requests are taken.")],
    db: DbUrl = None, as_json: AsJson = False,
) -> None:
    """Store requests. A request whose idempotency key (`idempotency_key`, default its id)
    is already stored is returned as stored; nothing new is written for it."""
    with _ledger(db) as b:
        results = b.submit(file)
    if as_json:
        print_json("submitted", {"requests": [
            r.request.to_dict() | {"created": r.created} for r in results]})
        return
    for r in results:
        what = "submitted" if r.created else "already stored"
        out.print(f"{r.request.id}: {what} ({r.request.status})", highlight=False)


class RequestStatus(StrEnum):
    open = "open"
    committed = "committed"
    cancelled = "cancelled"


@request_app.command("list")
def request_list(
    status: Annotated[RequestStatus | None, typer.Option(help="Only requests in this state.")
                      ] = None,
    db: DbUrl = None, as_json: AsJson = False,
) -> None:
    """List requests with their state and due dates."""
    with _ledger(db) as b:
        rows = b.requests(None if status is None else status.value)
        if as_json:
            print_json("requests", {"requests": rows})
            return
        table = Table(show_edge=False)
        for col in ("request", "component", "quantity", "due", "due date", "status", "plan",
                    "submitted"):
            table.add_column(col)
        for r in rows:
            table.add_row(r.id, r.component, f"{r.quantity:,}",
                          "-" if r.due is None else str(r.due),
                          "-" if r.due_date is None else r.due_date.isoformat(),
                          r.status, str(r.plan_id or "-"), f"{r.submitted_at:%Y-%m-%d %H:%M}")
    out.print(table)


@request_app.command("cancel")
def request_cancel(request_id: Annotated[str, typer.Argument(help="Request id.")],
                   db: DbUrl = None, as_json: AsJson = False) -> None:
    """Cancel a request; a committed one gives back the capacity and material it booked."""
    with _ledger(db) as b:
        r = b.cancel(request_id)
    if as_json:
        print_json("request", r.to_dict())
        return
    out.print(f"{r.id}: {r.status}", highlight=False)


@app.command("plan")
def ledger_plan(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Plan file to write (JSON).")],
    request: Annotated[list[str] | None, typer.Option(
        "--request", "-r", help="Open request to plan (repeat); default: all open.")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Seconds.", min=0.01)] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the solver.", min=0, max=MAX_SEED)] = 0,
    threads: Annotated[int, typer.Option(help="Solver threads.", min=1)] = 1,
    db: DbUrl = None, as_json: AsJson = False,
) -> None:
    """Plan open requests against the capacity and stock left by committed ones; the
    proposal is stored and written, nothing is booked (see `broker commit`). Exit 3 when
    there is no plan."""
    options = broker.SolveOptions(time_limit=time_limit, seed=seed, threads=threads)
    with _ledger(db) as b:
        res = b.plan(request or None, options)
    models.write_plan(res.plan, out_file)
    if as_json:
        print_json("proposal", {"plan_id": res.plan_id, "plan_file": str(out_file),
                                "requests": res.requests, "ledger_version": res.ledger_version,
                                "timings": res.timings}
                   | broker.summarize(res.scenario, res.plan).to_dict())
        raise typer.Exit(EXIT_OK if res.plan.status.has_plan else EXIT_NO_PLAN)
    out.print(f"plan {res.plan_id} of {len(res.requests)} request(s) at ledger version "
              f"{res.ledger_version}: {res.plan.status.value}, objective "
              f"{_money(res.plan.objective, res.scenario.currency)}, "
              f"{res.timings.get('total', 0.0):.2f}s", highlight=False)
    for u in res.plan.unmet:
        out.print(f"  unmet {u.request}: {u.quantity} unit(s): {u.reason}", highlight=False,
                  markup=False)
    out.print(f"plan written to [bold]{out_file}[/]; commit it with `broker commit "
              f"{out_file}`", highlight=False)
    raise typer.Exit(EXIT_OK if res.plan.status.has_plan else EXIT_NO_PLAN)


@app.command("commit")
def ledger_commit(
    plan: Annotated[str, typer.Argument(
        help="Plan file made by `broker plan`, or its id, or the id of a repair.")],
    db: DbUrl = None, as_json: AsJson = False,
) -> None:
    """Book a plan's capacity and material, all or nothing. Exit 4 when the ledger has
    changed so that the plan no longer fits (plan again); nothing is written then."""
    with _ledger(db) as b:
        if b.is_repair(plan):
            _print_repair(b.commit_repair(int(plan)), as_json=as_json)
            return
        res = b.commit(plan)
    if as_json:
        print_json("commit", res.to_dict())
        return
    if res.already:
        out.print(f"plan {res.plan_id} was already committed (run {res.run_id})",
                  highlight=False)
        return
    out.print(f"committed plan {res.plan_id}: {', '.join(res.requests)}; booked "
              f"{res.hours:,.1f} h and {res.kg:,.1f} kg; ledger version {res.ledger_version}",
              highlight=False)


disrupt_app = typer.Typer(
    help="Disruptions: find what breaks and repair the ledger.", no_args_is_help=True)
app.add_typer(disrupt_app, name="disrupt")

DryRun = Annotated[bool, typer.Option(
    "--dry-run", help="Show the repair and keep it as a proposal; book nothing.")]
ChangePenalty = Annotated[float | None, typer.Option(
    help="Cost per step-unit moved off its booked workshop or period; default: a tenth of "
    "the ledger's median unit cost (docs/ledger.md).", min=0)]
RepairLimit = Annotated[float, typer.Option("--time-limit", help="Seconds for the repair.",
                                            min=0.5)]


def _disrupt(event: broker.Disruption, db: str | None, dry_run: bool,
             change_penalty: float | None, time_limit: float, as_json: bool) -> None:
    with _ledger(db) as b:
        res = b.disrupt(event, change_penalty=change_penalty, time_limit=time_limit,
                        dry_run=dry_run)
    _print_repair(res, as_json)


def _print_repair(res: broker.RepairResult, as_json: bool) -> None:
    if as_json:
        print_json("repair", res.to_dict() | {"cost_delta": res.cost_delta})
        return
    say = functools.partial(out.print, highlight=False, markup=False)
    dates = res.period_dates

    def when(p: int | None) -> str:
        # Periods with their start dates where the ledger's horizon has a start (SPEC 8.1).
        if p is None:
            return "period -"
        return f"period {p} ({dates[p]})" if dates and 0 <= p < len(dates) else f"period {p}"

    say(f"{res.description}: {len(res.broken)} request(s) broken"
        + (f" ({', '.join(res.broken)})" if res.broken else ""))
    for rid, why in res.broken.items():
        for line in why:
            say(f"  {rid}: {line}")
    for r in res.requests:
        say(f"  {r.request}: {r.kept_units} step-unit(s) kept, {r.moved_units} moved"
            + (f", imported {r.imported_before} -> {r.imported_after}"
               if r.imported_after != r.imported_before else "")
            + (f", unmet {r.unmet_before} -> {r.unmet_after}"
               if r.unmet_after != r.unmet_before else ""))
        for m in r.moves:
            to = (f"{m.to_workshop} {when(m.to_period)}" if m.to_workshop is not None
                  else "not made at home")
            say(f"    step {m.step}: {m.quantity} from {m.from_workshop} "
                f"{when(m.from_period)} to {to}")
        for reason in r.unmet_reasons:
            say(f"    unmet: {reason}")
    delta = res.cost_delta
    say(f"moved {res.moved_units} step-unit(s) at change penalty {res.change_penalty:,.0f}; "
        f"ledger cost {_money(res.cost_before)} -> {_money(res.cost_after)}"
        + (f" ({delta:+,.0f})" if delta is not None else "") + f"; {res.seconds:.1f}s")
    if res.committed:
        say(f"booked: event and repair {res.repair_id} committed (run {res.commit_run_id})")
    else:
        say(f"repair {res.repair_id} kept as a proposal; book it with `broker commit "
            f"{res.repair_id}`")


@disrupt_app.command("capacity")
def disrupt_capacity(
    workshop: Annotated[str, typer.Argument(help="Workshop id.")],
    process: Annotated[str, typer.Argument(help="Process, or `all` for every process.")],
    periods: Annotated[str | None, typer.Option(
        help="Periods, comma-separated (e.g. 3,4); default: every period.")] = None,
    hours: Annotated[float, typer.Option(help="Hours left per period (0: drops out).",
                                         min=0)] = 0.0,
    dry_run: DryRun = False, change_penalty: ChangePenalty = None,
    time_limit: RepairLimit = 30.0, as_json: AsJson = False, db: DbUrl = None,
) -> None:
    """A workshop's hours of a process cut in some periods. Exit 4: stale (retry)."""
    try:
        chosen = tuple(int(p) for p in periods.split(",") if p.strip()) if periods else ()
    except ValueError:
        err.print(f"error: --periods: {periods!r} is not a comma-separated list of "
                  "period numbers", highlight=False, markup=False)
        raise typer.Exit(EXIT_INPUT) from None
    _disrupt(broker.Disruption.capacity(workshop, process, chosen, hours), db, dry_run,
             change_penalty, time_limit, as_json)


@disrupt_app.command("leave")
def disrupt_leave(
    workshop: Annotated[str, typer.Argument(help="Workshop id.")],
    dry_run: DryRun = False, change_penalty: ChangePenalty = None,
    time_limit: RepairLimit = 30.0, as_json: AsJson = False, db: DbUrl = None,
) -> None:
    """A workshop leaves the registry. Exit 4: stale (retry)."""
    _disrupt(broker.Disruption.leave(workshop), db, dry_run, change_penalty, time_limit,
             as_json)


@disrupt_app.command("stock")
def disrupt_stock(
    center: Annotated[str, typer.Argument(help="Material center id.")],
    material: Annotated[str, typer.Argument(help="Material id.")],
    kg: Annotated[float, typer.Option(help="Stock left (kg).", min=0)],
    dry_run: DryRun = False, change_penalty: ChangePenalty = None,
    time_limit: RepairLimit = 30.0, as_json: AsJson = False, db: DbUrl = None,
) -> None:
    """A material center's stock of one material falls to KG. Exit 4: stale (retry)."""
    _disrupt(broker.Disruption.stock(center, material, kg), db, dry_run, change_penalty,
             time_limit, as_json)


@disrupt_app.command("route")
def disrupt_route(
    from_: Annotated[str, typer.Argument(metavar="FROM", help="Location id.")],
    to: Annotated[str, typer.Argument(help="Location id.")],
    dry_run: DryRun = False, change_penalty: ChangePenalty = None,
    time_limit: RepairLimit = 30.0, as_json: AsJson = False, db: DbUrl = None,
) -> None:
    """The road links between two locations closed. Exit 4: stale (retry)."""
    _disrupt(broker.Disruption.route(from_, to), db, dry_run, change_penalty, time_limit,
             as_json)


@app.command("quote")
def ledger_quote(
    file: Annotated[Path, typer.Argument(help="YAML/JSON file with one request.")],
    time_limit: Annotated[float, typer.Option(help="Seconds per solve.", min=0.01)] = 0.5,
    db: DbUrl = None, as_json: AsJson = False,
) -> None:
    """Cost and earliest on-time period of one new request against the committed ledger;
    nothing is stored or booked."""
    preload("solvers.engines")
    with _ledger(db) as b:
        q = b.quote(file, time_limit=time_limit)
    if as_json:
        print_json("quote", q.to_dict())
        raise typer.Exit(EXIT_NO_PLAN if q.cost is None else EXIT_OK)
    if q.cost is None:
        out.print(f"{q.request}: no plan ({q.status})", highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)
    when = "not within the horizon" if q.earliest_period is None else _when(
        q.earliest_period, q.earliest_date.isoformat() if q.earliest_date else None)
    if not q.earliest_proven:
        when += " (not proven earliest: time limit)"
    due = "" if q.due is None else ", due " + _when(
        q.due, q.due_date.isoformat() if q.due_date else None)
    gap = "" if not q.gap else f" (within {q.gap:.2%} of the optimum: time limit)"
    out.print(f"{q.request}: {q.quantity:,} unit(s), cost {_money(q.cost)}{gap}"
              f"{' (on time)' if q.on_time else ' (NOT on time)'}{due}, earliest on-time {when}"
              + (f", {q.unmet} unmet" if q.unmet else "")
              + (f", {q.imported} imported" if q.imported else "")
              + f" [{q.seconds:.2f}s]", highlight=False)


@app.command("export")
def ledger_export(
    scenario_out: Annotated[Path, typer.Option(help="Scenario file (.yaml/.json).")],
    plan_out: Annotated[Path, typer.Option(help="Plan file (JSON).")],
    db: DbUrl = None, as_json: AsJson = False,
) -> None:
    """Write the registry with every committed request as a scenario, and every committed
    booking as one plan, for `broker check`."""
    with _ledger(db) as b:
        ex = b.export()
    models.dump_document(models.scenario_to_dict(ex.scenario), scenario_out)
    models.write_plan(ex.plan, plan_out)
    if as_json:
        print_json("export", {"requests": len(ex.scenario.requests),
                              "scenario_file": str(scenario_out), "plan_file": str(plan_out),
                              "objective": ex.plan.objective})
        return
    out.print(f"{len(ex.scenario.requests)} committed request(s): scenario {scenario_out}, "
              f"plan {plan_out} (objective {_money(ex.plan.objective)})", highlight=False)


@runs_app.command("list")
def runs_list(limit: Annotated[int, typer.Option(help="Most recent N.", min=1)] = 50,
              db: DbUrl = None, as_json: AsJson = False) -> None:
    """Plans and commits, newest first."""
    with _ledger(db) as b:
        if as_json:
            # The stored documents stay out of a listing (`broker runs show ID` has them).
            print_json("runs", {"runs": [
                {k: v for k, v in r.to_dict().items()
                 if k not in ("document", "scenario_document")} for r in b.runs(limit)]})
            return
        table = Table(show_edge=False)
        for col in ("id", "kind", "plan", "when", "version", "status", "objective",
                    "requests"):
            table.add_column(col)
        for r in b.runs(limit):
            table.add_row(str(r.id), r.kind, str(r.plan_id or "-"),
                          f"{r.created_at:%Y-%m-%d %H:%M:%S}", str(r.ledger_version), r.status,
                          _money(r.objective), ", ".join(r.request_ids))
    out.print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[int, typer.Argument(help="Run id.")],
              db: DbUrl = None) -> None:
    """Everything kept about one plan or commit (JSON)."""
    with _ledger(db) as b:
        r = b.run(run_id)
    doc = {k: v for k, v in dataclasses.asdict(r).items() if k != "document"}
    doc["created_at"] = r.created_at.isoformat()
    out.print_json(json.dumps(doc))


@app.command("bottlenecks")
def bottlenecks_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in name.")],
    plan: Annotated[Path | None, typer.Argument(help="Plan to analyse; default: solve first.")
                    ] = None,
    top: Annotated[int, typer.Option(help="Rows per table.", min=1)] = 10,
    verify: Annotated[int, typer.Option(help="Cluster expansions to re-solve.", min=0)] = 3,
    expand: Annotated[float, typer.Option(help="Expansion tried: capacity x (1 + EXPAND).",
                                          min=0.0)] = 0.1,
    time_limit: Annotated[float | None, typer.Option(help="Seconds per solve.", min=0.01)
                          ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the solver.", min=0, max=MAX_SEED)] = 0,
    as_json: AsJson = False,
) -> None:
    """Rank the capacity and stock that limit a plan by what one more unit would save, and
    re-solve the most valuable expansions: where to invest."""
    from broker.analysis.bottlenecks import bottlenecks as analyse

    try:
        sc = broker.load_scenario(scenario)
        p = models.load_plan(plan) if plan is not None else None
    except models.InputError as e:
        fail_input(e)
    if p is not None:
        report = broker.check(sc, p)
        bad = report.blocking
        if bad:
            fail_input(models.InputError(str(plan), [f"{v.where}: {v.message}" for v in bad]))
    rep = analyse(sc, p, options=broker.SolveOptions(time_limit=time_limit, seed=seed),
                  verify=verify, expand=expand)
    if as_json:
        doc = {k: v for k, v in dataclasses.asdict(rep).items() if k != "plan"}
        for key in ("capacity", "clusters", "stock", "invest"):
            doc[key] = doc[key][:top]
        print_json("bottlenecks", doc | {"currency": sc.currency})
        raise typer.Exit(EXIT_NO_PLAN if rep.lp_objective is None else EXIT_OK)
    out.print(f"[bold]{sc.name}[/]: objective {_money(rep.objective, sc.currency)}, LP with "
              f"the plan's choices fixed {_money(rep.lp_objective)}", highlight=False)
    if rep.lp_objective is None:
        out.print("no plan to analyse")
        raise typer.Exit(EXIT_NO_PLAN)
    t = Table(title="Capacity that binds: saving per extra hour in that period",
              show_edge=False)
    for col in ("workshop", "cluster", "process", "period", "saving/h", "hours"):
        t.add_column(col, justify="right" if col in ("period", "saving/h", "hours") else "left")
    for c in rep.capacity[:top]:
        t.add_row(c.workshop, c.cluster, c.process, _period_label(sc, c.period),
                  _money(c.value_per_hour),
                  f"{c.available_hours:,.0f}")
    out.print(t)
    t = Table(title="By cluster and process: saving per extra hour in the best binding "
              "period, and for one extra hour in each binding period", show_edge=False)
    for col in ("cluster", "process", "periods", "saving/h (best period)",
                "saving, +1 h each period", "hours"):
        t.add_column(col, justify="left" if col in ("cluster", "process", "periods")
                     else "right")
    for cv in rep.clusters[:top]:
        t.add_row(cv.cluster, cv.process, ", ".join(map(str, cv.periods)),
                  _money(cv.best_value_per_hour), _money(cv.value_hour_each_period),
                  f"{cv.available_hours:,.0f}")
    out.print(t)
    if rep.stock:
        t = Table(title="Stock that binds: saving per extra kg", show_edge=False)
        for col in ("center", "material", "saving/kg", "stock kg"):
            t.add_column(col, justify="right" if "kg" in col else "left")
        for st in rep.stock[:top]:
            t.add_row(st.center, st.material, f"{st.value_per_kg:,.2f}", f"{st.stock_kg:,.0f}")
        out.print(t)
    saving = [i for i in rep.invest if i.note is None]
    if saving:
        t = Table(title=f"Where to invest: capacity x {1 + expand:g} over the horizon, "
                  "re-solved", show_edge=False)
        for col in ("cluster", "process", "extra hours", "saving (duals)", "saving (re-solved)"):
            t.add_column(col, justify="left" if col in ("cluster", "process") else "right")
        for i in saving:
            t.add_row(i.cluster, i.process, f"{i.extra_hours:,.0f}", _money(i.estimated_saving),
                      _money(i.saving) + ("" if i.proven else " (not proven)"))
        out.print(t)
    for i in rep.invest:
        if i.note is not None:
            out.print(f"{i.cluster} {i.process} x {1 + expand:g} ({i.extra_hours:,.0f} extra "
                      f"hours, {_money(i.estimated_saving)} by the duals): {i.note}",
                      highlight=False, markup=False)


# --------------------------------------------------------------------------------------
# A plan to look at and to open in a spreadsheet (docs/cli.md)


def _plan_to_show(scenario: str | None, plan: Path | None, ledger: bool, db: str | None
                  ) -> tuple[models.Scenario, models.Plan, str]:
    """The scenario and plan of `report` and `export-plan`: files, or the ledger's export;
    a plan whose rows break the scenario is refused (its pictures would be wrong)."""
    if ledger:
        if scenario is not None or plan is not None:
            fail_input(models.InputError("--ledger", [
                "give either SCENARIO PLAN or --ledger, not both"]))
        with _ledger(db) as b:
            ex = b.export()
        sc, p, what = ex.scenario, ex.plan, "the committed ledger"
    else:
        if scenario is None or plan is None:
            fail_input(models.InputError("arguments", [
                "give SCENARIO and PLAN (or --ledger for the committed ledger)"]))
        try:
            sc = broker.load_scenario(scenario)
            p = models.load_plan(plan)
        except models.InputError as e:
            fail_input(e)
        what = str(plan)
    report = broker.check(sc, p)
    if report.blocking:
        fail_input(models.InputError(what, [f"{v.where}: {v.message}"
                                            for v in report.blocking]))
    for v in report.violations:
        err.print(f"warning: {v}", highlight=False, markup=False)
    return sc, p, what


@app.command("report")
def report_cmd(
    scenario: Annotated[str | None, typer.Argument(help="Scenario file or built-in name.")
                        ] = None,
    plan: Annotated[Path | None, typer.Argument(help="Plan file (JSON).")] = None,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")
                        ] = Path("plan.html"),
    ledger: Annotated[bool, typer.Option("--ledger", help="Report the committed ledger "
                                         "(`broker export`) instead of files.")] = False,
    title: Annotated[str | None, typer.Option(help="Page title.")] = None,
    db: DbUrl = None,
) -> None:
    """Write one self-contained HTML page of a plan: KPIs, costs, deliveries, load, flows,
    a map and unmet units. Works offline."""
    from broker.analysis.report import plan_report

    sc, p, what = _plan_to_show(scenario, plan, ledger, db)
    heading = title or (f"Committed ledger of {sc.name}" if ledger else None)
    out_file.write_text(plan_report(sc, p, heading), encoding="utf-8")
    out.print(f"report of {what} written to {out_file}", highlight=False, markup=False)


@app.command("export-plan")
def export_plan_cmd(
    plan: Annotated[Path | None, typer.Argument(help="Plan file (JSON).")] = None,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", "-s", help="Scenario file or built-in name; default: the built-in "
        "the plan names.")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="Workbook to write, a sheet per table.")
                    ] = None,
    csv_dir: Annotated[Path | None, typer.Option("--csv", help="Folder to write, a CSV file "
                                                 "per table.")] = None,
    ledger: Annotated[bool, typer.Option("--ledger", help="Export the committed ledger "
                                         "instead of a plan file.")] = False,
    db: DbUrl = None,
) -> None:
    """Write a plan as spreadsheet tables: schedule, shipments, materials, deliveries and
    unmet units, with dates."""
    from broker.analysis.tables import plan_tables, write_csv, write_xlsx

    if xlsx is None and csv_dir is None:
        fail_input(models.InputError("export-plan", ["give --xlsx FILE or --csv DIR (or both)"]))
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        fail_input(models.InputError(str(xlsx), ["use a .xlsx file name"]))
    if not ledger and plan is not None and scenario is None:
        try:
            scenario = models.load_plan(plan).scenario
        except models.InputError as e:
            fail_input(e)
    sc, p, what = _plan_to_show(scenario, plan, ledger, db)
    tables = plan_tables(sc, p)
    written: list[Path] = []
    if xlsx is not None:
        write_xlsx(tables, xlsx, f"Plan for {sc.name}")
        written.append(xlsx)
    if csv_dir is not None:
        written += write_csv(tables, csv_dir)
    counts = ", ".join(f"{len(t.rows)} {t.name}" for t in tables)
    out.print(f"{what}: {counts}; written to {', '.join(map(str, written))}",
              highlight=False, markup=False)


# --------------------------------------------------------------------------------------
# Import-substitution analysis: variants, sweeps, replay and compare (docs/analysis.md)


@scenario_app.command("resolve")
def scenario_resolve(
    file: Annotated[Path, typer.Argument(help="Scenario or variant file (`extends:`).")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write to this file (.yaml/.json) instead of printing YAML.")
    ] = None,
) -> None:
    """Print the scenario a variant file stands for: its base with the overrides applied,
    validated like any scenario."""
    from models.documents import dump_yaml
    from scenarios import variants

    try:
        doc = variants.resolve(file)
        models.scenario_from_dict(doc, str(file))
    except models.InputError as e:
        fail_input(e)
    if out_file is not None:
        models.dump_document(doc, out_file)
        out.print(f"wrote the resolved scenario to {out_file}", highlight=False)
        return
    sys.stdout.write(dump_yaml(doc))


@app.command("sweep")
def sweep_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario or variant file, or built-in "
                                            "name.")],
    vary: Annotated[list[str], typer.Option(
        "--vary", help="PATH=VALUES, VALUES as 0,0.2,0.5 or start:stop:step (repeat; all "
        "combinations run). Scaling: scale.capacity[cluster=ID,process=NAME]=1,1.5.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for results.csv, "
                                          "plans and plots.")],
    time_limit: Annotated[float | None, typer.Option(help="Seconds per variant.", min=0.01)
                          ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the solver.", min=0, max=MAX_SEED)] = 0,
    workers: Annotated[int, typer.Option(help="Local worker processes.", min=1)] = 1,
    executor: Annotated[str, typer.Option(help="local, or dask://HOST:PORT for a Dask "
                                          "scheduler.")] = "local",
    plots: Annotated[bool, typer.Option(help="Draw the PNG plots.")] = True,
    db: DbUrl = None,
    record: Annotated[bool, typer.Option(help="Keep each variant's run in the history.")
                      ] = True,
    as_json: AsJson = False,
) -> None:
    """Solve every combination of the varied values; write results, plans and plots.

    DIR/results.csv has one row per variant, in grid order; DIR/runs.csv the seconds and
    run ids; then the plans, scenarios, PNG plots and plots.html. Exit 0 when every
    variant has a plan, 3 when some have none, 2 for invalid input."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from broker.analysis import outputs
    from broker.analysis import sweep as sw

    # The bar starts with the first variant done: an invalid base or --vary is refused
    # with the error alone, no empty bar above it.
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err, transient=False)
    task = bar.add_task("variants", total=None)

    def progress(done: int, total: int, r: sw.VariantResult) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total,
                   description=f"variants (last: #{r.variant.index} {r.row['status']})")

    try:
        res = sw.run_sweep(scenario, vary, time_limit=time_limit, seed=seed,
                           workers=workers, executor=executor, progress=progress)
    except models.InputError as e:
        fail_input(e)
    finally:
        bar.stop()
    if record:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            res = sw.record_runs(res, db)
        except (SQLAlchemyError, models.InputError, OSError) as e:
            reason = getattr(e, "orig", None) or e
            err.print(f"warning: runs not recorded: {reason}", highlight=False, markup=False)
    files = outputs.write_outputs(res, out_dir, plots=plots)
    no_plan = any(r.row.get("status") not in ("optimal", "feasible") for r in res.results)
    if as_json:
        print_json("sweep", {"axes": [a.path for a in res.axes], "out_dir": str(out_dir),
                             "files": [str(f) for f in files], "variants": [
            {"variant": r.variant.index, "values": dict(zip((a.path for a in res.axes),
                                                            r.variant.values, strict=True)),
             "run": r.run_id, "seconds": r.seconds, **r.row} for r in res.results]})
        raise typer.Exit(EXIT_NO_PLAN if no_plan else EXIT_OK)
    table = Table(show_edge=False)
    for col in ("#", *(a.path for a in res.axes), "status", "objective", "gap",
                "local content", "unmet", "run"):
        table.add_column(col, justify="left" if col == "status" else "right")
    for r in res.results:
        gap = r.row.get("gap")
        lc = r.row.get("local_content")
        table.add_row(str(r.variant.index), *(outputs.format_value(v) for v in r.variant.values),
                      str(r.row.get("status")), _money(r.row.get("objective")),
                      "-" if gap is None else f"{gap:.2%}", "-" if lc is None else f"{lc:.1%}",
                      outputs.format_value(r.row.get("unmet_units")) or "-",
                      "-" if r.run_id is None else str(r.run_id))
    out.print(table)
    for r in res.results:
        if r.row.get("status") in ("error", "infeasible"):
            out.print(f"variant {r.variant.index}: {r.row['status']}: {r.row.get('message')}",
                      highlight=False, markup=False)
    out.print(f"{len(res.results)} variant(s), {len(files)} file(s) in {out_dir}",
              highlight=False)
    raise typer.Exit(EXIT_NO_PLAN if no_plan else EXIT_OK)


@app.command("replay")
def replay_cmd(run_id: Annotated[int, typer.Argument(help="Run id (see `broker runs list`).")],
               db: DbUrl = None, as_json: AsJson = False) -> None:
    """Solve a recorded run again and compare its plan with the stored one.

    Same scenario, options, seed and threads. Exit 0 when reproduced bit for bit, 1 when it differs,
    2 when the run cannot be replayed."""
    from broker.analysis.replay import replay

    with _ledger(db) as b:
        rep = replay(b, run_id)
    if as_json:
        print_json("replay", {"run": run_id, "reproduced": rep.reproduced,
                              "status": rep.plan.status.value, "objective": rep.plan.objective,
                              "notes": rep.notes, "differences": rep.differences})
        raise typer.Exit(EXIT_OK if rep.reproduced else EXIT_VIOLATIONS)
    for note in rep.notes:
        out.print(f"note: {note}", highlight=False, markup=False)
    if rep.reproduced:
        out.print(f"run {run_id}: reproduced bit for bit ({rep.plan.status.value}, objective "
                  f"{_money(rep.plan.objective)})", highlight=False)
        raise typer.Exit(EXIT_OK)
    out.print(f"run {run_id}: the replayed plan DIFFERS from the stored one; first "
              f"differences (stored -> replayed):", highlight=False)
    for d in rep.differences:
        out.print(f"  {d}", highlight=False, markup=False)
    raise typer.Exit(EXIT_VIOLATIONS)


@app.command("compare")
def compare_cmd(
    run_a: Annotated[int, typer.Argument(help="Run id A.")],
    run_b: Annotated[int, typer.Argument(help="Run id B.")],
    show_all: Annotated[bool, typer.Option("--all", help="Also rows that are equal.")] = False,
    db: DbUrl = None, as_json: AsJson = False,
) -> None:
    """Compare two runs: cost terms, KPIs and allocation.

    Allocation is final-step units and hours by workshop and by cluster; columns A, B and
    B-A, only rows that differ unless --all."""
    from broker.analysis.replay import compare

    with _ledger(db) as b:
        cmp = compare(b, run_a, run_b)
    if as_json:
        print_json("compare", {"a": run_a, "b": run_b, "notes": cmp.notes, "lines": [
            {"section": ln.section, "name": ln.name, "a": ln.a, "b": ln.b, "delta": ln.delta,
             "differs": ln.differs} for ln in cmp.lines if show_all or ln.differs]})
        return
    for note in cmp.notes:
        out.print(f"note: {note}", highlight=False, markup=False)
    titles = {"cost": "Cost terms", "kpi": "KPIs", "workshop": "Allocation by workshop",
              "cluster": "Allocation by cluster"}

    shown = 0
    for section, title in titles.items():
        lines = [ln for ln in cmp.lines if ln.section == section and (show_all or ln.differs)]
        if not lines:
            continue
        # One format per table: shares with 4 decimals; money, units and hours whole
        # unless some value of the table has cents, then all with 2 decimals.
        values = [v for ln in lines for v in (ln.a, ln.b, ln.delta) if v is not None]
        spec = (".4f" if section == "kpi" else
                ",.0f" if all(abs(v - round(v)) < 5e-3 for v in values) else ",.2f")

        def fmt(v: float | None, spec: str = spec) -> str:
            return "-" if v is None else format(v, spec)

        t = Table(title=title, show_edge=False)
        for col in ("", f"A (run {run_a})", f"B (run {run_b})", "B-A"):
            t.add_column(col, justify="left" if not col else "right")
        for ln in lines:
            t.add_row(ln.name, fmt(ln.a), fmt(ln.b), fmt(ln.delta))
        out.print(t)
        shown += len(lines)
    if not shown:
        out.print(f"runs {run_a} and {run_b}: same cost terms, KPIs and allocation",
                  highlight=False)


# --------------------------------------------------------------------------------------
# Benchmarks: the project's solver against the direct baseline (docs/benchmarks.md)


@app.command("bench")
def bench_cmd(
    family: Annotated[list[BenchFamily] | None, typer.Option(
        "--family", help="Public family (repeat): gap, cflp, fatahi (the published optima, "
        "no limit), gap-large (60 s), cflp-large (120 s), default (the built-in scenario "
        "without a limit, then 3 s and 10 s).")] = None,
    size: Annotated[list[GenSize] | None, typer.Option(
        "--size", help="Generated size (repeat): small (10 s), medium (60 s), large (60 s), "
        "national (1,800 s). Default: small, unless a family or --instances is given.")
    ] = None,
    profile: Annotated[list[GenProfile] | None, typer.Option(
        "--profile", help="Generator profile (repeat); default balanced.")] = None,
    generator: Annotated[GenKind, typer.Option(
        help="Generator of the --size instances: catalog or alt (held-out).")
    ] = GenKind.catalog,
    seeds: Annotated[str, typer.Option(help="Seeds of the generated instances, e.g. 1,2.")
                     ] = "1",
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Keep only these files of the families (stem, repeat), e.g. c10100.")
    ] = None,
    time_limit: Annotated[float | None, typer.Option(
        help="Seconds per solve for every instance; default: each family's and size's "
        "target limit.", min=0.01)] = None,
    instances: Annotated[list[Path] | None, typer.Option(
        "--instances", help="Scenario file or folder of them (repeat); an optima.json or "
        "known.json beside them gives what is known of the optimum.")] = None,
    baseline: Annotated[bool, typer.Option(help="Also solve with the direct formulation and "
                                           "compare.")] = True,
    busy: Annotated[bool, typer.Option(help="Run each solve beside one CPU-bound process, "
                                       "stopped when the solve ends.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document instead "
                                           "of the table.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write the rows (CSV).")
                        ] = None,
    benchmarks: Annotated[Path | None, typer.Option(
        help="The shared benchmark folder; default $IMC_SHARED_DIR/benchmarks, else "
        "../shared/benchmarks beside the repository.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the solver.", min=0, max=MAX_SEED)] = 0,
    threads: Annotated[int, typer.Option(help="Solver threads.", min=1)] = 1,
) -> None:
    """Benchmark the project's solver against the direct baseline.

    Each instance is solved by both, one fresh process per run; the table gives status,
    objective, the gap to the known optimum or best bound, the plan's own gap, seconds
    measured from outside, peak memory, the checker's verdict, the ratios against the
    baseline, and a verdict per line against the targets (docs/benchmarks.md). Exit 0
    when every run finished and every plan passed the checker, 1 otherwise, 2 for invalid
    input."""
    from broker.analysis import bench

    root = benchmarks or bench.default_benchmarks_dir()
    try:
        insts: list[bench.Instance] = []
        for fam in family or []:
            insts += bench.family(fam.value, root, time_limit, only or ())
        if size or profile or not (family or instances):
            insts += bench.generated([s.value for s in size or [GenSize.small]],
                                     bench.parse_seeds(seeds),
                                     [p.value for p in profile or [GenProfile.balanced]],
                                     generator.value, time_limit, default_limit=True)
        insts += bench.from_paths(instances or [], time_limit)
    except models.InputError as e:
        fail_input(e)
    forms = [bench.PROJECT, bench.BASELINE] if baseline else [bench.PROJECT]

    def progress(r: bench.BenchRow) -> None:
        err.print(f"{r.instance} {r.formulation}: {r.status}"
                  + ("" if r.seconds is None else f" in {r.seconds:.1f} s"), highlight=False)
        if r.check_ok is False:
            say_error(f"CHECKER REJECTS the plan of {r.instance} ({r.formulation}):",
                      str(r.message))

    rows = bench.run_bench(insts, forms, seed=seed, threads=threads, busy=busy,
                           progress=progress)
    lines = bench.targets(rows)
    if out_file is not None:
        bench.write_csv(rows, out_file)
    if json_out:
        # bench.to_json carries its own `format` (imc-broker/bench@1); plain JSON on stdout.
        sys.stdout.write(json.dumps(bench.to_json(rows, lines), indent=2) + "\n")
    else:
        _bench_table(rows, lines, out_file)
    rejected = [r for r in rows if r.check_ok is False]
    for r in rejected:
        say_error(f"CHECKER REJECTS the plan of {r.instance} ({r.formulation}, "
                  f"limit {r.time_limit}):", str(r.message))
    broken = rejected or any(r.status in ("error", "killed") for r in rows)
    raise typer.Exit(EXIT_VIOLATIONS if broken else EXIT_OK)


def _bench_table(rows: list[bench.BenchRow], lines: list[bench.TargetLine],
                 out_file: Path | None) -> None:
    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    t = Table(title="Benchmark" + (" beside a busy core" if any(r.busy for r in rows) else ""),
              show_edge=False)
    cols = ["instance", "limit", "formulation", "status", "objective", "ref gap", "ref",
            "gap", "seconds", "wall s", "first s", "peak MB", "checker", "speed-up",
            "obj ratio", "verdict"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("instance", "formulation", "status", "ref")
                     else "right")
    for r in rows:
        t.add_row(r.instance, "-" if r.time_limit is None else f"{r.time_limit:g}",
                  r.formulation, r.status, _money(r.objective), num(r.reference_gap, ".3%"),
                  r.reference or "-", num(r.gap, ".2%"), num(r.seconds, ".1f"),
                  num(r.wall_seconds, ".1f"), num(r.first_plan_seconds, ".1f"),
                  (">=" if r.status == "killed" and r.peak_mb is not None else "")
                  + num(r.peak_mb, ",.0f"),
                  {True: "OK", False: "[bold red]FAILED[/]", None: "-"}[r.check_ok],
                  "-" if r.speedup is None else f"{r.speedup:.2f}x",
                  num(r.objective_ratio, ".4f"),
                  "-" if r.target is None else {True: "PASS", False: "FAIL",
                                                None: "n/m"}[r.verdict])
    # Full width even when piped or in a narrow terminal: a cut-off number is useless.
    Console(file=out.file, width=max(out.width, 220)).print(t)
    for r in rows:
        if r.message:
            out.print(f"{r.instance} {r.formulation}: {r.message}", highlight=False,
                      markup=False)
    for line in lines:
        out.print(line.text, highlight=False, markup=False)
    if out_file is not None:
        out.print(f"{len(rows)} row(s) written to {out_file}", highlight=False)


class KeyRole(StrEnum):
    planner = "planner"
    buyer = "buyer"
    workshop = "workshop"
    viewer = "viewer"


keys_app = typer.Typer(help="API keys of the HTTP service (`broker serve`).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    db: DbUrl = None,
    workers: Annotated[int, typer.Option(help="Plan jobs solved at once (one process "
                                              "each).", min=1)] = 2,
    executor: Annotated[str, typer.Option(help="local, or dask://HOST:PORT to solve plan "
                                               "jobs on a Dask cluster.")] = "local",
    name: Annotated[str, typer.Option(help="Name of this server: a restart marks the "
                                           "unfinished jobs of this name interrupted.")
                    ] = "serve",
    max_body_mb: Annotated[float, typer.Option(help="Largest request body (MB).", min=0.001)
                           ] = 20.0,
    quote_processes: Annotated[int | None, typer.Option(
        help="Processes that solve quotes; 0 solves them in the server process. Default: "
             "one per core.", min=0)] = None,
) -> None:
    """Run the HTTP service (FastAPI under uvicorn) over the ledger database; see
    docs/service.md. Stop it with Ctrl-C."""
    from broker.service import ServiceConfig, serve

    with _ledger(db) as b:  # refuse an unreachable or outdated database before listening
        url = b.url
    if executor != "local" and not executor.startswith("dask://"):
        fail_input(models.InputError("--executor", [
            f"unknown executor '{executor}': use local or dask://HOST:PORT"]))
    if quote_processes is None:
        quote_processes = os.cpu_count() or 1
    serve(ServiceConfig(db=url, workers=workers, executor=executor, name=name,
                        max_body=int(max_body_mb * 1024 * 1024),
                        quote_processes=quote_processes), host=host, port=port)


@keys_app.command("create")
def keys_create(
    role: Annotated[KeyRole, typer.Option(help="planner (everything), buyer (its own "
                                               "requests and quotes), workshop (its own "
                                               "capacity) or viewer (read).")],
    buyer: Annotated[str | None, typer.Option(help="The buyer a buyer key acts for.")
                     ] = None,
    workshop: Annotated[str | None, typer.Option(help="The workshop id a workshop key "
                                                      "acts for.")] = None,
    label: Annotated[str | None, typer.Option(help="A note on whose key it is.")] = None,
    db: DbUrl = None,
) -> None:
    """Make an API key; it is printed once, only its salted hash is stored."""
    from broker.service.auth import KeyStore

    with _ledger(db) as b:
        new = KeyStore(b.engine).create(role.value, buyer=buyer, workshop=workshop,
                                        label=label)
    out.print(new.key, highlight=False, markup=False)
    err.print(f"key {new.info.id} ({new.info.role}) created; it is shown only now",
              highlight=False)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id (see `broker keys "
                                                          "list`).")],
                db: DbUrl = None) -> None:
    """Revoke a key: the service refuses it from the next request on."""
    from broker.service.auth import KeyStore

    with _ledger(db) as b:
        info = KeyStore(b.engine).revoke(key_id)
    out.print(f"key {info.id} revoked", highlight=False)


@keys_app.command("list")
def keys_list(db: DbUrl = None, as_json: AsJson = False) -> None:
    """List keys (never the secrets)."""
    from broker.service.auth import KeyStore

    with _ledger(db) as b:
        keys = KeyStore(b.engine).list()
    if as_json:
        print_json("keys", {"keys": keys})
        return
    table = Table(show_edge=False)
    for col in ("key", "role", "party", "label", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(k.id, k.role, k.buyer or k.workshop or "", k.label or "",
                      f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")
    out.print(table)


def _first_sentence(doc: str) -> str:
    """The first sentence of a docstring's first paragraph, on one line: what a list of
    commands shows (the whole text stays in the command's own --help)."""
    para = " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    for i, ch in enumerate(para):
        if ch in ".;:" and (i + 1 == len(para) or para[i + 1] == " ") and \
                not para[max(0, i - 3):i + 1].endswith(("e.g.", "i.e.")):
            return para[:i + 1] if ch == "." else para[:i] + "."
    return para


def _short_helps(t: typer.Typer) -> None:
    # Help is plain text in every group: `[cluster=ID,process=NAME]` is syntax, not markup.
    t.rich_markup_mode = None
    for c in t.registered_commands:
        if c.short_help is None and c.callback is not None:
            c.short_help = _first_sentence(c.help or inspect.getdoc(c.callback) or "")
    for g in t.registered_groups:
        if g.typer_instance is not None:
            _short_helps(g.typer_instance)


_short_helps(app)


def _command_name(argv: list[str]) -> str | None:
    """The command word of `argv`: the first argument that is neither a global option nor
    the value of one (`--log-level LEVEL`)."""
    args = iter(argv)
    for a in args:
        if a == "--log-level":
            next(args, None)
        elif not a.startswith("-"):
            return a
    return None


def main() -> None:
    from solvers.engine_output import hidden

    # The engines' own lines (HiGHS prints some from C++ whatever its options say) stay
    # off the terminal; `broker serve` keeps its process's streams as they are, for its
    # jobs' logs. BROKER_ENGINE_OUTPUT=1 shows them (solvers/engine_output.py).
    serving = _command_name(sys.argv[1:]) == "serve"
    global _own_process
    _own_process = True
    preload()  # what importing this module loaded
    try:
        with nullcontext() if serving else hidden():
            app()
    except models.InputError as e:  # pragma: no cover - every command catches its own
        err.print(f"error: {e}", markup=False)
        sys.exit(EXIT_INPUT)


if __name__ == "__main__":
    main()
