"""The plan report as a planner sees it: opened in a real headless Chromium (the
distribution's package, driven by Playwright), it loads offline with no console error and
shows every section; a screenshot is kept in tests/artifacts/ (ignored by git). The
spreadsheet export opened with openpyxl: one sheet per table, with dates."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import broker
import models
from broker.analysis.report import SECTIONS, plan_report
from cli import app
from models.check import check

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
runner = CliRunner()


def chromium() -> str:
    """The browser, or a skip on a developer's machine without it; under CI it must be
    there (.ci/run installs it), so its absence fails the run."""
    if shutil.which(CHROMIUM) is None or not _has_playwright():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} or playwright missing under CI: the report must be "
                        "tested in a real browser")
        pytest.skip(f"{CHROMIUM} or playwright not installed")
    return CHROMIUM


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def open_in_browser(page_file: Path, shot: Path) -> tuple[list[str], dict[str, bool], str]:
    """(console errors and page errors, which sections are visible, the page's text)."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            # Offline: any request that leaves the file would be an error here.
            page.route(re.compile(r"^(?!file:).*"), lambda route: (
                errors.append(f"network request {route.request.url}"), route.abort()))
            page.goto(page_file.as_uri(), wait_until="load")
            visible = {k: page.locator(f"section#{k}").is_visible() for k in SECTIONS}
            svgs = page.locator("svg").count()
            visible["svg"] = svgs >= 4  # cost, deliveries, load, map
            text = page.inner_text("body")
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    return errors, visible, text


def test_report_of_a_dated_plan_in_a_browser(tmp_path: Path) -> None:
    sc = broker.load_scenario("java-mini")
    plan = broker.solve(sc)
    assert check(sc, plan).ok
    html = plan_report(sc, plan)
    assert "http://" not in html and "https://" not in html and "<script" not in html
    page = tmp_path / "plan.html"
    page.write_text(html, encoding="utf-8")
    errors, visible, text = open_in_browser(page, ARTIFACTS / "report-java-mini.png")
    assert errors == []
    assert all(visible.values()), visible
    assert "Deliveries against due dates" in text and "2027-03-01" in text
    assert f"{plan.objective:,.0f}" in text
    assert (ARTIFACTS / "report-java-mini.png").stat().st_size > 10_000


def short_of_capacity() -> dict[str, object]:
    """Two workshops without coordinates, not enough hours: some units are unmet."""
    return {
        "name": "report-short",
        "horizon": {"periods": 2},
        "policy": {"unmet_penalty": 1000},
        "locations": [{"id": "a"}, {"id": "b"}],
        "routes": [{"from": "a", "to": "b", "km": 10}],
        "workshops": [{"id": "w1", "location": "a", "capacity": {"cast": 3},
                       "rate": {"cast": 2}}],
        "components": [{"id": "c", "routing": [{"process": "cast", "hours": 1}]}],
        "requests": [{"id": "R1", "component": "c", "quantity": 10, "destination": "b"}],
    }


def test_report_cli_unmet_and_undated(tmp_path: Path) -> None:
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(short_of_capacity()))
    plan_file = tmp_path / "p.json"
    assert runner.invoke(app, ["solve", str(scen), "-o", str(plan_file), "-q",
                               "--no-record"]).exit_code == 0
    plan = models.load_plan(plan_file)
    assert check(models.load_scenario(scen), plan).ok
    assert [u.quantity for u in plan.unmet] == [4]  # 3 hours in each of 2 periods
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", str(scen), str(plan_file), "--out", str(out)])
    assert res.exit_code == 0, res.output
    errors, visible, text = open_in_browser(out, ARTIFACTS / "report-unmet.png")
    assert errors == [] and all(visible.values()), (errors, visible)
    assert "Unmet units and their reasons" in text and plan.unmet[0].reason in text
    assert "placed on a circle" in text  # locations without coordinates


def test_report_refuses_a_broken_plan(tmp_path: Path) -> None:
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(short_of_capacity()))
    plan_file = tmp_path / "p.json"
    runner.invoke(app, ["solve", str(scen), "-o", str(plan_file), "-q", "--no-record"])
    doc = models.load_plan(plan_file).to_dict()
    doc["production"][0]["workshop"] = "nowhere"
    plan_file.write_text(models.plan_from_dict(doc).to_json())
    res = runner.invoke(app, ["report", str(scen), str(plan_file), "--out",
                              str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "nowhere" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r.html").exists()


def test_export_plan_xlsx_and_csv(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    sc = broker.load_scenario("java-mini")
    plan = broker.solve(sc)
    assert check(sc, plan).ok
    plan_file = tmp_path / "p.json"
    models.write_plan(plan, plan_file)
    book, folder = tmp_path / "plan.xlsx", tmp_path / "csv"
    res = runner.invoke(app, ["export-plan", str(plan_file), "--xlsx", str(book),
                              "--csv", str(folder)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(book)
    assert wb.sheetnames == ["schedule", "shipments", "materials", "deliveries", "unmet"]
    sched = list(wb["schedule"].iter_rows(values_only=True))
    assert sched[0][:4] == ("workshop", "location", "period", "date")
    assert len(sched) - 1 == len(plan.production)
    assert sum(r[8] for r in sched[1:]) == sum(p.quantity for p in plan.production)
    assert all(r[3] == f"2027-03-{1 + 7 * r[2]:02d}" for r in sched[1:])
    deliveries = list(wb["deliveries"].iter_rows(values_only=True))
    header = deliveries[0]
    units = header.index("units")
    by_req: dict[str, int] = {}
    for r in deliveries[1:]:
        by_req[r[0]] = by_req.get(r[0], 0) + r[units]
    assert by_req == {r.id: r.quantity for r in sc.requests}
    assert {p.name for p in folder.iterdir()} == {f"{n}.csv" for n in wb.sheetnames}
    assert (folder / "materials.csv").read_text().splitlines()[0] == "center,workshop,material,kg"
    bad = runner.invoke(app, ["export-plan", str(plan_file)])
    assert bad.exit_code == 2 and "--xlsx" in bad.output
