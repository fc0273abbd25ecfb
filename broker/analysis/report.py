"""One plan as a page to look at: a self-contained HTML file (inline CSS and SVG drawn
here from small templates; no script, no font, no network), readable offline and in any
browser. Sections: KPIs, cost breakdown, each request's deliveries against its due date,
workshop load by period against capacity, material flows from the centers, a map of the
locations with the shipments between them, and unmet units with their reasons.

The same page serves a ledger export (`broker export` writes a scenario and a plan)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from html import escape
from typing import Any

from broker.summary import PlanSummary, request_lines, summarize
from models.dates import period_start
from models.derived import Derived
from models.plan import COST_TERMS, Plan
from models.scenario import Scenario

# Rows drawn at most in the timeline and heat map (the largest first); the page says when
# it leaves some out, so that a national plan still gives a page a browser opens at once.
MAX_TIMELINE = 60
MAX_HEAT_ROWS = 50
MAX_MAP_LINES = 400

SECTIONS = ("kpis", "cost", "deliveries", "load", "materials", "map", "unmet")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2530;
background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:16px 28px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
nav{padding:6px 28px;background:#e8edf3;font-size:14px}nav a{margin-right:14px;color:#1f3a5f}
main{padding:10px 28px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:14px 18px;
margin:16px 0}
h2{font-size:18px;margin:0 0 10px}
.kpis{display:flex;flex-wrap:wrap;gap:10px}
.kpi{border:1px solid #dde3ea;border-radius:6px;padding:8px 12px;min-width:140px}
.kpi b{display:block;font-size:19px}.kpi span{font-size:12px;color:#5b6775}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eef1f4;
text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.note{font-size:12px;color:#5b6775}
svg text{font-family:inherit}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.sw{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
"""

_COST_COLORS = {"production": "#4e79a7", "material": "#f28e2b", "transport": "#76b7b2",
                "tooling": "#59a14f", "engagement": "#edc948", "import": "#b07aa1",
                "tardiness": "#ff9da7", "unmet": "#e15759"}


def _money(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


@dataclass(frozen=True)
class _Calendar:
    start: Any
    days: int
    periods: int

    def label(self, t: int) -> str:
        if self.start is None:
            return f"period {t}"
        return period_start(self.start, self.days, t).isoformat()

    def short(self, t: int) -> str:
        if self.start is None:
            return str(t)
        return period_start(self.start, self.days, t).strftime("%d %b")


def _section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}"><h2>{escape(title)}</h2>\n{body}\n</section>'


def _kpis(sm: PlanSummary, plan: Plan) -> str:
    unmet = sum(u.quantity for u in plan.unmet)
    k = sm.kpis
    cards = [
        ("status", sm.status),
        (f"objective ({sm.currency})", _money(sm.objective)),
        ("gap to bound", "-" if sm.gap is None else f"{sm.gap:.3%}"),
        ("domestic share", _pct(k.get("domestic_share"))),
        ("local content", _pct(k.get("local_content"))),
        ("on-time share", _pct(k.get("on_time_share"))),
        ("imported units", f"{sm.imported_units:,}"),
        ("unmet units", f"{unmet:,}"),
        ("workshops engaged", f"{len({r.workshop for r in plan.production}):,}"
                              f" of {sm.workshops:,}"),
    ]
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><b>{escape(v)}</b><span>{escape(n)}</span></div>'
        for n, v in cards) + "</div>"


def _cost(sm: PlanSummary) -> str:
    if sm.cost is None:
        return f'<p>No plan: {escape(sm.no_plan or "")}</p>'
    terms = [(t, sm.cost.get(t, 0.0)) for t in COST_TERMS]
    top = max((v for _, v in terms), default=0.0) or 1.0
    w, left, bar_w, row = 760, 110, 480, 24
    h = row * len(terms) + 10
    parts = [f'<svg role="img" aria-label="cost breakdown" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}">']
    total = sum(v for _, v in terms) or 1.0
    for i, (t, v) in enumerate(terms):
        y = 5 + i * row
        bw = bar_w * v / top
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" '
                     f'font-size="13">{t}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{bw:.1f}" height="{row - 8}" '
                     f'fill="{_COST_COLORS[t]}"><title>{t}: {_money(v)} {escape(sm.currency)}'
                     f'</title></rect>')
        parts.append(f'<text x="{left + bw + 6:.1f}" y="{y + 15}" font-size="12">'
                     f'{_money(v)} ({v / total:.1%})</text>')
    parts.append("</svg>")
    return "".join(parts) + (f'<p class="note">Total {_money(sm.objective)} '
                             f'{escape(sm.currency)}.</p>')


