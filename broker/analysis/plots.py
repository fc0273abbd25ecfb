"""PNG plots of a sweep: cost, local content and unmet units against each varied value, and
capacity utilization by cluster and process per variant; and plots.html, one page with
all of them inline.

Each plot names the scenario in its title and uses its currency; legends sit beside the
axes, never on the bars; ticks are the varied values themselves; 150 dpi. Figures are
cropped with savefig's bbox_inches="tight" instead of tight_layout, which warns on
colorbars and long labels (a warning that would leak into the command's output)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from broker.analysis.sweep import SweepResult, VariantResult

# Cost terms in the order they are stacked; penalties last so that they sit on top.
_TERMS = ("production", "material", "transport", "tooling", "engagement", "import",
          "tardiness", "unmet")
_DPI = 150
_FONT = 9  # tick labels, legends and heat-map numbers: readable at 100 % zoom


def _pyplot() -> Any:
    import matplotlib

    # No display on servers and workers: draw to files only.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _groups(sweep: SweepResult, i: int) -> dict[tuple[Any, ...], list[VariantResult]]:
    """Results grouped by the values of every axis but `i`, each group in grid order."""
    out: dict[tuple[Any, ...], list[VariantResult]] = defaultdict(list)
    for r in sweep.results:
        key = tuple(v for j, v in enumerate(r.variant.values) if j != i)
        out[key].append(r)
    return out


def _x(values: list[Any]) -> tuple[list[float], list[str] | None]:
    """Numeric axis when every value is a number, else evenly spaced categories; the tick
    labels are the values themselves (no tick at a value nobody tried)."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], [_label(v) for v in values]
    return [float(k) for k in range(len(values))], [str(v) for v in values]


