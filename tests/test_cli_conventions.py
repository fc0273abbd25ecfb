"""Conventions of the command line: --version, completion, logging on request, choices
checked, short help in the command list and help text shown as written."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

import models
from broker.version import __version__
from cli import app
from models.check import check
from tests.test_cli import SMALL

runner = CliRunner()


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert (res.exit_code, res.stdout) == (0, f"imc-broker {__version__}\n")


def test_top_level_help_lists_one_sentence_per_command() -> None:
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    assert "--install-completion" in res.stdout and "--version" in res.stdout
    assert "--verbose" in res.stdout and "--log-level" in res.stdout
    commands = res.stdout.split("Commands:")[1]
    # Exit codes and details stay in each command's own --help.
    assert "Exit 0" not in commands
    assert "  check        Check a plan against its scenario with no solver.\n" in commands
    assert "  report       Write one self-contained HTML page of a plan.\n" in commands
    solve = runner.invoke(app, ["solve", "--help"]).stdout
    assert "Exit 0: optimal or feasible" in solve


def test_help_text_keeps_brackets() -> None:
    res = runner.invoke(app, ["sweep", "--help"], terminal_width=200)
    assert "scale.capacity[cluster=ID,process=NAME]=1,1.5" in res.stdout


def test_fixed_sets_are_choices() -> None:
    for args in (["request", "list", "--status", "bogus"],
                 ["bench", "--size", "huge", "--no-baseline"],
                 ["--log-level", "loud", "scenario", "list"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert "Invalid value" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["scenario", "export", "nowhere", "--out", "x.yaml"])
    assert res.exit_code == 2 and "unknown built-in scenario 'nowhere' (known: " in res.output


def test_logs_only_on_request(tmp_path: Path) -> None:
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(SMALL))
    plan = tmp_path / "p.json"
    quiet = runner.invoke(app, ["solve", str(scen), "-o", str(plan), "-q", "--no-record"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    loud = runner.invoke(app, ["-v", "solve", str(scen), "-o", str(plan), "-q",
                               "--no-record"])
    assert loud.exit_code == 0 and loud.stdout == ""
    assert "INFO broker.solve: done: incumbent 125" in loud.stderr
    assert check(models.load_scenario(scen), models.load_plan(plan)).ok
    # The level set by one command does not stay for the next.
    again = runner.invoke(app, ["solve", str(scen), "-o", str(plan), "-q", "--no-record"])
    assert again.stderr == ""