def _deliveries(sc: Scenario, plan: Plan, cal: _Calendar) -> str:
    lines = request_lines(sc, plan)
    if not lines:
        return "<p>No requests.</p>"
    shown = sorted(lines, key=lambda ln: -ln.quantity)[:MAX_TIMELINE]
    shown.sort(key=lambda ln: (ln.due, ln.request))
    n = cal.periods
    left, right, row, top = 150, 30, 22, 34
    plot_w = 760
    w = left + plot_w + right
    h = top + row * len(shown) + 10
    col = plot_w / n

    def x(t: float) -> float:
        return left + col * (t + 0.5)

    out = [f'<svg role="img" aria-label="deliveries against due dates" width="{w}" '
           f'height="{h}" viewBox="0 0 {w} {h}">']
    step = max(1, math.ceil(n / 12))
    for t in range(0, n, step):
        out.append(f'<line x1="{x(t):.1f}" y1="{top - 6}" x2="{x(t):.1f}" y2="{h - 6}" '
                   f'stroke="#eef1f4"/><text x="{x(t):.1f}" y="{top - 12}" font-size="11" '
                   f'text-anchor="middle">{escape(cal.short(t))}</text>')
    biggest = max((q for ln in shown for q in ln.delivered.values()), default=1)
    for i, ln in enumerate(shown):
        y = top + i * row + row / 2
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12">'
                   f'{escape(ln.request)}</text>')
        out.append(f'<line x1="{x(0):.1f}" y1="{y:.1f}" x2="{x(n - 1):.1f}" y2="{y:.1f}" '
                   f'stroke="#dde3ea"/>')
        out.append(f'<rect x="{x(ln.due) - 2:.1f}" y="{y - 9:.1f}" width="4" height="18" '
                   f'fill="#1d2530"><title>{escape(ln.request)} due {escape(cal.label(ln.due))}'
                   f'</title></rect>')
        for t, q in ln.delivered.items():
            r = 3 + 6 * math.sqrt(q / biggest)
            color = "#e15759" if t > ln.due else "#59a14f"
            out.append(f'<circle cx="{x(t):.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{color}" '
                       f'fill-opacity=".8"><title>{escape(ln.request)}: {q:,} unit(s) '
                       f'{escape(cal.label(t))}{" (late)" if t > ln.due else ""}</title>'
                       f'</circle>')
        if ln.unmet:
            out.append(f'<text x="{x(n - 1) + 10:.1f}" y="{y + 4:.1f}" font-size="11" '
                       f'fill="#e15759">{ln.unmet:,} unmet</text>')
    out.append("</svg>")
    legend = ('<p class="legend"><span><i class="sw" style="background:#59a14f"></i>on time'
              '</span><span><i class="sw" style="background:#e15759"></i>late</span><span>'
              '<i class="sw" style="background:#1d2530"></i>due date</span><span>circle area: '
              'units arriving</span></p>')
    more = (f'<p class="note">The {len(shown)} largest of {len(lines)} requests.</p>'
            if len(shown) < len(lines) else "")
    return legend + "".join(out) + more