def _ticks(ax: Any, xs: list[float], labels: list[str] | None) -> None:
    if labels is None:
        return
    if len(xs) > 15:  # too many to label each: every k-th, the last always
        k = -(-len(xs) // 12)
        keep = sorted(set(range(0, len(xs), k)) | {len(xs) - 1})
        xs, labels = [xs[i] for i in keep], [labels[i] for i in keep]
    ax.set_xticks(xs, labels, fontsize=_FONT)


def _legend(ax: Any) -> None:
    """Beside the axes, outside the plotting area: it never covers a bar or a point."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=_FONT, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, frameon=False)


def _num(r: VariantResult, key: str) -> float | None:
    v = r.row.get(key)
    return float(v) if isinstance(v, int | float) and r.plan is not None else None


def _group_label(sweep: SweepResult, i: int, key: tuple[Any, ...]) -> str:
    names = [a.path for j, a in enumerate(sweep.axes) if j != i]
    return ", ".join(f"{n}={_label(v)}" for n, v in zip(names, key, strict=True))


def _no_plan_marks(ax: Any, xs: list[float], rs: list[VariantResult]) -> None:
    for x, r in zip(xs, rs, strict=True):
        if r.row.get("status") not in ("optimal", "feasible"):
            ax.annotate(str(r.row.get("status")), (x, 0), xycoords=("data", "axes fraction"),
                        xytext=(0, 4), textcoords="offset points", ha="center", fontsize=7,
                        color="firebrick", rotation=90)


def sweep_plots(sweep: SweepResult, out_dir: Path) -> list[Path]:
    plt = _pyplot()
    files: list[Path] = []
    currency = sweep.currency
    name = sweep.scenario
    for i, axis in enumerate(sweep.axes):
        if len(axis.values) < 2:
            continue  # a value held fixed is no curve
        groups = _groups(sweep, i)
        single = len(groups) == 1

        # Total cost, and for a one-axis sweep the cost terms stacked under it.
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for key, rs in groups.items():
            xs, cats = _x([r.variant.values[i] for r in rs])
            if single:
                width = 0.8 * (min(b - a for a, b in zip(xs, xs[1:], strict=False))
                               if len(xs) > 1 else 1.0)
                bottom = [0.0] * len(rs)
                for term in _TERMS:
                    ys = [(_num(r, f"cost_{term}") or 0.0) / 1e6 for r in rs]
                    if any(y > 0 for y in ys):
                        ax.bar(xs, ys, width=width, bottom=bottom, label=term, alpha=0.85)
                        bottom = [b + y for b, y in zip(bottom, ys, strict=True)]
            pts = [(x, _num(r, "objective")) for x, r in zip(xs, rs, strict=True)]
            px = [x for x, y in pts if y is not None]
            py = [y / 1e6 for _, y in pts if y is not None]
            ax.plot(px, py, "k-o" if single else "-o", ms=4, lw=1.2,
                    label="total" if single else _group_label(sweep, i, key))
            _ticks(ax, xs, cats)
            _no_plan_marks(ax, xs, rs)
        ax.set_xlabel(axis.path)
        ax.set_ylabel(f"cost (million {currency})")
        ax.set_title(f"{name}: total cost" + (" by term" if single else ""))
        ax.tick_params(labelsize=_FONT)
        _legend(ax)
        ax.grid(alpha=0.3)
        files.append(_save(fig, out_dir / f"cost_vs_{axis.slug}.png"))

        files.append(_kpi_plot(
            plt, sweep, i, groups, ("local_content", "domestic_share"), scale=100.0,
            ylim=(0, 105), ylabel="%",
            title=f"{name}: local content (cost-based) and domestic share of units",
            path=out_dir / f"local_content_vs_{axis.slug}.png"))
        files.append(_kpi_plot(
            plt, sweep, i, groups, ("unmet_units", "imported_units"), scale=1.0, ylim=None,
            ylabel="units", title=f"{name}: unmet and imported units",
            path=out_dir / f"unmet_vs_{axis.slug}.png"))

    files.append(_utilization(plt, sweep, out_dir / "utilization.png"))
    return files


def _kpi_plot(plt: Any, sweep: SweepResult, i: int, groups: dict[Any, list[Any]],
              kpis: tuple[str, str], scale: float, ylim: tuple[float, float] | None,
              ylabel: str, title: str, path: Path) -> Path:
    """Two KPIs (solid and dashed) against axis `i`, one pair of curves per group."""
    axis = sweep.axes[i]
    single = len(groups) == 1
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, rs in groups.items():
        xs, cats = _x([r.variant.values[i] for r in rs])
        suffix = "" if single else f" ({_group_label(sweep, i, key)})"
        for kpi, style in zip(kpis, ("-o", "--s"), strict=True):
            pts = [(x, _num(r, kpi)) for x, r in zip(xs, rs, strict=True)]
            ax.plot([x for x, y in pts if y is not None],
                    [scale * y for _, y in pts if y is not None], style, ms=4,
                    label=kpi.replace("_", " ") + suffix)
        _ticks(ax, xs, cats)
        _no_plan_marks(ax, xs, rs)
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        ax.set_ylim(bottom=0)  # counts: no negative tick
    ax.set_xlabel(axis.path)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(labelsize=_FONT)
    _legend(ax)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _utilization(plt: Any, sweep: SweepResult, path: Path) -> Path:
    """Heatmap: one row per cluster and process with capacity, one column per variant,
    colour and number = share of the horizon's hours used."""
    # Only cluster/process pairs some variant uses: a large scenario has dozens that no
    # variant touches, and rows of zeros would hide the ones that matter.
    keys = sorted({(c, p) for r in sweep.results for c, p, used, avail in r.utilization
                   if avail > 0 and used > 0})
    grid = [[float("nan")] * len(sweep.results) for _ in keys]
    pos = {k: n for n, k in enumerate(keys)}
    for j, r in enumerate(sweep.results):
        for c, p, used, avail in r.utilization:
            if (c, p) in pos and avail > 0:
                grid[pos[(c, p)]][j] = 100.0 * used / avail
    height = max(2.5, 0.32 * len(keys) + 1.6)
    width = max(6.0, min(16.0, 0.6 * len(sweep.results) + 4.0))
    fig, ax = plt.subplots(figsize=(width, height))
    if keys:
        im = ax.imshow(grid, aspect="auto", cmap="YlOrRd", vmin=0, vmax=100)
        fig.colorbar(im, ax=ax, label="% of hours used", fraction=0.04)
        ax.set_yticks(range(len(keys)), [f"{c} / {p}" for c, p in keys], fontsize=_FONT)
        if len(sweep.results) <= 30:
            for n, row in enumerate(grid):
                for j, v in enumerate(row):
                    if v == v:  # not NaN
                        ax.text(j, n, f"{v:.0f}", ha="center", va="center", fontsize=_FONT - 1,
                                color="white" if v > 60 else "black")
    labels = [", ".join(_label(v) for v in r.variant.values) for r in sweep.results]
    ax.set_xticks(range(len(labels)), labels, fontsize=_FONT, rotation=45 if len(labels) > 6
                  else 0, ha="right" if len(labels) > 6 else "center")
    # One axis path per line: several long paths side by side run off the figure.
    ax.set_xlabel("values of\n" + "\n".join(a.path for a in sweep.axes), fontsize=_FONT)
    ax.set_title(f"{sweep.scenario}: capacity utilization by cluster / process (pairs in use)")
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    # Cropped to what is drawn, the legend beside the axes included (see the module doc).
    fig.savefig(path, dpi=_DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)
    return path


def plots_page(sweep: SweepResult, pngs: list[Path], path: Path) -> Path:
    """plots.html: every plot inline (base64 PNG), with the axes and the variants' table,
    one self-contained file to open or send."""
    import base64
    from html import escape

    axes = ", ".join(f"{a.path} = {', '.join(_label(v) for v in a.values)}"
                     for a in sweep.axes)
    imgs = "".join(
        f'<figure><img alt="{escape(p.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"><figcaption>{escape(p.name)}'
        f'</figcaption></figure>' for p in pngs)
    head = "".join(f"<th>{escape(a.path)}</th>" for a in sweep.axes)
    rows = "".join(
        f"<tr><td>{r.variant.index}</td>"
        + "".join(f"<td>{escape(_label(v))}</td>" for v in r.variant.values)
        + f"<td>{escape(str(r.row.get('status')))}</td><td class=n>"
        + ("-" if r.row.get("objective") is None else f"{r.row['objective']:,.0f}")
        + "</td></tr>" for r in sweep.results)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Sweep of {escape(sweep.scenario)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:24px;color:#1d2530}"
        "figure{display:inline-block;margin:10px;vertical-align:top}"
        "img{max-width:100%;border:1px solid #dde3ea}figcaption{font-size:12px;color:#5b6775}"
        "table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;"
        "border-bottom:1px solid #eef1f4;text-align:left}td.n{text-align:right}"
        f"</style></head><body><h1>Sweep of {escape(sweep.scenario)}</h1>"
        f"<p>{len(sweep.results)} variant(s): {escape(axes)}. Costs in "
        f"{escape(sweep.currency)}.</p>{imgs}<h2>Variants</h2><table><tr><th>#</th>{head}"
        f"<th>status</th><th>objective ({escape(sweep.currency)})</th></tr>{rows}</table>"
        "</body></html>\n")
    path.write_text(page, encoding="utf-8")
    return path
