"""Calendar dates of a scenario (SPEC 8.1).

With `horizon.start`, period `t` covers the days `start + t * period_days` up to the next
period's start, and a request's `release` and `due` may be ISO dates instead of period
numbers. The dates are turned into periods on the raw document, before the models see it,
so that every consumer (solvers, checker, ledger) keeps working with period numbers and a
dated file means exactly what the same file with periods means.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from models.plan import Delivery, RequestDates

if TYPE_CHECKING:
    from models.plan import Plan
    from models.scenario import Scenario

DATED_FIELDS = ("release", "due")


def period_start(start: date, period_days: int, t: int) -> date:
    """The first day of period `t`."""
    return start + timedelta(days=t * period_days)


def period_of(day: date, start: date, period_days: int) -> int:
    """The period a day falls in: floor((day - start) / period_days)."""
    return (day - start).days // period_days


def _horizon(doc: dict[str, Any]) -> tuple[date | None, int, int | None, str | None]:
    """start, period_days, periods of the document's horizon, and why start is unusable."""
    h = doc.get("horizon")
    if not isinstance(h, dict):
        return None, 7, None, None
    days = h.get("period_days", 7)
    days = days if isinstance(days, int) and not isinstance(days, bool) and days >= 1 else 7
    periods = h.get("periods")
    periods = (periods if isinstance(periods, int) and not isinstance(periods, bool)
               and periods >= 1 else None)
    raw = h.get("start")
    if raw is None:
        return None, days, periods, None
    if isinstance(raw, date):
        return raw, days, periods, None
    try:
        return date.fromisoformat(str(raw)), days, periods, None
    except ValueError:
        return None, days, periods, "horizon.start is not a valid date"


def resolve_dates(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`doc` with the ISO dates of `requests[].release` and `.due` replaced by their
    period numbers, and the problems found (a date without `horizon.start`, a text that is
    no date, a date outside the horizon), each naming its path; a field with a problem is
    left out of the returned document, so it is reported once. The input is not changed."""
    requests = doc.get("requests")
    if not isinstance(requests, list) or not any(
            isinstance(r, dict) and any(isinstance(r.get(f), str | date) for f in DATED_FIELDS)
            for r in requests):
        return doc, []
    start, days, periods, bad_start = _horizon(doc)
    problems: list[str] = []
    out: list[Any] = []
    for i, r in enumerate(requests):
        if not isinstance(r, dict):
            out.append(r)
            continue
        new = dict(r)
        for f in DATED_FIELDS:
            v = r.get(f)
            if not isinstance(v, str | date):
                continue
            path = f"requests[{i}].{f}"
            if isinstance(v, date):
                day = v
            else:
                try:
                    day = date.fromisoformat(v)
                except ValueError:
                    problems.append(f"{path}: not a period number or an ISO date "
                                    f"(YYYY-MM-DD) (got {v!r})")
                    new.pop(f)  # reported here, not again as "must be a whole number"
                    continue
            if start is None:
                problems.append(f"{path}: a date needs horizon.start"
                                + (f" ({bad_start})" if bad_start else "")
                                + f"; give a period number or set horizon.start (got '{day}')")
                new.pop(f)
                continue
            t = period_of(day, start, days)
            if day < start:
                problems.append(f"{path}: date {day} is before horizon.start {start}")
                new.pop(f)
                continue
            if periods is not None and t >= periods:
                end = period_start(start, days, periods) - timedelta(days=1)
                problems.append(f"{path}: date {day} is after the horizon ({start} .. {end})")
                new.pop(f)
                continue
            new[f] = t
        out.append(new)
    return doc | {"requests": out}, problems


def period_dates(start: date | None, period_days: int, periods: int) -> list[str] | None:
    """The ISO start date of every period, or None without a start."""
    if start is None:
        return None
    return [period_start(start, period_days, t).isoformat() for t in range(periods)]


def with_dates(scenario: Scenario, plan: Plan) -> Plan:
    """`plan` with the calendar of a dated scenario: each production row's `date` (its
    period's first day) and, per request, its due date and the dates its units arrive
    (final-step units in their period, imported units after their lead time). A scenario
    without `horizon.start` gets the plan back unchanged, so version 1 plans keep their
    bytes. The keys change no meaning (SPEC 8.1); the checker verifies they agree."""
    h = scenario.horizon
    if h.start is None or not plan.status.has_plan:
        return plan
    start, days = h.start, h.period_days
    # One date per period, computed once: a plan of 100,000 requests asks for 280,000.
    dates: dict[int, str] = {}

    def on(t: int) -> str:
        day = dates.get(t)
        if day is None:
            day = dates[t] = period_start(start, days, t).isoformat()
        return day

    production = [row.model_copy(update={"date": on(row.period)}) for row in plan.production]
    made: dict[str, dict[int, int]] = {}
    for row in plan.production:
        r = scenario.request(row.request)
        if row.step == len(scenario.component(r.component).routing) - 1:
            by_t = made.setdefault(row.request, {})
            by_t[row.period] = by_t.get(row.period, 0) + row.quantity
    imported = {i.request: i.quantity for i in plan.imports}
    unmet = {u.request: u.quantity for u in plan.unmet}
    rows: list[RequestDates] = []
    for r in scenario.requests:
        due = scenario.due(r)
        deliveries = [Delivery(period=t, date=on(t), quantity=q, source="made")
                      for t, q in sorted(made.get(r.id, {}).items())]
        if imported.get(r.id):
            comp = scenario.component(r.component)
            lead = comp.import_.lead_periods if comp.import_ is not None else 0
            deliveries.append(Delivery(period=lead, date=on(lead), quantity=imported[r.id],
                                       source="imported"))
        rows.append(RequestDates(request=r.id, release=r.release, release_date=on(r.release),
                                 due=due, due_date=on(due), deliveries=deliveries,
                                 unmet=unmet.get(r.id, 0)))
    return plan.model_copy(update={"production": production, "requests": rows})
