"""The quote's cut-down scenario gives the quote of the whole residual scenario; a quote's
cost is the optimum of the one-request residual model and its earliest period the first
at which a whole solve delivers every unit; the resident quote reloads when the ledger
version moves (by any process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import models
from broker import Broker
from broker.ledger.quote import pruned_for_request, quote_in
from broker.service.quote import ResidentQuoter
from models.check import check
from scenarios.generate import generate
from solvers import SolveOptions, solve
from tests.solvers.test_earliest import on_time_possible


def _committed_base(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Generated small seed 2 with its first four requests planned and committed: the
    scenario document and the ledger's residual document, for quoting the others."""
    doc = generate("small", 2)
    with Broker(f"sqlite:///{tmp_path / 'q.db'}") as b:
        b.import_scenario(doc)
        b.submit(doc["requests"][:4])
        b.commit(b.plan(time_limit=10).plan_id)
        base, _ = b.residual_document()
    return doc, base


def test_pruned_quote_equals_the_whole(tmp_path: Path) -> None:
    doc, base = _committed_base(tmp_path)
    # Requests with and without certifications and sourcing limits.
    for item in doc["requests"][4:7]:
        whole = models.scenario_from_dict(base | {"requests": [item]})
        cut = models.scenario_from_dict(pruned_for_request(base, item))
        assert len(cut.workshops) < len(whole.workshops)
        q_whole, q_cut = quote_in(whole, 5.0), quote_in(cut, 5.0)
        assert q_cut.status == q_whole.status == "optimal"
        assert q_cut.cost == pytest.approx(q_whole.cost, rel=1e-6)
        assert q_cut.earliest_period == q_whole.earliest_period
        assert q_cut.on_time == q_whole.on_time


def test_quote_is_the_optimum_and_the_earliest_period(tmp_path: Path) -> None:
    doc, base = _committed_base(tmp_path)
    for item in doc["requests"][4:10]:
        sc = models.scenario_from_dict(pruned_for_request(base, item))
        q = quote_in(sc, 5.0)
        exact = solve(sc, SolveOptions())  # HiGHS, no time limit: proven optimal
        assert check(sc, exact).ok
        assert q.status == exact.status.value == "optimal" and q.gap == 0.0
        assert q.cost == pytest.approx(exact.objective, rel=1e-6)
        assert q.earliest_proven
        if q.earliest_period is None:
            assert not on_time_possible(sc, sc.horizon.periods - 1)
            continue
        req = sc.requests[0]
        assert q.earliest_period >= req.release
        assert on_time_possible(sc, q.earliest_period)
        assert q.earliest_period == req.release or not on_time_possible(
            sc, q.earliest_period - 1)
        if q.on_time:
            assert q.completion_period is not None
            assert q.earliest_period <= max(req.release, q.completion_period)


def test_resident_state_follows_the_ledger_version(tmp_path: Path) -> None:
    doc = generate("small", 2)
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with Broker(url) as b, Broker(url) as other:
        b.import_scenario(doc)
        quoter = ResidentQuoter(b)
        item = doc["requests"][5]
        q1, v1 = quoter.quote(item)
        again, v_again = quoter.quote(item | {"id": "another-id"})
        assert (v_again, again.cost, again.request) == (v1, q1.cost, "another-id")
        assert quoter.reloads == 1  # the same version: nothing reloaded
        other.submit([item])  # another process commits the very request
        other.commit(other.plan([item["id"]], time_limit=10).plan_id)
        q2, v2 = quoter.quote(item | {"id": "after"})
        assert v2 == other.ledger_version() > v1 and quoter.reloads == 2
        assert q2.cost == pytest.approx(b.quote(item | {"id": "after"}).cost, rel=1e-6)
        assert q2.cost is not None and q1.cost is not None and q2.cost >= q1.cost - 1e-6


def test_quotes_in_worker_processes_follow_the_ledger(tmp_path: Path) -> None:
    """Quotes solved in worker processes (`broker serve` starts one per core) are the
    in-process quotes, at the ledger version the worker priced them at; a commit by
    another process moves the worker too; bad input comes back as the same error."""
    from broker.service.quote import QuotePool

    doc = generate("small", 2)
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with Broker(url) as b, Broker(url) as other:
        b.import_scenario(doc)
        pool = QuotePool(url, 1)
        try:
            pool.warm()
            pooled, local = ResidentQuoter(b, pool), ResidentQuoter(b)
            for item in doc["requests"][4:7]:
                (qp, vp), (ql, vl) = pooled.quote(item), local.quote(item)
                assert vp == vl == b.ledger_version()
                assert qp.cost == pytest.approx(ql.cost, rel=1e-6)
                assert (qp.earliest_period, qp.on_time) == (ql.earliest_period, ql.on_time)
            item = doc["requests"][5]
            other.submit([item])
            other.commit(other.plan([item["id"]], time_limit=10).plan_id)
            q2, v2 = pooled.quote(item | {"id": "after"})
            assert v2 == other.ledger_version() > vp
            assert q2.cost == pytest.approx(b.quote(item | {"id": "after"}).cost, rel=1e-6)
            bad = {**doc["requests"][6], "id": "bad", "component": "no-such-part"}
            with pytest.raises(models.InputError) as err:
                pooled.quote(bad)
            with pytest.raises(models.InputError) as err_local:
                local.quote(bad)
            assert err.value.problems == err_local.value.problems
            assert err.value.problems and "no-such-part" in err.value.problems[0]
        finally:
            pool.close()


