"""A plan as the tables a planner opens in a spreadsheet: the production schedule per
workshop and period, shipments between steps, materials from the centers, deliveries per
request against the due date, and unmet units with their reasons; each with dates when the
scenario has them. Written as one .xlsx workbook (a sheet per table) or a folder of CSV
files (a file per table)."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.dates import period_start
from models.derived import Derived
from models.plan import Plan
from models.scenario import Scenario


@dataclass(frozen=True)
class PlanTable:
    name: str  # sheet name and CSV file stem
    columns: list[str]
    rows: list[list[Any]]


def plan_tables(sc: Scenario, plan: Plan) -> list[PlanTable]:
    """The tables of `plan`, in the order they are written."""
    h = sc.horizon

    def day(t: int) -> str:
        return "" if h.start is None else period_start(h.start, h.period_days, t).isoformat()

    d = Derived(sc)
    loc = {w.id: w.location for w in sc.workshops}
    schedule = []
    for row in sorted(plan.production, key=lambda r: (r.workshop, r.period, r.request, r.step)):
        r = sc.request(row.request)
        comp = sc.component(r.component)
        info = d.step_info(sc.workshop(row.workshop), comp.id, row.step)
        schedule.append([row.workshop, loc.get(row.workshop, ""), row.period, day(row.period),
                         row.request, comp.id, row.step, comp.routing[row.step].process,
                         row.quantity, info.hours * row.quantity])
    shipments = [[s.request, s.step, s.from_, loc.get(s.from_, ""), s.to, loc.get(s.to, ""),
                  s.quantity] for s in plan.shipments]
    materials = [[m.center, m.workshop, m.material, m.kg] for m in plan.materials]
    made: dict[tuple[str, int], int] = defaultdict(int)
    for row in plan.production:
        r = sc.request(row.request)
        if row.step == len(sc.component(r.component).routing) - 1:
            made[(r.id, row.period)] += row.quantity
    imported = {i.request: i.quantity for i in plan.imports}
    unmet_of: dict[str, int] = defaultdict(int)
    for u in plan.unmet:
        unmet_of[u.request] += u.quantity
    deliveries: list[list[Any]] = []
    for r in sc.requests:
        due = sc.due(r)
        head = [r.id, r.component, r.destination or "", r.quantity, due, day(due)]
        arriving = [(t, q, "made") for (rid, t), q in sorted(made.items()) if rid == r.id]
        if imported.get(r.id):
            comp = sc.component(r.component)
            lead = comp.import_.lead_periods if comp.import_ is not None else 0
            arriving.append((lead, imported[r.id], "imported"))
        for t, q, source in arriving:
            deliveries.append([*head, t, day(t), q, source, max(0, t - due)])
        if unmet_of.get(r.id):
            deliveries.append([*head, "", "", unmet_of[r.id], "unmet", ""])
    unmet = [[u.request, u.quantity, u.reason] for u in plan.unmet]
    return [
        PlanTable("schedule", ["workshop", "location", "period", "date", "request",
                               "component", "step", "process", "units", "hours"], schedule),
        PlanTable("shipments", ["request", "step", "from", "from_location", "to",
                                "to_location", "units"], shipments),
        PlanTable("materials", ["center", "workshop", "material", "kg"], materials),
        PlanTable("deliveries", ["request", "component", "destination", "quantity", "due",
                                 "due_date", "period", "date", "units", "source",
                                 "periods_late"], deliveries),
        PlanTable("unmet", ["request", "units", "reason"], unmet),
    ]


def write_csv(tables: Sequence[PlanTable], folder: Path) -> list[Path]:
    """One CSV file per table in `folder` (made if missing); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in tables:
        p = folder / f"{t.name}.csv"
        with p.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(t.columns)
            w.writerows(t.rows)
        paths.append(p)
    return paths


def write_xlsx(tables: Sequence[PlanTable], path: Path, title: str) -> None:
    """One workbook, a sheet per table: bold frozen header, widths fitted, filters on."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for t in tables:
        ws = wb.create_sheet(t.name)
        ws.append(t.columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in t.rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        if t.rows:
            ws.auto_filter.ref = ws.dimensions
        for i, col in enumerate(t.columns, start=1):
            width = max([len(col), *(len(str(r[i - 1])) for r in t.rows[:500])])
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, width + 2)
    wb.properties.title = title
    wb.save(path)