def _load(sc: Scenario, plan: Plan, cal: _Calendar) -> str:
    d = Derived(sc)
    used: dict[str, list[float]] = defaultdict(lambda: [0.0] * cal.periods)
    for row in plan.production:
        ws = sc.workshop(row.workshop)
        comp = sc.request(row.request).component
        used[ws.id][row.period] += d.step_info(ws, comp, row.step).hours * row.quantity
    if not used:
        return "<p>No production.</p>"
    cap = {wid: [sum(sc.workshop(wid).cap(p, t) for p in sc.workshop(wid).processes())
                 for t in range(cal.periods)] for wid in used}
    rows = sorted(used, key=lambda wid: -sum(used[wid]))[:MAX_HEAT_ROWS]
    n = cal.periods
    left, top, cell_h = 190, 40, 18
    cell_w = max(26, min(70, 720 // n))
    w = left + cell_w * n + 20
    h = top + cell_h * len(rows) + 10
    out = [f'<svg role="img" aria-label="workshop load heat map" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}">']
    for t in range(n):
        out.append(f'<text x="{left + cell_w * (t + 0.5):.1f}" y="{top - 10}" font-size="11" '
                   f'text-anchor="middle">{escape(cal.short(t))}</text>')
    for i, wid in enumerate(rows):
        y = top + i * cell_h
        out.append(f'<text x="{left - 8}" y="{y + 13}" font-size="12" text-anchor="end">'
                   f'{escape(wid)}</text>')
        for t in range(n):
            u, c = used[wid][t], cap[wid][t]
            share = u / c if c > 0 else (1.0 if u > 0 else 0.0)
            fill = _heat(share)
            label = f"{share:.0%}" if u > 0 else ""
            out.append(f'<rect x="{left + cell_w * t}" y="{y}" width="{cell_w - 1}" '
                       f'height="{cell_h - 1}" fill="{fill}"><title>{escape(wid)}, '
                       f'{escape(cal.label(t))}: {u:,.0f} of {c:,.0f} h ({share:.0%})</title>'
                       f'</rect>')
            if label:
                out.append(f'<text x="{left + cell_w * (t + 0.5):.1f}" y="{y + 13}" '
                           f'font-size="10" text-anchor="middle" '
                           f'fill="{"#fff" if share > 0.6 else "#1d2530"}">{label}</text>')
    out.append("</svg>")
    more = (f'<p class="note">The {len(rows)} busiest of {len(used)} workshops with work.</p>'
            if len(rows) < len(used) else "")
    return ('<p class="note">Hours used over hours available in each period, all processes of '
            'the workshop together.</p>' + "".join(out) + more)


def _heat(share: float) -> str:
    """White (idle) to dark blue (full); red above capacity (never in a feasible plan)."""
    if share > 1 + 1e-9:
        return "#e15759"
    s = max(0.0, min(1.0, share))
    r, g, b = (int(247 + (31 - 247) * s), int(251 + (58 - 251) * s), int(255 + (95 - 255) * s))
    return f"#{r:02x}{g:02x}{b:02x}"


def _materials(sc: Scenario, plan: Plan) -> str:
    if not plan.materials:
        return "<p>No material drawn from the centers.</p>"
    by_center: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_pair: dict[tuple[str, str, str], float] = defaultdict(float)
    for mr in plan.materials:
        by_center[mr.center][mr.material] += mr.kg
        by_pair[(mr.center, mr.material, mr.workshop)] += mr.kg
    mats = sorted({m.material for m in plan.materials})
    palette = ["#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
               "#9c755f", "#bab0ac", "#e15759"]
    color = {m: palette[i % len(palette)] for i, m in enumerate(mats)}
    centers = sorted(by_center, key=lambda c: -sum(by_center[c].values()))
    top = max(sum(v.values()) for v in by_center.values()) or 1.0
    left, bar_w, row = 170, 480, 24
    w, h = left + bar_w + 160, row * len(centers) + 10
    out = [f'<svg role="img" aria-label="material drawn per center" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}">']
    for i, c in enumerate(centers):
        y, x = 5 + i * row, float(left)
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">'
                   f'{escape(c)}</text>')
        for m in mats:
            kg = by_center[c].get(m, 0.0)
            if kg <= 0:
                continue
            bw = bar_w * kg / top
            out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{bw:.1f}" height="{row - 8}" '
                       f'fill="{color[m]}"><title>{escape(c)}: {kg:,.0f} kg of {escape(m)}'
                       f'</title></rect>')
            x += bw
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">'
                   f'{sum(by_center[c].values()):,.0f} kg</text>')
    out.append("</svg>")
    legend = '<p class="legend">' + "".join(
        f'<span><i class="sw" style="background:{color[m]}"></i>{escape(m)}</span>'
        for m in mats) + "</p>"
    rows = sorted(by_pair.items(), key=lambda kv: -kv[1])[:30]
    table = ('<table><tr><th>center</th><th>material</th><th>to workshop</th>'
             '<th class="n">kg</th></tr>' + "".join(
                 f'<tr><td>{escape(c)}</td><td>{escape(m)}</td><td>{escape(w_)}</td>'
                 f'<td class="n">{kg:,.1f}</td></tr>' for (c, m, w_), kg in rows) + "</table>")
    more = (f'<p class="note">The 30 largest of {len(by_pair)} flows.</p>'
            if len(by_pair) > 30 else "")
    return legend + "".join(out) + table + more