def _fields(q: Any) -> dict[str, Any]:
    """A quote's answer: every field but the seconds it took."""
    from dataclasses import asdict

    return {k: v for k, v in asdict(q).items() if k != "seconds"}


def test_validated_index_gives_the_validated_cut(tmp_path: Path) -> None:
    """The cut scenario made from the registry validated once is the cut document
    validated whole, for plain, certified, sourcing-limited and dated requests; a request
    with any problem is left to the whole validation, whose problems the resident quote
    reports in the library's words."""
    from broker.ledger.quote import ResidualIndex

    doc, base = _committed_base(tmp_path)
    index = ResidualIndex(base)
    assert index.scenario is not None
    index.scenario.workshop(base["workshops"][0]["id"])  # its look-up tables are built
    items = [*doc["requests"][4:12],
             doc["requests"][7] | {"id": "dated", "release": "2027-03-01", "due": "2027-03-15"},
             doc["requests"][7] | {"id": "limits", "max_suppliers_per_step": 2,
                                   "min_suppliers_per_step": 2, "requires": []}]
    assert any(i.get("max_suppliers_per_step") for i in items)
    assert any(i.get("requires") for i in items) and any(not i.get("requires") for i in items)
    for item in items:
        fast = index.scenario_for(item)
        slow = models.scenario_from_dict(pruned_for_request(base, item), "quote")
        assert fast is not None, item["id"]
        assert fast == slow and fast.model_dump() == slow.model_dump()
        assert [w.id for w in fast.workshops] == [w.id for w in slow.workshops]
        assert fast.workshops and len(fast.workshops) < len(base["workshops"])
        assert fast.requests[0].id == item["id"]
        # The cut's look-up tables are its own, not the registry's.
        cut_out = next(w["id"] for w in base["workshops"]
                       if w["id"] not in {w.id for w in fast.workshops})
        with pytest.raises(KeyError):
            fast.workshop(cut_out)
        if item["id"] == "dated":
            assert (fast.requests[0].release, fast.requests[0].due) == (1, 3)
    good = doc["requests"][6]
    bad_items = [
        good | {"component": "no-such-part"},
        good | {"destination": "atlantis"},
        good | {"due": 9},
        good | {"release": 3, "due": 1},
        good | {"due": "2031-01-01"},
        good | {"due": "soon"},
        good | {"quantity": 0},
        good | {"colour": "red"},
        good | {"requires": "ISO9001"},
        good | {"min_suppliers_per_step": 3, "max_suppliers_per_step": 2},
    ]
    with Broker(f"sqlite:///{tmp_path / 'q.db'}") as b:
        quoter = ResidentQuoter(b)
        for item in bad_items:
            assert index.scenario_for(item) is None, item
            with pytest.raises(models.InputError) as resident:
                quoter.quote(item)
            with pytest.raises(models.InputError) as library:
                b.quote(item)
            assert resident.value.problems == library.value.problems
            assert resident.value.problems, item


def test_resident_quote_is_the_library_quote_and_follows_commits(tmp_path: Path) -> None:
    """A resident quote, from the index validated once per ledger version, answers as the
    library's `quote` (which reads and validates everything for the one quote), field for
    field; after a commit by another process the index is the new version's."""
    doc = generate("small", 2)
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with Broker(url) as b, Broker(url) as other:
        b.import_scenario(doc)
        quoter = ResidentQuoter(b)
        for item in doc["requests"][4:8]:
            q, _ = quoter.quote(item)
            assert q.status == "optimal"
            assert _fields(q) == _fields(b.quote(item))
        before = quoter.index(quoter.base()[0])
        other.submit(doc["requests"][:3])
        other.commit(other.plan([r["id"] for r in doc["requests"][:3]],
                                time_limit=10).plan_id)
        base, version = quoter.base()
        after = quoter.index(base)
        assert version == other.ledger_version() and after is not before
        assert after.doc is base and after is quoter.index(base)
        assert after.scenario is not None and before.scenario is not None
        # The commit took capacity: the index holds what is left, not what was.
        left = {w.id: sum(w.cap(p, t) for p in w.processes() for t in range(4))
                for w in after.scenario.workshops}
        had = {w.id: sum(w.cap(p, t) for p in w.processes() for t in range(4))
               for w in before.scenario.workshops}
        assert sum(left.values()) < sum(had.values())
        for item in doc["requests"][4:8]:
            q, at = quoter.quote(item | {"id": "after"})
            assert at == version
            assert _fields(q) == _fields(b.quote(item | {"id": "after"}))
