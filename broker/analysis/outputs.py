"""The files of a sweep: results.csv (one row per variant, the same bytes on every run),
runs.csv (what differs between runs: seconds, run ids), the plan and scenario of every
variant, the PNG plots and plots.html, a page of them all (plots.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from broker.analysis.plots import plots_page, sweep_plots
from broker.analysis.sweep import RESULT_COLUMNS, SweepResult


def format_value(v: Any) -> str:
    """One cell: repr of floats (shortest round-trip text, the same on every machine),
    integers as digits, None as empty. Deterministic, so two runs give the same bytes."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def results_csv(sweep: SweepResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["variant", *(a.path for a in sweep.axes), *RESULT_COLUMNS])
    for r in sweep.results:
        w.writerow([r.variant.index, *(format_value(v) for v in r.variant.values),
                    *(format_value(r.row.get(c)) for c in RESULT_COLUMNS)])
    return buf.getvalue()


def runs_csv(sweep: SweepResult) -> str:
    """What differs from one execution of the same sweep to the next: wall-clock seconds
    and the run ids in the database."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["variant", "seconds", "solve_seconds", "run"])
    for r in sweep.results:
        w.writerow([r.variant.index, f"{r.seconds:.3f}",
                    f"{r.timings['solve']:.3f}" if "solve" in r.timings else "",
                    "" if r.run_id is None else r.run_id])
    return buf.getvalue()


def write_outputs(sweep: SweepResult, out_dir: str | Path, plots: bool = True) -> list[Path]:
    """results.csv, runs.csv, plans/ and scenarios/ per variant, and the PNG plots."""
    d = Path(out_dir)
    (d / "plans").mkdir(parents=True, exist_ok=True)
    (d / "scenarios").mkdir(parents=True, exist_ok=True)
    files = [d / "results.csv", d / "runs.csv"]
    files[0].write_text(results_csv(sweep), encoding="utf-8")
    files[1].write_text(runs_csv(sweep), encoding="utf-8")
    for r in sweep.results:
        stem = f"variant-{r.variant.index:03d}"
        if r.scenario_doc is not None:
            p = d / "scenarios" / f"{stem}.json"
            p.write_text(json.dumps(r.scenario_doc, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
            files.append(p)
        if r.plan is not None:
            p = d / "plans" / f"{stem}.plan.json"
            p.write_text(json.dumps(r.plan, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
            files.append(p)
    if plots:
        pngs = sweep_plots(sweep, d)
        files += [*pngs, plots_page(sweep, pngs, d / "plots.html")]
    return files
