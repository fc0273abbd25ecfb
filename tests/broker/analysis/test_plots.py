"""The sweep's plots as a reader sees them: the scenario's name and currency, the varied
values as ticks, 150 dpi, no matplotlib warning, and plots.html with every plot inline."""

from __future__ import annotations

import base64
import copy
import warnings
from pathlib import Path

from PIL import Image

import models
from broker.analysis import outputs
from broker.analysis import sweep as sw
from models.check import check
from tests.broker.analysis.test_sweep import SHARE, TINY


def test_plots_name_the_scenario_and_its_currency(tmp_path: Path) -> None:
    doc = copy.deepcopy(TINY) | {"name": "tiny-eur", "currency": "EUR"}
    res = sw.run_sweep(doc, [f"{SHARE}=0,0.25,0.5"])
    for r in res.results:
        assert r.plan is not None and r.scenario_doc is not None
        assert check(models.scenario_from_dict(r.scenario_doc),
                     models.plan_from_dict(r.plan)).ok
    assert (res.scenario, res.currency) == ("tiny-eur", "EUR")
    import matplotlib.pyplot as plt

    titles: list[str] = []
    ylabels: list[str] = []
    ticks: list[list[str]] = []
    real_savefig = plt.Figure.savefig

    def spy(fig: plt.Figure, *args: object, **kwargs: object) -> None:
        ax = fig.axes[0]
        titles.append(ax.get_title())
        ylabels.append(ax.get_ylabel())
        ticks.append([t.get_text() for t in ax.get_xticklabels()])
        real_savefig(fig, *args, **kwargs)

    plt.Figure.savefig = spy  # type: ignore[method-assign]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a tight_layout warning would fail here
            files = outputs.write_outputs(res, tmp_path / "out")
    finally:
        plt.Figure.savefig = real_savefig  # type: ignore[method-assign]
    assert all(t.startswith("tiny-eur: ") for t in titles), titles
    assert "cost (million EUR)" in ylabels
    assert ticks[0] == ["0", "0.25", "0.5"]  # the values tried, nothing else
    pngs = [f for f in files if f.suffix == ".png"]
    for p in pngs:
        dpi = Image.open(p).info["dpi"]
        assert round(dpi[0]) == 150, (p, dpi)
    page = (tmp_path / "out" / "plots.html").read_text()
    assert tmp_path / "out" / "plots.html" in files
    assert "<title>Sweep of tiny-eur</title>" in page
    for p in pngs:
        assert base64.b64encode(p.read_bytes()).decode() in page
