"""The quote's cut-down scenario gives the quote of the whole residual scenario, and the
resident quote reloads when the ledger version moves (by any process)."""

from __future__ import annotations

from pathlib import Path

import pytest

import models
from broker import Broker
from broker.ledger.quote import pruned_for_request, quote_in
from broker.service.quote import ResidentQuoter
from scenarios.generate import generate


def test_pruned_quote_equals_the_whole(tmp_path: Path) -> None:
    doc = generate("small", 2)
    with Broker(f"sqlite:///{tmp_path / 'q.db'}") as b:
        b.import_scenario(doc)
        b.submit(doc["requests"][:4])
        b.commit(b.plan(time_limit=10).plan_id)
        base, _ = b.residual_document()
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
