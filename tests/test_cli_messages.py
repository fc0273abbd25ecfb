"""How the `broker` command says things: error lines render their style or drop it (never
raw markup), a long list of violations is summarised by kind, and what the MIP engines
print themselves stays off the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from small_case import small
from typer.testing import CliRunner

from cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]

SMALL = small("msg-small", requests=[
    {"id": f"R{i}", "component": "c", "quantity": 1, "due": 1} for i in range(1, 13)])


def test_database_error_is_not_raw_markup(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database file at all" * 200)
    res = runner.invoke(app, ["request", "list", "--db", str(bad)])
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: database: file is not a database"


def test_error_text_with_brackets_is_printed_as_is(tmp_path: Path) -> None:
    # A file name holding what markup would read as a closing tag: printed as it is,
    # not interpreted (rich would raise on an unmatched closing tag).
    missing = tmp_path / "[red]x[" / "bold]" / "s.yaml"  # ".../[red]x[/bold]/s.yaml"
    res = runner.invoke(app, ["solve", str(missing), "--no-record"])
    assert res.exit_code == 2
    assert res.stderr.splitlines()[0] == f"error: {missing}: 1 problem(s)"
    assert res.exception is None or isinstance(res.exception, SystemExit)


def _wrong_plan(tmp_path: Path) -> tuple[Path, Path]:
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(SMALL))
    plan = tmp_path / "p.json"
    assert runner.invoke(app, ["solve", str(scen), "-o", str(plan), "-q",
                               "--no-record"]).exit_code == 0
    other = json.loads(json.dumps(SMALL))
    other["name"] = "msg-other"
    for r in other["requests"]:
        r["component"] = "d"
    other["components"].append({"id": "d", "weight_kg": 1,
                                "routing": [{"process": "cast", "hours": 1}]})
    wrong = tmp_path / "other.yaml"
    wrong.write_text(yaml.safe_dump(other))
    return wrong, plan


def test_check_summarises_many_violations_by_kind(tmp_path: Path) -> None:
    wrong, plan = _wrong_plan(tmp_path)
    full = runner.invoke(app, ["check", str(wrong), str(plan), "--all"])
    assert full.exit_code == 1
    rows = [ln for ln in full.stdout.splitlines() if ln.startswith("  [")]
    assert len(rows) > 20  # more than the summary's threshold
    kinds: dict[str, int] = {}
    for ln in rows:
        kind = ln.split("]", 1)[0][3:]
        kinds[kind] = kinds.get(kind, 0) + 1
    short = runner.invoke(app, ["check", str(wrong), str(plan)])
    assert short.exit_code == 1
    lines = short.stdout.splitlines()
    assert lines[0] == f"FAILED: {len(rows)} violation(s) in plan {plan}"
    heads = [ln for ln in lines if ln.startswith("  [")]
    # One line per kind, in the order the kinds first appear, with its count.
    assert [h.split("]", 1)[0][3:] for h in heads] == list(kinds)
    for h in heads:
        kind = h.split("]", 1)[0][3:]
        assert h.startswith(f"  [{kind}] {kinds[kind]} violation(s)")
    # At most 3 examples of a kind, each a row of the full list; the rest counted.
    examples = [ln for ln in lines if ln.startswith("    ") and not ln.startswith("    ...")]
    assert len(examples) == sum(min(3, n) for n in kinds.values())
    full_text = {ln.split("] ", 1)[1] for ln in rows}
    assert all(ln.strip() in full_text for ln in examples)
    more = [ln for ln in lines if ln.startswith("    ... and ")]
    assert len(more) == sum(1 for n in kinds.values() if n > 3)
    assert lines[-1] == "(every violation: `broker check --all`)"
    assert len(lines) < len(rows)


def test_check_lists_few_violations_in_full(tmp_path: Path) -> None:
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(SMALL))
    plan = tmp_path / "p.json"
    assert runner.invoke(app, ["solve", str(scen), "-o", str(plan), "-q",
                               "--no-record"]).exit_code == 0
    doc = json.loads(plan.read_text())
    doc["cost"]["production"] += 1
    plan.write_text(json.dumps(doc))
    res = runner.invoke(app, ["check", str(scen), str(plan)])
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    assert lines[0] == f"FAILED: 2 violation(s) in plan {plan}"
    assert lines[1].startswith("  [cost] cost.production: plan says ")
    assert lines[2].startswith("  [objective] ")
    assert len(lines) == 3


ENGINE_PRINTS = textwrap.dedent("""
    import os, sys
    import cli

    @cli.app.command("emit-test")
    def emit() -> None:
        os.write(1, b"engine line on fd 1\\n")
        os.write(2, b"engine line on fd 2\\n")
        print("python line")
        print("python warning", file=sys.stderr)

    sys.argv = ["broker", "emit-test"]
    cli.main()
""")


def _run_cli(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **env_extra)
    env.pop("BROKER_ENGINE_OUTPUT", None) if not env_extra else None
    return subprocess.run([sys.executable, "-c", ENGINE_PRINTS], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def test_engine_output_below_python_is_hidden() -> None:
    res = _run_cli({})
    assert res.returncode == 0, res.stderr
    assert res.stdout == "python line\n"
    assert res.stderr == "python warning\n"


def test_engine_output_shown_when_asked() -> None:
    res = _run_cli({"BROKER_ENGINE_OUTPUT": "1"})
    assert res.returncode == 0, res.stderr
    assert res.stdout == "engine line on fd 1\npython line\n"
    assert res.stderr == "engine line on fd 2\npython warning\n"


def test_command_name_skips_global_options() -> None:
    from cli import _command_name

    assert _command_name(["--log-level", "debug", "serve", "--port", "1"]) == "serve"
    assert _command_name(["-vv", "solve", "x.yaml"]) == "solve"
    assert _command_name(["--version"]) is None


def test_a_seed_the_engines_cannot_take_is_refused() -> None:
    """HiGHS failed on a seed of 2**31 and the solve returned its constructive plan as
    `feasible` without a word; the seed is now checked where it is given."""
    import pytest

    from solvers import SolveOptions

    res = runner.invoke(app, ["solve", "--seed", "2147483648", "--time-limit", "2",
                              "--no-record"])
    assert res.exit_code == 2
    assert "Invalid value for '--seed'" in res.stderr
    assert "2147483647" in res.stderr
    with pytest.raises(ValueError, match=r"seed 2147483648 outside 0 \.\. 2147483647"):
        SolveOptions(seed=2**31)
    assert SolveOptions(seed=2**31 - 1).seed == 2**31 - 1