def _map(sc: Scenario, plan: Plan) -> str:
    locs = {loc.id: loc for loc in sc.locations}
    if not locs:
        return "<p>The scenario has no locations.</p>"
    coords: dict[str, tuple[float, float]] = {}
    missing = [lid for lid, loc in locs.items() if loc.lat is None or loc.lon is None]
    for lid, loc in locs.items():
        if loc.lat is not None and loc.lon is not None:
            coords[lid] = (loc.lon, loc.lat)
    # Locations without coordinates go on a circle around the others, so they still show.
    if missing:
        cx = sum(c[0] for c in coords.values()) / len(coords) if coords else 0.0
        cy = sum(c[1] for c in coords.values()) / len(coords) if coords else 0.0
        for i, lid in enumerate(missing):
            angle = 2 * math.pi * i / len(missing)
            coords[lid] = (cx + math.cos(angle), cy + math.sin(angle))
    xs, ys = [c[0] for c in coords.values()], [c[1] for c in coords.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1e-6)
    # Room on the right for the labels, which are written right of their mark.
    w, pad, pad_right = 900, 40, 170
    scale = (w - pad - pad_right) / span
    h = max(int((y1 - y0) * scale + 2 * pad), 200)

    def pt(lid: str) -> tuple[float, float]:
        lon, lat = coords[lid]
        return pad + (lon - x0) * scale, h - pad - (lat - y0) * scale

    ws_loc = {w_.id: w_.location for w_ in sc.workshops}
    ctr_loc = {c.id: c.location for c in sc.material_centers}
    used_ws = {r.workshop for r in plan.production}
    buyers = {r.destination for r in sc.requests if r.destination is not None}
    flows: dict[tuple[str, str, str], float] = defaultdict(float)  # kind, from, to -> units/kg
    for sh in plan.shipments:
        a, b = ws_loc.get(sh.from_), ws_loc.get(sh.to)
        if a and b and a != b:
            flows[("shipment", a, b)] += sh.quantity
    for mr in plan.materials:
        a, b = ctr_loc.get(mr.center), ws_loc.get(mr.workshop)
        if a and b and a != b:
            flows[("material", a, b)] += mr.kg
    for row in plan.production:
        r = sc.request(row.request)
        if r.destination is None or row.step != len(sc.component(r.component).routing) - 1:
            continue
        a = ws_loc.get(row.workshop)
        if a and a != r.destination:
            flows[("delivery", a, r.destination)] += row.quantity
    styles = {"shipment": ("#4e79a7", "units between steps"),
              "material": ("#9c755f", "kg from centers"),
              "delivery": ("#59a14f", "units delivered to buyers")}
    out = [f'<svg role="img" aria-label="map of locations and flows" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}"><rect width="{w}" height="{h}" fill="#f4f8fb"/>']
    ranked = sorted(flows.items(), key=lambda kv: -kv[1])[:MAX_MAP_LINES]
    biggest = {k: max((v for (kk, _, _), v in ranked if kk == k), default=1.0) for k in styles}
    for (kind, a, b), v in ranked:
        (ax, ay), (bx, by) = pt(a), pt(b)
        color, unit = styles[kind]
        width = 1 + 4 * v / (biggest[kind] or 1.0)
        out.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
                   f'stroke="{color}" stroke-opacity=".55" stroke-width="{width:.1f}">'
                   f'<title>{escape(a)} to {escape(b)}: {v:,.0f} {unit}</title></line>')
    has_ws = {ws_loc[w_] for w_ in used_ws if w_ in ws_loc}
    all_ws = set(ws_loc.values())
    centers = set(ctr_loc.values())
    for lid in sorted(coords):
        x, y = pt(lid)
        name = locs[lid].name or lid
        kinds = [k for k, s in (("workshops", all_ws), ("material center", centers),
                                ("buyer", buyers)) if lid in s]
        tip = f"{escape(name)} ({escape(lid)}): {escape(', '.join(kinds) or 'location')}"
        if lid in all_ws:
            fill = "#1f3a5f" if lid in has_ws else "#a8b4c2"
            out.append(f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
                       f'fill="{fill}"><title>{tip}</title></rect>')
        if lid in centers:
            out.append(f'<path d="M{x:.1f},{y - 8:.1f} L{x + 7:.1f},{y + 5:.1f} '
                       f'L{x - 7:.1f},{y + 5:.1f} Z" fill="#9c755f" fill-opacity=".9">'
                       f'<title>{tip}</title></path>')
        if lid in buyers:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="none" stroke="#59a14f" '
                       f'stroke-width="2.5"><title>{tip}</title></circle>')
        if not kinds:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#5b6775">'
                       f'<title>{tip}</title></circle>')
        out.append(f'<text x="{x + 9:.1f}" y="{y - 6:.1f}" font-size="11">{escape(name)}</text>')
    out.append("</svg>")
    legend = ('<p class="legend"><span><i class="sw" style="background:#1f3a5f"></i>workshops '
              'with work</span><span><i class="sw" style="background:#a8b4c2"></i>workshops '
              'idle</span><span><i class="sw" style="background:#9c755f"></i>material center'
              '</span><span><i class="sw" style="border:2px solid #59a14f;width:8px;height:8px">'
              '</i>buyer</span>' + "".join(
                  f'<span><i class="sw" style="background:{c}"></i>{escape(u)}</span>'
                  for c, u in styles.values()) + "</p>")
    note = ('<p class="note">Longitude to the right, latitude up'
            + (f"; {len(missing)} location(s) without coordinates placed on a circle"
               if missing else "") + (f"; the {MAX_MAP_LINES} largest of {len(flows)} flows"
                                      if len(flows) > MAX_MAP_LINES else "") + ".</p>")
    return legend + "".join(out) + note


def _unmet(plan: Plan) -> str:
    if not plan.unmet and not plan.imports:
        return "<p>Every unit is made at home.</p>"
    parts = []
    if plan.unmet:
        parts.append('<table><tr><th>request</th><th class="n">units</th><th>why</th></tr>'
                     + "".join(f'<tr><td>{escape(u.request)}</td><td class="n">'
                               f'{u.quantity:,}</td><td>{escape(u.reason)}</td></tr>'
                               for u in plan.unmet) + "</table>")
    else:
        parts.append("<p>No unit is left unmet.</p>")
    if plan.imports:
        parts.append(f'<p class="note">Imported: {sum(i.quantity for i in plan.imports):,} '
                     f'unit(s) over {len(plan.imports)} request(s).</p>')
    return "".join(parts)


def plan_report(scenario: Scenario, plan: Plan, title: str | None = None) -> str:
    """The HTML page of `plan` (one string, self-contained)."""
    sm = summarize(scenario, plan)
    h = scenario.horizon
    cal = _Calendar(h.start, h.period_days, h.periods)
    when = (f"{sm.periods} periods of {h.period_days} days, {sm.start_date} to {sm.end_date}"
            if sm.start_date else f"{sm.periods} periods of {h.period_days} days")
    heading = title or f"Plan for {scenario.name}"
    has = plan.status.has_plan
    bodies = {
        "kpis": ("Key figures", _kpis(sm, plan)),
        "cost": (f"Cost breakdown ({sm.currency})", _cost(sm)),
        "deliveries": ("Deliveries against due dates",
                       _deliveries(scenario, plan, cal) if has else "<p>No plan.</p>"),
        "load": ("Workshop load by period against capacity",
                 _load(scenario, plan, cal) if has else "<p>No plan.</p>"),
        "materials": ("Material flows from the centers", _materials(scenario, plan)),
        "map": ("Map: workshops, centers, buyers and the shipments between them",
                _map(scenario, plan)),
        "unmet": ("Unmet units and their reasons", _unmet(plan)),
    }
    nav = "".join(f'<a href="#{k}">{escape(bodies[k][0].split(":")[0])}</a>' for k in SECTIONS)
    sections = "\n".join(_section(k, *bodies[k]) for k in SECTIONS)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(heading)}</title><style>{_CSS}</style></head><body>'
            f'<header><h1>{escape(heading)}</h1><p>{escape(when)}; {sm.workshops:,} '
            f'workshops, {sm.requests:,} requests; status {escape(sm.status)}, objective '
            f'{_money(sm.objective)} {escape(sm.currency)}</p></header><nav>{nav}</nav>'
            f'<main>\n{sections}\n</main></body></html>\n')
